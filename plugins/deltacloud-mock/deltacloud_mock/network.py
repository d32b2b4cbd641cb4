"""The mock cloud's addresses, metrics, networks, subnets and network interfaces (MOCK.md §5).

:class:`MockNetworkMixin` is one of :class:`~deltacloud_mock.driver.MockDriver`'s bases; it
uses the driver's ``store`` and ``_user()`` (the credentials check). Where the original
failed with a 500 (unknown ids, an address in use or not in use, an interface without a
subnet), this raises the error the original meant: 404 for unknown objects, 403 with
the original's code (``AddressInUse``/``AddressNotInUse``) for the address conflicts.
"""

from __future__ import annotations

import ipaddress
import random
import time
from typing import TYPE_CHECKING, Any

from deltacloud_core import nonblocking
from deltacloud_core.errors import ForbiddenError, ObjectNotFound, ValidationError
from deltacloud_core.models import (
    Address,
    Metric,
    MetricProperty,
    MetricSample,
    Network,
    NetworkInterface,
    Subnet,
)

if TYPE_CHECKING:
    from .store import MockStore, Record, Transaction

__all__ = ["METRIC_NAMES", "SAMPLES_PER_PROPERTY", "MockNetworkMixin", "metric_unit",
           "sample_values"]

#: The properties every mock metric has, sorted by name.
METRIC_NAMES: tuple[str, ...] = (
    "cpuUtilization", "diskReadRequestCount", "diskReadSector", "diskWriteRequestCount", "diskWriteSector",
    "nicInputByte", "nicInputPacket", "nicOutputByte", "nicOutputPacket",
)
#: Samples per property in a metric's show document.
SAMPLES_PER_PROPERTY = 6

_rng = random.SystemRandom()


def metric_unit(name: str) -> str:
    """``Percent`` for utilisation, ``Bytes`` for byte counters, ``Count`` for the rest (else ``None``)."""
    if "Utilization" in name:
        return "Percent"
    if "Byte" in name:
        return "Bytes"
    if any(word in name for word in ("Sector", "Count", "Packet")):
        return "Count"
    return "None"


def sample_values(name: str, now: int) -> tuple[MetricSample, ...]:
    """Six random samples, the newest first (timestamps ``now``, ``now - 1`` ...).

    Minimum 1..49, maximum 50..99, average their integer mean; utilisation values are
    hundredths (floats, plain mean).
    """
    unit = metric_unit(name)
    samples = []
    for i in range(SAMPLES_PER_PROPERTY):
        low, high = _rng.randint(1, 49), _rng.randint(50, 99)
        if unit == "Percent":
            minimum: float | int = low / 100
            maximum: float | int = high / 100
            average: float | int = (minimum + maximum) / 2
        else:
            minimum, maximum, average = low, high, (low + high) // 2
        samples.append(MetricSample(minimum=minimum, maximum=maximum, average=average, timestamp=now - i,
                                    unit=unit))
    return tuple(samples)


def _address(rec: Record) -> Address:
    return Address(id=rec["id"], instance_id=rec.get("instance_id") or None)


def _network(rec: Record) -> Network:
    return Network(id=rec["id"], name=rec.get("name"), state=rec.get("state"),
                   address_blocks=tuple(str(b) for b in rec.get("address_blocks") or () if b is not None),
                   subnets=tuple(str(s) for s in rec.get("subnets") or ()))


def _subnet(rec: Record) -> Subnet:
    return Subnet(id=rec["id"], network=rec.get("network"), name=rec.get("name"),
                  address_block=rec.get("address_block"), state=rec.get("state"), type=rec.get("type"))


def _nic(rec: Record) -> NetworkInterface:
    return NetworkInterface(id=rec["id"], instance=rec.get("instance"), network=rec.get("network"),
                            name=rec.get("name"), ip_address=rec.get("ip_address"))


def _filter_id(records: list[Record], filters: dict[str, str]) -> list[Record]:
    wanted = filters.get("id")
    return [r for r in records if r["id"] == wanted] if wanted else records


def _new_id(tx: Transaction, collection: str, name: str | None, prefix: str) -> str:
    """``name`` when given (refused when taken), else ``<prefix>_<unix seconds>`` made unique."""
    if name:
        if tx.exists(collection, name):
            raise ForbiddenError(f"{collection[:-1].replace('_', ' ').capitalize()} '{name}' already exists")
        return name
    base = f"{prefix}_{int(time.time())}"
    candidate, n = base, 1
    while tx.exists(collection, candidate):
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def _random_host(block: str) -> str:
    """A random address inside ``block`` (not the network or broadcast address when avoidable)."""
    try:
        net = ipaddress.ip_network(block.strip(), strict=False)
    except ValueError as exc:
        raise ValidationError(f"Address block '{block}' is not a valid CIDR block.") from exc
    size = net.num_addresses
    offset = _rng.randint(1, size - 2) if size > 2 else _rng.randint(0, size - 1)
    return str(net.network_address + offset)


class MockNetworkMixin:
    """Addresses, metrics, networks, subnets and network interfaces kept in the mock store."""

    if TYPE_CHECKING:
        @property
        def store(self) -> MockStore: ...

        def _user(self) -> str: ...

    # -- addresses -------------------------------------------------------------------------
    @nonblocking
    def list_addresses(self, **filters: str) -> list[Address]:
        self._user()
        return [_address(r) for r in _filter_id(self.store.list("addresses"), filters)]

    @nonblocking
    def get_address(self, id: str) -> Address | None:
        self._user()
        rec = self.store.get("addresses", id)
        return _address(rec) if rec else None

    def create_address(self, **extra: str) -> Address:
        """The next IPv4 address after the numerically highest one (192.168.0.5 with the fixtures)."""
        self._user()
        with self.store.transaction() as tx:
            numbers = []
            for id in tx.ids("addresses"):
                try:
                    numbers.append(int(ipaddress.IPv4Address(id)))
                except ValueError:
                    continue
            ip = str(ipaddress.IPv4Address(max(numbers) + 1)) if numbers else "192.168.0.1"
            rec = tx.put("addresses", ip, {"instance_id": None})
        return _address(rec)

    def destroy_address(self, id: str) -> None:
        self._user()
        with self.store.transaction() as tx:
            rec = self._address_record(tx, id)
            if rec.get("instance_id"):
                raise ForbiddenError(f"Address '{id}' is associated with instance '{rec['instance_id']}': "
                                     "disassociate it first", backend_code="AddressInUse")
            tx.delete("addresses", id)

    def associate_address(self, id: str, *, instance_id: str) -> None:
        """Bind the address to the instance, whose public addresses become just this one (ipv4)."""
        self._user()
        with self.store.transaction() as tx:
            rec = self._address_record(tx, id)
            if rec.get("instance_id"):
                raise ForbiddenError(f"Address '{id}' is already associated with instance "
                                     f"'{rec['instance_id']}'", backend_code="AddressInUse")
            instance = tx.get("instances", instance_id)
            if instance is None:
                raise ObjectNotFound(f"Instance '{instance_id}' not found")
            rec["instance_id"] = instance_id
            instance["public_addresses"] = [{"address": id, "type": "ipv4"}]
            tx.put("addresses", id, rec)
            tx.put("instances", instance_id, instance)

    def disassociate_address(self, id: str) -> None:
        """Free the address; its instance gets back its ``<image>.<instance>.public.com`` hostname."""
        self._user()
        with self.store.transaction() as tx:
            rec = self._address_record(tx, id)
            instance_id = rec.get("instance_id")
            if not instance_id:
                raise ForbiddenError(f"Address '{id}' is not associated with any instance",
                                     backend_code="AddressNotInUse")
            rec["instance_id"] = None
            tx.put("addresses", id, rec)
            instance = tx.get("instances", instance_id)
            if instance is not None:  # it may have been destroyed meanwhile
                instance["public_addresses"] = [
                    {"address": f"{instance.get('image_id')}.{instance_id}.public.com", "type": "hostname"}]
                tx.put("instances", instance_id, instance)

    @staticmethod
    def _address_record(tx: Transaction, id: str) -> Record:
        rec = tx.get("addresses", id)
        if rec is None:
            raise ObjectNotFound(f"Address '{id}' not found")
        return rec

    # -- metrics ---------------------------------------------------------------------------
    def _instance_records(self, **filters: str) -> list[Record]:
        user = self._user()
        records = [r for r in self.store.list("instances") if r.get("owner_id") == user]
        return _filter_id(records, filters)

    @nonblocking
    def list_metrics(self, **filters: str) -> list[Metric]:
        """One metric per instance of the user (id = instance id, entity = its name), no values."""
        return [Metric(id=r["id"], entity=r.get("name"), properties=tuple(MetricProperty(n) for n in METRIC_NAMES))
                for r in self._instance_records(**filters)]

    @nonblocking
    def get_metric(self, id: str) -> Metric | None:
        """The requested instance's metric with six random samples per property (None if unknown)."""
        records = self._instance_records(id=id)
        if not records:
            return None
        now = int(time.time())
        return Metric(id=id, entity=records[0].get("name"),
                      properties=tuple(MetricProperty(n, sample_values(n, now)) for n in METRIC_NAMES))

    # -- networks --------------------------------------------------------------------------
    @nonblocking
    def list_networks(self, **filters: str) -> list[Network]:
        self._user()
        return [_network(r) for r in _filter_id(self.store.list("networks"), filters)]

    @nonblocking
    def get_network(self, id: str) -> Network | None:
        self._user()
        rec = self.store.get("networks", id)
        return _network(rec) if rec else None

    def create_network(self, *, address_block: str | None = None, name: str | None = None,
                       **extra: str) -> Network:
        self._user()
        with self.store.transaction() as tx:
            new_id = _new_id(tx, "networks", name, "net")
            rec = tx.put("networks", new_id, {
                "name": name or new_id, "address_blocks": [address_block] if address_block else [],
                "subnets": [], "state": "UP"})
        return _network(rec)

    def destroy_network(self, id: str) -> None:
        """Delete the network and its subnets."""
        self._user()
        with self.store.transaction() as tx:
            rec = tx.get("networks", id)
            if rec is None:
                raise ObjectNotFound(f"Network '{id}' not found")
            for subnet_id in rec.get("subnets") or ():
                tx.delete("subnets", subnet_id)
            tx.delete_where("subnets", network=id)
            tx.delete("networks", id)

    # -- subnets ---------------------------------------------------------------------------
    @nonblocking
    def list_subnets(self, **filters: str) -> list[Subnet]:
        self._user()
        return [_subnet(r) for r in _filter_id(self.store.list("subnets"), filters)]

    @nonblocking
    def get_subnet(self, id: str) -> Subnet | None:
        self._user()
        rec = self.store.get("subnets", id)
        return _subnet(rec) if rec else None

    def create_subnet(self, *, network_id: str, address_block: str, name: str | None = None,
                      **extra: str) -> Subnet:
        self._user()
        with self.store.transaction() as tx:
            network = tx.get("networks", network_id)
            if network is None:
                raise ObjectNotFound(f"Network '{network_id}' not found")
            new_id = _new_id(tx, "subnets", name, "subnet")
            rec = tx.put("subnets", new_id, {"name": name or new_id, "network": network_id,
                                             "address_block": address_block, "type": None, "state": "UP"})
            network["subnets"] = [*(network.get("subnets") or []), new_id]
            tx.put("networks", network_id, network)
        return _subnet(rec)

    def destroy_subnet(self, id: str) -> None:
        self._user()
        with self.store.transaction() as tx:
            rec = tx.get("subnets", id)
            if rec is None:
                raise ObjectNotFound(f"Subnet '{id}' not found")
            network = tx.get("networks", rec.get("network") or "")
            if network is not None and id in (network.get("subnets") or []):
                network["subnets"] = [s for s in network["subnets"] if s != id]
                tx.put("networks", network["id"], network)
            tx.delete("subnets", id)

    # -- network interfaces ----------------------------------------------------------------
    @nonblocking
    def list_network_interfaces(self, **filters: str) -> list[NetworkInterface]:
        self._user()
        return [_nic(r) for r in _filter_id(self.store.list("network_interfaces"), filters)]

    @nonblocking
    def get_network_interface(self, id: str) -> NetworkInterface | None:
        self._user()
        rec = self.store.get("network_interfaces", id)
        return _nic(rec) if rec else None

    def create_network_interface(self, *, instance: str, network: str, name: str | None = None,
                                 subnet: str | None = None, **extra: str) -> NetworkInterface:
        """An interface with a random address of ``subnet`` (or of ``network`` read as a subnet id,
        which is what the HTML form sends), appended to the instance's interfaces."""
        self._user()
        subnet_id = subnet or network
        with self.store.transaction() as tx:
            snet = tx.get("subnets", subnet_id)
            if snet is None:
                raise ObjectNotFound(f"Subnet '{subnet_id}' not found")
            inst = tx.get("instances", instance)
            if inst is None:
                raise ObjectNotFound(f"Instance '{instance}' not found")
            new_id = _new_id(tx, "network_interfaces", name, "nic")
            record: dict[str, Any] = {"name": name or new_id, "instance": instance, "network": network,
                                      "subnet": subnet, "ip_address": _random_host(str(snet.get("address_block")))}
            rec = tx.put("network_interfaces", new_id, record)
            inst["network_interfaces"] = [*(inst.get("network_interfaces") or []), new_id]
            tx.put("instances", instance, inst)
        return _nic(rec)

    def destroy_network_interface(self, id: str) -> None:
        """Delete the interface and drop it from its instance's list."""
        self._user()
        with self.store.transaction() as tx:
            rec = tx.get("network_interfaces", id)
            if rec is None:
                raise ObjectNotFound(f"Network interface '{id}' not found")
            inst = tx.get("instances", rec.get("instance") or "")
            if inst is not None and id in (inst.get("network_interfaces") or []):
                inst["network_interfaces"] = [n for n in inst["network_interfaces"] if n != id]
                tx.put("instances", inst["id"], inst)
            tx.delete("network_interfaces", id)
