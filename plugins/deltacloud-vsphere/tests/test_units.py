"""What needs no server: provider strings, the state mapping, fault translation (real pyVmomi fault
objects, as pyVmomi raises them), user ISO decoding, metric periods, device names."""

from __future__ import annotations

import base64
import gzip
import itertools
import socket
import ssl
import time

import pytest
from deltacloud_core import (
    AuthenticationFailure,
    BackendError,
    Conflict,
    ForbiddenError,
    MethodNotAllowed,
    NotSupportedError,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    ValidationError,
)
from deltacloud_core.errors import PayloadTooLarge
from deltacloud_core.providers import ProviderPolicy
from pyVmomi import vim, vmodl

from deltacloud_vsphere import VSphereDriver
from deltacloud_vsphere.errors import translated_fault, transport_error
from deltacloud_vsphere.machines import architecture, device_name, parse_device
from deltacloud_vsphere.metrics import periods
from deltacloud_vsphere.provider import Endpoint, parse_provider, provider_hosts
from deltacloud_vsphere.settings import Settings
from deltacloud_vsphere.states import INSTANCE_STATES, instance_state
from deltacloud_vsphere.userdata import decode_user_iso, guestinfo, iso_path

# -- provider --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "expected"), [
    ("vcenter.example.com", Endpoint("https", "vcenter.example.com", 443)),
    ("vcenter.example.com;DC1", Endpoint("https", "vcenter.example.com", 443, datacenter="DC1")),
    ("vcenter.example.com:8443", Endpoint("https", "vcenter.example.com", 8443)),
    ("10.0.0.5;dc-east", Endpoint("https", "10.0.0.5", 443, datacenter="dc-east")),
    ("[2001:db8::5]:9443", Endpoint("https", "2001:db8::5", 9443)),
    ("https://vcenter.example.com/sdk", Endpoint("https", "vcenter.example.com", 443)),
    ("https://vcenter.example.com", Endpoint("https", "vcenter.example.com", 443)),
    ("http://127.0.0.1:8989/sdk;DC0", Endpoint("http", "127.0.0.1", 8989, datacenter="DC0")),
    ("https://esx1.lab:443/sdk/", Endpoint("https", "esx1.lab", 443)),
])
def test_provider_forms(provider, expected):
    assert parse_provider(provider) == expected


def test_endpoint_urls():
    assert parse_provider("vcenter.example.com;DC1").url == "https://vcenter.example.com:443/sdk"
    assert parse_provider("[2001:db8::5]").url == "https://[2001:db8::5]:443/sdk"
    assert parse_provider("http://127.0.0.1:8989/sdk").base_url == "http://127.0.0.1:8989"


@pytest.mark.parametrize(("provider", "why"), [
    (None, "No provider"),
    ("", "No provider"),
    (";DC1", "no host"),
    ("ftp://vcenter.example.com/sdk", "scheme"),
    ("https://admin:pw@vcenter.example.com/sdk", "Authorization header"),
    ("https://vcenter.example.com/sdk?x=1", "query"),
    ("vcenter example", "neither a host name"),
    ("vcenter.example.com:99999", "out of range"),
])
def test_bad_providers_are_400_saying_what_is_expected(provider, why):
    with pytest.raises(ValidationError) as caught:
        parse_provider(provider)
    assert why in caught.value.message
    assert caught.value.status == 400


@pytest.mark.parametrize(("provider", "hosts"), [
    ("vcenter.example.com", ["vcenter.example.com"]),
    ("vcenter.example.com;DC1", ["vcenter.example.com"]),
    ("169.254.169.254;DC1", ["169.254.169.254"]),
    ("https://169.254.169.254/sdk", ["169.254.169.254"]),
    ("[fe80::1]:443", ["fe80::1"]),
    ("metadata.google.internal", ["metadata.google.internal"]),
    ("vcenter example;x", ["vcenter example"]),  # unparsable, still judged by the policy
])
def test_provider_hosts(provider, hosts):
    assert provider_hosts(provider) == hosts
    assert VSphereDriver.provider_hosts(provider) == hosts


def test_policy_with_the_drivers_syntax():
    """The core's policy sees the host in vSphere's syntax: a listed host is allowed, another is not
    (the driver is closed: OPEN_PROVIDERS False)."""
    policy = ProviderPolicy(patterns={"vsphere": ("vcenter.example.com;*",)})
    driver = type("Registered", (VSphereDriver,), {"driver_id": "vsphere"})
    policy.check(driver, "vcenter.example.com;DC1")
    with pytest.raises(ForbiddenError, match="DELTACLOUD_PROVIDERS_VSPHERE"):
        policy.check(driver, "vcenter.evil.example;DC1")
    with pytest.raises(ForbiddenError):  # a * stays inside one part: it never reaches past the ';'
        ProviderPolicy(patterns={"vsphere": ("vcenter.example.com*",)}).check(driver, "vcenter.example.com;DC1")


# -- states ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("power", "connection", "guest", "state"), [
    ("poweredOn", "connected", "running", "RUNNING"),
    ("poweredOn", "connected", None, "RUNNING"),
    ("poweredOn", "connected", "shuttingDown", "STOPPING"),
    ("poweredOff", "connected", "notRunning", "STOPPED"),
    ("suspended", "connected", None, "STOPPED"),
    ("poweredOn", "disconnected", "running", "UNKNOWN"),
    ("poweredOff", "inaccessible", None, "UNKNOWN"),
    ("poweredOn", "orphaned", None, "UNKNOWN"),
    (None, None, None, "UNKNOWN"),
])
def test_instance_state(power, connection, guest, state):
    assert instance_state(power, connection, guest) == state


def test_machine_actions():
    assert INSTANCE_STATES.actions_for("RUNNING") == ["reboot", "stop"]
    assert INSTANCE_STATES.actions_for("STOPPED") == ["start", "destroy"]
    assert INSTANCE_STATES.actions_for("STOPPING") == []
    assert INSTANCE_STATES.actions_for("UNKNOWN") == []
    assert INSTANCE_STATES.next_state("start", "create") == "pending"


@pytest.mark.parametrize(("guest", "arch"), [
    ("ubuntu64Guest", "x86_64"), ("windows2019srv_64Guest", "x86_64"), ("otherGuest64", "x86_64"),
    ("vmkernel7Guest", "x86_64"), ("otherGuest", "i386"), ("winXPProGuest", "i386"), (None, "i386"),
])
def test_architecture_from_guest_id(guest, arch):
    assert architecture(guest) == arch


# -- faults ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "error", "status"), [
    (vim.fault.InvalidLogin(msg="Cannot complete login due to an incorrect user name or password."),
     AuthenticationFailure, 401),
    (vim.fault.NotAuthenticated(msg="The session is not authenticated."), AuthenticationFailure, 401),
    (vim.fault.NoPermission(msg="Permission to perform this operation was denied.",
                            privilegeId="VirtualMachine.Interact.PowerOn"), ForbiddenError, 403),
    (vmodl.fault.ManagedObjectNotFound(msg="The object has already been deleted"), ObjectNotFound, 404),
    (vim.fault.FileNotFound(msg="File [ds] x.vmdk was not found", file="[ds] x.vmdk"), ObjectNotFound, 404),
    (vim.fault.DuplicateName(msg="The name 'web1' already exists.", name="web1"), Conflict, 409),
    (vim.fault.InsufficientResourcesFault(msg="Insufficient resources to satisfy configured failover level"),
     Conflict, 409),
    (vim.fault.TaskInProgress(msg="Another task is already in progress."), Conflict, 409),
    (vmodl.fault.InvalidArgument(msg="A specified parameter was not correct: spec.pool",
                                 invalidProperty="spec.pool"), ValidationError, 400),
    (vmodl.fault.NotSupported(msg="The operation is not supported on the object."), NotSupportedError, 501),
    (vmodl.fault.HostCommunication(msg="An error occurred while communicating with the remote host."),
     ProviderError, 502),
    (vmodl.fault.RequestCanceled(msg="The task was canceled by a user."), ProviderTimeout, 504),
    (vim.fault.GenericVmConfigFault(msg="Failed to start the virtual machine."), BackendError, 500),
])
def test_faults_keep_vspheres_message(fault, error, status):
    translated = translated_fault(fault, what="Power-on of vm-42")
    assert type(translated) is error
    assert translated.status == status
    assert translated.message.startswith("Power-on of vm-42: ")
    assert fault.msg in translated.message
    assert translated.backend_code == type(fault).__name__.rsplit(".", 1)[-1]


def test_no_permission_names_the_privilege():
    fault = vim.fault.NoPermission(msg="Permission denied", privilegeId="Datastore.AllocateSpace")
    assert "Datastore.AllocateSpace" in translated_fault(fault).message


def test_invalid_power_state_is_405_for_an_action_and_409_elsewhere():
    fault = vim.fault.InvalidPowerState(msg="The attempted operation cannot be performed in the current state "
                                            "(Powered on).", existingState="poweredOn", requestedState="poweredOff")
    action = translated_fault(fault, what="Destroy of vm-42", action=True)
    assert isinstance(action, MethodNotAllowed)
    assert "the virtual machine is poweredOn; this needs it poweredOff" in action.message
    assert isinstance(translated_fault(fault), Conflict)


def test_fault_without_a_message_is_named():
    assert translated_fault(vim.fault.InvalidPowerState(msg="*types.InvalidPowerState")).message.startswith(
        "InvalidPowerState")


@pytest.mark.parametrize(("exc", "error", "words"), [
    (ssl.SSLCertVerificationError(1, "certificate verify failed"), ProviderError, "DELTACLOUD_VSPHERE_CA_BUNDLE"),
    (TimeoutError("timed out"), ProviderTimeout, "DELTACLOUD_VSPHERE_TIMEOUT"),
    (OSError(110, "Connection timed out"), ProviderTimeout, "did not answer in time"),  # ETIMEDOUT
    (ConnectionResetError(104, "Connection reset by peer"), ProviderError, "Connection reset by peer"),
    (ConnectionRefusedError(111, "Connection refused"), ProviderError, "could not be reached: Connection refused"),
    (socket.gaierror(-2, "Name or service not known"), ProviderError, "Name or service not known"),
])
def test_transport_failures(exc, error, words):
    translated = transport_error(exc, "https://vc.example:443/sdk")
    assert type(translated) is error
    assert words in translated.message


# -- settings --------------------------------------------------------------------------------------


def test_settings_from_the_environment(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    settings = Settings.from_env({"DELTACLOUD_VSPHERE_CA_BUNDLE": str(bundle), "DELTACLOUD_VSPHERE_TIMEOUT": "5",
                                  "DELTACLOUD_VSPHERE_TASK_TIMEOUT": "20", "DELTACLOUD_VSPHERE_SESSIONS": "3"})
    assert (settings.ca_bundle, settings.timeout, settings.task_timeout, settings.max_sessions) == (
        str(bundle), 5.0, 20.0, 3)
    assert not settings.insecure
    assert Settings.from_env({"DELTACLOUD_VSPHERE_INSECURE": "1"}).ssl_context().verify_mode == ssl.CERT_NONE
    assert Settings.from_env({}).ssl_context().verify_mode == ssl.CERT_REQUIRED  # checked by default


@pytest.mark.parametrize("env", [{"DELTACLOUD_VSPHERE_CA_BUNDLE": "/nonexistent/ca.pem"},
                                 {"DELTACLOUD_VSPHERE_TIMEOUT": "soon"}, {"DELTACLOUD_VSPHERE_TIMEOUT": "-1"}])
def test_bad_settings_are_the_operators_problem(env):
    with pytest.raises(BackendError, match="DELTACLOUD_VSPHERE_"):
        Settings.from_env(env)


# -- user data -------------------------------------------------------------------------------------


def _iso(payload: bytes = b"hello") -> bytes:
    """A minimal ISO 9660 image: 16 empty sectors, then the primary volume descriptor's signature."""
    return b"\0" * 0x8000 + b"\x01CD001\x01" + b"\0" * 2041 + payload


def test_user_iso_gzipped_or_plain():
    settings = Settings()
    image = _iso()
    assert decode_user_iso(base64.b64encode(gzip.compress(image)).decode(), settings) == image
    assert decode_user_iso(base64.b64encode(image).decode(), settings) == image


@pytest.mark.parametrize(("raw", "error", "words"), [
    ("not base64!", ValidationError, "base64"),
    (base64.b64encode(b"\x1f\x8bnot gzip").decode(), ValidationError, "gzip"),
    (base64.b64encode(gzip.compress(b"just text")).decode(), ValidationError, "ISO 9660"),
])
def test_bad_user_iso(raw, error, words):
    with pytest.raises(error, match=words):
        decode_user_iso(raw, Settings())


def test_user_iso_bomb_is_413():
    bomb = base64.b64encode(gzip.compress(b"\0" * (3 * 2**20))).decode()
    with pytest.raises(PayloadTooLarge):
        decode_user_iso(bomb, Settings(max_iso_bytes=2**20))


@pytest.mark.parametrize(("name", "start"), [
    ("web-1", "deltacloud-iso/web-1-"), ("web/1 é", "deltacloud-iso/web_1-"), ("../..", "deltacloud-iso/instance-"),
])
def test_iso_path_keeps_to_its_folder(name, start):
    path = iso_path(name)
    assert path.startswith(start)
    assert path.endswith(".iso")
    assert path.count("/") == 1


def test_guestinfo_for_cloud_init():
    options = {o.key: o.value for o in guestinfo(b"#cloud-config\nhostname: web1\n", "web1")}
    assert base64.b64decode(options["guestinfo.userdata"]) == b"#cloud-config\nhostname: web1\n"
    assert options["guestinfo.userdata.encoding"] == "base64"
    meta = base64.b64decode(options["guestinfo.metadata"]).decode()
    assert '"local-hostname": "web1"' in meta
    assert '"instance-id": "deltacloud-' in meta
    cleared = {o.key: o.value for o in guestinfo(None, "web2")}
    assert cleared["guestinfo.userdata"] == ""
    assert cleared["guestinfo.userdata.encoding"] == ""


# -- metrics and devices ---------------------------------------------------------------------------


def test_periods_group_samples_and_skip_missing_values():
    stamps = [1020, 1040, 1060, 1080, 1100, 1140]
    samples = periods(stamps, [1.0, 3.0, -1, 5.0, 7.0, 9.0], "Percent", period=60)
    assert [(s.timestamp, s.minimum, s.maximum, s.average) for s in samples] == [
        (1020, 1.0, 3.0, 2.0), (1080, 5.0, 7.0, 6.0), (1140, 9.0, 9.0, 9.0)]
    assert samples[0].unit == "Percent"


@pytest.mark.parametrize(("device", "place"), [
    ("/dev/sdb", (0, 1)), ("sdc", (0, 2)), ("/dev/xvdd", (0, 3)), ("scsi1:4", (1, 4)), ("SCSI0:2", (0, 2)),
    ("/dev/nvme0n1", None), ("disk", None),
])
def test_device_names(device, place):
    assert parse_device(device) == place
    if place is not None and place[0] == 0:
        assert device_name(*place) == f"/dev/sd{'abcdefghijklmnopqrstuvwxyz'[place[1]]}"
    assert device_name(1, 4) == "scsi1:4"


# -- waiting for tasks -----------------------------------------------------------------------------


def test_task_still_running_at_the_deadline_is_504_naming_it():
    """The simulator ends every task within its call, so the bound is checked with the loop alone:
    a task vCenter keeps reporting as running, a clock that moves with each pause."""
    from deltacloud_vsphere.query import await_task

    now = [0.0]
    looks = []

    def look():
        looks.append(now[0])
        return "running", None, None

    with pytest.raises(ProviderTimeout) as caught:
        await_task(look, task_id="task-77", deadline=5.0, what="Clone of template vm-10", clock=lambda: now[0],
                   pause=lambda s: now.__setitem__(0, now[0] + s))
    assert "task-77 is still running" in caught.value.message
    assert "DELTACLOUD_VSPHERE_TASK_TIMEOUT" in caught.value.message
    assert caught.value.message.startswith("Clone of template vm-10: ")
    assert looks[-1] <= 5.0 < now[0] + 1  # it looked until the deadline, not beyond
    assert all(b - a <= 1.0 for a, b in itertools.pairwise(looks))  # polled, at most a second apart


def test_task_that_fails_carries_its_fault():
    from deltacloud_vsphere.query import await_task

    fault = vim.fault.DuplicateName(msg="The name 'web1' already exists.", name="web1")
    with pytest.raises(Conflict, match=r"Clone: The name 'web1' already exists\."):
        await_task(lambda: ("error", fault, None), task_id="t", deadline=time.monotonic() + 5, what="Clone")
    assert await_task(lambda: ("success", None, "vm-9"), task_id="t", deadline=0, what="x") == "vm-9"
