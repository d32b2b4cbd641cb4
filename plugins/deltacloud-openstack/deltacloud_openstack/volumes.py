"""Cinder: storage volumes (attached and detached through Nova) and storage snapshots."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from deltacloud_core import ForbiddenError, ObjectNotFound, ValidationError
from deltacloud_core.models import StorageSnapshot, StorageVolume  # not (yet) exported by deltacloud_core

from .errors import translated
from .rest import call, json_of, paged, segment

if TYPE_CHECKING:
    from .session import Cloud

__all__ = ["VolumesMixin", "cinder_snapshot", "cinder_volume"]

#: Cinder's status -> Deltacloud state (others are upper-cased: ``CREATING``, ``ATTACHING``, ``ERROR``...).
_VOLUME_STATES: Mapping[str, str] = {"available": "AVAILABLE", "in-use": "IN-USE"}


def cinder_volume(volume: Mapping[str, Any]) -> StorageVolume:
    """A Cinder v3 volume document as a storage volume (attachment: the first one)."""
    attachments = [a for a in volume.get("attachments") or () if a]
    first = attachments[0] if attachments else {}
    status = str(volume.get("status") or "")
    return StorageVolume(
        id=str(volume["id"]),
        name=volume.get("name") or volume.get("display_name"),
        description=volume.get("description") or volume.get("display_description"),
        state=_VOLUME_STATES.get(status, status.upper() or "UNKNOWN"),
        created=volume.get("created_at"),
        capacity=volume.get("size"),
        realm_id=volume.get("availability_zone"),
        instance_id=first.get("server_id"),
        device=first.get("device"),
        kind=volume.get("volume_type"),
        extra={"status": status, "snapshot_id": volume.get("snapshot_id"), "bootable": volume.get("bootable")},
    )


def cinder_snapshot(snapshot: Mapping[str, Any]) -> StorageSnapshot:
    status = str(snapshot.get("status") or "")
    return StorageSnapshot(
        id=str(snapshot["id"]),
        storage_volume_id=snapshot.get("volume_id"),
        name=snapshot.get("name") or snapshot.get("display_name"),
        description=snapshot.get("description") or snapshot.get("display_description"),
        state=status.upper() or "UNKNOWN",
        created=snapshot.get("created_at"),
        extra={"size": snapshot.get("size")},
    )


#: Cinder statuses that end on their own within seconds, and in which a delete is refused.
_BEING_CREATED = frozenset({"creating", "downloading"})
_BEING_DELETED = frozenset({"deleting"})


def settle_seconds() -> float:
    """How long a delete waits for Cinder to finish creating, and to finish deleting
    (``DELTACLOUD_OPENSTACK_SETTLE``, seconds, default 30 each)."""
    try:
        return float(os.environ.get("DELTACLOUD_OPENSTACK_SETTLE", "30"))
    except ValueError:
        return 30.0


def _capacity(value: str | None) -> int:
    if value is None or str(value).strip() == "":
        return 1
    try:
        size = float(str(value).strip())
    except ValueError:
        size = -1.0
    if size != size or size < 1 or size != int(size):  # NaN, below 1 GB, fractions
        raise ValidationError(f"Parameter capacity must be a whole number of GB (1 or more), not {value!r}.")
    return int(size)


class VolumesMixin:
    """Storage volumes and snapshots from Cinder."""

    cloud: Cloud

    def _cinder(self, method: str, path: str, **kwargs: Any) -> Any:
        return call(self.cloud.block_storage, method, path, **kwargs)

    # -- volumes -----------------------------------------------------------------------------------
    @translated
    def list_storage_volumes(self, **filters: str) -> list[StorageVolume]:
        if filters.get("id"):
            one = self.get_storage_volume(filters["id"])
            return [one] if one is not None else []
        return [cinder_volume(v) for v in paged(self.cloud.block_storage, "/volumes/detail", "volumes")]

    def _volume(self, id: str) -> dict[str, Any] | None:
        response = self._cinder("GET", f"/volumes/{segment(id)}", allow=(404,))
        return None if response.status_code == 404 else response.json()["volume"]

    @translated
    def get_storage_volume(self, id: str) -> StorageVolume | None:
        volume = self._volume(id)
        return None if volume is None else cinder_volume(volume)

    def _must_get_volume(self, id: str) -> StorageVolume:
        volume = self.get_storage_volume(id)
        if volume is None:
            raise ObjectNotFound(f"Volume {id} could not be found.")
        return volume

    @translated
    def create_storage_volume(self, *, capacity: str | None = None, realm_id: str | None = None,
                              snapshot_id: str | None = None, name: str | None = None,
                              description: str | None = None, **extra: str) -> StorageVolume:
        body: dict[str, Any] = {"size": _capacity(capacity),
                                "name": name or time.strftime("deltacloud-volume-%Y%m%d-%H%M%S")}
        if description:
            body["description"] = description
        if realm_id:
            body["availability_zone"] = realm_id
        if snapshot_id:
            body["snapshot_id"] = snapshot_id
        if extra.get("volume_type"):
            body["volume_type"] = extra["volume_type"]
        created = json_of(self._cinder("POST", "/volumes", json={"volume": body}))["volume"]
        return cinder_volume(created)

    @translated
    def attach_storage_volume(self, id: str, *, instance_id: str, device: str) -> StorageVolume:
        """Nova attaches it (``os-volume_attachments``); the device is a hint most hypervisors ignore."""
        attachment: dict[str, Any] = {"volumeId": id}
        if device:
            attachment["device"] = device
        cloud = self.cloud
        call(cloud.compute, "POST", f"/servers/{segment(instance_id)}/os-volume_attachments",
             microversion=cloud.compute_microversion, json={"volumeAttachment": attachment})
        return self._must_get_volume(id)

    @translated
    def detach_storage_volume(self, id: str) -> StorageVolume:
        volume = self._volume(id)
        if volume is None:
            raise ObjectNotFound(f"Volume {id} could not be found.")
        servers = [a.get("server_id") for a in volume.get("attachments") or () if a and a.get("server_id")]
        if not servers:
            raise ForbiddenError(f"Volume {id} is not attached to an instance.")
        cloud = self.cloud
        call(cloud.compute, "DELETE", f"/servers/{segment(servers[0])}/os-volume_attachments/{segment(id)}",
             microversion=cloud.compute_microversion)
        return self._must_get_volume(id)

    def _wait_while(self, kind: str, id: str, statuses: frozenset[str]) -> None:
        """Poll (bounded by :func:`settle_seconds`) while a volume or snapshot has one of ``statuses``."""
        deadline = time.monotonic() + settle_seconds()
        while time.monotonic() < deadline:
            response = self._cinder("GET", f"/{kind}s/{segment(id)}", allow=(404,))
            if response.status_code == 404 or response.json()[kind].get("status") not in statuses:
                return
            time.sleep(0.2)

    def _delete(self, kind: str, id: str) -> None:
        """Delete a volume or snapshot the way a Deltacloud client expects: Cinder refuses to delete
        one it is still creating, and deletes asynchronously; clients have no volume states to wait
        on. So wait (bounded) for the creation to end, delete, and wait (bounded) until it is gone."""
        self._wait_while(kind, id, _BEING_CREATED)
        self._cinder("DELETE", f"/{kind}s/{segment(id)}")
        self._wait_while(kind, id, _BEING_DELETED)

    @translated
    def destroy_storage_volume(self, id: str) -> None:
        """Delete a volume (an attached one: 409)."""
        self._delete("volume", id)

    # -- snapshots ---------------------------------------------------------------------------------
    @translated
    def list_storage_snapshots(self, **filters: str) -> list[StorageSnapshot]:
        if filters.get("id"):
            one = self.get_storage_snapshot(filters["id"])
            return [one] if one is not None else []
        return [cinder_snapshot(s) for s in paged(self.cloud.block_storage, "/snapshots/detail", "snapshots")]

    @translated
    def get_storage_snapshot(self, id: str) -> StorageSnapshot | None:
        response = self._cinder("GET", f"/snapshots/{segment(id)}", allow=(404,))
        return None if response.status_code == 404 else cinder_snapshot(response.json()["snapshot"])

    @translated
    def create_storage_snapshot(self, *, volume_id: str, name: str | None = None, description: str | None = None,
                                **extra: str) -> StorageSnapshot:
        """Snapshot an available volume (Cinder refuses an attached one: 409)."""
        body: dict[str, Any] = {"volume_id": volume_id,
                                "name": name or time.strftime("deltacloud-snapshot-%Y%m%d-%H%M%S")}
        if description:
            body["description"] = description
        created = json_of(self._cinder("POST", "/snapshots", json={"snapshot": body}))["snapshot"]
        return cinder_snapshot(created)

    @translated
    def destroy_storage_snapshot(self, id: str) -> None:
        """Delete a snapshot (after Cinder has finished creating it)."""
        self._delete("snapshot", id)
