"""Storage volumes (first-class disks attached by reconfiguring the VM), images made from instances,
and metrics from the PerformanceManager, against the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Admin, Seeded
from deltacloud_core import Conflict, ForbiddenError, ObjectNotFound, ValidationError
from pyVmomi import vim

from deltacloud_vsphere.metrics import COUNTERS


def _disks(admin: Admin, vm_id: str) -> dict[int, str]:
    """unit number -> backing file of the VM's disks on its SCSI controller."""
    return {d.unitNumber: d.backing.fileName for d in admin.by_id(vm_id).config.hardware.device
            if isinstance(d, vim.vm.device.VirtualDisk)}


def _file(vcsim: Seeded, datastore_path: str) -> Path:
    """Where the simulator keeps ``[LocalDS_0] fcd/x.vmdk``."""
    relative = datastore_path.split("] ", 1)[1]
    (root,) = vcsim.sim.datastores.glob("govcsim-*")
    return root / relative


@pytest.fixture
def instance(vcsim: Seeded):
    created = vcsim.driver().create_instance(image_id=vcsim.template, realm_id=vcsim.cluster)
    yield created
    if vcsim.driver().get_instance(created.id) is not None:
        if vcsim.driver().get_instance(created.id).state != "STOPPED":
            vcsim.driver().stop_instance(created.id)
        vcsim.driver().destroy_instance(created.id)


@pytest.fixture
def volume(vcsim: Seeded):
    created = vcsim.driver().create_storage_volume(capacity="2", name="data", realm_id=vcsim.cluster)
    yield created
    left = vcsim.driver().get_storage_volume(created.id)
    if left is not None:
        if left.instance_id:
            vcsim.driver().detach_storage_volume(created.id)
        vcsim.driver().destroy_storage_volume(created.id)


# -- volumes -------------------------------------------------------------------------------------


def test_create_lists_a_first_class_disk(vcsim: Seeded, volume) -> None:
    assert (volume.name, volume.capacity, volume.state, volume.realm_id) == ("data", 2, "AVAILABLE", vcsim.cluster)
    assert volume.actions == ("attach", "destroy")
    assert _file(vcsim, volume.extra["file"]).is_file()
    assert vcsim.driver().get_storage_volume(volume.id) == volume
    assert volume in vcsim.driver().list_storage_volumes()


def test_default_capacity_is_one_gb(vcsim: Seeded) -> None:
    created = vcsim.driver().create_storage_volume()
    try:
        assert created.capacity == 1
        assert created.name.startswith("deltacloud-vol-")
    finally:
        vcsim.driver().destroy_storage_volume(created.id)


@pytest.mark.parametrize(("params", "words"), [
    ({"capacity": "0"}, "above 0"), ({"capacity": "lots"}, "number of GB"), ({"capacity": "1e9"}, "at most"),
    ({"realm_id": "domain-c999"}, "Realm 'domain-c999' does not exist"),
    ({"snapshot_id": "snap-1"}, "snapshots are not offered"),
])
def test_bad_volume_input_is_400_and_makes_nothing(vcsim: Seeded, params, words) -> None:
    before = vcsim.driver().list_storage_volumes()
    with pytest.raises(ValidationError, match=words):
        vcsim.driver().create_storage_volume(**params)
    assert vcsim.driver().list_storage_volumes() == before


def test_attach_detach_by_reconfiguring_the_vm(vcsim: Seeded, admin: Admin, instance, volume) -> None:
    attached = vcsim.driver().attach_storage_volume(volume.id, instance_id=instance.id, device="/dev/sdb")
    assert (attached.state, attached.instance_id, attached.device) == ("IN-USE", instance.id, "/dev/sdb")
    assert attached.actions == ("detach",)
    assert _disks(admin, instance.id)[1] == volume.extra["file"]  # SCSI unit 1
    assert vcsim.driver().get_instance(instance.id).storage_volumes == ((volume.id, "/dev/sdb"),)
    detached = vcsim.driver().detach_storage_volume(volume.id)
    assert (detached.state, detached.instance_id, detached.device) == ("AVAILABLE", None, None)
    assert 1 not in _disks(admin, instance.id)
    assert _file(vcsim, volume.extra["file"]).is_file()  # detached, not deleted
    assert vcsim.driver().get_instance(instance.id).storage_volumes == ()


def test_a_device_that_names_no_place_takes_a_free_unit(vcsim: Seeded, instance, volume) -> None:
    attached = vcsim.driver().attach_storage_volume(volume.id, instance_id=instance.id, device="data-disk")
    assert attached.device == "/dev/sdb"  # unit 0 holds the template's disk


def test_attach_refusals(vcsim: Seeded, instance, volume) -> None:
    with pytest.raises(Conflict, match=r"SCSI 0:0\) of instance .* is taken; name a free one, e.g. /dev/sdb"):
        vcsim.driver().attach_storage_volume(volume.id, instance_id=instance.id, device="/dev/sda")
    with pytest.raises(ValidationError, match="SCSI unit 7"):
        vcsim.driver().attach_storage_volume(volume.id, instance_id=instance.id, device="/dev/sdh")
    with pytest.raises(ValidationError, match="SCSI bus 3"):
        vcsim.driver().attach_storage_volume(volume.id, instance_id=instance.id, device="scsi3:1")
    with pytest.raises(ObjectNotFound, match="Instance 'vm-99999'"):
        vcsim.driver().attach_storage_volume(volume.id, instance_id="vm-99999", device="/dev/sdb")
    with pytest.raises(ObjectNotFound, match="Storage volume 'nope'"):
        vcsim.driver().attach_storage_volume("nope", instance_id=instance.id, device="/dev/sdb")
    with pytest.raises(ForbiddenError, match="not attached"):
        vcsim.driver().detach_storage_volume(volume.id)
    vcsim.driver().attach_storage_volume(volume.id, instance_id=instance.id, device="/dev/sdc")
    with pytest.raises(ForbiddenError, match=f"attached to instance {instance.id} \\(/dev/sdc\\); detach it first"):
        vcsim.driver().attach_storage_volume(volume.id, instance_id=instance.id, device="/dev/sdd")
    with pytest.raises(ForbiddenError, match="detach it before destroying it"):
        vcsim.driver().destroy_storage_volume(volume.id)


def test_a_volume_outlives_the_instance_it_was_attached_to(vcsim: Seeded, admin: Admin, instance, volume) -> None:
    vcsim.driver().attach_storage_volume(volume.id, instance_id=instance.id, device="/dev/sdb")
    vcsim.driver().stop_instance(instance.id)
    vcsim.driver().destroy_instance(instance.id)
    left = vcsim.driver().get_storage_volume(volume.id)
    assert (left.state, left.instance_id) == ("AVAILABLE", None)
    assert _file(vcsim, volume.extra["file"]).is_file()


def test_destroy_deletes_the_disk(vcsim: Seeded) -> None:
    created = vcsim.driver().create_storage_volume(capacity="1")
    path = _file(vcsim, created.extra["file"])
    vcsim.driver().destroy_storage_volume(created.id)
    assert vcsim.driver().get_storage_volume(created.id) is None
    assert not path.exists()
    with pytest.raises(ObjectNotFound):
        vcsim.driver().destroy_storage_volume(created.id)


# -- images --------------------------------------------------------------------------------------


def test_image_from_a_stopped_instance_is_a_template(vcsim: Seeded, admin: Admin, instance) -> None:
    with pytest.raises(Conflict, match="stop it before"):
        vcsim.driver().create_image(instance_id=instance.id, name="too-soon")
    vcsim.driver().stop_instance(instance.id)
    image = vcsim.driver().create_image(instance_id=instance.id, name="golden", description="made by a test")
    try:
        assert (image.name, image.description, image.architecture, image.owner_id) == (
            "golden", "made by a test", "x86_64", vcsim.sim.user)
        template = admin.by_id(image.id)
        assert template.config.template
        assert template.config.annotation == "made by a test"
        assert image in vcsim.driver().list_images()
        launched = vcsim.driver().create_instance(image_id=image.id)
        assert (launched.image_id, launched.state) == (image.id, "RUNNING")
        vcsim.driver().stop_instance(launched.id)
        vcsim.driver().destroy_instance(launched.id)
    finally:
        vcsim.driver().destroy_image(image.id)
    assert vcsim.driver().get_image(image.id) is None
    assert "golden" not in admin.vms()


def test_image_refusals(vcsim: Seeded) -> None:
    with pytest.raises(ObjectNotFound):
        vcsim.driver().create_image(instance_id="vm-99999")
    with pytest.raises(ObjectNotFound):
        vcsim.driver().create_image(instance_id=vcsim.template)  # a template is no instance
    with pytest.raises(ObjectNotFound):
        vcsim.driver().destroy_image("vm-99999")


# -- metrics -------------------------------------------------------------------------------------


def test_metrics_of_a_running_instance_have_samples(vcsim: Seeded, instance) -> None:
    listed = {m.id: m for m in vcsim.driver().list_metrics()}
    assert instance.id in listed
    assert [p.name for p in listed[instance.id].properties] == list(COUNTERS)
    assert all(p.values is None for p in listed[instance.id].properties)
    metric = vcsim.driver().get_metric(instance.id)
    values = {p.name: p.values for p in metric.properties}
    cpu = values["cpuUtilization"]
    assert cpu, "the simulator samples cpu.usage.average of a powered-on VM"
    assert all(0 <= s.minimum <= s.average <= s.maximum <= 100 for s in cpu)
    assert all(s.unit == "Percent" for s in cpu)
    assert [s.timestamp for s in cpu] == sorted(s.timestamp for s in cpu)
    assert values["nicInputByte"]
    assert values["nicInputByte"][0].unit == "Bytes/Second"


def test_metric_of_something_else_is_none(vcsim: Seeded) -> None:
    assert vcsim.driver().get_metric("vm-99999") is None
    assert vcsim.driver().get_metric(vcsim.template) is None
