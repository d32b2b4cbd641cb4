"""Domain, disk and volume XML: what the driver writes, and the facts it reads back (stdlib only).

The driver keeps what libvirt has no field for in the domain's metadata, under its own namespace::

    <metadata>
      <dc:instance xmlns:dc="http://deltacloud.apache.org/libvirt/instance/1">
        <dc:image>tiny.qcow2</dc:image> <dc:owner>alice</dc:owner> <dc:profile>default</dc:profile>
        <dc:created>2026-12-07T23:15:50Z</dc:created> <dc:keyname>SHA256:...</dc:keyname>
        <dc:disk>0f6c...-disk.qcow2</dc:disk> <dc:seed>0f6c...-seed.iso</dc:seed>
      </dc:instance>
      <dcs:stop xmlns:dcs="http://deltacloud.apache.org/libvirt/stop/1" deadline="1796771750.5"/>  (live only)
    </metadata>
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "INSTANCE_NS",
    "STOP_NS",
    "DiskFacts",
    "DomainFacts",
    "DomainSpec",
    "VolumeFacts",
    "disk_xml",
    "domain_xml",
    "instance_metadata_xml",
    "overlay_volume_xml",
    "parse_domain",
    "stop_metadata_xml",
    "volume_facts",
    "volume_xml",
]

INSTANCE_NS = "http://deltacloud.apache.org/libvirt/instance/1"
STOP_NS = "http://deltacloud.apache.org/libvirt/stop/1"
#: The metadata keys (element names) of the instance record, in the order they are written.
METADATA_KEYS = ("image", "owner", "profile", "created", "keyname", "disk", "seed")
#: Target of the root disk and of the seed CD-ROM; attached volumes take the next free ``sdX``.
ROOT_TARGET = "vda"
SEED_TARGET = "sda"


@dataclass(frozen=True)
class DomainSpec:
    """Everything a new domain is made of."""

    name: str
    uuid: str
    domain_type: str
    arch: str
    vcpus: int
    memory_mib: int
    root_path: str
    root_format: str = "qcow2"
    seed_path: str | None = None
    network: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


def instance_metadata_xml(metadata: Mapping[str, str], *, prefix: str = "") -> str:
    """The ``<instance>`` element of :data:`INSTANCE_NS`.

    Without ``prefix`` for ``virDomainSetMetadata`` (libvirt adds the namespace and its prefix); with
    one (``dc``) to be written inside a whole domain's XML.
    """
    tag = f"{prefix}:" if prefix else ""
    xmlns = f" xmlns:{prefix}={quoteattr(INSTANCE_NS)}" if prefix else ""
    parts = [f"<{tag}{key}>{escape(metadata[key])}</{tag}{key}>" for key in METADATA_KEYS if metadata.get(key)]
    return f"<{tag}instance{xmlns}>{''.join(parts)}</{tag}instance>"


def stop_metadata_xml(deadline: float) -> str:
    """The live-only ``<stop>`` marker of :data:`STOP_NS`: power off at ``deadline`` (Unix seconds)."""
    return f"<stop deadline={quoteattr(f'{deadline:.3f}')}/>"


def domain_xml(spec: DomainSpec) -> str:
    """The XML that defines the domain of a new instance."""
    meta = instance_metadata_xml(spec.metadata, prefix="dc")
    devices = [
        "<disk type='file' device='disk'>"
        f"<driver name='qemu' type={quoteattr(spec.root_format)}/>"
        f"<source file={quoteattr(spec.root_path)}/>"
        f"<target dev='{ROOT_TARGET}' bus='virtio'/></disk>",
        # Attached volumes are SCSI disks: QEMU unplugs those without the guest's help (a virtio-blk
        # unplug waits for the guest OS to agree, forever when there is none).
        "<controller type='scsi' index='0' model='virtio-scsi'/>",
    ]
    if spec.seed_path:
        devices.append("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                       f"<source file={quoteattr(spec.seed_path)}/>"
                       f"<target dev='{SEED_TARGET}' bus='scsi'/><readonly/></disk>")
    if spec.network:
        devices.append(f"<interface type='network'><source network={quoteattr(spec.network)}/>"
                       "<model type='virtio'/></interface>")
    devices.append("<serial type='pty'/><console type='pty'/>")
    return (
        f"<domain type={quoteattr(spec.domain_type)}>"
        f"<name>{escape(spec.name)}</name><uuid>{spec.uuid}</uuid>"
        f"<metadata>{meta}</metadata>"
        f"<memory unit='MiB'>{spec.memory_mib}</memory><currentMemory unit='MiB'>{spec.memory_mib}</currentMemory>"
        f"<vcpu>{spec.vcpus}</vcpu>"
        f"<os><type arch={quoteattr(spec.arch)}>hvm</type><boot dev='hd'/></os>"
        "<features><acpi/><apic/></features>"
        "<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>"
        f"<devices>{''.join(devices)}</devices>"
        "</domain>"
    )


def disk_xml(path: str, target: str, *, fmt: str = "qcow2") -> str:
    """A volume as a SCSI disk ``target`` (``sdb``), for hot-plugging and unplugging."""
    return (f"<disk type='file' device='disk'><driver name='qemu' type={quoteattr(fmt)}/>"
            f"<source file={quoteattr(path)}/><target dev={quoteattr(target)} bus='scsi'/></disk>")


def volume_xml(name: str, capacity_bytes: int, *, fmt: str | None = "qcow2") -> str:
    """A new volume of ``capacity_bytes`` (``fmt`` None: the pool's default, e.g. raw)."""
    target = f"<target><format type={quoteattr(fmt)}/></target>" if fmt else ""
    return (f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity_bytes}</capacity>"
            f"<allocation unit='bytes'>0</allocation>{target}</volume>")


def overlay_volume_xml(name: str, capacity_bytes: int, backing_path: str, backing_format: str) -> str:
    """A qcow2 volume that starts as the image at ``backing_path`` (copy on write)."""
    return (f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity_bytes}</capacity>"
            "<allocation unit='bytes'>0</allocation><target><format type='qcow2'/></target>"
            f"<backingStore><path>{escape(backing_path)}</path><format type={quoteattr(backing_format)}/>"
            "</backingStore></volume>")


@dataclass(frozen=True)
class DiskFacts:
    device: str  # disk, cdrom
    target: str  # vda, sdb
    bus: str | None
    source: str | None  # the file (or volume) behind it
    fmt: str | None


@dataclass(frozen=True)
class DomainFacts:
    """What the driver reads from a domain's XML."""

    name: str
    uuid: str
    domain_type: str
    arch: str | None
    vcpus: int
    memory_mib: int
    disks: tuple[DiskFacts, ...]
    networks: tuple[str, ...]
    macs: tuple[str, ...]
    metadata: Mapping[str, str]
    stop_deadline: float | None

    def disk_with_source(self, path: str) -> DiskFacts | None:
        return next((d for d in self.disks if d.source == path), None)

    def free_target(self, wanted: str | None, taken: Sequence[str] = ()) -> str | None:
        """``wanted`` when free, else None; without ``wanted`` the first free ``sdb`` ... ``sdz``."""
        used = {d.target for d in self.disks} | set(taken)
        if wanted:
            return None if wanted in used else wanted
        return next((f"sd{c}" for c in "bcdefghijklmnopqrstuvwxyz" if f"sd{c}" not in used), None)


_MEMORY_UNITS = {"b": 1, "bytes": 1, "kb": 1000, "k": 1024, "kib": 1024, "mb": 1000**2, "m": 1024**2,
                 "mib": 1024**2, "gb": 1000**3, "g": 1024**3, "gib": 1024**3}


def _mib(element: ET.Element | None) -> int:
    if element is None or not (element.text or "").strip():
        return 0
    unit = _MEMORY_UNITS.get((element.get("unit") or "KiB").lower(), 1024)
    return int(element.text.strip()) * unit // 1024**2  # type: ignore[union-attr]


def parse_domain(xml: str) -> DomainFacts:
    """The facts of a domain from ``virDomainGetXMLDesc``."""
    root = ET.fromstring(xml)
    metadata: dict[str, str] = {}
    record = root.find(f"metadata/{{{INSTANCE_NS}}}instance")
    if record is not None:
        for child in record:
            key = child.tag.rpartition("}")[2]
            if key in METADATA_KEYS and child.text:
                metadata[key] = child.text
    deadline: float | None = None
    stop = root.find(f"metadata/{{{STOP_NS}}}stop")
    if stop is not None:
        try:
            deadline = float(stop.get("deadline", ""))
        except ValueError:
            deadline = 0.0  # unreadable: treat it as overdue
    disks = []
    for disk in root.findall("devices/disk"):
        target = disk.find("target")
        source = disk.find("source")
        driver = disk.find("driver")
        path = None
        if source is not None:
            path = source.get("file") or source.get("dev") or source.get("volume") or source.get("name")
        disks.append(DiskFacts(device=disk.get("device", "disk"), target=target.get("dev", "") if target is not None
                               else "", bus=target.get("bus") if target is not None else None, source=path,
                               fmt=driver.get("type") if driver is not None else None))
    networks, macs = [], []
    for iface in root.findall("devices/interface"):
        source = iface.find("source")
        if source is not None and source.get("network"):
            networks.append(source.get("network", ""))
        mac = iface.find("mac")
        if mac is not None and mac.get("address"):
            macs.append(mac.get("address", "").lower())
    os_type = root.find("os/type")
    vcpu = root.find("vcpu")
    return DomainFacts(
        name=root.findtext("name", ""),
        uuid=root.findtext("uuid", ""),
        domain_type=root.get("type", ""),
        arch=os_type.get("arch") if os_type is not None else None,
        vcpus=int((vcpu.text or "1").strip()) if vcpu is not None else 1,
        memory_mib=_mib(root.find("currentMemory")) or _mib(root.find("memory")),
        disks=tuple(disks),
        networks=tuple(networks),
        macs=tuple(macs),
        metadata=metadata,
        stop_deadline=deadline,
    )


@dataclass(frozen=True)
class VolumeFacts:
    """What the driver reads from a volume's XML."""

    name: str
    path: str | None
    capacity: int
    allocation: int
    fmt: str | None
    backing: str | None
    #: ISO 8601 (UTC) from the file's ctime, when the pool reports it.
    created: str | None


def _bytes(element: ET.Element | None) -> int:
    if element is None or not (element.text or "").strip():
        return 0
    unit = _MEMORY_UNITS.get((element.get("unit") or "bytes").lower(), 1)
    return int(element.text.strip()) * unit  # type: ignore[union-attr]


def volume_facts(xml: str) -> VolumeFacts:
    """The facts of a volume from ``virStorageVolGetXMLDesc``."""
    import time

    root = ET.fromstring(xml)
    fmt = root.find("target/format")
    created = None
    ctime = root.findtext("target/timestamps/ctime") or root.findtext("target/timestamps/mtime")
    if ctime:
        try:
            created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(ctime)))
        except (ValueError, OverflowError):
            created = None
    return VolumeFacts(
        name=root.findtext("name", ""),
        path=root.findtext("target/path"),
        capacity=_bytes(root.find("capacity")),
        allocation=_bytes(root.find("allocation")),
        fmt=fmt.get("type") if fmt is not None else None,
        backing=root.findtext("backingStore/path"),
        created=created,
    )
