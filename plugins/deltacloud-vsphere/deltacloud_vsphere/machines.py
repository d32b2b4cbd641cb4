"""Virtual machines as the driver reads them: instances are VMs, images are templates.

One read (:func:`read_machines`) fetches every VM under the provider's scope with the properties
the documents need, and the resource pools' owners (an instance's realm). One VM is read in one
round trip as well (:func:`read_machine`), walking up its folders to its datacenter on the way,
so a provider that names a datacenter never shows a VM of another one.

What the driver records on a VM it creates is kept in the VM's ``extraConfig`` under
``deltacloud.*`` keys (the template it came from, who created it); cloud-init's user data goes to
``guestinfo.userdata`` (see :mod:`.userdata`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deltacloud_core import InstanceAddress
from pyVmomi import vim, vmodl

from .query import PC, Found, retrieve
from .session import Session

__all__ = ["IMAGE_KEY", "ISO_KEY", "OWNER_KEY", "VM_PATHS", "Disk", "architecture", "device_name", "disks",
           "extra_config", "guest_addresses", "hardware", "parse_device", "read_machine", "read_machines",
           "scsi_controllers", "timestamp"]

#: ``extraConfig`` keys the driver writes on the VMs it creates.
IMAGE_KEY = "deltacloud.image-id"
OWNER_KEY = "deltacloud.owner"
ISO_KEY = "deltacloud.user-iso"

VM_PATHS: tuple[str, ...] = (
    "name", "config.template", "config.guestId", "config.guestFullName", "config.annotation",
    "config.hardware.numCPU", "config.hardware.memoryMB", "config.hardware.device", "config.extraConfig",
    "config.createDate", "runtime.powerState", "runtime.connectionState", "summary.runtime.bootTime", "runtime.host",
    "guest.guestState", "guest.toolsRunningStatus", "guest.net", "guest.ipAddress", "resourcePool", "parent",
)


def read_machines(session: Session, roots: Iterable[Any]) -> tuple[list[Found], dict[str, str]]:
    """Every VM (and template) under ``roots``, and ``{resource pool id: owner id}``."""
    vms: list[Found] = []
    owners: dict[str, str] = {}
    for root in roots:
        for found in retrieve(session, root, {vim.VirtualMachine: VM_PATHS, vim.ResourcePool: ("owner",)}):
            if found.is_a(vim.VirtualMachine):
                vms.append(found)
            elif found.get("owner") is not None:
                owners[found.id] = str(found.get("owner")._moId)
    return vms, owners


def _upward_traversal() -> list[Any]:
    """From a VM up to its datacenter (through folders and vApps), and to its resource pool."""
    up = PC.SelectionSpec(name="up")
    vapp_up = PC.SelectionSpec(name="vappUp")
    return [
        PC.TraversalSpec(name="vmParent", type=vim.VirtualMachine, path="parent", skip=False, selectSet=[up]),
        PC.TraversalSpec(name="vmVApp", type=vim.VirtualMachine, path="parentVApp", skip=True, selectSet=[vapp_up]),
        PC.TraversalSpec(name="vmPool", type=vim.VirtualMachine, path="resourcePool", skip=False),
        PC.TraversalSpec(name="up", type=vim.Folder, path="parent", skip=False, selectSet=[up]),
        PC.TraversalSpec(name="vappUp", type=vim.VirtualApp, path="parentFolder", skip=True, selectSet=[up]),
    ]


def read_machine(session: Session, vm_id: str) -> tuple[Found | None, str | None, str | None]:
    """VM ``vm_id`` (None when vSphere knows no such VM), its realm id and its datacenter's name."""
    vm = session.managed(vim.VirtualMachine, vm_id)
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=vm, skip=False, selectSet=_upward_traversal())],
        propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=list(VM_PATHS), all=False),
                 PC.PropertySpec(type=vim.ResourcePool, pathSet=["owner"], all=False),
                 PC.PropertySpec(type=vim.Datacenter, pathSet=["name"], all=False)])
    try:
        result = session.content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions())
    except vmodl.fault.ManagedObjectNotFound:
        return None, None, None
    machine, realm, datacenter = None, None, None
    for item in (result.objects if result is not None else None) or ():
        props = {p.name: p.val for p in item.propSet or ()}
        if isinstance(item.obj, vim.VirtualMachine) and item.obj._moId == vm_id:
            machine = Found(item.obj, props)
        elif isinstance(item.obj, vim.ResourcePool) and props.get("owner") is not None:
            realm = str(props["owner"]._moId)
        elif isinstance(item.obj, vim.Datacenter):
            datacenter = str(props.get("name"))
    return machine, realm, datacenter


def architecture(guest_id: str | None) -> str:
    """``x86_64`` for 64-bit guest ids (``ubuntu64Guest``, ``windows2019srv_64Guest``, ESXi's
    ``vmkernel*``), else ``i386``."""
    text = (guest_id or "").lower()
    return "x86_64" if "64" in text or text.startswith("vmkernel") else "i386"


def extra_config(found: Found) -> dict[str, str]:
    return {str(o.key): str(o.value) for o in found.get("config.extraConfig") or () if o.key}


def timestamp(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def guest_addresses(found: Found) -> tuple[InstanceAddress, ...]:
    """The guest's IP addresses as VMware Tools reports them (first the primary one)."""
    seen: list[str] = []
    primary = found.get("guest.ipAddress")
    if primary:
        seen.append(str(primary))
    for nic in found.get("guest.net") or ():
        for address in nic.ipAddress or ():
            if address and str(address) not in seen and not str(address).lower().startswith("fe80:"):
                seen.append(str(address))
    return tuple(InstanceAddress(a, "ipv6" if ":" in a else "ipv4") for a in seen)


# -- disks ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Disk:
    """A virtual disk of a VM: where it sits (SCSI bus and unit) and what backs it."""

    key: int
    controller_key: int | None
    bus: int | None
    unit: int | None
    file: str | None
    vdisk_id: str | None
    capacity_kb: int
    device: Any

    @property
    def name(self) -> str | None:
        return device_name(self.bus, self.unit)


def _controllers(devices: Iterable[Any]) -> dict[int, Any]:
    return {d.key: d for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController)}


def disks(found: Found) -> list[Disk]:
    devices = list(found.get("config.hardware.device") or ())
    controllers = _controllers(devices)
    out = []
    for d in devices:
        if not isinstance(d, vim.vm.device.VirtualDisk):
            continue
        controller = controllers.get(d.controllerKey) if d.controllerKey is not None else None
        backing = d.backing
        vdisk = getattr(d, "vDiskId", None)
        out.append(Disk(key=d.key, controller_key=d.controllerKey,
                        bus=controller.busNumber if controller is not None else None, unit=d.unitNumber,
                        file=str(getattr(backing, "fileName", "") or "") or None,
                        vdisk_id=str(vdisk.id) if vdisk is not None and getattr(vdisk, "id", None) else None,
                        capacity_kb=int(d.capacityInKB or 0), device=d))
    return out


def scsi_controllers(found: Found) -> list[Any]:
    """The VM's SCSI controllers, by bus number."""
    return sorted(_controllers(found.get("config.hardware.device") or ()).values(), key=lambda c: c.busNumber)


_SD = re.compile(r"^(?:/dev/)?(?:sd|xvd|vd)([a-z])$")
_SCSI = re.compile(r"^scsi(\d+):(\d+)$", re.IGNORECASE)
#: The unit a SCSI controller keeps for itself.
CONTROLLER_UNIT = 7


def device_name(bus: int | None, unit: int | None) -> str | None:
    """``/dev/sdb`` for unit 1 of SCSI bus 0 (as Linux names the disks of one controller, units
    in order), ``scsi1:2`` elsewhere; None when the disk is not on a SCSI controller."""
    if bus is None or unit is None:
        return None
    if bus == 0 and unit < 26:
        return "/dev/sd" + "abcdefghijklmnopqrstuvwxyz"[unit]
    return f"scsi{bus}:{unit}"


def parse_device(device: str) -> tuple[int, int] | None:
    """``(bus, unit)`` a client's device names (``/dev/sdb``, ``sdb``, ``xvdb``, ``scsi0:1``);
    None for a name that says nothing about the place (the driver then takes a free unit)."""
    text = device.strip().lower()
    match = _SD.match(text)
    if match:
        return 0, ord(match.group(1)) - ord("a")
    match = _SCSI.match(text)
    if match:
        return int(match.group(1)), int(match.group(2))
    return None


def hardware(found: Found) -> Mapping[str, str]:
    """The instance's actual sizes, as overrides of the ``default`` profile."""
    sizes = {}
    if found.get("config.hardware.numCPU") is not None:
        sizes["cpu"] = str(found.get("config.hardware.numCPU"))
    if found.get("config.hardware.memoryMB") is not None:
        sizes["memory"] = str(found.get("config.hardware.memoryMB"))
    return sizes
