"""Networking: addresses, firewalls, load balancers, networks, subnets, network interfaces."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import Link, Ref, Resource, json_ref, json_refs, keys, text_of, xml_links, xml_ref

__all__ = ["Firewall", "FirewallRule", "IPAddress", "Listener", "LoadBalancer", "Network", "NetworkInterface",
           "Subnet"]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, kw_only=True)
class IPAddress(Resource):
    """A member of ``addresses`` (an elastic / floating IP); ``id`` is the IP."""

    COLLECTION = "addresses"
    SINGULAR = "address"
    JSON_KEYS = keys("associated", "instance_id", "ip")
    XML_KEYS = keys("ip", "instance")

    ip: str | None = None
    associated: bool = False
    instance_id: str | None = None

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "ip": doc.get("ip") or doc.get("id"),
                "associated": bool(doc.get("associated")), "instance_id": doc.get("instance_id")}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        instance = xml_ref(element.find("instance"))
        return {**super().xml_fields(element), "ip": text_of(element, "ip"), "associated": instance is not None,
                "instance_id": instance.id if instance else None}


@dataclass(frozen=True)
class FirewallRule:
    id: str
    allow_protocol: str | None = None
    port_from: str | None = None
    port_to: str | None = None
    direction: str | None = None
    #: ``{"type": "address", "family", "address", "prefix"}`` or ``{"type": "group", "name", "owner"}``.
    sources: tuple[Mapping[str, str], ...] = field(default=(), hash=False)
    actions: tuple[Link, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Firewall(Resource):
    COLLECTION = "firewalls"
    SINGULAR = "firewall"
    JSON_KEYS = keys("name", "description", "owner_id", "rules")
    XML_KEYS = keys("name", "description", "owner_id", "rules")

    name: str | None = None
    description: str | None = None
    owner_id: str | None = None
    rules: tuple[FirewallRule, ...] = ()

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        rules = tuple(FirewallRule(str(r.get("id", "")), r.get("allow_protocol"), _str(r.get("port_from")),
                                   _str(r.get("port_to")), r.get("direction"),
                                   tuple({str(k): str(v) for k, v in s.items()} for s in r.get("sources") or ()
                                         if isinstance(s, Mapping)))
                      for r in doc.get("rules") or () if isinstance(r, Mapping))
        return {**super().json_fields(doc), "name": doc.get("name"), "description": doc.get("description"),
                "owner_id": _str(doc.get("owner_id")), "rules": rules}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        rules = tuple(FirewallRule(r.get("id", ""), text_of(r, "allow_protocol"), text_of(r, "port_from"),
                                   text_of(r, "port_to"), text_of(r, "direction"),
                                   tuple(dict(s.attrib) for s in r.findall("sources/source")), xml_links(r))
                      for r in element.findall("rules/rule"))
        return {**super().xml_fields(element), "name": text_of(element, "name"),
                "description": text_of(element, "description"), "owner_id": text_of(element, "owner_id"),
                "rules": rules}


@dataclass(frozen=True)
class Listener:
    protocol: str | None = None
    load_balancer_port: str | None = None
    instance_port: str | None = None


@dataclass(frozen=True, kw_only=True)
class LoadBalancer(Resource):
    COLLECTION = "load_balancers"
    SINGULAR = "load_balancer"
    JSON_KEYS = keys("realms", "listeners", "instances", "public_addresses", "created_at")
    XML_KEYS = keys("public_addresses", "created_at", "realm", "listeners", "instances")

    realms: tuple[Ref, ...] = ()
    listeners: tuple[Listener, ...] = ()
    instances: tuple[Ref, ...] = ()
    public_addresses: tuple[str, ...] = ()
    created_at: str | None = None

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        listeners = tuple(Listener(v.get("protocol"), _str(v.get("load_balancer_port")), _str(v.get("instance_port")))
                          for v in doc.get("listeners") or () if isinstance(v, Mapping))
        realms = tuple(r if isinstance(r, Ref) else Ref(str(r)) for r in
                       (json_ref(v) if isinstance(v, Mapping) else v for v in doc.get("realms") or ()) if r)
        return {**super().json_fields(doc), "realms": realms, "listeners": listeners,
                "instances": json_refs(doc.get("instances")),
                "public_addresses": tuple(str(a) for a in doc.get("public_addresses") or ()),
                "created_at": _str(doc.get("created_at"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        listeners = tuple(Listener(e.get("protocol"), text_of(e, "load_balancer_port"), text_of(e, "instance_port"))
                          for e in element.findall("listeners/listener"))
        realm = xml_ref(element.find("realm"))
        return {**super().xml_fields(element), "realms": (realm,) if realm else (), "listeners": listeners,
                "instances": tuple(r for r in (xml_ref(e) for e in element.findall("instances/instance")) if r),
                "public_addresses": tuple((e.text or "").strip() for e in element.findall("public_addresses/address")),
                "created_at": text_of(element, "created_at")}


@dataclass(frozen=True, kw_only=True)
class Network(Resource):
    COLLECTION = "networks"
    SINGULAR = "network"
    JSON_KEYS = keys("name", "state", "address_blocks", "subnets")
    XML_KEYS = keys("name", "state", "address_blocks", "subnets")

    name: str | None = None
    state: str | None = None
    address_blocks: tuple[str, ...] = ()
    subnets: tuple[Ref, ...] = ()

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "name": doc.get("name"), "state": doc.get("state"),
                "address_blocks": tuple(str(b) for b in doc.get("address_blocks") or ()),
                "subnets": json_refs(doc.get("subnets"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        blocks = tuple((e.text or "").strip() for e in element.findall("address_blocks/address_block"))
        return {**super().xml_fields(element), "name": text_of(element, "name"), "state": text_of(element, "state"),
                "address_blocks": blocks,
                "subnets": tuple(r for r in (xml_ref(e) for e in element.findall("subnets/subnet")) if r)}


@dataclass(frozen=True, kw_only=True)
class Subnet(Resource):
    COLLECTION = "subnets"
    SINGULAR = "subnet"
    JSON_KEYS = keys("name", "type", "state", "address_block", "network")
    XML_KEYS = keys("name", "type", "state", "address_block", "network")

    name: str | None = None
    type: str | None = None
    state: str | None = None
    address_block: str | None = None
    network: Ref | None = None

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "name": doc.get("name"), "type": doc.get("type"),
                "state": doc.get("state"), "address_block": doc.get("address_block"),
                "network": json_ref(doc.get("network"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        network = text_of(element, "network")
        return {**super().xml_fields(element), "name": text_of(element, "name"), "type": text_of(element, "type"),
                "state": text_of(element, "state"), "address_block": text_of(element, "address_block"),
                "network": Ref(network) if network else None}


@dataclass(frozen=True, kw_only=True)
class NetworkInterface(Resource):
    COLLECTION = "network_interfaces"
    SINGULAR = "network_interface"
    JSON_KEYS = keys("name", "network", "instance", "ip_address")
    XML_KEYS = keys("name", "ip_address", "network", "instance")

    name: str | None = None
    ip_address: str | None = None
    network: Ref | None = None
    instance: Ref | None = None

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "name": doc.get("name"), "ip_address": doc.get("ip_address"),
                "network": json_ref(doc.get("network")), "instance": json_ref(doc.get("instance"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        return {**super().xml_fields(element), "name": text_of(element, "name"),
                "ip_address": text_of(element, "ip_address"), "network": xml_ref(element.find("network")),
                "instance": xml_ref(element.find("instance"))}


