"""Realms and hardware profiles: the host as libvirt describes it.

* One realm per URI: the host (``virConnectGetHostname``), with its CPUs and memory in ``extra`` and its
  free memory (MiB) as ``limit``.
* The ``default`` hardware profile is a set of ranges derived from the host, not a fixed list: cpu
  1..the host's CPUs, memory 256 MiB..the host's memory in 256 MiB steps, storage (GB) 1..the free
  space of the instance pool (an instance's disk is never smaller than its image). The operator's
  fixed profiles (``DELTACLOUD_LIBVIRT_PROFILES``) come after it. Both carry the host's architecture.
"""

from __future__ import annotations

from collections.abc import Mapping

from deltacloud_core import HardwareProfile, HardwareProperty, Realm, ValidationError
from deltacloud_core.hardware import validate_overrides

from .base import LibvirtBase, boundary

__all__ = ["DEFAULT_PROFILE", "MEMORY_STEP", "HostMixin"]

DEFAULT_PROFILE = "default"
#: Memory sizes are whole multiples of this many MiB.
MEMORY_STEP = 256
DEFAULT_MEMORY = 512


class HostMixin(LibvirtBase):
    """``list_realms``, ``list_hardware_profiles`` and the sizes an instance is made with."""

    @boundary
    def list_realms(self, **filters: str) -> list[Realm]:
        host = self.host_facts()
        realm = Realm(id=str(host["hostname"]), name=str(host["hostname"]), state="AVAILABLE",
                      limit=int(host["free_mib"]),  # type: ignore[call-overload]
                      extra={"uri": self.uri, "cpus": host["cpus"], "memory_mib": host["memory_mib"],
                             "architecture": host["arch"], "domain_type": host["domain_type"]})
        if filters.get("id") and filters["id"] != realm.id:
            return []
        if filters.get("architecture") and filters["architecture"] != host["arch"]:
            return []
        return [realm]

    @boundary
    def list_hardware_profiles(self, **filters: str) -> list[HardwareProfile]:
        profiles = [self._default_profile(), *self._fixed_profiles()]
        if filters.get("id"):
            profiles = [p for p in profiles if p.id == filters["id"]]
        if filters.get("architecture"):
            profiles = [p for p in profiles if p.matches_architecture(filters["architecture"])]
        return profiles

    def _default_profile(self) -> HardwareProfile:
        host = self.host_facts()
        cpus = max(1, int(host["cpus"]))  # type: ignore[call-overload]
        memory_top = max(MEMORY_STEP, int(host["memory_mib"]) // MEMORY_STEP * MEMORY_STEP)  # type: ignore[call-overload]
        free_gb = max(1, int(self.pool("instance_pool").info()[3]) // 1024**3)
        return HardwareProfile(DEFAULT_PROFILE, (
            HardwareProperty.range("cpu", 1, cpus, default=1),
            HardwareProperty.range("memory", MEMORY_STEP, memory_top, default=min(DEFAULT_MEMORY, memory_top)),
            HardwareProperty.range("storage", 1, free_gb, default=1),
            HardwareProperty.fixed("architecture", str(host["arch"])),
        ), name="Host-sized (ranges)")

    def _fixed_profiles(self) -> list[HardwareProfile]:
        arch = HardwareProperty.fixed("architecture", str(self.host_facts()["arch"]))
        return [HardwareProfile(p.id, (*p.properties, arch), name=p.name) for p in self.settings.profiles]

    def instance_sizes(self, hwp_id: str | None, overrides: Mapping[str, str]) -> tuple[str, int, int, int]:
        """``(profile id, vcpus, memory MiB, storage GB)`` for a new instance (400 for what cannot be)."""
        profile_id = hwp_id or DEFAULT_PROFILE
        profile = self.get_hardware_profile(profile_id)
        if profile is None:
            raise ValidationError(f"Hardware profile '{profile_id}' does not exist (see /api/hardware_profiles)")
        values: dict[str, object] = {p.name: p.default for p in profile.properties}
        values.update(validate_overrides(profile, overrides))  # the core checked them already; cheap
        try:
            vcpus = int(str(values.get("cpu", 1)))
            memory = int(float(str(values.get("memory", DEFAULT_MEMORY))))
            storage = int(float(str(values.get("storage", 1))))
        except ValueError as exc:
            raise ValidationError(f"Hardware sizes must be whole numbers: {exc}") from exc
        if memory % MEMORY_STEP:
            raise ValidationError(f"hwp_memory={memory} is not a multiple of {MEMORY_STEP} MiB "
                                  f"(memory comes in {MEMORY_STEP} MiB steps)")
        if vcpus < 1 or memory < MEMORY_STEP or storage < 1:
            raise ValidationError("An instance needs at least 1 CPU, 256 MiB of memory and 1 GB of storage")
        return profile.id, vcpus, memory, storage
