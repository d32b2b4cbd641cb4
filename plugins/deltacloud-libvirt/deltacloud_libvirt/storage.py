"""Storage volumes and their snapshots: the volumes of the volume pool (``DELTACLOUD_LIBVIRT_VOLUME_POOL``).

* A storage volume is a qcow2 volume; its id is its name (feature ``volume_name``; ``vol-<hex>`` when
  none is given). ``capacity`` is in GB. It is ``IN-USE`` while a domain has it as a disk, and then
  names that instance and the device.
* attach hot-plugs it into the domain as a SCSI disk (``/dev/sdb`` ...; a ``vd*``/``hd*``/``xvd*`` device
  asked for becomes the ``sd*`` of the same letter): live when the domain runs, and in its definition
  so that it stays after a restart. detach unplugs it the same way.
* A snapshot is a point-in-time copy of a volume (``virStorageVolCreateXMLFrom``), kept in the same pool
  as ``<volume>@<snapshot>``; a volume made from a snapshot is a copy of it. Copying a volume that a
  running guest writes to gives what a power cut would leave: stop or detach first for a clean copy.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping

import libvirt
from deltacloud_core import (
    Conflict,
    ForbiddenError,
    ObjectNotFound,
    StorageSnapshot,
    StorageVolume,
    ValidationError,
)

from .base import LibvirtBase, boundary, check_name
from .domain_xml import disk_xml, parse_domain, volume_facts, volume_xml

__all__ = ["DEFAULT_CAPACITY_GB", "StorageMixin"]

DEFAULT_CAPACITY_GB = 1
SNAPSHOT_MARK = "@"
GB = 1024**3


def _gb(size: int) -> int | float:
    value = size / GB
    return int(value) if value == int(value) else round(value, 3)


def _target_for(device: str | None) -> str | None:
    """The SCSI target (``sdb``) for a requested device (``/dev/sdb``, ``/dev/vdb``, ``xvdb``), or None."""
    if not device:
        return None
    base = os.path.basename(device.strip())
    for prefix in ("xvd", "sd", "vd", "hd"):
        if base.startswith(prefix) and base[len(prefix):].isalpha() and 0 < len(base) - len(prefix) <= 2:
            return "sd" + base[len(prefix):]
    raise ValidationError(f"device {device!r} is not a disk device name like /dev/sdb")


class StorageMixin(LibvirtBase):
    # -- attachments ---------------------------------------------------------------------------
    def _attachments(self) -> dict[str, tuple[libvirt.virDomain, str, str]]:
        """volume name -> (domain, its UUID, target) for every disk of a domain that is a volume of the pool."""
        directory = self.pool_dir("volume_pool")
        found: dict[str, tuple[libvirt.virDomain, str, str]] = {}
        for domain in self.conn.listAllDomains(0):
            try:
                facts = parse_domain(domain.XMLDesc(0))
            except libvirt.libvirtError:
                continue  # gone while we looked
            for disk in facts.disks:
                if disk.device == "disk" and disk.source and os.path.dirname(disk.source) == directory:
                    found[os.path.basename(disk.source)] = (domain, facts.uuid, disk.target)
        return found

    def _volume_model(self, volume: libvirt.virStorageVolume,
                      attachments: Mapping[str, tuple[libvirt.virDomain, str, str]]) -> StorageVolume:
        facts = volume_facts(volume.XMLDesc(0))
        attached = attachments.get(facts.name)
        return StorageVolume(
            id=facts.name, name=facts.name, state="IN-USE" if attached else "AVAILABLE", created=facts.created,
            capacity=_gb(facts.capacity), realm_id=self.realm_id(),
            instance_id=attached[1] if attached else None, device=f"/dev/{attached[2]}" if attached else None,
            kind=facts.fmt, actions=("detach",) if attached else ("attach", "snapshot", "destroy"),
            extra={"path": facts.path, "allocation_bytes": facts.allocation},
        )

    # -- volumes -----------------------------------------------------------------------------
    @boundary
    def list_storage_volumes(self, **filters: str) -> list[StorageVolume]:
        attachments = self._attachments()
        out = []
        for volume in self.pool("volume_pool").listAllVolumes(0):
            name = volume.name()
            if SNAPSHOT_MARK in name or (filters.get("id") and name != filters["id"]):
                continue
            out.append(self._volume_model(volume, attachments))
        return sorted(out, key=lambda v: v.id)

    def _volume(self, id: str) -> libvirt.virStorageVolume:
        volume = None if SNAPSHOT_MARK in id else self.volume("volume_pool", id)
        if volume is None:
            raise ObjectNotFound(f"Storage volume '{id}' does not exist")
        return volume

    @boundary
    def create_storage_volume(self, *, capacity: str | None = None, realm_id: str | None = None,
                              snapshot_id: str | None = None, name: str | None = None,
                              description: str | None = None, **extra: str) -> StorageVolume:
        if realm_id and realm_id != self.realm_id():
            raise ValidationError(f"Realm '{realm_id}' does not exist; this host's realm is '{self.realm_id()}'")
        try:
            size_gb = float(capacity) if capacity not in (None, "") else DEFAULT_CAPACITY_GB
        except ValueError:
            raise ValidationError(f"capacity must be a number of GB, not {capacity!r}") from None
        if not 0 < size_gb <= 1024 * 64:
            raise ValidationError(f"capacity must be more than 0 and at most 65536 GB, not {capacity}")
        volume_id = check_name(name, "Volume name") if name else f"vol-{secrets.token_hex(4)}"
        if SNAPSHOT_MARK in volume_id:
            raise ValidationError(f"Volume names may not contain '{SNAPSHOT_MARK}' (it marks snapshots)")
        if self.volume("volume_pool", volume_id) is not None:
            raise Conflict(f"A storage volume '{volume_id}' already exists")
        pool = self.pool("volume_pool")
        if snapshot_id:
            source = self._snapshot(snapshot_id)
            size = max(int(size_gb * GB), int(source.info()[1])) if capacity else int(source.info()[1])
            volume = pool.createXMLFrom(volume_xml(volume_id, size, fmt="qcow2"), source, 0)
        else:
            volume = pool.createXML(volume_xml(volume_id, int(size_gb * GB), fmt="qcow2"), 0)
        return self._volume_model(volume, {})

    @boundary
    def attach_storage_volume(self, id: str, *, instance_id: str, device: str) -> StorageVolume:
        volume = self._volume(id)
        domain = self.domain(instance_id)
        if domain is None:
            raise ObjectNotFound(f"Instance '{instance_id}' does not exist")
        attachments = self._attachments()
        if id in attachments:
            raise Conflict(f"Storage volume '{id}' is attached to instance {attachments[id][1]} already")
        facts = parse_domain(domain.XMLDesc(0))
        inactive = parse_domain(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        wanted = _target_for(device)
        target = facts.free_target(wanted, [d.target for d in inactive.disks])
        if target is None:
            raise Conflict(f"Instance {instance_id} has a disk at /dev/{wanted} already" if wanted
                           else f"Instance {instance_id} has no free SCSI disk slot left")
        fmt = volume_facts(volume.XMLDesc(0)).fmt or "raw"
        domain.attachDeviceFlags(disk_xml(volume.path(), target, fmt=fmt), _device_flags(domain))
        return self._volume_model(volume, self._attachments())

    @boundary
    def detach_storage_volume(self, id: str) -> StorageVolume:
        volume = self._volume(id)
        attached = self._attachments().get(id)
        if attached is None:
            raise ForbiddenError(f"Storage volume '{id}' is not attached to any instance")
        domain, _uuid, target = attached
        fmt = volume_facts(volume.XMLDesc(0)).fmt or "raw"
        domain.detachDeviceFlags(disk_xml(volume.path(), target, fmt=fmt), _device_flags(domain))
        return self._volume_model(volume, self._attachments())

    @boundary
    def destroy_storage_volume(self, id: str) -> None:
        volume = self._volume(id)
        attached = self._attachments().get(id)
        if attached is not None:
            raise Conflict(f"Storage volume '{id}' is attached to instance {attached[1]}; detach it first")
        volume.delete(0)

    # -- snapshots ---------------------------------------------------------------------------
    def _snapshot_model(self, volume: libvirt.virStorageVolume) -> StorageSnapshot:
        facts = volume_facts(volume.XMLDesc(0))
        source, _mark, label = facts.name.partition(SNAPSHOT_MARK)
        return StorageSnapshot(id=facts.name, storage_volume_id=source, name=label, state="COMPLETED",
                               created=facts.created,
                               extra={"capacity_gb": _gb(facts.capacity), "path": facts.path})

    @boundary
    def list_storage_snapshots(self, **filters: str) -> list[StorageSnapshot]:
        out = []
        for volume in self.pool("volume_pool").listAllVolumes(0):
            name = volume.name()
            if SNAPSHOT_MARK not in name or (filters.get("id") and name != filters["id"]):
                continue
            out.append(self._snapshot_model(volume))
        return sorted(out, key=lambda s: s.id)

    def _snapshot(self, id: str) -> libvirt.virStorageVolume:
        volume = self.volume("volume_pool", id) if SNAPSHOT_MARK in id else None
        if volume is None:
            raise ObjectNotFound(f"Storage snapshot '{id}' does not exist")
        return volume

    @boundary
    def create_storage_snapshot(self, *, volume_id: str, name: str | None = None, description: str | None = None,
                                **extra: str) -> StorageSnapshot:
        source = self._volume(volume_id)
        label = check_name(name, "Snapshot name") if name else time.strftime("%Y%m%dT%H%M%S") + \
            f"-{secrets.token_hex(2)}"
        snapshot_id = f"{volume_id}{SNAPSHOT_MARK}{label}"
        if self.volume("volume_pool", snapshot_id) is not None:
            raise Conflict(f"Volume '{volume_id}' has a snapshot '{label}' already")
        facts = volume_facts(source.XMLDesc(0))
        copy = self.pool("volume_pool").createXMLFrom(
            volume_xml(snapshot_id, facts.capacity, fmt=facts.fmt or "qcow2"), source, 0)
        return self._snapshot_model(copy)

    @boundary
    def destroy_storage_snapshot(self, id: str) -> None:
        self._snapshot(id).delete(0)


def _device_flags(domain: libvirt.virDomain) -> int:
    """Change the running domain and its definition (only the definition when it is off)."""
    flags = 0
    if domain.isPersistent():
        flags |= libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if domain.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    return flags
