"""The driver's parts on libvirt's test driver and in isolation: states, errors (real libvirt errors),
settings, the refusal of URIs without credentials, the connection cache, the stop marker, validation."""

from __future__ import annotations

import time

import libvirt
import pytest
from deltacloud_core import (
    BackendError,
    Conflict,
    Credentials,
    ForbiddenError,
    NotSupportedError,
    ObjectNotFound,
    ProviderError,
    ValidationError,
)
from deltacloud_core.testing import free_port

from deltacloud_libvirt import LibvirtDriver
from deltacloud_libvirt.connection import CONNECTIONS, NO_AUTH_SETTING
from deltacloud_libvirt.domain_xml import STOP_NS, DomainSpec, domain_xml, parse_domain, stop_metadata_xml
from deltacloud_libvirt.errors import translate
from deltacloud_libvirt.seed import seed_iso
from deltacloud_libvirt.settings import Settings, parse_profiles
from deltacloud_libvirt.states import INSTANCE_STATES, instance_state

from .conftest import TEST_URI

OPERATOR_VM = "5ab39bd6-3f93-4c6b-9a2e-6a7d0a1c2b01"


# -- states --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "reason", "stop", "expected"), [
    (libvirt.VIR_DOMAIN_NOSTATE, 0, False, "PENDING"),
    (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED, False, "RUNNING"),
    (libvirt.VIR_DOMAIN_BLOCKED, 0, False, "RUNNING"),
    (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED, True, "STOPPING"),
    (libvirt.VIR_DOMAIN_SHUTDOWN, libvirt.VIR_DOMAIN_SHUTDOWN_USER, False, "STOPPING"),
    (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_STARTING_UP, False, "PENDING"),
    (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_SHUTTING_DOWN, False, "STOPPING"),
    (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER, False, "STOPPED"),
    (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED, False, "STOPPED"),
    (libvirt.VIR_DOMAIN_PMSUSPENDED, 0, False, "STOPPED"),
    (libvirt.VIR_DOMAIN_CRASHED, 0, False, "ERROR"),
    (99, 0, False, "UNKNOWN"),
])
def test_libvirt_states_map_onto_the_machine(state, reason, stop, expected):
    assert instance_state(state, reason, stop_requested=stop) == expected
    assert expected == "UNKNOWN" or expected.lower() in INSTANCE_STATES.states


def test_machine_offers_what_libvirt_can_do():
    INSTANCE_STATES.validate()
    assert INSTANCE_STATES.actions_for("running") == ["reboot", "stop", "destroy"]
    assert INSTANCE_STATES.actions_for("stopping") == []
    assert INSTANCE_STATES.actions_for("stopped") == ["start", "destroy"]
    assert INSTANCE_STATES.actions_for("error") == ["destroy"]


# -- errors: real libvirt errors, translated --------------------------------------------------------

def _raised(call) -> libvirt.libvirtError:
    with pytest.raises(libvirt.libvirtError) as caught:
        call()
    return caught.value


def test_libvirt_errors_are_translated_with_their_message():
    conn = libvirt.open(TEST_URI)
    try:
        missing = translate(_raised(lambda: conn.lookupByName("no-such-domain")))
        assert isinstance(missing, ObjectNotFound)
        assert missing.backend_code == "VIR_ERR_NO_DOMAIN"
        assert missing.message == "Domain not found"  # libvirt's own words (the test driver's)
        stopped = conn.defineXML("<domain type='test'><name>off</name><memory>262144</memory>"
                                 "<os><type>hvm</type></os></domain>")
        assert isinstance(translate(_raised(stopped.destroy)), Conflict)  # not running: operation invalid
        assert isinstance(translate(_raised(lambda: conn.lookupByUUIDString("not-a-uuid"))), ValidationError)
        unsupported = translate(_raised(lambda: stopped.attachDeviceFlags("<disk/>", 0)))
        assert isinstance(unsupported, NotSupportedError)
        assert "virDomainAttachDeviceFlags" in unsupported.message
        stopped.undefine()
    finally:
        conn.close()
    port = free_port()  # nobody listens there
    refused = translate(_raised(lambda: libvirt.open(f"qemu+tcp://127.0.0.1:{port}/system")))
    assert isinstance(refused, ProviderError)
    assert refused.status == 502


# -- credentials ---------------------------------------------------------------------------------

def test_uri_without_credentials_is_refused_unless_listed(monkeypatch):
    monkeypatch.delenv(NO_AUTH_SETTING, raising=False)
    driver = LibvirtDriver(credentials=Credentials("alice", "any"), provider=TEST_URI)
    with pytest.raises(ForbiddenError) as caught:
        driver.list_realms()
    assert NO_AUTH_SETTING in caught.value.message
    assert len(CONNECTIONS) == 0, "a refused connection is not cached"
    monkeypatch.setenv(NO_AUTH_SETTING, "qemu:///system test:///work/*")  # a pattern that does not match
    if not TEST_URI.startswith("test:///work/"):
        with pytest.raises(ForbiddenError):
            LibvirtDriver(credentials=Credentials("alice", "any"), provider=TEST_URI).list_realms()
    monkeypatch.setenv(NO_AUTH_SETTING, "test:///*")
    assert LibvirtDriver(credentials=Credentials("alice", "any"), provider=TEST_URI).list_realms()


def test_connections_are_cached_per_uri_and_credentials(no_auth_allowed):
    first = LibvirtDriver(credentials=Credentials("alice", "a"), provider=TEST_URI)
    again = LibvirtDriver(credentials=Credentials("alice", "a"), provider=TEST_URI)
    other = LibvirtDriver(credentials=Credentials("bob", "b"), provider=TEST_URI)
    opened = CONNECTIONS.opened
    assert first.conn is again.conn
    assert other.conn is not first.conn
    assert CONNECTIONS.opened == opened + 2
    CONNECTIONS.clear()
    assert len(CONNECTIONS) == 0


# -- settings ------------------------------------------------------------------------------------

def test_settings_defaults_and_mistakes():
    settings = Settings.from_environment({})
    assert (settings.default_uri, settings.image_pool, settings.stop_grace, settings.reboot_mode) == (
        "qemu:///system", "deltacloud-images", 60.0, "acpi")
    assert Settings.from_environment({"LIBVIRT_DEFAULT_URI": "xen:///system"}).default_uri == "xen:///system"
    with pytest.raises(ValueError, match="STOP_GRACE"):
        Settings.from_environment({"DELTACLOUD_LIBVIRT_STOP_GRACE": "soon"})
    with pytest.raises(ValueError, match="REBOOT"):
        Settings.from_environment({"DELTACLOUD_LIBVIRT_REBOOT": "kick"})
    small, large = parse_profiles("small:cpu=1,memory=512 large:cpu=4,memory=8192,storage=20")
    assert (small.id, small.property("memory").value, large.property("storage").value) == ("small", 512, 20)
    for wrong in ("small", "small:cpu=0", "small:disk=4", "default:cpu=1", "a:cpu=1 a:cpu=2"):
        with pytest.raises(ValueError, match="PROFILES"):
            parse_profiles(wrong)


def test_a_bad_setting_is_a_500_that_names_it(test_driver, monkeypatch):
    monkeypatch.setenv("DELTACLOUD_LIBVIRT_STOP_GRACE", "soon")
    with pytest.raises(BackendError, match="STOP_GRACE"):
        test_driver.list_realms()


def test_operator_profiles_are_listed(test_driver, monkeypatch):
    monkeypatch.setenv("DELTACLOUD_LIBVIRT_PROFILES", "small:cpu=1,memory=512")
    ids = [p.id for p in test_driver.list_hardware_profiles()]
    assert ids == ["default", "small"]
    created = test_driver.create_instance(image_id="tiny.qcow2", hwp_id="small")
    assert created.instance_profile.id == "small"
    assert created.instance_profile.overrides["memory"] == "512"


def test_missing_pool_is_a_502_that_says_how_to_make_it(test_driver, monkeypatch):
    monkeypatch.setenv("DELTACLOUD_LIBVIRT_IMAGE_POOL", "nope")
    with pytest.raises(ProviderError, match="virsh pool-define-as nope"):
        test_driver.list_images()


# -- validation ----------------------------------------------------------------------------------

def test_bad_create_requests_change_nothing(test_driver):
    before = {i.id for i in test_driver.list_instances()}
    volumes_before = test_driver.pool("instance_pool").listVolumes()
    for kwargs, error in [
        ({"image_id": "no-such.qcow2"}, ValidationError),
        ({"image_id": "tiny.qcow2", "hwp_overrides": {"memory": "300"}}, ValidationError),  # not 256 steps
        ({"image_id": "tiny.qcow2", "hwp_id": "huge"}, ValidationError),
        ({"image_id": "tiny.qcow2", "realm_id": "elsewhere"}, ValidationError),
        ({"image_id": "tiny.qcow2", "name": "bad/name"}, ValidationError),
        ({"image_id": "tiny.qcow2", "name": "operator-vm"}, Conflict),
        ({"image_id": "tiny.qcow2", "keyname": "not a key"}, ValidationError),
        ({"image_id": "tiny.qcow2", "user_data": b"#cloud-config\n"}, NotSupportedError),  # no streams here
    ]:
        with pytest.raises(error):
            test_driver.create_instance(**kwargs)
    assert {i.id for i in test_driver.list_instances()} == before
    assert test_driver.pool("instance_pool").listVolumes() == volumes_before, "a failed create left volumes"


def test_unknown_ids(test_driver):
    assert test_driver.get_instance("deltacloud-kit-missing") is None
    assert test_driver.get_instance("00000000-0000-0000-0000-000000000000") is None
    with pytest.raises(ObjectNotFound):
        test_driver.stop_instance("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ObjectNotFound):
        test_driver.attach_storage_volume("nope", instance_id=OPERATOR_VM, device="/dev/sdb")
    with pytest.raises(ObjectNotFound):
        test_driver.destroy_image("nope.qcow2")


def test_destroy_removes_the_overlay_and_foreign_domains_are_listed(test_driver):
    listed = {i.id: i for i in test_driver.list_instances()}
    assert listed[OPERATOR_VM].image_id is None
    assert listed[OPERATOR_VM].owner_id is None
    created = test_driver.create_instance(image_id="tiny.qcow2", name="dc-unit")
    assert f"{created.id}-disk.qcow2" in test_driver.pool("instance_pool").listVolumes()
    assert created.instance_profile.overrides == {"cpu": "1", "memory": "512", "storage": "1"}
    with pytest.raises(Conflict):
        test_driver.destroy_image("tiny.qcow2")  # the new instance's disk starts from it
    test_driver.destroy_instance(created.id)
    assert test_driver.get_instance(created.id) is None
    assert f"{created.id}-disk.qcow2" not in test_driver.pool("instance_pool").listVolumes()


# -- the stop marker -------------------------------------------------------------------------------

def test_stop_marker_shows_stopping_and_any_look_after_the_deadline_powers_off(test_driver):
    created = test_driver.create_instance(image_id="tiny.qcow2")
    domain = test_driver.conn.lookupByUUIDString(created.id)
    domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, stop_metadata_xml(time.time() + 600), "dcs", STOP_NS,
                       libvirt.VIR_DOMAIN_AFFECT_LIVE)
    shown = test_driver.get_instance(created.id)
    assert shown.state == "STOPPING"
    assert test_driver.instance_actions_for(shown) == []
    domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, stop_metadata_xml(time.time() - 1), "dcs", STOP_NS,
                       libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert domain.isActive()
    fresh = LibvirtDriver(credentials=Credentials("alice", "any"), provider=TEST_URI)  # a later request's look
    assert fresh.get_instance(created.id).state == "STOPPED"
    assert not domain.isActive(), "the look after the deadline did not power the domain off"


# -- documents -------------------------------------------------------------------------------------

def test_domain_xml_round_trip():
    spec = DomainSpec(name="web", uuid="0f6c1ad4-0000-4000-8000-000000000001", domain_type="qemu", arch="x86_64",
                      vcpus=2, memory_mib=768, root_path="/p/disk.qcow2", seed_path="/p/seed.iso", network="default",
                      metadata={"image": "a&b.qcow2", "owner": "alice <a>", "disk": "disk.qcow2"})
    facts = parse_domain(domain_xml(spec))
    assert (facts.name, facts.uuid, facts.vcpus, facts.memory_mib) == ("web", spec.uuid, 2, 768)
    assert facts.metadata == {"image": "a&b.qcow2", "owner": "alice <a>", "disk": "disk.qcow2"}
    assert [(d.device, d.target, d.source) for d in facts.disks] == [
        ("disk", "vda", "/p/disk.qcow2"), ("cdrom", "sda", "/p/seed.iso")]
    assert facts.networks == ("default",)
    assert facts.free_target(None) == "sdb"
    assert facts.free_target("sda") is None


def test_seed_iso_is_a_cidata_volume_with_both_files():
    import io

    import pycdlib

    data = seed_iso(instance_id="i-1", hostname="web", user_data=b"#!/bin/sh\necho hi\n", public_keys=["ssh-ed25519 K"])
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    try:
        assert iso.pvd.volume_identifier.decode().strip() == "cidata"
        out = io.BytesIO()
        iso.get_file_from_iso_fp(out, rr_path="/user-data")
        assert out.getvalue() == b"#!/bin/sh\necho hi\n"
        meta = io.BytesIO()
        iso.get_file_from_iso_fp(meta, joliet_path="/meta-data")
        assert b'instance-id: "i-1"' in meta.getvalue()
        assert b'- "ssh-ed25519 K"' in meta.getvalue()
    finally:
        iso.close()
