"""``/api/firewalls``: firewalls (security groups) and their rules.

Rules live below their firewall: ``POST /api/firewalls/:id/rules`` adds one (sources are
``ip_address…``/``ip-address…`` parameters holding CIDR blocks and ``group<N>`` /
``group<N>owner`` pairs), ``DELETE /api/firewalls/:id/:rule_id`` removes one. Rule ids
may contain ``~ @ ,`` (ec2 builds them from the rule), so clients URL-encode them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import ObjectNotFound, ValidationError
from ..hookspecs import hookimpl
from ..models import FirewallRuleSource
from ..schemas.network import FirewallIndexXml, FirewallJson, FirewallXml
from .base import (
    HTML_ONLY,
    Answer,
    Collection,
    CollectionRegistry,
    Operation,
    OperationCall,
    Outcome,
    Param,
    Resource,
    destroy_handler,
    needs,
    read_operations,
)

NO_SOURCES = "No sources. Specify at least one source ip address or group."

_ADDRESS_PARAM = re.compile(r"^ip[-_]address", re.IGNORECASE)
_ID = Param("id", required=True, description="Firewall id")


def _is_source_param(name: str) -> bool:
    return bool(_ADDRESS_PARAM.match(name)) or name.startswith("group")


def rule_sources(params: Mapping[str, str]) -> tuple[FirewallRuleSource, ...]:
    """The sources a rule request names, addresses first (in request order), then groups.

    As the original: the number of group pairs is (params starting with ``group``) / 2, and
    pairs ``group1``/``group1owner`` ... are read up to that number; a group named twice
    counts once. Blank values are ignored.
    """
    sources: list[FirewallRuleSource] = []
    for name, value in params.items():
        if _ADDRESS_PARAM.match(name) and value.strip():
            sources.append(FirewallRuleSource.cidr(value))
    pairs = sum(1 for name in params if name.startswith("group")) // 2
    groups: dict[str, str | None] = {}
    for i in range(1, pairs + 1):
        group = (params.get(f"group{i}") or "").strip()
        if group:
            groups[group] = params.get(f"group{i}owner") or None
    sources.extend(FirewallRuleSource.group(name, owner) for name, owner in groups.items())
    return tuple(sources)


def _extra(call: OperationCall, *known: str) -> dict[str, str]:
    """Extra parameters, minus the rule sources (read by the handler itself)."""
    return {k: v for k, v in call.extra_params(*known).items() if not _is_source_param(k)}


async def _create(call: OperationCall) -> Outcome:
    firewall = await call.invoke("create_firewall", name=call.params["name"],
                                 description=call.params["description"], **_extra(call, "name", "description"))
    return Outcome.member("firewall", firewall, status=201, location=call.url("firewalls", firewall.id))


async def _add_rule(call: OperationCall) -> Outcome:
    sources = rule_sources(call.params)
    if not sources:
        raise ValidationError(NO_SOURCES)
    await call.invoke("create_firewall_rule", call.id, protocol=call.param("protocol"),
                      port_from=call.param("port_from"), port_to=call.param("port_to"), sources=sources,
                      **_extra(call, "protocol", "port_from", "port_to", "rule_id"))
    firewall = await call.invoke("get_firewall", call.id)
    if firewall is None:
        raise ObjectNotFound()
    # 201 with the whole firewall, no Location (as the original).
    return Outcome.member("firewall", firewall, status=201)


async def _destroy_rule(call: OperationCall) -> Outcome:
    await call.invoke("destroy_firewall_rule", call.id, call.path_params["rule_id"])
    return Outcome.empty(204, html_redirect=call.url("firewalls", call.id))


async def _new_form(call: OperationCall) -> Outcome:
    return Outcome(kind="custom", resource="firewall_new", data={})


async def _new_rule_form(call: OperationCall) -> Outcome:
    return Outcome(kind="custom", resource="firewall_new_rule", data={"firewall_id": call.id})


# The original declared these three with a malformed argument order: they show up as
# ``protocol:required:optional`` and are not enforced (a missing one reaches the driver).
_RULE_PARAMS = (
    Param("protocol", type="required", description="tcp, udp or icmp", values=("tcp", "udp", "icmp")),
    Param("port_from", type="required", description="First port of the range"),
    Param("port_to", type="required", description="Last port of the range"),
)

FIREWALLS = Collection(
    name="firewalls",
    singular="firewall",
    description="Firewalls (security groups) control which traffic may reach instances.",
    resources=(
        Resource("firewall", "firewalls", {"json": FirewallJson(), "xml": FirewallXml()}),
        # Members of the list differ slightly from the show document (FORMATS.md §12).
        Resource("firewall_index", "firewalls", {"json": FirewallJson(), "xml": FirewallIndexXml()},
                 element="firewall"),
    ),
    operations=(
        *read_operations("firewall", "firewalls", "list_firewalls", "get_firewall",
                         id_param=_ID,
                         index_description="List all firewalls",
                         show_description="Show a firewall and its rules",
                         index_resource="firewall_index"),
        Operation("create", "POST", "", _create, capability="create_firewall", requires=needs("create_firewall"),
                  params=(Param("name", required=True, description="Name of the new firewall"),
                          Param("description", required=True, description="What the firewall is for")),
                  description="Create a new firewall"),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("firewalls", "destroy_firewall"),
                  capability="delete_firewall", requires=needs("destroy_firewall"), params=(_ID,),
                  description="Delete a firewall"),
        Operation("rules", "POST", "/{id}/rules", _add_rule, capability="create_firewall_rule",
                  requires=needs("create_firewall_rule"), params=_RULE_PARAMS,
                  description="Add a rule; sources: ip_address<N>=<CIDR> and/or group<N>=<name>, "
                              "group<N>owner=<owner id>",
                  answer=Answer(201, "The firewall with its new rule")),
        Operation("destroy_rule", "DELETE", "/{id}/{rule_id}", _destroy_rule, capability="delete_firewall_rule",
                  requires=needs("destroy_firewall_rule"),
                  params=(_ID, Param("rule_id", required=True, description="Rule id (URL-encoded)")),
                  description="Delete a rule of a firewall"),
    ),
    forms=(
        Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY, description="Form to create a firewall"),
        Operation("new_rule", "GET", "/{id}/new_rule", _new_rule_form, formats=HTML_ONLY, params=(_ID,),
                  description="Form to add a rule to a firewall"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(FIREWALLS, owner=__name__)
