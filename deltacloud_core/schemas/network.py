"""Dump schemas of the network resources: addresses, firewalls (and rules), load balancers,
networks, subnets and network interfaces (FORMATS.md §11, §12, §13, §16)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from ..models import (
    Address,
    Firewall,
    FirewallRule,
    FirewallRuleSource,
    LoadBalancer,
    Network,
    NetworkInterface,
    Subnet,
)
from .base import OMIT, DumpSchema, computed, link, ref, text
from .compute import InstanceJson
from .context import render_context
from .shapes import BOOLEAN, LINKS, NULLABLE_LINK, OBJECT, STRINGS

__all__ = [
    "AddressJson", "AddressXml", "FirewallIndexXml", "FirewallJson", "FirewallXml", "LoadBalancerJson",
    "LoadBalancerXml", "NetworkInterfaceJson", "NetworkInterfaceXml", "NetworkJson", "NetworkXml", "SubnetJson",
    "SubnetXml",
]


def _url(*parts: str) -> str:
    return render_context().url(*parts)


def _actions(links: list[dict[str, str]]) -> Any:
    """An ``<actions>`` element: its links, or an empty element when there are none."""
    return {"link": links} if links else None


def _destroy_link(collection: str, id: str, method: str) -> list[dict[str, str]]:
    if not render_context().implements(method):
        return []
    return [link(_url(collection, id), "destroy", "delete")]


# -- addresses ------------------------------------------------------------------------------

class AddressJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda a: _url("addresses", a.id))
    associated = computed(lambda a: a.associated, shape=BOOLEAN)
    instance_id = computed(lambda a: a.instance_id if a.associated else OMIT, shape={"type": ["string", "null"]})


def _address_xml_actions(address: Address) -> Any:
    ctx = render_context()
    base = ctx.url("addresses", address.id)
    links = []
    if ctx.implements("destroy_address"):
        links.append(link(base, "destroy", "delete"))
    if ctx.implements("associate_address") and not address.associated:
        links.append(link(f"{base}/associate", "associate", "post"))
    if ctx.implements("disassociate_address") and address.associated:
        links.append(link(f"{base}/disassociate", "disassociate", "post"))
    return _actions(links)


class AddressXml(DumpSchema):
    href = fields.Function(lambda a: _url("addresses", a.id), data_key="@href")
    id = fields.String(data_key="@id")
    ip = fields.Function(lambda a: text(a.ip))
    actions = fields.Function(_address_xml_actions)
    instance = fields.Function(lambda a: ref("instances", a.instance_id) if a.associated else OMIT)


# -- firewalls ------------------------------------------------------------------------------

def _source_json(source: FirewallRuleSource) -> dict[str, Any]:
    if source.type == "group":
        out = {"type": "group", "name": source.name, "owner": source.owner}
    else:
        out = {"type": source.type, "family": source.family, "address": source.address, "prefix": source.prefix}
    return {k: v for k, v in out.items() if v is not None}


def _source_xml(source: FirewallRuleSource) -> dict[str, str]:
    if source.type == "group":
        attrs = {"name": source.name, "owner": source.owner, "type": "group"}
    else:
        attrs = {"address": source.address, "family": source.family, "prefix": source.prefix, "type": source.type}
    return {f"@{k}": text(v) for k, v in attrs.items() if v is not None}


def _rule_json(rule: FirewallRule) -> dict[str, Any]:
    out = {"id": rule.id, "allow_protocol": rule.allow_protocol, "port_from": rule.port_from,
           "port_to": rule.port_to, "sources": [_source_json(s) for s in rule.sources],
           "direction": rule.direction, "rule_action": rule.rule_action, "log_rule": rule.log_rule}
    return {k: v for k, v in out.items() if v is not None}


def _rule_xml(firewall: Firewall, rule: FirewallRule, *, index: bool) -> dict[str, Any]:
    ctx = render_context()
    href = ctx.url("firewalls", firewall.id, rule.id)
    out: dict[str, Any] = {} if index else {"@href": href}
    out["@id"] = rule.id
    links = []
    if ctx.implements("destroy_firewall_rule"):
        destroy = link(href, "destroy", "delete")
        if index:
            destroy["@id"] = rule.id
        links.append(destroy)
    out["actions"] = _actions(links)
    out["allow_protocol"] = text(rule.allow_protocol)
    out["port_from"] = text(rule.port_from)
    out["port_to"] = text(rule.port_to)
    out["direction"] = text(rule.direction)
    out["rule_action"] = text(rule.rule_action)
    out["log_rule"] = text(rule.log_rule)
    out["sources"] = {"source": [_source_xml(s) for s in rule.sources]} if rule.sources else None
    return out


class FirewallJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda f: _url("firewalls", f.id))
    name = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    owner_id = fields.String(allow_none=True)
    rules = computed(lambda f: [_rule_json(r) for r in f.rules], shape={"type": "array", "items": OBJECT})


def _firewall_actions(firewall: Firewall, index: bool) -> Any:
    ctx = render_context()
    base = ctx.url("firewalls", firewall.id)
    links = []
    if ctx.implements("destroy_firewall"):
        links.append(link(base, "destroy", "delete"))
    if ctx.implements("create_firewall_rule"):
        links.append(link(f"{base}/rules", "add_rule" if index else "update", "post"))
    if index:
        for item in links:
            item["@id"] = firewall.id
    return _actions(links)


def _firewall_rules(firewall: Firewall, index: bool) -> Any:
    if not firewall.rules:
        return None
    return {"rule": [_rule_xml(firewall, r, index=index) for r in firewall.rules]}


class FirewallXml(DumpSchema):
    """The show document (``GET /api/firewalls/:id``, create, add rule)."""

    href = fields.Function(lambda f: _url("firewalls", f.id), data_key="@href")
    id = fields.String(data_key="@id")
    actions = fields.Function(lambda f: _firewall_actions(f, index=False))
    name = fields.Function(lambda f: text(f.name))
    description = fields.Function(lambda f: text(f.description))
    owner_id = fields.Function(lambda f: text(f.owner_id))
    rules = fields.Function(lambda f: _firewall_rules(f, index=False))


class FirewallIndexXml(DumpSchema):
    """A firewall inside ``<firewalls>`` (FORMATS.md §12: other action rels, ids on the links,
    rules without ``href``)."""

    href = fields.Function(lambda f: _url("firewalls", f.id), data_key="@href")
    id = fields.String(data_key="@id")
    actions = fields.Function(lambda f: _firewall_actions(f, index=True))
    name = fields.Function(lambda f: text(f.name))
    description = fields.Function(lambda f: text(f.description))
    owner_id = fields.Function(lambda f: text(f.owner_id))
    rules = fields.Function(lambda f: _firewall_rules(f, index=True))


# -- load balancers -------------------------------------------------------------------------

_INSTANCE_JSON = InstanceJson()


class LoadBalancerJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda lb: _url("load_balancers", lb.id))
    realms = computed(lambda lb: [{"id": r, "href": _url("realms", r), "rel": "realm"} for r in lb.realms], shape=LINKS)
    listeners = fields.Function(lambda lb: [
        {"id": li.id, "protocol": li.protocol, "load_balancer_port": li.load_balancer_port,
         "instance_port": li.instance_port} for li in lb.listeners])
    instances = fields.Function(lambda lb: [_INSTANCE_JSON.dump(i) for i in lb.instances])
    public_addresses = computed(lambda lb: list(lb.public_addresses), shape=STRINGS)
    created_at = fields.String(allow_none=True)


def _load_balancer_xml_actions(lb: LoadBalancer) -> Any:
    ctx = render_context()
    base = ctx.url("load_balancers", lb.id)
    links = []
    if ctx.implements("destroy_load_balancer"):
        links.append(link(base, "destroy", "delete"))
    if ctx.implements("register_instance"):
        links.append(link(f"{base}/register", "register", "post"))
    return _actions(links)


def _load_balancer_xml_instances(lb: LoadBalancer) -> Any:
    if not lb.instances:
        return None
    ctx = render_context()
    unregister = ctx.implements("unregister_instance")
    out = []
    for instance in lb.instances:
        item: dict[str, Any] = ref("instances", instance.id)
        if unregister:
            item["link"] = {"@href": ctx.url("load_balancers", lb.id) + "/unregister", "@rel": "unregister"}
        out.append(item)
    return {"instance": out}


class LoadBalancerXml(DumpSchema):
    href = fields.Function(lambda lb: _url("load_balancers", lb.id), data_key="@href")
    id = fields.String(data_key="@id")
    actions = fields.Function(_load_balancer_xml_actions)
    public_addresses = fields.Function(
        lambda lb: {"address": [text(a) for a in lb.public_addresses]} if lb.public_addresses else None)
    created_at = fields.Function(lambda lb: text(lb.created_at))
    realm = fields.Function(lambda lb: ref("realms", lb.realms[0]) if lb.realms else OMIT)
    listeners = fields.Function(lambda lb: {"listener": [
        {"@protocol": text(li.protocol), "load_balancer_port": text(li.load_balancer_port),
         "instance_port": text(li.instance_port)} for li in lb.listeners]} if lb.listeners else None)
    instances = fields.Function(_load_balancer_xml_instances)


# -- networks -------------------------------------------------------------------------------

class NetworkJson(DumpSchema):
    id = fields.String()
    name = fields.String(allow_none=True)
    href = fields.Function(lambda n: _url("networks", n.id))
    state = fields.String(allow_none=True)
    address_blocks = computed(lambda n: list(n.address_blocks), shape=STRINGS)
    subnets = computed(lambda n: [{"id": s, "href": _url("subnets", s)} for s in n.subnets], shape=LINKS)


def _network_xml_actions(network: Network) -> Any:
    return _actions(_destroy_link("networks", network.id, "destroy_network"))


class NetworkXml(DumpSchema):
    href = fields.Function(lambda n: _url("networks", n.id), data_key="@href")
    id = fields.String(data_key="@id")
    name = fields.Function(lambda n: text(n.name))
    state = fields.Function(lambda n: text(n.state))
    address_blocks = fields.Function(
        lambda n: {"address_block": [text(b) for b in n.address_blocks]} if n.address_blocks else None)
    subnets = fields.Function(lambda n: {"subnet": [ref("subnets", s) for s in n.subnets]} if n.subnets else None)
    actions = fields.Function(_network_xml_actions)


class SubnetJson(DumpSchema):
    id = fields.String()
    name = fields.String(allow_none=True)
    href = fields.Function(lambda s: _url("subnets", s.id))
    type = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    address_block = fields.String(allow_none=True)
    network = computed(lambda s: {"id": s.network, "href": _url("networks", s.network)}
                              if s.network is not None else None, shape=NULLABLE_LINK)


def _subnet_xml_actions(subnet: Subnet) -> Any:
    return _actions(_destroy_link("subnets", subnet.id, "destroy_subnet"))


class SubnetXml(DumpSchema):
    href = fields.Function(lambda s: _url("subnets", s.id), data_key="@href")
    id = fields.String(data_key="@id")
    name = fields.Function(lambda s: text(s.name))
    state = fields.Function(lambda s: text(s.state))
    address_block = fields.Function(lambda s: text(s.address_block))
    network = fields.Function(lambda s: text(s.network))
    actions = fields.Function(_subnet_xml_actions)


class NetworkInterfaceJson(DumpSchema):
    id = fields.String()
    name = fields.String(allow_none=True)
    href = fields.Function(lambda n: _url("network_interfaces", n.id))
    # As the original: the JSON link always points into /networks, even for a subnet id.
    network = computed(lambda n: {"id": n.network, "href": _url("networks", n.network)}
                              if n.network is not None else None, shape=NULLABLE_LINK)
    instance = computed(lambda n: {"id": n.instance, "href": _url("instances", n.instance)}
                               if n.instance is not None else None, shape=NULLABLE_LINK)
    ip_address = fields.String(allow_none=True)


def _network_interface_xml_network(nic: NetworkInterface) -> Any:
    if nic.network is None:
        return OMIT
    # Drivers with subnets connect interfaces to subnets (FORMATS.md §16).
    kind = "subnet" if render_context().implements("list_subnets") else "network"
    return {**ref(f"{kind}s", nic.network, rel=kind), "#text": nic.network}


def _network_interface_xml_actions(nic: NetworkInterface) -> Any:
    return _actions(_destroy_link("network_interfaces", nic.id, "destroy_network_interface"))


class NetworkInterfaceXml(DumpSchema):
    href = fields.Function(lambda n: _url("network_interfaces", n.id), data_key="@href")
    id = fields.String(data_key="@id")
    name = fields.Function(lambda n: text(n.name))
    ip_address = fields.Function(lambda n: text(n.ip_address))
    network = fields.Function(_network_interface_xml_network)
    instance = fields.Function(lambda n: {**ref("instances", n.instance), "#text": n.instance}
                               if n.instance is not None else OMIT)
    actions = fields.Function(_network_interface_xml_actions)
