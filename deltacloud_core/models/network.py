"""Network resources: addresses, firewalls and their rules, load balancers, networks,
subnets and network interfaces (Deltacloud's field names).

References between objects are ids (``Address.instance_id``, ``Subnet.network``,
``NetworkInterface.instance``), as in the original models; a load balancer carries the
full :class:`~deltacloud_core.models.compute.Instance` objects registered with it because
its JSON document embeds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .compute import Instance

__all__ = [
    "Address",
    "Firewall",
    "FirewallRule",
    "FirewallRuleSource",
    "Listener",
    "LoadBalancer",
    "Network",
    "NetworkInterface",
    "Subnet",
]


@dataclass(frozen=True, slots=True)
class Address:
    """A public (elastic / floating) IP address; the id is the address itself."""

    id: str
    #: The instance the address is associated with; None when free.
    instance_id: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def ip(self) -> str:
        return self.id

    @property
    def associated(self) -> bool:
        return self.instance_id is not None


@dataclass(frozen=True, slots=True)
class FirewallRuleSource:
    """Where a rule lets traffic in from: a group (``name``/``owner``) or an address block.

    An address source has ``family`` (``ipv4``/``ipv6``), ``address`` and ``prefix``
    (``10.1.2.3`` / ``24``).
    """

    type: Literal["group", "address"]
    name: str | None = None
    owner: str | None = None
    family: str | None = None
    address: str | None = None
    prefix: str | None = None

    @classmethod
    def group(cls, name: str, owner: str | None = None) -> FirewallRuleSource:
        return cls(type="group", name=name, owner=owner)

    @classmethod
    def cidr(cls, block: str) -> FirewallRuleSource:
        """An address source from CIDR text: ``10.1.1.1/24`` (no prefix: a single host)."""
        address, _sep, prefix = block.strip().partition("/")
        family = "ipv6" if ":" in address else "ipv4"
        if not prefix:
            prefix = "128" if family == "ipv6" else "32"
        return cls(type="address", family=family, address=address, prefix=prefix)


@dataclass(frozen=True, slots=True)
class FirewallRule:
    """One ingress (or egress) rule; ids may contain ``~ @ ,`` (ec2 makes them up)."""

    id: str
    allow_protocol: str | None = None
    port_from: str | int | None = None
    port_to: str | int | None = None
    direction: str | None = None
    #: fgcp only; None elsewhere.
    rule_action: str | None = None
    log_rule: str | None = None
    sources: tuple[FirewallRuleSource, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Firewall:
    """A firewall (ec2 security group) with its rules."""

    id: str
    name: str | None = None
    description: str | None = None
    owner_id: str | None = None
    rules: tuple[FirewallRule, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Listener:
    """A load balancer listener: ``protocol`` traffic on ``load_balancer_port`` goes to ``instance_port``."""

    protocol: str
    load_balancer_port: str | int
    instance_port: str | int
    id: str | None = None


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    id: str
    #: Realm ids the balancer spans; documents show the first.
    realms: tuple[str, ...] = ()
    listeners: tuple[Listener, ...] = ()
    #: The registered instances (their JSON document embeds them whole).
    instances: tuple[Instance, ...] = ()
    public_addresses: tuple[str, ...] = ()
    created_at: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Network:
    id: str
    name: str | None = None
    state: str | None = None
    #: CIDR blocks, e.g. ``("192.168.0.0/16",)``.
    address_blocks: tuple[str, ...] = ()
    #: Ids of the network's subnets.
    subnets: tuple[str, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Subnet:
    id: str
    #: Id of the network the subnet belongs to.
    network: str | None = None
    name: str | None = None
    address_block: str | None = None
    state: str | None = None
    #: ``PRIVATE`` / ``PUBLIC``; shown in JSON only.
    type: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    id: str
    #: Id of the instance the interface is attached to.
    instance: str | None = None
    #: Id of the network (or, for drivers with subnets, of the subnet) it is connected to.
    network: str | None = None
    name: str | None = None
    ip_address: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
