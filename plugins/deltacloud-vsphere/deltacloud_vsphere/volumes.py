"""Storage volumes: vSphere's first-class disks (``VStorageObjectManager``, vSphere 6.5 and later).

A first-class disk is a virtual disk with its own id and life: created on a datastore
(``CreateDisk_Task``, thin, kept when a VM it is attached to is deleted), attached to a VM by
reconfiguring the VM (a ``VirtualDisk`` backed by the disk's file, on a SCSI controller), detached
by reconfiguring it again (the file stays), and deleted (``DeleteVStorageObject_Task``).

* id: the disk's id; capacity in GB (``capacityInMB / 1024``); state ``AVAILABLE`` or ``IN-USE``.
* realm: the first realm (by name) whose compute resource reaches the disk's datastore; a new
  volume goes to its realm's datastore with the most free space (without a realm: the scope's).
* device: the SCSI place of the disk in the VM, named as Linux names the disks of the first
  controller (unit 1 of bus 0 is ``/dev/sdb``), ``scsiB:U`` on other controllers. ``attach`` takes
  either form (also ``sdb``, ``xvdb``); another name takes the first free unit.

Which VM holds a disk is read from the VMs' devices (``vDiskId``, or the backing file for servers
that do not set it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from deltacloud_core import (
    Conflict,
    ForbiddenError,
    NotSupportedError,
    ObjectNotFound,
    StorageVolume,
    ValidationError,
)
from pyVmomi import vim

from .compute import ComputeMixin
from .machines import CONTROLLER_UNIT, Disk, device_name, disks, parse_device, scsi_controllers, timestamp
from .query import Found, wait_for_task
from .session import Session

__all__ = ["DEFAULT_CAPACITY_GB", "Disk", "VolumesMixin"]

DEFAULT_CAPACITY_GB = 1
#: The largest volume accepted (GB): vSphere's 62 TB virtual disk limit.
MAX_CAPACITY_GB = 62 * 1024


@dataclass(frozen=True)
class FirstClassDisk:
    id: str
    name: str
    capacity_mb: int
    created: str | None
    file: str
    store_id: str
    store_name: str
    store: Any


@dataclass(frozen=True)
class Attachment:
    vm: Found
    disk: Disk


def _capacity_gb(raw: str | None) -> Decimal:
    if raw is None or str(raw).strip() == "":
        return Decimal(DEFAULT_CAPACITY_GB)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0 or value > MAX_CAPACITY_GB:
        raise ValidationError(f"capacity must be a number of GB above 0 and at most {MAX_CAPACITY_GB}, not {raw!r}.")
    return value


def _gb(capacity_mb: int) -> int | float:
    gb = capacity_mb / 1024
    return int(gb) if gb == int(gb) else round(gb, 3)


class VolumesMixin(ComputeMixin):
    """First-class disks as storage volumes."""

    # -- reading ------------------------------------------------------------------------------------
    def _disks(self) -> dict[str, FirstClassDisk]:
        """Every first-class disk on the usable datastores in scope (one call per datastore, one per disk)."""
        if "fcds" in self._memo:
            return self._memo["fcds"]

        def read(session: Session) -> dict[str, FirstClassDisk]:
            manager = session.content.vStorageObjectManager
            if not isinstance(manager, vim.vslm.vcenter.VStorageObjectManager):
                raise NotSupportedError("Storage volumes are vCenter's first-class disks (vCenter 6.5 or later); "
                                        "this provider is not a vCenter (a standalone ESXi host, or an older one): "
                                        "name the vCenter that manages it.")
            out: dict[str, FirstClassDisk] = {}
            for store in sorted(self.inventory().stores.values(), key=lambda s: s.name):
                if not store.usable:
                    continue
                for ident in manager.ListVStorageObject(store.ref) or ():
                    try:
                        # pyVmomi's stub makes vSphere 8's optional diskInfoFlags required
                        obj = manager.RetrieveVStorageObject(ident, store.ref)  # type: ignore[call-arg]
                    except (vim.fault.NotFound, vim.fault.FileNotFound):
                        continue  # deleted meanwhile
                    out[str(ident.id)] = _first_class(obj, store)
            return out

        self._memo["fcds"] = self.vsphere(read)
        return self._memo["fcds"]

    def _attachments(self) -> dict[str, Attachment]:
        """Volume id -> the VM that holds it and where."""
        if "attachments" in self._memo:
            return self._memo["attachments"]
        by_file = {d.file: d.id for d in self._disks().values()}
        out: dict[str, Attachment] = {}
        vms, _owners = self.machines()
        for vm in vms:
            if vm.get("config.template"):
                continue
            for disk in disks(vm):
                ident = disk.vdisk_id or by_file.get(disk.file or "")
                if ident is not None:
                    out[ident] = Attachment(vm, disk)
        self._memo["attachments"] = out
        return out

    def instance_volumes(self, found: Found) -> tuple[tuple[str, str | None], ...]:
        """The first-class disks attached to a VM. Without the disks' file index (the cheap case, and
        every VM whose disks are all its own) only disks that carry a ``vDiskId`` count."""
        own = disks(found)
        if not own:
            return ()
        with_id = [(d.vdisk_id, d.name) for d in own if d.vdisk_id]
        extra = [d for d in own if not d.vdisk_id and not _own_file(found, d)]
        if not extra:
            return tuple(with_id)
        try:
            by_file = {d.file: d.id for d in self._disks().values()}
        except NotSupportedError:  # no first-class disks here (an ESXi host): no volumes either
            return tuple(with_id)
        return tuple(with_id + [(by_file[d.file], d.name) for d in extra if d.file in by_file])

    def _volume(self, fcd: FirstClassDisk) -> StorageVolume:
        attached = self._attachments().get(fcd.id)
        places = self.inventory().places_with_store(fcd.store_id)
        return StorageVolume(
            id=fcd.id, name=fcd.name, state="IN-USE" if attached else "AVAILABLE", created=fcd.created,
            capacity=_gb(fcd.capacity_mb), realm_id=places[0].id if places else None,
            instance_id=attached.vm.id if attached else None, device=attached.disk.name if attached else None,
            kind="thin", actions=("detach",) if attached else ("attach", "destroy"),
            extra={"datastore": fcd.store_name, "file": fcd.file})

    def list_storage_volumes(self, **filters: str) -> list[StorageVolume]:
        found = self._disks()
        if filters.get("id"):
            found = {k: v for k, v in found.items() if k == filters["id"]}
        return sorted((self._volume(d) for d in found.values()), key=lambda v: (v.name or "", v.id))

    def _require_disk(self, volume_id: str) -> FirstClassDisk:
        fcd = self._disks().get(volume_id)
        if fcd is None:
            raise ObjectNotFound(f"Storage volume '{volume_id}' does not exist")
        return fcd

    def _changed(self) -> None:
        for key in ("fcds", "attachments", "machines"):
            self._memo.pop(key, None)

    # -- changing -----------------------------------------------------------------------------------
    def create_storage_volume(self, *, capacity: str | None = None, realm_id: str | None = None,
                              snapshot_id: str | None = None, name: str | None = None,
                              description: str | None = None, **extra: str) -> StorageVolume:
        if snapshot_id:
            raise ValidationError("Volumes from snapshots are not offered by the vsphere driver (it has no "
                                  "storage snapshots); leave snapshot_id out.")
        size = _capacity_gb(capacity)
        inventory = self.inventory()
        if realm_id:
            place = inventory.place(realm_id)
            store = place.best_store()
            if store is None:
                raise Conflict(f"Realm '{realm_id}' ({place.name}) has no accessible datastore for a volume.")
        else:
            usable = [s for s in inventory.stores.values() if s.usable]
            if not usable:
                raise Conflict("No accessible datastore for a volume.")
            store = max(usable, key=lambda s: (s.free, s.name))
        disk_name = (name or f"deltacloud-vol-{secrets.token_hex(4)}").strip()
        spec = vim.vslm.CreateSpec(
            name=disk_name, capacityInMB=int(size * 1024), keepAfterDeleteVm=True,
            backingSpec=vim.vslm.CreateSpec.DiskFileBackingSpec(datastore=store.ref, provisioningType="thin"))

        def create(session: Session) -> Any:
            task = session.content.vStorageObjectManager.CreateDisk_Task(spec)
            return wait_for_task(session, task, deadline=self.deadline(),
                                 what=f"Creation of volume '{disk_name}' on datastore {store.name}")

        created = self.vsphere(create)
        self._changed()
        return self._volume(self._require_disk(str(created.config.id.id)))

    def attach_storage_volume(self, id: str, *, instance_id: str, device: str) -> StorageVolume:
        fcd = self._require_disk(id)
        hit = self.machine(instance_id)
        if hit is None or hit[0].get("config.template"):
            raise ObjectNotFound(f"Instance '{instance_id}' does not exist")
        vm = hit[0]
        held = self._attachments().get(id)
        if held is not None:
            raise ForbiddenError(f"Storage volume '{id}' is attached to instance {held.vm.id} "
                                 f"({held.disk.name}); detach it first.")
        controller, unit = _place_disk(vm, device)
        disk = vim.vm.device.VirtualDisk(
            key=-1, controllerKey=controller.key, unitNumber=unit, capacityInKB=fcd.capacity_mb * 1024,
            backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName=fcd.file, diskMode="persistent"))
        change = vim.vm.ConfigSpec(deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", device=disk)])
        self.vsphere(lambda session: wait_for_task(
            session, vm.obj.ReconfigVM_Task(spec=change), deadline=self.deadline(),
            what=f"Attaching volume {id} to instance {instance_id} as {device_name(controller.busNumber, unit)}"))
        self._changed()
        return self._volume(self._require_disk(id))

    def detach_storage_volume(self, id: str) -> StorageVolume:
        fcd = self._require_disk(id)
        held = self._attachments().get(id)
        if held is None:
            raise ForbiddenError(f"Storage volume '{id}' is not attached to an instance")
        self.vsphere(lambda session: self._detach(session, held.vm, [held.disk]))
        self._changed()
        return self._volume(self._require_disk(fcd.id))

    def _detach(self, session: Session, vm: Found, detached: list[Disk]) -> None:
        change = vim.vm.ConfigSpec(deviceChange=[
            vim.vm.device.VirtualDeviceSpec(operation="remove", device=d.device) for d in detached])
        wait_for_task(session, vm.obj.ReconfigVM_Task(spec=change), deadline=self.deadline(),
                      what=f"Detaching volumes from instance {vm.id}")

    def detach_all_volumes(self, session: Session, found: Found) -> None:
        """Before a VM is destroyed: take its volumes out, so they outlive it."""
        by_file = {d.file for d in self._disks().values()} if any(
            not d.vdisk_id and not _own_file(found, d) for d in disks(found)) else set()
        volumes = [d for d in disks(found) if d.vdisk_id or (d.file in by_file)]
        if volumes:
            self._detach(session, found, volumes)
            self._changed()

    def destroy_storage_volume(self, id: str) -> None:
        fcd = self._require_disk(id)
        held = self._attachments().get(id)
        if held is not None:
            raise ForbiddenError(f"Storage volume '{id}' is attached to instance {held.vm.id} "
                                 f"({held.disk.name}); detach it before destroying it.")
        ident = vim.vslm.ID(id=fcd.id)
        self.vsphere(lambda session: wait_for_task(
            session, session.content.vStorageObjectManager.DeleteVStorageObject_Task(ident, fcd.store),
            deadline=self.deadline(), what=f"Deletion of volume {id}"))
        self._changed()


def _first_class(obj: Any, store: Any) -> FirstClassDisk:
    config = obj.config
    return FirstClassDisk(id=str(config.id.id), name=str(config.name or config.id.id),
                          capacity_mb=int(config.capacityInMB or 0), created=timestamp(config.createTime),
                          file=str(config.backing.filePath), store_id=store.id, store_name=store.name,
                          store=store.ref)


def _own_file(found: Found, disk: Disk) -> bool:
    """A disk in the VM's own directory (``[ds] name/...``): one it was created with, not a volume."""
    name = str(found.get("name") or "")
    return bool(disk.file) and f"] {name}/" in str(disk.file)


def _place_disk(vm: Found, device: str) -> tuple[Any, int]:
    """The SCSI controller and unit a volume goes to (see the module's documentation)."""
    controllers = scsi_controllers(vm)
    if not controllers:
        raise Conflict(f"Instance {vm.id} has no SCSI controller to attach a volume to; add one to it (or its "
                       "template).")
    taken: set[tuple[Any, Any]] = {(d.controller_key, d.unit) for d in disks(vm)}
    taken |= {(getattr(d, "controllerKey", None), getattr(d, "unitNumber", None))
              for d in vm.get("config.hardware.device") or ()}
    wanted = parse_device(device)
    if wanted is None:
        for controller in controllers:
            for unit in range(16):
                if unit != CONTROLLER_UNIT and (controller.key, unit) not in taken:
                    return controller, unit
        raise Conflict(f"Instance {vm.id} has no free SCSI unit for another disk.")
    bus, unit = wanted
    matching = [c for c in controllers if c.busNumber == bus]
    if not matching:
        raise ValidationError(f"Device {device!r} names SCSI bus {bus}; instance {vm.id} has bus(es) "
                              f"{', '.join(str(c.busNumber) for c in controllers)}.")
    if unit == CONTROLLER_UNIT or unit > 15:
        raise ValidationError(f"Device {device!r} names SCSI unit {unit}; units 0-15 but 7 (the controller's) "
                              "can hold a disk.")
    if (matching[0].key, unit) in taken:
        raise Conflict(f"Device {device!r} (SCSI {bus}:{unit}) of instance {vm.id} is taken; name a free one, e.g. "
                       f"{_free_name(matching[0], taken)}.")
    return matching[0], unit


def _free_name(controller: Any, taken: set[tuple[Any, Any]]) -> str:
    for unit in range(16):
        if unit != CONTROLLER_UNIT and (controller.key, unit) not in taken:
            return device_name(controller.busNumber, unit) or f"scsi{controller.busNumber}:{unit}"
    return "none (this controller is full)"
