"""Addresses, metrics, networks, subnets and network interfaces at the driver level (MOCK.md §5)."""

from __future__ import annotations

import ipaddress
import re
import time

import pytest
from deltacloud_core.drivers.capabilities import implements
from deltacloud_core.errors import AuthenticationFailure, ForbiddenError, ObjectNotFound

from deltacloud_mock.driver import MockDriver
from deltacloud_mock.network import METRIC_NAMES, SAMPLES_PER_PROPERTY, metric_unit, sample_values
from deltacloud_mock.store import MockStore

# -- capabilities ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", [
    "list_addresses", "create_address", "destroy_address", "associate_address", "disassociate_address",
    "list_metrics", "list_networks", "create_network", "destroy_network", "list_subnets", "create_subnet",
    "destroy_subnet", "list_network_interfaces", "create_network_interface", "destroy_network_interface",
])
def test_mock_implements(method):
    assert implements(MockDriver, method)


@pytest.mark.parametrize("method", [
    "list_firewalls", "create_firewall", "destroy_firewall", "create_firewall_rule", "destroy_firewall_rule",
    "list_load_balancers", "create_load_balancer", "destroy_load_balancer", "register_instance",
    "unregister_instance",
])
def test_mock_does_not_implement(method):
    assert not implements(MockDriver, method)


@pytest.mark.parametrize("call", [
    lambda d: d.list_addresses(), lambda d: d.get_address("192.168.0.1"), lambda d: d.create_address(),
    lambda d: d.destroy_address("192.168.0.1"), lambda d: d.associate_address("192.168.0.1", instance_id="inst1"),
    lambda d: d.disassociate_address("192.168.0.1"), lambda d: d.list_metrics(), lambda d: d.get_metric("inst1"),
    lambda d: d.list_networks(), lambda d: d.create_network(name="n"), lambda d: d.destroy_network("net1"),
    lambda d: d.list_subnets(), lambda d: d.create_subnet(network_id="net1", address_block="192.168.9.0/24"),
    lambda d: d.destroy_subnet("subnet1"), lambda d: d.list_network_interfaces(),
    lambda d: d.create_network_interface(instance="inst1", network="subnet1"),
    lambda d: d.destroy_network_interface("nic1"),
])
def test_every_operation_checks_credentials(intruder: MockDriver, call):
    with pytest.raises(AuthenticationFailure):
        call(intruder)


# -- addresses -------------------------------------------------------------------------------

def test_fixture_addresses(driver: MockDriver):
    addresses = driver.list_addresses()
    assert [a.id for a in addresses] == ["192.168.0.1", "192.168.0.2", "192.168.0.3", "192.168.0.4"]
    assert not any(a.associated for a in addresses)
    assert [a.id for a in driver.list_addresses(id="192.168.0.3")] == ["192.168.0.3"]
    assert driver.get_address("192.168.0.2").ip == "192.168.0.2"
    assert driver.get_address("10.0.0.1") is None


def test_create_address_is_highest_plus_one(driver: MockDriver, store: MockStore):
    assert driver.create_address().id == "192.168.0.5"
    store.put("addresses", "192.168.0.255", {"instance_id": None})
    assert driver.create_address().id == "192.168.1.0"
    store.put("addresses", "not-an-ip", {"instance_id": None})
    assert driver.create_address().id == "192.168.1.1"


def test_create_address_in_an_empty_store(driver: MockDriver, store: MockStore):
    store.delete_where("addresses")
    assert driver.create_address().id == "192.168.0.1"


def test_associate_and_disassociate(driver: MockDriver, store: MockStore):
    driver.associate_address("192.168.0.1", instance_id="inst2")
    assert driver.get_address("192.168.0.1").instance_id == "inst2"
    inst = driver.get_instance("inst2")
    assert [(a.address, a.type) for a in inst.public_addresses] == [("192.168.0.1", "ipv4")]
    assert [(a.address, a.type) for a in inst.private_addresses] == [("img1.inst2.private.com", "hostname")]

    driver.disassociate_address("192.168.0.1")
    assert driver.get_address("192.168.0.1").associated is False
    inst = driver.get_instance("inst2")
    assert [(a.address, a.type) for a in inst.public_addresses] == [("img1.inst2.public.com", "hostname")]


def test_associate_in_use_is_forbidden_and_changes_nothing(driver: MockDriver, store: MockStore):
    driver.associate_address("192.168.0.1", instance_id="inst2")
    before = (store.list("addresses"), store.list("instances"))
    with pytest.raises(ForbiddenError) as info:
        driver.associate_address("192.168.0.1", instance_id="inst1")
    assert info.value.backend_code == "AddressInUse"
    assert "inst2" in info.value.message
    assert (store.list("addresses"), store.list("instances")) == before


def test_disassociate_free_address_is_forbidden(driver: MockDriver, store: MockStore):
    before = store.list("addresses")
    with pytest.raises(ForbiddenError) as info:
        driver.disassociate_address("192.168.0.4")
    assert info.value.backend_code == "AddressNotInUse"
    assert store.list("addresses") == before


def test_destroy_address(driver: MockDriver):
    driver.associate_address("192.168.0.2", instance_id="inst1")
    with pytest.raises(ForbiddenError) as info:
        driver.destroy_address("192.168.0.2")
    assert info.value.backend_code == "AddressInUse"
    assert driver.get_address("192.168.0.2") is not None
    driver.disassociate_address("192.168.0.2")
    assert driver.destroy_address("192.168.0.2") is None
    assert driver.get_address("192.168.0.2") is None


@pytest.mark.parametrize("call", [
    lambda d: d.destroy_address("10.9.9.9"), lambda d: d.associate_address("10.9.9.9", instance_id="inst1"),
    lambda d: d.disassociate_address("10.9.9.9"), lambda d: d.associate_address("192.168.0.1", instance_id="nope"),
])
def test_unknown_address_or_instance_is_not_found(driver: MockDriver, store: MockStore, call):
    before = (store.list("addresses"), store.list("instances"))
    with pytest.raises(ObjectNotFound):
        call(driver)
    assert (store.list("addresses"), store.list("instances")) == before


def test_disassociate_after_the_instance_is_gone(driver: MockDriver, store: MockStore):
    driver.associate_address("192.168.0.3", instance_id="inst2")
    store.delete("instances", "inst2")
    driver.disassociate_address("192.168.0.3")
    assert driver.get_address("192.168.0.3").associated is False
    assert store.get("instances", "inst2") is None


# -- metrics ---------------------------------------------------------------------------------

def test_metric_units():
    assert metric_unit("cpuUtilization") == "Percent"
    assert metric_unit("nicInputByte") == "Bytes"
    assert metric_unit("diskReadSector") == "Count"
    assert metric_unit("diskWriteRequestCount") == "Count"
    assert metric_unit("nicOutputPacket") == "Count"
    assert metric_unit("somethingElse") == "None"


def test_list_metrics(driver: MockDriver):
    metrics = driver.list_metrics()
    assert [m.id for m in metrics] == ["inst0", "inst1", "inst2", "inst3"]
    assert [m.entity for m in metrics] == ["Mock Instance With Profile Change", "MockUserInstance",
                                           "AnotherInstance", ""]
    for metric in metrics:
        assert [p.name for p in metric.properties] == list(METRIC_NAMES)
        assert all(p.values is None for p in metric.properties)
    assert [m.id for m in driver.list_metrics(id="inst2")] == ["inst2"]


def test_metrics_follow_the_instances(driver: MockDriver):
    created = driver.create_instance(image_id="img1", name="metered")
    assert created.id in [m.id for m in driver.list_metrics()]
    assert driver.get_metric(created.id).entity == "metered"


def test_get_metric_is_the_requested_one_with_samples(driver: MockDriver):
    before = int(time.time())
    metric = driver.get_metric("inst2")
    assert metric.id == "inst2"
    assert metric.entity == "AnotherInstance"
    assert [p.name for p in metric.properties] == list(METRIC_NAMES)
    for prop in metric.properties:
        assert len(prop.values) == SAMPLES_PER_PROPERTY
        stamps = [s.timestamp for s in prop.values]
        assert stamps == [stamps[0] - i for i in range(SAMPLES_PER_PROPERTY)]
        assert before <= stamps[0] <= int(time.time())
        assert {s.unit for s in prop.values} == {metric_unit(prop.name)}


def test_get_metric_unknown(driver: MockDriver):
    assert driver.get_metric("nope") is None


def test_sample_values_ranges():
    for _ in range(50):
        for sample in sample_values("diskReadSector", 1000):
            assert isinstance(sample.minimum, int)
            assert 1 <= sample.minimum <= 49
            assert 50 <= sample.maximum <= 99
            assert sample.average == (sample.minimum + sample.maximum) // 2
        for sample in sample_values("cpuUtilization", 1000):
            assert isinstance(sample.minimum, float)
            assert 0.01 <= sample.minimum <= 0.49
            assert 0.5 <= sample.maximum <= 0.99
            assert sample.average == (sample.minimum + sample.maximum) / 2
            assert sample.unit == "Percent"


# -- networks and subnets --------------------------------------------------------------------

def test_fixture_networks(driver: MockDriver):
    nets = driver.list_networks()
    assert [(n.id, n.name, n.address_blocks, n.subnets, n.state) for n in nets] == [
        ("net1", "network1", ("192.168.0.0/16",), ("subnet1", "subnet2"), "UP"),
        ("net2", "network2", ("10.0.0.0/8",), ("subnet3", "subnet4"), "UP"),
    ]
    subnets = driver.list_subnets()
    assert [(s.id, s.network, s.address_block, s.type, s.state) for s in subnets] == [
        ("subnet1", "net1", "192.168.1.0/24", "PRIVATE", "UP"),
        ("subnet2", "net1", "192.168.2.0/24", "PRIVATE", "UP"),
        ("subnet3", "net2", "10.1.0.0/16", "PRIVATE", "UP"),
        ("subnet4", "net2", "10.2.0.0/16", "PRIVATE", "UP"),
    ]
    assert driver.get_network("net9") is None
    assert driver.get_subnet("subnet9") is None


def test_create_network(driver: MockDriver):
    net = driver.create_network(name="goldencheck-net1", address_block="172.16.0.0/16")
    assert (net.id, net.name, net.address_blocks, net.subnets, net.state) == (
        "goldencheck-net1", "goldencheck-net1", ("172.16.0.0/16",), (), "UP")
    assert [n.id for n in driver.list_networks()] == ["goldencheck-net1", "net1", "net2"]


def test_create_network_without_name_gets_a_time_id(driver: MockDriver):
    first = driver.create_network()
    second = driver.create_network(address_block="10.5.0.0/16")
    assert re.fullmatch(r"net_\d+", first.id)
    assert re.fullmatch(r"net_\d+(_\d+)?", second.id)
    assert first.id != second.id  # same-second creations no longer collide
    assert first.address_blocks == ()


def test_create_network_with_a_taken_name_is_refused(driver: MockDriver, store: MockStore):
    before = store.list("networks")
    with pytest.raises(ForbiddenError):
        driver.create_network(name="net1", address_block="1.0.0.0/8")
    assert store.list("networks") == before


def test_subnet_life_cycle(driver: MockDriver):
    subnet = driver.create_subnet(network_id="net2", address_block="10.3.0.0/16", name="goldencheck-sub1")
    assert (subnet.id, subnet.network, subnet.address_block, subnet.type, subnet.state) == (
        "goldencheck-sub1", "net2", "10.3.0.0/16", None, "UP")
    assert driver.get_network("net2").subnets == ("subnet3", "subnet4", "goldencheck-sub1")
    driver.destroy_subnet("goldencheck-sub1")
    assert driver.get_subnet("goldencheck-sub1") is None
    assert driver.get_network("net2").subnets == ("subnet3", "subnet4")


def test_create_subnet_in_unknown_network(driver: MockDriver, store: MockStore):
    before = store.list("subnets")
    with pytest.raises(ObjectNotFound):
        driver.create_subnet(network_id="nope", address_block="10.0.0.0/24")
    assert store.list("subnets") == before


def test_destroy_network_destroys_its_subnets(driver: MockDriver):
    driver.create_subnet(network_id="net1", address_block="192.168.3.0/24", name="extra")
    driver.destroy_network("net1")
    assert driver.get_network("net1") is None
    assert [s.id for s in driver.list_subnets()] == ["subnet3", "subnet4"]


@pytest.mark.parametrize("call", [
    lambda d: d.destroy_network("nope"), lambda d: d.destroy_subnet("nope"),
    lambda d: d.destroy_network_interface("nope"),
])
def test_destroy_unknown_is_not_found(driver: MockDriver, call):
    with pytest.raises(ObjectNotFound):
        call(driver)


# -- network interfaces ----------------------------------------------------------------------

def test_fixture_network_interfaces(driver: MockDriver):
    nics = driver.list_network_interfaces()
    assert [(n.id, n.name, n.instance, n.network, n.ip_address) for n in nics] == [
        ("nic1", "nic1", "inst1", "subnet1", "192.168.1.2"),
        ("nicinst3", "nicinst3", "inst3", "net1", "192.168.2.189"),
    ]


def test_create_network_interface_with_subnet(driver: MockDriver):
    nic = driver.create_network_interface(instance="inst2", network="net1", subnet="subnet1",
                                          name="goldencheck-nic1")
    assert (nic.id, nic.name, nic.instance, nic.network) == ("goldencheck-nic1", "goldencheck-nic1", "inst2", "net1")
    assert ipaddress.ip_address(nic.ip_address) in ipaddress.ip_network("192.168.1.0/24")
    assert nic.ip_address not in ("192.168.1.0", "192.168.1.255")
    assert driver.get_instance("inst2").network_interfaces == ("goldencheck-nic1",)


def test_create_network_interface_network_as_subnet(driver: MockDriver):
    nic = driver.create_network_interface(instance="inst1", network="subnet3")
    assert re.fullmatch(r"nic_\d+", nic.id)
    assert nic.network == "subnet3"
    assert ipaddress.ip_address(nic.ip_address) in ipaddress.ip_network("10.1.0.0/16")
    assert driver.get_instance("inst1").network_interfaces == ("nic1", nic.id)


@pytest.mark.parametrize(("kwargs", "missing"), [
    ({"instance": "inst2", "network": "net1"}, "Subnet 'net1'"),
    ({"instance": "inst2", "network": "net1", "subnet": "nope"}, "Subnet 'nope'"),
    ({"instance": "nope", "network": "subnet1"}, "Instance 'nope'"),
])
def test_create_network_interface_unknown(driver: MockDriver, store: MockStore, kwargs, missing):
    before = (store.list("network_interfaces"), store.list("instances"))
    with pytest.raises(ObjectNotFound) as info:
        driver.create_network_interface(**kwargs)
    assert missing in info.value.message
    assert (store.list("network_interfaces"), store.list("instances")) == before


def test_destroy_network_interface(driver: MockDriver):
    driver.destroy_network_interface("nic1")
    assert driver.get_network_interface("nic1") is None
    assert driver.get_instance("inst1").network_interfaces == ()


def test_destroy_instance_removes_its_interfaces(driver: MockDriver):
    nic = driver.create_network_interface(instance="inst2", network="subnet2", name="gone-with-inst2")
    driver.destroy_instance("inst2")
    assert driver.get_network_interface(nic.id) is None
    assert [n.id for n in driver.list_network_interfaces()] == ["nic1", "nicinst3"]
