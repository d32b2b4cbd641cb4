"""The seeded mock cloud matches the original's fixtures (MOCK.md §3, §4 and the golden files)."""

from __future__ import annotations

import re

import pytest
from deltacloud_core.errors import BackendError, NotSupportedError, ProviderError, ProviderTimeout
from deltacloud_core.hardware import HardwareProfile

from deltacloud_mock.driver import MockDriver
from deltacloud_mock.store import COLLECTIONS, MockStore

ALL_PROFILES = ("m1-small", "m1-large", "m1-xlarge", "opaque")
TEST_KEY_FINGERPRINT = "5e:ce:b6:dc:59:3b:5c:93:f8:2e:9d:20:ce:60:ca:f5:0b:8a:66:93"
TEST_KEY_PEM_START = ("-----BEGIN RSA PRIVATE KEY-----\n"
                      "P9mRXOY7p2SmMzTGA6dwKxUp1NB8LNCIJ7sMGgAljsf=ToAi9qn9myx0EQJkE8FZ8FigUIMHS/T\n")
TEST_KEY_PEM_END = "\n6rjiLETNeMTWGcuIkLPe/PElmp4llKeFi6g2=E2AKeSDzNycr5eXHEnBuKfEnENXXo6n-----END RSA PRIVATE KEY-----"
PEM_RE = re.compile(r"-----BEGIN RSA PRIVATE KEY-----\n(?:[A-Za-z0-9=/+]{75}\n){21}[A-Za-z0-9=/+]{68}"
                    r"-----END RSA PRIVATE KEY-----")


# -- realms --------------------------------------------------------------------------------
def test_realms(driver: MockDriver):
    realms = driver.list_realms()
    assert [(r.id, r.name, r.state, r.limit) for r in realms] == [
        ("us", "United States", "AVAILABLE", None), ("eu", "Europe", "AVAILABLE", None)]
    assert [r.id for r in driver.list_realms(id="eu")] == ["eu"]
    assert driver.list_realms(id="nope") == []
    realm = driver.get_realm("us")
    assert realm is not None
    assert realm.name == "United States"
    assert driver.get_realm("nope") is None


@pytest.mark.parametrize(("realm_id", "error", "message"), [
    ("500", BackendError, "DeltacloudErrorMessage"),
    ("501", NotSupportedError, "NotImplementedMessage"),
    ("502", ProviderError, "ProviderErrorMessage"),
    ("504", ProviderTimeout, "ProviderTimeoutMessage"),
])
def test_realm_error_injection(driver: MockDriver, realm_id: str, error: type, message: str):
    with pytest.raises(error) as info:
        driver.get_realm(realm_id)
    assert info.value.message == message
    with pytest.raises(error) as info:
        driver.list_realms(id=realm_id)
    assert info.value.message == message
    assert info.value.status == int(realm_id)


# -- hardware profiles ---------------------------------------------------------------------
def _props(profile: HardwareProfile) -> list[tuple]:
    return [(p.name, p.kind, p.value, p.first, p.last, p.values) for p in profile.properties]


def test_hardware_profiles(anonymous: MockDriver):
    profiles = anonymous.list_hardware_profiles()  # no credentials needed
    assert tuple(p.id for p in profiles) == ALL_PROFILES
    assert [p.name for p in profiles] == list(ALL_PROFILES)
    small, large, xlarge, opaque = profiles
    assert _props(small) == [
        ("cpu", "fixed", 1, None, None, ()), ("memory", "fixed", 1740.8, None, None, ()),
        ("storage", "fixed", 160, None, None, ()), ("architecture", "fixed", "i386", None, None, ())]
    assert _props(large) == [
        ("cpu", "range", 1, 1, 6, ()), ("memory", "range", 10240, 7680, 15360, ()),
        ("storage", "enum", 850, None, None, (850, 1024)), ("architecture", "fixed", "x86_64", None, None, ())]
    assert _props(xlarge) == [
        ("cpu", "fixed", 4, None, None, ()), ("memory", "range", 12288, 12288, 32768, ()),
        ("storage", "enum", 1024, None, None, (1024, 2048, 4096)),
        ("architecture", "fixed", "x86_64", None, None, ())]
    assert opaque.properties == ()
    assert [p.unit for p in small.properties] == ["count", "MB", "GB", "label"]
    # XML order (cpu default, memory default; propertyless last) equals definition order.
    assert [p.id for p in sorted(profiles, key=HardwareProfile.sort_key)] == list(ALL_PROFILES)


def test_hardware_profile_filters(anonymous: MockDriver):
    assert [p.id for p in anonymous.list_hardware_profiles(architecture="i386")] == ["m1-small"]
    assert [p.id for p in anonymous.list_hardware_profiles(architecture="x86_64")] == ["m1-large", "m1-xlarge"]
    hwp = anonymous.get_hardware_profile("m1-large")
    assert hwp is not None
    assert hwp.id == "m1-large"
    assert anonymous.get_hardware_profile("nope") is None


def test_state_machine():
    machine = MockDriver.INSTANCE_STATES
    assert machine is not None
    assert machine.states == ("start", "pending", "running", "stopped", "finish")
    rows = [(t.source, t.action, t.to, t.auto) for t in machine.transitions]
    assert rows == [
        ("start", "create", "pending", False), ("pending", None, "running", True),
        ("running", "reboot", "running", False), ("running", "stop", "stopped", False),
        ("stopped", "start", "running", False), ("stopped", "destroy", "finish", False)]
    assert machine.actions_for("RUNNING") == ["reboot", "stop"]
    assert machine.actions_for("STOPPED") == ["start", "destroy"]
    assert machine.actions_for("PENDING") == []


def test_driver_metadata():
    assert MockDriver.DISPLAY_NAME == "Mock"
    # Store reads run on the event loop (no I/O wait); writes may wait for another worker's
    # transaction, so they take a worker thread.
    from deltacloud_core.drivers.base import runs_on_loop

    assert runs_on_loop(MockDriver.list_instances)
    assert runs_on_loop(MockDriver.get_storage_volume)
    assert not runs_on_loop(MockDriver.create_instance)
    assert not runs_on_loop(MockDriver.destroy_bucket)
    assert MockDriver.declared_features("instances") == (
        "metrics", "realm_filter", "user_name", "authentication_key", "user_Data")
    assert MockDriver.declared_features("images") == ("user_name", "user_description")


# -- images --------------------------------------------------------------------------------
def test_images(driver: MockDriver):
    images = driver.list_images()
    assert [(i.id, i.name, i.owner_id, i.architecture, i.state, i.description) for i in images] == [
        ("img1", "img1", "fedoraproject", "x86_64", "AVAILABLE", "Fedora 10"),
        ("img2", "img2", "fedoraproject", "i386", "AVAILABLE", "Fedora 10"),
        ("img3", "img3", "mockuser", "i386", "AVAILABLE", "JBoss"),
    ]
    for image in images:
        assert image.creation_time == "Thu Oct 25 14:27:53 CEST 2012"
        assert image.hardware_profiles == ALL_PROFILES
        assert image.root_type == "transient"
    img = driver.get_image("img2")
    assert img == images[1]
    assert driver.get_image("nope") is None


def test_image_filters(driver: MockDriver):
    assert [i.id for i in driver.list_images(owner_id="self")] == ["img3"]
    assert [i.id for i in driver.list_images(owner_id="fedoraproject")] == ["img1", "img2"]
    assert [i.id for i in driver.list_images(architecture="i386")] == ["img2", "img3"]
    assert [i.id for i in driver.list_images(id="img1")] == ["img1"]
    assert driver.list_images(id="nope") == []


# -- instances -----------------------------------------------------------------------------
def test_instances(driver: MockDriver):
    instances = driver.list_instances()
    assert [i.id for i in instances] == ["inst0", "inst1", "inst2", "inst3"]
    inst0, inst1, inst2, inst3 = instances
    assert [i.name for i in instances] == ["Mock Instance With Profile Change", "MockUserInstance",
                                           "AnotherInstance", ""]
    assert {i.owner_id for i in instances} == {"mockuser"}
    assert {i.state for i in instances} == {"RUNNING"}
    assert [i.image_id for i in instances] == ["img1", "img3", "img1", "img3"]
    assert [i.realm_id for i in instances] == ["us", "us", "us", "eu"]
    assert [(i.instance_profile.id, dict(i.instance_profile.overrides)) for i in instances
            if i.instance_profile] == [
        ("m1-large", {"memory": "12288"}), ("m1-small", {}), ("m1-large", {}), ("m1-small", {})]
    assert [[(a.address, a.type) for a in i.public_addresses] for i in instances] == [
        [("img1.inst0.public.com", "hostname")], [("img1.inst1.public.com", "hostname")],
        [("img1.inst2.public.com", "hostname")], [("img3.inst3.public.com", "hostname")]]
    assert [[(a.address, a.type) for a in i.private_addresses] for i in instances] == [
        [("img1.inst0.private.com", "hostname")], [("img1.inst1.private.com", "hostname")],
        [("img1.inst2.private.com", "hostname")], [("img3.inst3.private.com", "hostname")]]
    assert [i.create_image for i in instances] == [True, True, True, False]
    assert [i.storage_volumes for i in instances] == [(), (), (), ()]
    assert [i.network_interfaces for i in instances] == [(), ("nic1",), None, ("nicinst3",)]
    assert [i.keyname for i in instances] == [None, None, None, ""]
    assert [i.launch_time for i in instances] == [None] * 4
    for inst in instances:
        assert inst.actions is None
        assert driver.instance_actions_for(inst) == ["reboot", "stop"]
    assert driver.get_instance("inst2") == inst2
    assert driver.get_instance("nope") is None
    assert inst0.id == "inst0"
    assert inst1.id == "inst1"
    assert inst3.id == "inst3"


# -- keys ----------------------------------------------------------------------------------
def test_keys(driver: MockDriver):
    keys = driver.list_keys()
    assert [k.id for k in keys] == ["test-key"]
    key = keys[0]
    assert key.credential_type == "key"
    assert key.name == "test-key"
    assert key.fingerprint == TEST_KEY_FINGERPRINT
    assert key.state is None
    assert key.pem_rsa_key is not None
    assert key.pem_rsa_key.startswith(TEST_KEY_PEM_START)
    assert key.pem_rsa_key.endswith(TEST_KEY_PEM_END)
    assert PEM_RE.fullmatch(key.pem_rsa_key)
    assert driver.get_key("test-key") == key
    assert driver.get_key("nope") is None
    assert driver.list_keys(id="nope") == []


# -- the other collections, seeded for later driver methods --------------------------------
def test_other_collections_seeded(store: MockStore):
    assert {c: store.ids(c) for c in COLLECTIONS} == {
        "images": ["img1", "img2", "img3"],
        "instances": ["inst0", "inst1", "inst2", "inst3"],
        "keys": ["test-key"],
        "storage_volumes": ["vol1", "vol2", "vol3"],
        "storage_snapshots": ["snap1", "snap2", "snap3"],
        "buckets": ["bucket1", "bucket2"],
        "blobs": ["blob1", "blob2", "blob3", "blob4", "blob5"],
        "addresses": ["192.168.0.1", "192.168.0.2", "192.168.0.3", "192.168.0.4"],
        "networks": ["net1", "net2"],
        "subnets": ["subnet1", "subnet2", "subnet3", "subnet4"],
        "network_interfaces": ["nic1", "nicinst3"],
    }
    assert store.get("storage_volumes", "vol3") == {
        "id": "vol3", "capacity": 1, "realm_id": "us", "created": "Thu Jul 30 14:35:11 UTC 2009",
        "state": "IN-USE", "instance_id": "inst1", "device": "/dev/sda1"}
    assert store.get("storage_volumes", "vol1")["instance_id"] is None
    assert [(s["id"], s["storage_volume_id"], s["state"]) for s in store.list("storage_snapshots")] == [
        ("snap1", "vol1", "COMPLETED"), ("snap2", "vol2", "COMPLETED"), ("snap3", "vol2", "COMPLETED")]
    assert [(b["id"], b["name"], b["size"]) for b in store.list("buckets")] == [
        ("bucket1", "bucket1", 3), ("bucket2", "bucket2", 2)]
    blobs = store.list("blobs")
    assert [(b["bucket"], b["content_type"], b["content_length"], len(b["content"]), b["last_modified"],
             b["user_metadata"]) for b in blobs] == [
        ("bucket1", "text/plain", 17, 17, "2010-09-23 16:44:54 +0100", {"SOMENEWKEY": "NEWVALUE"}),
        ("bucket1", "text/html", 56, 56, "2010-09-23 16:55:05 +0100", {"VERSION": "1.2"}),
        ("bucket1", "text/plain", 17, 17, "2010-08-14 02:14:31 +0100", {}),
        ("bucket2", "application/octet-stream", 17, 17, "2010-09-21 06:17:24 +0100", {"some": "value"}),
        ("bucket2", "application/pdf", 17, 17, "2009-07-21 11:12:13 +0100", {}),
    ]
    assert blobs[1]["content"] == "<html><head></head><body>content of blob 2</body></html>"
    assert all(a["instance_id"] is None for a in store.list("addresses"))
    assert store.get("networks", "net2") == {"id": "net2", "name": "network2", "address_blocks": ["10.0.0.0/8"],
                                             "subnets": ["subnet3", "subnet4"], "state": "UP"}
    assert store.get("subnets", "subnet3") == {"id": "subnet3", "name": "subnet3", "network": "net2",
                                               "address_block": "10.1.0.0/16", "type": "PRIVATE", "state": "UP"}
    assert store.list("network_interfaces") == [
        {"id": "nic1", "name": "nic1", "instance": "inst1", "network": "subnet1", "subnet": None,
         "ip_address": "192.168.1.2"},
        {"id": "nicinst3", "name": "nicinst3", "instance": "inst3", "network": "net1", "subnet": "subnet2",
         "ip_address": "192.168.2.189"},
    ]
