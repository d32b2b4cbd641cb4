"""Where instances can land: datacenters, compute resources (the realms), hosts, datastores.

A realm is a **compute resource**: a cluster, or a standalone host (an ESXi host added to vCenter
outside any cluster, or the one host of an ESXi provider). That is where an instance runs: its
CPUs and memory come from the compute resource's hosts, it starts in the compute resource's root
resource pool, and its disk goes to the compute resource's datastore with the most free space.
The original driver's realms were datastores; on a vCenter whose hosts share their storage, every
datastore is reachable from every host, so a datastore says nothing about where an instance runs.

The whole inventory is read in one round trip (:func:`read_inventory`): datacenters, folders
(to find each object's datacenter), compute resources, hosts, datastores and resource pools.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deltacloud_core import HardwareProfile, HardwareProperty, Realm, ValidationError
from pyVmomi import vim

from .provider import Endpoint
from .query import Found, retrieve
from .session import Session

__all__ = ["DEFAULT_PROFILE", "Datacenter", "Host", "Inventory", "Place", "Store", "hardware_profile",
           "read_inventory", "scope_roots"]

#: The one hardware profile: any CPU count and memory size the realms' hosts can give a VM.
DEFAULT_PROFILE = "default"
#: Smallest memory size offered (MiB) and the size vSphere's memory must be a multiple of.
MIN_MEMORY_MB = 128
MEMORY_STEP_MB = 4
#: The memory size a profile shows as its default (MiB), when the hosts have that much.
DEFAULT_MEMORY_MB = 1024
ARCHITECTURES = ("x86_64", "i386")

_WANTED: Mapping[type, tuple[str, ...]] = {
    vim.Datacenter: ("name", "parent", "vmFolder"),
    vim.Folder: ("parent",),
    vim.ComputeResource: ("name", "parent", "host", "datastore", "resourcePool"),
    vim.HostSystem: ("name", "parent", "summary.hardware.numCpuThreads", "summary.hardware.memorySize",
                     "runtime.connectionState", "runtime.inMaintenanceMode", "summary.quickStats.overallMemoryUsage"),
    vim.Datastore: ("name", "parent", "summary.freeSpace", "summary.capacity", "summary.accessible",
                    "summary.maintenanceMode"),
    vim.ResourcePool: ("owner",),
}


@dataclass(frozen=True)
class Datacenter:
    ref: Any
    name: str
    vm_folder: Any

    @property
    def id(self) -> str:
        return str(self.ref._moId)


@dataclass(frozen=True)
class Host:
    ref: Any
    name: str
    threads: int
    memory_mb: int
    memory_used_mb: int
    usable: bool

    @property
    def id(self) -> str:
        return str(self.ref._moId)


@dataclass(frozen=True)
class Store:
    ref: Any
    name: str
    free: int
    capacity: int
    usable: bool
    datacenter: Datacenter | None

    @property
    def id(self) -> str:
        return str(self.ref._moId)


@dataclass(frozen=True)
class Place:
    """A compute resource: a realm."""

    ref: Any
    name: str
    datacenter: Datacenter
    pool: Any
    hosts: tuple[Host, ...]
    stores: tuple[Store, ...]

    @property
    def id(self) -> str:
        return str(self.ref._moId)

    @property
    def usable_hosts(self) -> list[Host]:
        return [h for h in self.hosts if h.usable]

    @property
    def usable_stores(self) -> list[Store]:
        return [s for s in self.stores if s.usable]

    @property
    def available(self) -> bool:
        return bool(self.usable_hosts and self.usable_stores and self.pool is not None)

    def best_store(self) -> Store | None:
        """The usable datastore with the most free space: where new disks go."""
        return max(self.usable_stores, key=lambda s: (s.free, s.name), default=None)

    def best_host(self) -> Host | None:
        """The usable host with the most free memory: where a new VM starts."""
        return max(self.usable_hosts, key=lambda h: (h.memory_mb - h.memory_used_mb, h.name), default=None)

    def realm(self) -> Realm:
        best = self.best_store()
        return Realm(id=self.id, name=self.name, state="AVAILABLE" if self.available else "UNAVAILABLE",
                     limit=best.free // 2**30 if best is not None else 0,
                     extra={"datacenter": self.datacenter.name, "hosts": len(self.hosts),
                            "datastore": best.name if best is not None else None})


@dataclass(frozen=True)
class Inventory:
    datacenters: tuple[Datacenter, ...]
    places: Mapping[str, Place]
    stores: Mapping[str, Store]
    #: Resource pool id -> the id of the compute resource that owns it.
    pool_owner: Mapping[str, str]

    def place(self, realm_id: str) -> Place:
        place = self.places.get(realm_id)
        if place is None:
            known = ", ".join(sorted(self.places)) or "none"
            raise ValidationError(f"Realm '{realm_id}' does not exist; the realms are: {known}.")
        return place

    def places_with_store(self, store_id: str) -> list[Place]:
        return sorted((p for p in self.places.values() if any(s.id == store_id for s in p.stores)),
                      key=lambda p: (p.name, p.id))


def _datacenter_of(ref_id: str, parents: Mapping[str, str], datacenters: Mapping[str, Datacenter]) -> Datacenter | None:
    seen: set[str] = set()
    current: str | None = ref_id
    while current is not None and current not in seen:
        if current in datacenters:
            return datacenters[current]
        seen.add(current)
        current = parents.get(current)
    return None


def scope_roots(session: Session, endpoint: Endpoint) -> list[Any]:
    """What to read under: the provider's datacenter, or the whole inventory."""
    if endpoint.datacenter is None:
        return [session.content.rootFolder]
    return [find_datacenter(session, endpoint.datacenter).ref]


def find_datacenter(session: Session, name: str) -> Datacenter:
    """The datacenter a provider names (case-insensitively: the server lower-cases providers)."""
    known: list[Datacenter] = session.facts.get("datacenters") or []
    matches = [d for d in known if d.name.lower() == name.lower()]
    if not matches:
        found = retrieve(session, session.content.rootFolder, {vim.Datacenter: ("name", "vmFolder")})
        known = [Datacenter(f.obj, str(f.get("name")), f.get("vmFolder")) for f in found]
        session.facts["datacenters"] = known
        matches = [d for d in known if d.name.lower() == name.lower()]
    if not matches:
        names = ", ".join(sorted(d.name for d in known)) or "none"
        raise ValidationError(f"Datacenter '{name}' (named by the provider) does not exist; the datacenters "
                              f"are: {names}.")
    return sorted(matches, key=lambda d: d.name != name)[0]


def read_inventory(session: Session, endpoint: Endpoint) -> Inventory:
    """Datacenters, compute resources, hosts, datastores and pools in the provider's scope."""
    found: list[Found] = []
    for root in scope_roots(session, endpoint):
        found.extend(retrieve(session, root, _WANTED))
    if endpoint.datacenter is not None:  # the view under a datacenter does not hold the datacenter itself
        dc = find_datacenter(session, endpoint.datacenter)
        found.append(Found(dc.ref, {"name": dc.name, "vmFolder": dc.vm_folder}))
    parents = {f.id: str(f.get("parent")._moId) for f in found if f.get("parent") is not None}
    datacenters = {f.id: Datacenter(f.obj, str(f.get("name")), f.get("vmFolder"))
                   for f in found if f.is_a(vim.Datacenter)}
    hosts = {f.id: _host(f) for f in found if f.is_a(vim.HostSystem)}
    stores = {f.id: _store(f, _datacenter_of(f.id, parents, datacenters)) for f in found if f.is_a(vim.Datastore)}
    places: dict[str, Place] = {}
    for f in found:
        if not f.is_a(vim.ComputeResource):
            continue
        datacenter = _datacenter_of(f.id, parents, datacenters)
        if datacenter is None:
            continue
        places[f.id] = Place(
            ref=f.obj, name=str(f.get("name")), datacenter=datacenter, pool=f.get("resourcePool"),
            hosts=tuple(hosts[h._moId] for h in f.get("host") or () if h._moId in hosts),
            stores=tuple(stores[s._moId] for s in f.get("datastore") or () if s._moId in stores))
    owners = {f.id: str(f.get("owner")._moId) for f in found if f.is_a(vim.ResourcePool) and f.get("owner")}
    return Inventory(datacenters=tuple(sorted(datacenters.values(), key=lambda d: d.name)), places=places,
                     stores=stores, pool_owner=owners)


def _host(found: Found) -> Host:
    connected = found.get("runtime.connectionState") == vim.HostSystem.ConnectionState.connected
    return Host(ref=found.obj, name=str(found.get("name")),
                threads=int(found.get("summary.hardware.numCpuThreads") or 0),
                memory_mb=int(found.get("summary.hardware.memorySize") or 0) // 2**20,
                memory_used_mb=int(found.get("summary.quickStats.overallMemoryUsage") or 0),
                usable=connected and not found.get("runtime.inMaintenanceMode", False))


def _store(found: Found, datacenter: Datacenter | None) -> Store:
    maintenance = found.get("summary.maintenanceMode") or "normal"
    return Store(ref=found.obj, name=str(found.get("name")), free=int(found.get("summary.freeSpace") or 0),
                 capacity=int(found.get("summary.capacity") or 0),
                 usable=bool(found.get("summary.accessible")) and maintenance == "normal", datacenter=datacenter)


def hardware_profile(places: Iterable[Place]) -> HardwareProfile | None:
    """The ``default`` profile: 1..N CPUs and 128..M MiB, N and M what the smallest usable host of
    any realm has (a VM cannot have more vCPUs than its host has threads, nor more memory); None
    when no realm has a usable host."""
    hosts = [h for p in places for h in p.usable_hosts if h.threads > 0 and h.memory_mb > 0]
    if not hosts:
        return None
    cpus = min(h.threads for h in hosts)
    memory = min(h.memory_mb for h in hosts) // MEMORY_STEP_MB * MEMORY_STEP_MB
    if memory < MIN_MEMORY_MB:
        return None
    return HardwareProfile(DEFAULT_PROFILE, (
        HardwareProperty.range("cpu", 1, cpus, default=1),
        HardwareProperty.range("memory", MIN_MEMORY_MB, memory, default=min(DEFAULT_MEMORY_MB, memory)),
        HardwareProperty.enum("architecture", ARCHITECTURES, default=ARCHITECTURES[0]),
    ))
