"""The driver against a real libvirtd with QEMU (tests/libvirtd.py): SASL, real domains, real disks.

The guest is a blank qcow2 disk (``qemu-img create``): SeaBIOS finds nothing to boot and the CPU idles,
so the domain is a real QEMU process that never answers ACPI, which is what makes ``stop`` show the
forced power-off after the grace period.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libvirt
import pytest
from deltacloud_core import AuthenticationFailure, Conflict, Credentials, ForbiddenError, ObjectNotFound

from deltacloud_libvirt import LibvirtDriver
from deltacloud_libvirt.connection import CONNECTIONS
from deltacloud_libvirt.seed import VOLUME_LABEL

from .libvirtd import IMAGE, PASSWORD, USER

pytestmark = pytest.mark.qemu
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKw2NMfjLD9meVeETI0clt21V08mglq6avRM/H7LfOMW deltacloud@test"


def wait_until(what: str, check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something true (bounded); fail naming ``what``."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not so after {timeout:g} s (last: {value!r})")
        pause.wait(interval)


@pytest.fixture
def made(qemu_driver: LibvirtDriver):
    """Instances and volumes a test made, destroyed afterwards whatever happened."""
    instances: list[str] = []
    volumes: list[str] = []
    yield instances, volumes
    for instance_id in instances:
        with contextlib.suppress(ObjectNotFound):
            qemu_driver.destroy_instance(instance_id)
    for volume_id in volumes:
        try:
            if qemu_driver.get_storage_volume(volume_id) is not None:
                qemu_driver.destroy_storage_volume(volume_id)
        except ObjectNotFound:
            pass


def _raw_domain(daemon, instance_id: str) -> tuple[libvirt.virConnect, libvirt.virDomain]:
    conn = daemon.open()
    return conn, conn.lookupByUUIDString(instance_id)


def test_credentials_pass_through_sasl(qemu_daemon):
    good = LibvirtDriver(credentials=Credentials(USER, PASSWORD), provider=qemu_daemon.uri)
    assert good.validate_credentials() is True
    assert good.list_realms()[0].id == good.conn.getHostname()
    wrong = LibvirtDriver(credentials=Credentials(USER, "not-the-password"), provider=qemu_daemon.uri)
    with pytest.raises(AuthenticationFailure) as caught:
        wrong.list_realms()
    assert caught.value.status == 401
    assert "authentication failed" in str(caught.value)  # libvirt's own message
    assert wrong.validate_credentials() is False
    stranger = LibvirtDriver(credentials=Credentials("nobody-we-know", PASSWORD), provider=qemu_daemon.uri)
    with pytest.raises(AuthenticationFailure):
        stranger.list_instances()


def test_instance_life_cycle_on_qemu(qemu_driver, qemu_daemon, made):
    instances, _volumes = made
    created = qemu_driver.create_instance(image_id=IMAGE, name="dc-life", hwp_overrides={"memory": "256"})
    instances.append(created.id)
    assert created.state == "RUNNING"
    assert created.name == "dc-life"
    assert created.image_id == IMAGE
    assert created.owner_id == USER
    assert created.instance_profile.overrides["memory"] == "256"
    conn, domain = _raw_domain(qemu_daemon, created.id)
    try:
        assert domain.ID() > 0
        assert domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        xml = domain.XMLDesc(0)
        assert "<domain type='kvm'" in xml or "<domain type='qemu'" in xml
        assert Path("/dev/kvm").exists() == ("<domain type='kvm'" in xml)  # TCG unless the host has KVM
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
        assert any("qemu-system" in line and "guest=dc-life" in line for line in ps.splitlines()), \
            "no QEMU process runs the domain"
        assert [i.id for i in qemu_driver.list_instances() if i.name == "dc-life"] == [created.id]

        rebooted = qemu_driver.reboot_instance(created.id)
        assert rebooted.state == "RUNNING"

        stopping = qemu_driver.stop_instance(created.id)
        assert stopping.state == "STOPPING", "the guest was asked to power off and has the grace period"
        started = time.monotonic()
        wait_until("the instance is STOPPED after the grace period",
                   lambda: qemu_driver.get_instance(created.id).state == "STOPPED", timeout=30)
        assert time.monotonic() - started >= 1.0, "powered off before the grace period ended"
        assert domain.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert domain.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED, "the blank guest ignores ACPI: forced"

        assert qemu_driver.start_instance(created.id).state in ("PENDING", "RUNNING")
        wait_until("RUNNING again", lambda: qemu_driver.get_instance(created.id).state == "RUNNING")

        disk = Path(qemu_daemon.pools / "instances" / f"{created.id}-disk.qcow2")
        assert disk.exists()
        assert qemu_driver.destroy_instance(created.id) is None
        assert qemu_driver.get_instance(created.id) is None
        assert not disk.exists(), "the overlay was not removed with the instance"
        with pytest.raises(libvirt.libvirtError):
            conn.lookupByUUIDString(created.id)
    finally:
        conn.close()


def test_reboot_reset_really_resets(qemu_driver, qemu_daemon, made, monkeypatch):
    """``reset`` mode resets the machine: QEMU reports a RESET, libvirt a reboot event."""
    monkeypatch.setenv("DELTACLOUD_LIBVIRT_REBOOT", "reset")
    instances, _volumes = made
    created = qemu_driver.create_instance(image_id=IMAGE, hwp_overrides={"memory": "256"})
    instances.append(created.id)
    conn, domain = _raw_domain(qemu_daemon, created.id)
    seen: list[str] = []
    callback = conn.domainEventRegisterAny(domain, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                           lambda _c, d, _o: seen.append(d.UUIDString()), None)
    try:
        LibvirtDriver(credentials=Credentials(USER, PASSWORD), provider=qemu_daemon.uri).reboot_instance(created.id)
        wait_until("libvirt reported the reboot", lambda: seen == [created.id], timeout=15)
    finally:
        conn.domainEventDeregisterAny(callback)
        conn.close()


def test_user_data_seed_iso_in_the_domain(qemu_driver, qemu_daemon, made, tmp_path):
    instances, _volumes = made
    user_data = b"#cloud-config\nruncmd:\n  - echo hello from deltacloud\n"
    created = qemu_driver.create_instance(image_id=IMAGE, name="dc-seeded", user_data=user_data,
                                          keyname=PUBLIC_KEY, hwp_overrides={"memory": "256"})
    instances.append(created.id)
    assert created.keyname
    assert created.keyname.startswith("SHA256:")
    seed = qemu_daemon.pools / "instances" / f"{created.id}-seed.iso"
    conn, domain = _raw_domain(qemu_daemon, created.id)
    try:
        xml = domain.XMLDesc(0)
    finally:
        conn.close()
    assert f"<source file='{seed}'" in xml, "no seed CD-ROM in the live domain"
    assert "device='cdrom'" in xml
    label = subprocess.run(["xorriso", "-indev", str(seed), "-pvd_info"], capture_output=True, text=True,
                           check=True).stdout
    assert f"Volume Id    : {VOLUME_LABEL}" in label
    for name in ("user-data", "meta-data"):
        subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(seed), "-extract", f"/{name}",
                        str(tmp_path / name)], capture_output=True, check=True)
    assert (tmp_path / "user-data").read_bytes() == user_data
    meta = (tmp_path / "meta-data").read_text()
    assert f'instance-id: "{created.id}"' in meta
    assert 'local-hostname: "dc-seeded"' in meta
    assert PUBLIC_KEY in meta
    qemu_driver.destroy_instance(created.id)
    assert not seed.exists(), "the seed ISO was not removed with the instance"


def test_volume_attach_detach_hot_plug(qemu_driver, qemu_daemon, made):
    instances, volumes = made
    created = qemu_driver.create_instance(image_id=IMAGE, hwp_overrides={"memory": "256"})
    instances.append(created.id)
    volume = qemu_driver.create_storage_volume(capacity="1", name="dc-data")
    volumes.append(volume.id)
    assert volume.state == "AVAILABLE"
    assert volume.capacity == 1
    attached = qemu_driver.attach_storage_volume(volume.id, instance_id=created.id, device="/dev/sdb")
    assert (attached.state, attached.instance_id, attached.device) == ("IN-USE", created.id, "/dev/sdb")
    conn, domain = _raw_domain(qemu_daemon, created.id)
    path = str(qemu_daemon.pools / "volumes" / "dc-data")
    try:
        assert f"<source file='{path}'" in domain.XMLDesc(0), "not hot-plugged into the running domain"
        assert f"<source file='{path}'" in domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), "not in its definition"
        assert ("dc-data", "/dev/sdb") in qemu_driver.get_instance(created.id).storage_volumes
        with pytest.raises(Conflict):
            qemu_driver.destroy_storage_volume(volume.id)
        with pytest.raises(Conflict):
            qemu_driver.attach_storage_volume(volume.id, instance_id=created.id, device="/dev/sdc")
        detached = qemu_driver.detach_storage_volume(volume.id)
        wait_until("the disk left the live domain", lambda: f"<source file='{path}'" not in domain.XMLDesc(0),
                   timeout=15)
        assert f"<source file='{path}'" not in domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        assert detached.id == volume.id
        assert qemu_driver.get_storage_volume(volume.id).state == "AVAILABLE"
        with pytest.raises(ForbiddenError):
            qemu_driver.detach_storage_volume(volume.id)
    finally:
        conn.close()
    snapshot = qemu_driver.create_storage_snapshot(volume_id=volume.id, name="before")
    assert snapshot.id == "dc-data@before"
    assert snapshot.storage_volume_id == volume.id
    copy = qemu_driver.create_storage_volume(snapshot_id=snapshot.id, name="dc-copy")
    volumes.append(copy.id)
    assert copy.capacity == 1
    qemu_driver.destroy_storage_snapshot(snapshot.id)
    assert qemu_driver.get_storage_snapshot(snapshot.id) is None


def test_metrics_of_a_running_domain(qemu_driver, made):
    instances, _volumes = made
    created = qemu_driver.create_instance(image_id=IMAGE, hwp_overrides={"memory": "256"})
    instances.append(created.id)
    assert created.id in {m.id for m in qemu_driver.list_metrics()}

    def sampled() -> dict[str, float]:
        metric = qemu_driver.get_metric(created.id)
        return {p.name: p.values[0].average for p in metric.properties if p.values}

    values = wait_until("CPU time and disk reads are counted",
                        lambda: (lambda v: v if v.get("cpuTime", 0) > 0 and v.get("diskReadBytes", 0) > 0 else None)(
                            sampled()), timeout=20)
    assert values["memoryUsed"] > 0
    qemu_driver.stop_instance(created.id)
    wait_until("STOPPED", lambda: qemu_driver.get_instance(created.id).state == "STOPPED")
    assert qemu_driver.get_metric(created.id) is None, "a stopped domain has no metrics"


def test_create_image_from_a_stopped_instance(qemu_driver, qemu_daemon, made, monkeypatch):
    monkeypatch.setenv("DELTACLOUD_LIBVIRT_STOP_GRACE", "0")  # power off at once
    instances, _volumes = made
    created = qemu_driver.create_instance(image_id=IMAGE, hwp_overrides={"memory": "256"})
    instances.append(created.id)
    with pytest.raises(Conflict):
        qemu_driver.create_image(instance_id=created.id, name="dc-image.qcow2")
    assert qemu_driver.stop_instance(created.id).state == "STOPPED"
    image = qemu_driver.create_image(instance_id=created.id, name="dc-image.qcow2", description="made by a test")
    try:
        shown = qemu_driver.get_image("dc-image.qcow2")
        assert (shown.name, shown.description, shown.owner_id) == ("dc-image.qcow2", "made by a test", USER)
        assert shown.architecture == "x86_64"
        assert image.id == shown.id
        info = subprocess.run(["qemu-img", "info", str(qemu_daemon.pools / "images" / "dc-image.qcow2")],
                              capture_output=True, text=True, check=True).stdout
        assert "backing file" not in info, "the image must stand alone (the overlay flattened)"
        with pytest.raises(Conflict):
            qemu_driver.destroy_image(IMAGE)  # the base of the instance's disk
    finally:
        qemu_driver.destroy_image("dc-image.qcow2")
    assert qemu_driver.get_image("dc-image.qcow2") is None
    assert not (qemu_daemon.pools / "images" / "dc-image.qcow2.deltacloud.json").exists()


def test_connection_reopened_after_libvirtd_restart(qemu_driver, qemu_daemon, qemu_env):
    assert qemu_driver.list_realms()
    opened = CONNECTIONS.opened
    again = LibvirtDriver(credentials=Credentials(USER, PASSWORD), provider=qemu_daemon.uri)
    assert again.list_images()
    assert CONNECTIONS.opened == opened, "the second request reuses the connection"
    qemu_daemon.restart_libvirtd()
    after = LibvirtDriver(credentials=Credentials(USER, PASSWORD), provider=qemu_daemon.uri)
    assert IMAGE in {i.id for i in after.list_images()}, "the first request after the restart works"
    assert CONNECTIONS.opened == opened + 1, "a new connection was opened for it"
