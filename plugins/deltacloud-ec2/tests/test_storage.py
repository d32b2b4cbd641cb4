"""EBS volumes and snapshots, driver level, against moto over HTTP."""

from __future__ import annotations

import pytest
from conftest import IMAGE_X86_64
from deltacloud_ec2 import EC2Driver
from deltacloud_ec2.storage import volume_actions

from deltacloud_core import Conflict, ForbiddenError, ObjectNotFound, ValidationError


def own_volumes(driver: EC2Driver) -> list[str]:
    """Volumes that are not some instance's root volume."""
    roots = {vol for i in driver.list_instances() for vol, _dev in i.storage_volumes}
    return [v.id for v in driver.list_storage_volumes() if v.id not in roots]


def test_create_show_destroy_volume(driver: EC2Driver):
    volume = driver.create_storage_volume(capacity="3", realm_id="us-east-1c", name="data")
    assert (volume.capacity, volume.realm_id, volume.name, volume.state) == (3, "us-east-1c", "data", "AVAILABLE")
    assert volume.created.endswith("Z")
    assert volume.actions == ("attach", "destroy")
    assert volume.kind
    assert own_volumes(driver) == [volume.id]
    assert driver.get_storage_volume(volume.id) == volume
    driver.destroy_storage_volume(volume.id)
    assert driver.get_storage_volume(volume.id) is None
    with pytest.raises(ObjectNotFound) as err:
        driver.destroy_storage_volume(volume.id)
    assert err.value.backend_code == "InvalidVolume.NotFound"


def test_volume_defaults_and_bad_capacity(driver: EC2Driver):
    volume = driver.create_storage_volume()
    assert (volume.capacity, volume.realm_id) == (1, "us-east-1a")
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ValidationError):
            driver.create_storage_volume(capacity=bad)
    assert driver.get_storage_volume("vol-00000000000000000") is None
    assert driver.get_storage_volume("nope") is None


def test_attach_detach(driver: EC2Driver):
    inst = driver.create_instance(image_id=IMAGE_X86_64, realm_id="us-east-1a")
    volume = driver.create_storage_volume(capacity="1", realm_id="us-east-1a")
    attached = driver.attach_storage_volume(volume.id, instance_id=inst.id, device="/dev/sdh")
    assert (attached.state, attached.instance_id, attached.device) == ("IN-USE", inst.id, "/dev/sdh")
    assert attached.actions == ("detach",)
    assert (volume.id, "/dev/sdh") in driver.get_instance(inst.id).storage_volumes
    with pytest.raises(Conflict):  # attached: AWS refuses with VolumeInUse
        driver.destroy_storage_volume(volume.id)
    detached = driver.detach_storage_volume(volume.id)
    assert (detached.state, detached.instance_id, detached.device) == ("AVAILABLE", None, None)
    with pytest.raises(ForbiddenError):
        driver.detach_storage_volume(volume.id)
    with pytest.raises(ObjectNotFound):
        driver.detach_storage_volume("vol-00000000000000000")
    with pytest.raises(ObjectNotFound):
        driver.attach_storage_volume(volume.id, instance_id="i-00000000000000000", device="/dev/sdh")


def test_snapshots(driver: EC2Driver):
    volume = driver.create_storage_volume(capacity="2")
    # moto makes one snapshot per AMI and says the account owns it (on AWS, Amazon does): ignore those.
    before = {s.id for s in driver.list_storage_snapshots()}
    snapshot = driver.create_storage_snapshot(volume_id=volume.id, name="nightly", description="every night")
    assert (snapshot.storage_volume_id, snapshot.name, snapshot.description) == (volume.id, "nightly", "every night")
    assert snapshot.state in ("PENDING", "COMPLETED")
    assert [s.id for s in driver.list_storage_snapshots() if s.id not in before] == [snapshot.id]
    assert driver.get_storage_snapshot(snapshot.id).storage_volume_id == volume.id
    from_snapshot = driver.create_storage_volume(snapshot_id=snapshot.id, realm_id="us-east-1b")
    assert from_snapshot.extra["snapshot_id"] == snapshot.id
    driver.destroy_storage_snapshot(snapshot.id)
    assert driver.get_storage_snapshot(snapshot.id) is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_storage_snapshot(snapshot.id)
    with pytest.raises(ObjectNotFound):
        driver.create_storage_snapshot(volume_id="vol-00000000000000000")


def test_volume_actions_by_state():
    assert volume_actions("available", False) == ("attach", "destroy")
    assert volume_actions("in-use", True) == ("detach",)
    assert volume_actions("creating", False) == ()
