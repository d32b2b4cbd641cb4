"""Neutron through the driver: networks, subnets, network interfaces (ports), addresses (floating IPs)
and firewalls (security groups), on the test cloud's real neutron-server (ML2, no agents).

The cloud (cloud_setup.py) has an external network ``public`` (172.24.4.0/24), the admin project's
``private`` (10.0.0.0/24) and a router between them; the demo project has no network of its own.
Servers of the admin project boot on ``private``: Nova asks Neutron for their ports.
"""

from __future__ import annotations

import ipaddress

import pytest
from deltacloud_core import Conflict, ForbiddenError, ObjectNotFound, ValidationError
from deltacloud_core.models import FirewallRuleSource
from openstack_support import Cleanup, destroy_server, wait_until

from deltacloud_openstack import OpenStackDriver

PRIVATE = ipaddress.ip_network("10.0.0.0/24")
PUBLIC = ipaddress.ip_network("172.24.4.0/24")


def in_block(address: str, block: ipaddress.IPv4Network) -> bool:
    return ipaddress.ip_address(address) in block


def release(driver: OpenStackDriver, ip: str) -> None:
    """Clean-up of an address: free it if a failed test left it associated, then release it."""
    found = driver.get_address(ip)
    if found is None:
        return
    if found.instance_id:
        driver.disassociate_address(ip)
    driver.destroy_address(ip)


@pytest.fixture
def admin_server(admin_driver: OpenStackDriver, cloud, cleanup: Cleanup):
    """A running server of the admin project, on its network ``private`` (chosen by the driver)."""
    created = admin_driver.create_instance(image_id=cloud.image_id, hwp_id="m1.tiny", name="net-server")
    cleanup.add(f"server {created.id}", lambda: destroy_server(admin_driver, created.id))
    running = wait_until(lambda: admin_driver.get_instance(created.id), lambda i: i.state in ("RUNNING", "ERROR"),
                         what=f"server {created.id} to run")
    assert running.state == "RUNNING", running.extra.get("fault")
    return running


# -- networks and subnets -------------------------------------------------------------------------

def test_each_project_sees_its_networks_and_the_external_one(admin_driver, driver, cloud, cleanup: Cleanup):
    own = driver.create_network(name="dc-demo-only", address_block="192.168.40.0/24")
    cleanup.add(f"network {own.id}", lambda: driver.destroy_network(own.id))
    admin = {n.id: n for n in admin_driver.list_networks()}  # an admin token sees every network: not listed
    assert set(admin) == {cloud.public_network_id, cloud.private_network_id}
    private = admin[cloud.private_network_id]
    assert (private.name, private.state, private.address_blocks) == ("private", "UP", ("10.0.0.0/24",))
    assert private.subnets == (cloud.private_subnet_id,)
    assert admin[cloud.public_network_id].extra["external"] is True
    assert admin_driver.get_network(cloud.private_network_id) == private
    subnets = {s.id: s for s in admin_driver.list_subnets()}
    assert subnets[cloud.private_subnet_id].type == "PRIVATE"
    assert {s.type for s in subnets.values()} == {"PRIVATE", "PUBLIC"}
    assert own.subnets[0] not in subnets
    demo = driver.list_networks()
    assert {n.id for n in demo} == {cloud.public_network_id, own.id}
    assert [s.id for s in driver.list_subnets()] == list(own.subnets)
    assert driver.get_network(cloud.private_network_id) is None  # another project's
    assert driver.get_subnet(cloud.private_subnet_id) is None
    assert driver.get_network("00000000-0000-0000-0000-000000000000") is None


def test_network_and_subnet_life_cycle(driver: OpenStackDriver, cleanup: Cleanup):
    network = driver.create_network(name="dc-net", address_block="192.168.50.0/24")
    cleanup.add(f"network {network.id}", lambda: driver.destroy_network(network.id))
    assert (network.name, network.address_blocks, len(network.subnets)) == ("dc-net", ("192.168.50.0/24",), 1)
    second = driver.create_subnet(network_id=network.id, address_block="192.168.51.0/24", name="second")
    assert (second.network, second.address_block, second.name, second.type) == (
        network.id, "192.168.51.0/24", "second", "PRIVATE")
    assert set(driver.get_network(network.id).address_blocks) == {"192.168.50.0/24", "192.168.51.0/24"}
    assert second.id in {s.id for s in driver.list_subnets()}
    with pytest.raises(ValidationError):  # Neutron: overlaps the first subnet
        driver.create_subnet(network_id=network.id, address_block="192.168.50.128/25")
    with pytest.raises(ValidationError):
        driver.create_subnet(network_id=network.id, address_block="not-a-block")
    with pytest.raises(ObjectNotFound):
        driver.create_subnet(network_id="00000000-0000-0000-0000-000000000000", address_block="10.9.0.0/24")
    driver.destroy_subnet(second.id)
    assert driver.get_subnet(second.id) is None
    bare = driver.create_network(name="dc-bare")
    cleanup.add(f"network {bare.id}", lambda: driver.destroy_network(bare.id))
    assert bare.address_blocks == ()
    assert bare.subnets == ()
    driver.destroy_network(network.id)  # with its remaining subnet
    assert driver.get_network(network.id) is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_network(network.id)
    with pytest.raises(ValidationError):
        driver.create_network(name="dc-bad", address_block="10.0.0.0/99")


# -- instances get their networking from Neutron ---------------------------------------------------

def test_a_server_boots_on_the_projects_network(admin_server, admin_driver, cloud):
    assert admin_server.private_addresses
    assert all(in_block(a.address, PRIVATE) for a in admin_server.private_addresses)
    assert len(admin_server.network_interfaces) == 1
    port = admin_driver.get_network_interface(admin_server.network_interfaces[0])
    assert (port.instance, port.network) == (admin_server.id, cloud.private_network_id)
    assert port.ip_address == admin_server.private_addresses[0].address
    assert port.extra["subnet_id"] == cloud.private_subnet_id
    listed = {i.id: i for i in admin_driver.list_instances()}
    assert listed[admin_server.id].network_interfaces == admin_server.network_interfaces
    assert port.id in {n.id for n in admin_driver.list_network_interfaces()}


def test_a_project_with_several_networks_names_one(driver: OpenStackDriver, cloud, cleanup: Cleanup):
    first = driver.create_network(name="dc-first", address_block="192.168.60.0/24")
    cleanup.add(f"network {first.id}", lambda: driver.destroy_network(first.id))
    second = driver.create_network(name="dc-second", address_block="192.168.61.0/24")
    cleanup.add(f"network {second.id}", lambda: driver.destroy_network(second.id))
    with pytest.raises(ValidationError) as err:
        driver.create_instance(image_id=cloud.image_id, hwp_id="m1.tiny")
    assert "network_id" in str(err.value)
    assert first.id in str(err.value)
    assert second.id in str(err.value)
    created = driver.create_instance(image_id=cloud.image_id, hwp_id="m1.tiny", network_id=second.id)
    cleanup.add(f"server {created.id}", lambda: destroy_server(driver, created.id))
    running = wait_until(lambda: driver.get_instance(created.id), lambda i: i.state in ("RUNNING", "ERROR"),
                         what="server on dc-second")
    assert running.state == "RUNNING", running.extra.get("fault")
    assert in_block(running.private_addresses[0].address, ipaddress.ip_network("192.168.61.0/24"))
    with pytest.raises(Conflict):  # Neutron: the network has ports in use
        driver.destroy_network(second.id)


def test_network_interface_attach_and_destroy(admin_server, admin_driver, cloud, cleanup: Cleanup):
    extra = admin_driver.create_network(name="dc-extra", address_block="192.168.70.0/24")
    cleanup.add(f"network {extra.id}", lambda: admin_driver.destroy_network(extra.id))
    nic = admin_driver.create_network_interface(instance=admin_server.id, network=extra.id, name="dc-nic",
                                                subnet=extra.subnets[0])
    assert (nic.name, nic.network) == ("dc-nic", extra.id)
    assert in_block(nic.ip_address, ipaddress.ip_network("192.168.70.0/24"))
    attached = wait_until(lambda: admin_driver.get_instance(admin_server.id),
                          lambda i: nic.id in i.network_interfaces, what="the port to be attached")
    assert len(attached.network_interfaces) == 2
    assert admin_driver.get_network_interface(nic.id).instance == admin_server.id
    admin_driver.destroy_network_interface(nic.id)
    assert admin_driver.get_network_interface(nic.id) is None
    wait_until(lambda: admin_driver.get_instance(admin_server.id), lambda i: nic.id not in i.network_interfaces,
               what="Nova to drop the deleted port")
    with pytest.raises(ObjectNotFound):
        admin_driver.create_network_interface(instance="00000000-0000-0000-0000-000000000000", network=extra.id)
    with pytest.raises(ObjectNotFound):
        admin_driver.destroy_network_interface(nic.id)


# -- addresses (floating IPs) ----------------------------------------------------------------------

def test_address_life_cycle(admin_server, admin_driver, cleanup: Cleanup):
    address = admin_driver.create_address()
    cleanup.add(f"address {address.id}", lambda: release(admin_driver, address.id))
    assert in_block(address.id, PUBLIC)
    assert address.instance_id is None
    assert address.id in {a.id for a in admin_driver.list_addresses()}
    admin_driver.associate_address(address.id, instance_id=admin_server.id)
    assert admin_driver.get_address(address.id).instance_id == admin_server.id
    shown = wait_until(lambda: admin_driver.get_instance(admin_server.id),
                       lambda i: address.id in [a.address for a in i.public_addresses],
                       what="Nova to show the floating IP")  # Neutron told Nova (network-changed)
    assert shown.public_addresses[0].type == "ipv4"
    with pytest.raises(ForbiddenError):
        admin_driver.associate_address(address.id, instance_id=admin_server.id)
    with pytest.raises(ForbiddenError):
        admin_driver.destroy_address(address.id)
    admin_driver.disassociate_address(address.id)
    assert admin_driver.get_address(address.id).instance_id is None
    with pytest.raises(ForbiddenError):
        admin_driver.disassociate_address(address.id)
    with pytest.raises(ObjectNotFound):
        admin_driver.associate_address(address.id, instance_id="00000000-0000-0000-0000-000000000000")
    admin_driver.destroy_address(address.id)
    assert admin_driver.get_address(address.id) is None
    with pytest.raises(ObjectNotFound):
        admin_driver.destroy_address(address.id)


def test_an_instance_without_a_port_gets_no_address(server, driver: OpenStackDriver, cleanup: Cleanup):
    assert server.network_interfaces == ()  # the demo project has no network: booted without one
    address = driver.create_address()
    cleanup.add(f"address {address.id}", lambda: release(driver, address.id))
    with pytest.raises(ValidationError) as err:
        driver.associate_address(address.id, instance_id=server.id)
    assert "no network interface" in str(err.value)
    assert driver.get_address(address.id).instance_id is None


# -- firewalls (security groups) -------------------------------------------------------------------

def test_firewall_and_rule_life_cycle(driver: OpenStackDriver, cleanup: Cleanup):
    default = next(f for f in driver.list_firewalls() if f.name == "default")
    assert {(r.direction, r.extra["ethertype"]) for r in default.rules} >= {("egress", "IPv4"), ("egress", "IPv6")}
    from_group = [r for r in default.rules if r.direction == "ingress"]
    assert from_group
    assert all(r.sources[0].type == "group" and r.sources[0].name == default.id for r in from_group)
    firewall = driver.create_firewall(name="dc-web", description="web servers")
    cleanup.add(f"firewall {firewall.id}", lambda: driver.destroy_firewall(firewall.id))
    assert (firewall.name, firewall.description) == ("dc-web", "web servers")
    assert driver.get_firewall("dc-web").id == firewall.id  # by name too
    before = {r.id for r in driver.get_firewall(firewall.id).rules}
    driver.create_firewall_rule(firewall.id, protocol="tcp", port_from="22", port_to="22",
                                sources=[FirewallRuleSource.cidr("10.1.1.0/24"), FirewallRuleSource.group("default")])
    rules = [r for r in driver.get_firewall(firewall.id).rules if r.id not in before]
    assert len(rules) == 2
    assert {(r.allow_protocol, r.port_from, r.port_to, r.direction) for r in rules} == {("tcp", "22", "22", "ingress")}
    sources = {r.sources[0] for r in rules}
    assert FirewallRuleSource(type="address", family="ipv4", address="10.1.1.0", prefix="24") in sources
    assert any(s.type == "group" and s.name == default.id for s in sources)
    driver.create_firewall_rule(firewall.id, protocol="icmp", port_from="-1", port_to="-1",
                                sources=[FirewallRuleSource.cidr("::/0")])
    icmp = next(r for r in driver.get_firewall(firewall.id).rules if r.allow_protocol == "icmp")
    assert (icmp.port_from, icmp.port_to, icmp.extra["ethertype"]) == ("", "", "IPv6")
    for bad in ({"protocol": "gopher", "port_from": "1", "port_to": "2"},
                {"protocol": "tcp", "port_from": "80", "port_to": "70"},
                {"protocol": "tcp", "port_from": "http", "port_to": "80"}):
        with pytest.raises(ValidationError):
            driver.create_firewall_rule(firewall.id, sources=[FirewallRuleSource.cidr("0.0.0.0/0")], **bad)
    with pytest.raises(ObjectNotFound):  # an unknown source group: nothing added
        driver.create_firewall_rule(firewall.id, protocol="udp", port_from="53", port_to="53",
                                    sources=[FirewallRuleSource.cidr("10.0.0.0/8"), FirewallRuleSource.group("nope")])
    assert not any(r.allow_protocol == "udp" for r in driver.get_firewall(firewall.id).rules)
    twice = [FirewallRuleSource.cidr("10.0.0.0/8"), FirewallRuleSource.cidr("10.0.0.0/8")]
    with pytest.raises(Conflict):  # Neutron refuses the second, the same rule: the first is taken back
        driver.create_firewall_rule(firewall.id, protocol="udp", port_from="53", port_to="53", sources=twice)
    assert not any(r.allow_protocol == "udp" for r in driver.get_firewall(firewall.id).rules)
    driver.destroy_firewall_rule(firewall.id, rules[0].id)
    assert rules[0].id not in {r.id for r in driver.get_firewall(firewall.id).rules}
    with pytest.raises(ObjectNotFound):
        driver.destroy_firewall_rule(firewall.id, rules[0].id)
    with pytest.raises(ObjectNotFound):  # a rule of another firewall
        driver.destroy_firewall_rule(firewall.id, from_group[0].id)
    driver.destroy_firewall(firewall.id)
    assert driver.get_firewall(firewall.id) is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_firewall(firewall.id)


# -- over HTTP --------------------------------------------------------------------------------------

def test_network_collections_over_http(http, cloud):
    for collection, key in (("networks", "networks"), ("subnets", "subnets"), ("addresses", "addresses"),
                            ("firewalls", "firewalls"), ("network_interfaces", "network_interfaces")):
        reply = http.get(f"/{collection}", params={"format": "json"})
        assert reply.status_code == 200, (collection, reply.text)
        assert key in reply.json()
        assert http.get(f"/{collection}", params={"format": "xml"}).status_code == 200
    networks = http.get("/networks", params={"format": "json"}).json()["networks"]
    assert [n["id"] for n in networks] == [cloud.public_network_id]
    firewalls = http.get("/firewalls", params={"format": "xml"})
    assert "<firewall " in firewalls.text
    assert "<name>default</name>" in firewalls.text
    assert http.get(f"/networks/{cloud.private_network_id}", params={"format": "json"}).status_code == 404
