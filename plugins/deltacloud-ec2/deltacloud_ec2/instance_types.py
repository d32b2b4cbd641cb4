"""Hardware profiles from the cloud: the instance types a region offers (``DescribeInstanceTypes``).

Every type the region describes becomes a profile of fixed ``cpu`` (default vCPUs), ``memory``
(MiB), ``storage`` (local instance storage in GB, 0 for EBS-only types) and ``architecture``
(fixed, or an enum for types that run both ``i386`` and ``x86_64``): Graviton (``arm64``), GPU,
burstable and Mac types included. What a type needs of an image (root device type,
virtualization type) and what it has besides (GPUs, burstable, generation) is kept in the
profile's ``extra``.

The list is the same for every account of a region, and reading it costs seconds (AWS answers
~900 types in pages of 100; moto ~1,400 in one), so it is cached per (region, EC2 endpoint):
at most :data:`CACHE_SIZE` regions, each for ``DELTACLOUD_EC2_INSTANCE_TYPES_MAX_AGE`` seconds
(default 3600). Concurrent requests for a region that is not cached wait for one reading.

A cloud that lacks the call (Eucalyptus and other EC2-compatible clouds of the original's era)
answers with an "unknown action" error or with no types at all; that answer is cached too, and
the driver then offers its static table (:mod:`.catalogue`). Which one is in force is decided
by what the endpoint answers, never by configuration.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from deltacloud_core import DeltacloudError, HardwareProfile, HardwareProperty

__all__ = [
    "CACHE_SIZE",
    "INSTANCE_TYPES",
    "NOT_OFFERED_CODES",
    "InstanceTypeCache",
    "fetch_profiles",
    "fits_image",
    "profile_from_type",
]

#: Error codes of a cloud that does not know ``DescribeInstanceTypes`` (AWS's own for an unknown
#: action, the other query-API spellings, and bare HTTP statuses of servers that answer no AWS error).
NOT_OFFERED_CODES = frozenset({"InvalidAction", "UnsupportedOperation", "UnknownOperationException",
                               "UnknownOperation", "NotImplemented", "404", "501"})
#: Regions (with their endpoint) kept at once.
CACHE_SIZE = 64
_DEFAULT_MAX_AGE = 3600.0
#: EC2 root device types -> the image document's ``root_type``.
_ROOT_TYPES: Mapping[str, str] = {"ebs": "persistent", "instance-store": "transient"}

Profiles = tuple[HardwareProfile, ...]


def _architecture(arches: tuple[str, ...]) -> HardwareProperty | None:
    if len(arches) > 1:
        return HardwareProperty.enum("architecture", arches)
    return HardwareProperty.fixed("architecture", arches[0]) if arches else None


def profile_from_type(item: Mapping[str, Any]) -> HardwareProfile:
    """One ``InstanceTypes`` item of ``DescribeInstanceTypes`` as a hardware profile."""
    arches = tuple((item.get("ProcessorInfo") or {}).get("SupportedArchitectures") or ())
    props = [HardwareProperty.fixed("cpu", (item.get("VCpuInfo") or {}).get("DefaultVCpus", 0)),
             HardwareProperty.fixed("memory", (item.get("MemoryInfo") or {}).get("SizeInMiB", 0)),
             HardwareProperty.fixed("storage", (item.get("InstanceStorageInfo") or {}).get("TotalSizeInGB", 0))]
    arch = _architecture(arches)
    if arch is not None:
        props.append(arch)
    gpus = (item.get("GpuInfo") or {}).get("Gpus") or ()
    extra = {
        "root_types": tuple(_ROOT_TYPES[r] for r in item.get("SupportedRootDeviceTypes") or () if r in _ROOT_TYPES),
        "virtualization_types": tuple(item.get("SupportedVirtualizationTypes") or ()),
        "gpus": sum(int(g.get("Count") or 0) for g in gpus),
        "gpu_names": tuple(str(g.get("Name")) for g in gpus if g.get("Name")),
        "burstable": bool(item.get("BurstablePerformanceSupported")),
        "current_generation": item.get("CurrentGeneration"),
        "bare_metal": item.get("BareMetal"),
        "hypervisor": item.get("Hypervisor"),
    }
    return HardwareProfile(str(item["InstanceType"]), tuple(props), extra=extra)


def _order(profile: HardwareProfile) -> tuple[str, float, float, str]:
    """Family by family (``c5``, ``m7g`` ...), smallest first within each."""
    cpu, memory = profile.property("cpu"), profile.property("memory")
    return (profile.id.split(".", 1)[0], float(cpu.value if cpu else 0),  # type: ignore[arg-type]
            float(memory.value if memory else 0), profile.id)  # type: ignore[arg-type]


def fetch_profiles(pages: Callable[[], Iterable[Mapping[str, Any]]]) -> Profiles | None:
    """The profiles of every type ``pages()`` yields (every page of ``DescribeInstanceTypes``);
    None when the cloud does not offer the call (see :data:`NOT_OFFERED_CODES`) or knows no type."""
    try:
        items = list(pages())
    except DeltacloudError as exc:
        if exc.backend_code in NOT_OFFERED_CODES or exc.status == 501:
            return None
        raise
    if not items:
        return None
    return tuple(sorted((profile_from_type(i) for i in items if i.get("InstanceType")), key=_order))


def fits_image(profile: HardwareProfile, architecture: str | None, root_type: str,
               virtualization_type: str | None) -> bool:
    """True when an image of that architecture, root type and virtualization type runs on ``profile``.

    A live profile says which root and virtualization types it supports (``extra``); a static one
    may restrict the root type with its ``root_type`` property (the original's ``t1.micro``).
    """
    if architecture is not None and not profile.matches_architecture(architecture):
        return False
    roots = profile.extra.get("root_types")
    if roots is not None:
        if root_type not in roots:  # type: ignore[operator]
            return False
    else:
        restricted = profile.property("root_type")
        if restricted is not None and not restricted.includes(root_type):
            return False
    kinds = profile.extra.get("virtualization_types")
    return not (kinds and virtualization_type and virtualization_type not in kinds)  # type: ignore[operator]


def max_age() -> float:
    """Seconds a region's list is kept (``DELTACLOUD_EC2_INSTANCE_TYPES_MAX_AGE``, default 3600)."""
    raw = os.environ.get("DELTACLOUD_EC2_INSTANCE_TYPES_MAX_AGE", "").strip()
    try:
        return max(0.0, float(raw)) if raw else _DEFAULT_MAX_AGE
    except ValueError:
        return _DEFAULT_MAX_AGE


class InstanceTypeCache:
    """The profiles of each (region, endpoint): bounded, aged, read once by concurrent requests."""

    def __init__(self, maxsize: int = CACHE_SIZE, max_age: Callable[[], float] = max_age) -> None:
        self.maxsize = maxsize
        self._max_age = max_age
        self._items: OrderedDict[Hashable, tuple[float, Profiles | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._reading: dict[Hashable, threading.Lock] = {}

    def _fresh(self, key: Hashable) -> tuple[bool, Profiles | None]:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or time.monotonic() - hit[0] >= self._max_age():
                return False, None
            self._items.move_to_end(key)
            return True, hit[1]

    def get(self, key: Hashable, fetch: Callable[[], Profiles | None]) -> Profiles | None:
        """The cached profiles of ``key``, else ``fetch()`` (its errors are not cached)."""
        found, profiles = self._fresh(key)
        if found:
            return profiles
        with self._lock:
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
            found, profiles = self._fresh(key)  # another request may have read it meanwhile
            if found:
                return profiles
            profiles = fetch()
            with self._lock:
                self._items[key] = (time.monotonic(), profiles)
                self._items.move_to_end(key)
                while len(self._items) > self.maxsize:
                    self._items.popitem(last=False)
                self._reading.pop(key, None)
            return profiles

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


#: The process's cache, shared by ec2 and eucalyptus (keys carry the endpoint).
INSTANCE_TYPES = InstanceTypeCache()
