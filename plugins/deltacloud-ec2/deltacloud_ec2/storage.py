"""EBS: storage volumes (create, attach, detach, destroy) and their snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deltacloud_core import ForbiddenError, ObjectNotFound, ValidationError
from deltacloud_core.models import StorageSnapshot, StorageVolume

from .clients import AwsDriverBase
from .shapes import aws_time, name_tag, name_tag_spec

__all__ = ["StorageMixin", "volume_actions"]

#: Attachment states that mean "the volume is (being) used by an instance".
_ATTACHED = frozenset({"attaching", "attached", "busy"})


def volume_actions(state: str | None, attached: bool) -> tuple[str, ...]:
    """What a volume offers now: attach and destroy when free, detach while attached."""
    if attached:
        return ("detach",)
    if (state or "").lower() == "available":
        return ("attach", "destroy")
    return ()


def _volume(vol: Mapping[str, Any]) -> StorageVolume:
    attachment = next((a for a in vol.get("Attachments") or () if a.get("State") in _ATTACHED), None)
    state = str(vol.get("State") or "")
    return StorageVolume(
        id=vol["VolumeId"],
        name=name_tag(vol) or vol["VolumeId"],
        description=None,
        state=state.upper() or None,
        created=aws_time(vol.get("CreateTime")),
        capacity=vol.get("Size"),
        realm_id=vol.get("AvailabilityZone"),
        instance_id=attachment.get("InstanceId") if attachment else None,
        device=attachment.get("Device") if attachment else None,
        kind=vol.get("VolumeType"),
        actions=volume_actions(state, attachment is not None),
        extra={"snapshot_id": vol.get("SnapshotId") or None, "encrypted": vol.get("Encrypted"),
               "iops": vol.get("Iops")},
    )


def _snapshot(snap: Mapping[str, Any]) -> StorageSnapshot:
    return StorageSnapshot(
        id=snap["SnapshotId"],
        storage_volume_id=snap.get("VolumeId"),
        name=name_tag(snap) or snap["SnapshotId"],
        description=snap.get("Description"),
        state=str(snap.get("State") or "").upper() or None,
        created=aws_time(snap.get("StartTime")),
        extra={"progress": snap.get("Progress"), "volume_size": snap.get("VolumeSize")},
    )


def _capacity(raw: str | None) -> int:
    text = "1" if raw is None or str(raw).strip() == "" else str(raw).strip()
    if not text.isdigit() or int(text) < 1:
        raise ValidationError(f"Parameter capacity must be a whole number of GB (1 or more), not '{raw}'.")
    return int(text)


class StorageMixin(AwsDriverBase):
    """EBS volumes and snapshots."""

    # -- volumes ---------------------------------------------------------------------------
    def list_storage_volumes(self, **filters: str) -> list[StorageVolume]:
        kwargs = {"VolumeIds": [filters["id"]]} if filters.get("id") else {}
        try:
            return [_volume(v) for v in self.ec2.pages("describe_volumes", "Volumes", **kwargs)]
        except ObjectNotFound:
            return []

    def get_storage_volume(self, id: str) -> StorageVolume | None:
        found = self.list_storage_volumes(id=id)
        return found[0] if found else None

    def _volume_or_404(self, id: str) -> StorageVolume:
        volume = self.get_storage_volume(id)
        if volume is None:
            raise ObjectNotFound(f"Storage volume '{id}' does not exist")
        return volume

    def create_storage_volume(self, *, capacity: str | None = None, realm_id: str | None = None,
                              snapshot_id: str | None = None, name: str | None = None,
                              description: str | None = None, **extra: str) -> StorageVolume:
        zone = realm_id or self._first_zone()
        kwargs: dict[str, Any] = {"AvailabilityZone": zone}
        if snapshot_id:
            kwargs["SnapshotId"] = snapshot_id
            if capacity not in (None, ""):
                kwargs["Size"] = _capacity(capacity)
        else:
            kwargs["Size"] = _capacity(capacity)
        tags = name_tag_spec("volume", name)
        if tags:
            kwargs["TagSpecifications"] = tags
        return _volume(self.ec2.create_volume(**kwargs))

    def _first_zone(self) -> str:
        zones = [z["ZoneName"] for z in self.ec2.describe_availability_zones()["AvailabilityZones"]
                 if z.get("State") == "available"]
        if not zones:
            raise ValidationError("No available realm to create the volume in: give realm_id.")
        return zones[0]

    def attach_storage_volume(self, id: str, *, instance_id: str, device: str) -> StorageVolume:
        self.ec2.attach_volume(VolumeId=id, InstanceId=instance_id, Device=device)
        return self._volume_or_404(id)

    def detach_storage_volume(self, id: str) -> StorageVolume:
        volume = self._volume_or_404(id)
        if volume.instance_id is None:
            raise ForbiddenError(f"Storage volume '{id}' is not attached to an instance")
        kwargs: dict[str, Any] = {"VolumeId": id, "InstanceId": volume.instance_id}
        if volume.device:
            kwargs["Device"] = volume.device
        self.ec2.detach_volume(**kwargs)
        return self._volume_or_404(id)

    def destroy_storage_volume(self, id: str) -> None:
        self.ec2.delete_volume(VolumeId=id)

    # -- snapshots -------------------------------------------------------------------------
    def list_storage_snapshots(self, **filters: str) -> list[StorageSnapshot]:
        kwargs: dict[str, Any] = {"SnapshotIds": [filters["id"]]} if filters.get("id") else {"OwnerIds": ["self"]}
        try:
            return [_snapshot(s) for s in self.ec2.pages("describe_snapshots", "Snapshots", **kwargs)]
        except ObjectNotFound:
            return []

    def get_storage_snapshot(self, id: str) -> StorageSnapshot | None:
        found = self.list_storage_snapshots(id=id)
        return found[0] if found else None

    def create_storage_snapshot(self, *, volume_id: str, name: str | None = None,
                                description: str | None = None, **extra: str) -> StorageSnapshot:
        kwargs: dict[str, Any] = {"VolumeId": volume_id}
        if description:
            kwargs["Description"] = description
        tags = name_tag_spec("snapshot", name)
        if tags:
            kwargs["TagSpecifications"] = tags
        return _snapshot(self.ec2.create_snapshot(**kwargs))

    def destroy_storage_snapshot(self, id: str) -> None:
        self.ec2.delete_snapshot(SnapshotId=id)
