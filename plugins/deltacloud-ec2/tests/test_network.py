"""Addresses, firewalls, networks, subnets, network interfaces, load balancers and metrics,
driver level, against moto over HTTP."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from conftest import ACCESS_KEY, IMAGE_X86_64, SECRET_KEY
from deltacloud_ec2 import EC2Driver
from deltacloud_ec2.firewalls import parse_rule_id, rule_id

from deltacloud_core import Conflict, ForbiddenError, ObjectNotFound, ValidationError
from deltacloud_core.models import FirewallRuleSource


def boto(service: str, moto) -> object:
    return boto3.client(service, endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY)


# -- addresses -------------------------------------------------------------------------------------

def test_addresses(driver: EC2Driver):
    assert driver.list_addresses() == []
    address = driver.create_address()
    assert address.instance_id is None
    assert [a.id for a in driver.list_addresses()] == [address.id]
    inst = driver.create_instance(image_id=IMAGE_X86_64)
    driver.associate_address(address.id, instance_id=inst.id)
    assert driver.get_address(address.id).instance_id == inst.id
    assert address.id in [a.address for a in driver.get_instance(inst.id).public_addresses]
    with pytest.raises(ForbiddenError):
        driver.associate_address(address.id, instance_id=inst.id)
    with pytest.raises(ForbiddenError):
        driver.destroy_address(address.id)
    driver.disassociate_address(address.id)
    assert driver.get_address(address.id).instance_id is None
    with pytest.raises(ForbiddenError):
        driver.disassociate_address(address.id)
    driver.destroy_address(address.id)
    assert driver.get_address(address.id) is None
    for action in (driver.destroy_address, driver.disassociate_address):
        with pytest.raises(ObjectNotFound):
            action(address.id)
    with pytest.raises(ObjectNotFound):
        driver.associate_address("203.0.113.9", instance_id=inst.id)


# -- firewalls -------------------------------------------------------------------------------------

def test_firewalls_and_rules(driver: EC2Driver):
    fw = driver.create_firewall(name="web", description="web servers")
    assert fw.id.startswith("sg-")
    assert (fw.name, fw.description, fw.owner_id, fw.rules) == ("web", "web servers", "123456789012", ())
    assert driver.get_firewall("web") == driver.get_firewall(fw.id)  # by name too
    assert {f.name for f in driver.list_firewalls()} == {"default", "web"}
    driver.create_firewall_rule(fw.id, protocol="tcp", port_from="22", port_to="22",
                                sources=[FirewallRuleSource.cidr("10.1.2.3/24"), FirewallRuleSource.group("default")])
    driver.create_firewall_rule(fw.id, protocol="udp", port_from="53", port_to="54",
                                sources=[FirewallRuleSource.cidr("0.0.0.0/0")])
    rules = {r.allow_protocol: r for r in driver.get_firewall(fw.id).rules}
    tcp = rules["tcp"]
    assert (tcp.port_from, tcp.port_to, tcp.direction) == ("22", "22", "ingress")
    kinds = sorted((s.type, s.name or s.address) for s in tcp.sources)
    assert kinds[0][0] == "address" and kinds[1][0] == "group"
    assert tcp.id.startswith("123456789012~tcp~22~22~@")
    with pytest.raises(Conflict) as err:
        driver.create_firewall_rule(fw.id, protocol="udp", port_from="53", port_to="54",
                                    sources=[FirewallRuleSource.cidr("0.0.0.0/0")])
    assert err.value.backend_code == "InvalidPermission.Duplicate"
    driver.destroy_firewall_rule(fw.id, tcp.id)
    assert [r.allow_protocol for r in driver.get_firewall(fw.id).rules] == ["udp"]
    with pytest.raises(ObjectNotFound):
        driver.destroy_firewall_rule(fw.id, "not-a-rule")
    with pytest.raises(ValidationError):
        driver.create_firewall_rule(fw.id, protocol="tcp", port_from="ssh", port_to="22",
                                    sources=[FirewallRuleSource.cidr("10.0.0.0/8")])
    driver.destroy_firewall(fw.id)
    assert driver.get_firewall(fw.id) is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_firewall(fw.id)
    with pytest.raises(Conflict):
        driver.create_firewall(name="default", description="exists")


def test_rule_ids_round_trip():
    sources = [FirewallRuleSource.group("web", "123"), FirewallRuleSource.cidr("10.1.2.3/24"),
               FirewallRuleSource.cidr("2001:db8::/32")]
    text = rule_id("123", "tcp", "22", "22", sources)
    assert text == "123~tcp~22~22~@group,123,web,@address,ipv4,10.1.2.3,24,@address,ipv6,2001:db8::,32"
    assert parse_rule_id(text) == ("tcp", "22", "22", sources)
    assert parse_rule_id("o~-1~~~@group,,sg-1")[:3] == ("-1", "", "")


# -- networks, subnets, interfaces -----------------------------------------------------------------

def test_networks_subnets_and_interfaces(driver: EC2Driver):
    default = driver.list_networks()
    assert len(default) == 1 and default[0].state == "UP"  # the default VPC
    net = driver.create_network(address_block="10.20.0.0/16", name="lab")
    assert (net.name, net.address_blocks) == ("lab", ("10.20.0.0/16",))
    subnet = driver.create_subnet(network_id=net.id, address_block="10.20.1.0/24", name="lab-a")
    assert (subnet.network, subnet.address_block, subnet.name, subnet.type) == (
        net.id, "10.20.1.0/24", "lab-a", "PRIVATE")
    assert driver.get_network(net.id).subnets == (subnet.id,)
    assert driver.get_network("vpc-00000000") is None and driver.get_network("nope") is None
    assert driver.get_subnet("subnet-00000000") is None
    inst = driver.create_instance(image_id=IMAGE_X86_64)
    nic = driver.create_network_interface(instance=inst.id, network=net.id, subnet=subnet.id, name="second")
    assert (nic.instance, nic.network) == (inst.id, subnet.id)
    assert nic.ip_address.startswith("10.20.1.")
    assert nic.id in driver.get_instance(inst.id).network_interfaces
    with pytest.raises(ValidationError):
        driver.create_network_interface(instance=inst.id, network=net.id)
    with pytest.raises(Conflict):
        driver.destroy_network(net.id)  # it still has a subnet
    driver.destroy_network_interface(nic.id)
    assert driver.get_network_interface(nic.id) is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_network_interface(nic.id)
    driver.destroy_subnet(subnet.id)
    driver.destroy_network(net.id)
    assert driver.get_network(net.id) is None


# -- load balancers --------------------------------------------------------------------------------

def test_load_balancers(driver: EC2Driver):
    lb = driver.create_load_balancer(name="web", realm_id="us-east-1a", listener_protocol="HTTP",
                                     listener_balancer_port="80", listener_instance_port="3010")
    assert (lb.id, lb.realms) == ("web", ("us-east-1a",))
    assert [(x.protocol, x.load_balancer_port, x.instance_port) for x in lb.listeners] == [("HTTP", 80, 3010)]
    assert lb.public_addresses == ("web.us-east-1.elb.amazonaws.com",)
    assert lb.created_at.endswith(" UTC")
    assert lb.instances == ()
    inst = driver.create_instance(image_id=IMAGE_X86_64)
    registered = driver.register_instance("web", instance_id=inst.id)
    assert [i.id for i in registered.instances] == [inst.id]
    assert registered.instances[0].state == "RUNNING"
    assert [i.id for i in driver.unregister_instance("web", instance_id=inst.id).instances] == []
    assert [b.id for b in driver.list_load_balancers()] == ["web"]
    assert driver.get_load_balancer("nope") is None
    with pytest.raises(ValidationError):
        driver.create_load_balancer(name="bad", realm_id="us-east-1a", listener_protocol="HTTP",
                                    listener_balancer_port="eighty", listener_instance_port="80")
    driver.destroy_load_balancer("web")
    assert driver.get_load_balancer("web") is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_load_balancer("web")
    with pytest.raises(ObjectNotFound) as err:
        driver.register_instance("web", instance_id=inst.id)
    assert err.value.backend_code == "LoadBalancerNotFound"


def test_instance_created_into_a_load_balancer(driver: EC2Driver):
    driver.create_load_balancer(name="pool", realm_id="us-east-1a", listener_protocol="TCP",
                                listener_balancer_port="443", listener_instance_port="8443")
    inst = driver.create_instance(image_id=IMAGE_X86_64, realm_id="us-east-1a", load_balancer_id="pool")
    assert [i.id for i in driver.get_load_balancer("pool").instances] == [inst.id]


# -- metrics ---------------------------------------------------------------------------------------

def test_metrics(driver: EC2Driver, moto):
    inst = driver.create_instance(image_id=IMAGE_X86_64)
    assert driver.list_metrics() == []  # moto has no automatic EC2 data
    now = dt.datetime.now(dt.UTC)
    cloudwatch = boto("cloudwatch", moto)
    dims = [{"Name": "InstanceId", "Value": inst.id}]
    cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=[
        {"MetricName": "CPUUtilization", "Dimensions": dims, "Value": v, "Unit": "Percent",
         "Timestamp": now - dt.timedelta(seconds=5)} for v in (10.0, 30.0)] + [
        {"MetricName": "NetworkIn", "Dimensions": dims, "Value": 2048.0, "Unit": "Bytes", "Timestamp": now},
        {"MetricName": "CPUUtilization", "Dimensions": [{"Name": "ImageId", "Value": IMAGE_X86_64}],
         "Value": 1.0, "Unit": "Percent", "Timestamp": now}])
    listed = driver.list_metrics()
    assert [(m.id, [p.name for p in m.properties]) for m in listed] == [(inst.id, ["CPUUtilization", "NetworkIn"])]
    assert all(p.values is None for p in listed[0].properties)
    metric = driver.get_metric(inst.id)
    cpu = {p.name: p for p in metric.properties}["CPUUtilization"]
    assert len(cpu.values) == 1
    sample = cpu.values[0]
    assert (sample.minimum, sample.maximum, sample.average, sample.unit) == (10.0, 30.0, 20.0, "Percent")
    assert abs(sample.timestamp - now.timestamp()) < 600
    assert driver.get_metric("i-00000000000000000") is None
