"""Firewalls: Neutron security groups of the project, with their rules (ingress and egress).

A firewall's id is the group's id; its name is accepted wherever an id is (names are unique
enough in practice, and the original's ec2 clients send names). A rule's id is Neutron's rule
id. A rule has one remote: a group (the source ``group``, named by id or name) or an address block;
a rule with neither lets everyone in, shown as ``0.0.0.0/0`` (``::/0`` for IPv6). Adding a rule
with several sources adds one Neutron rule per source (all or none). Protocols are ``tcp``, ``udp``
and ``icmp`` (Neutron's ``ipv6-icmp`` of an IPv6 rule is shown as ``icmp``), or ``any``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from deltacloud_core import ObjectNotFound, ValidationError
from deltacloud_core.models import Firewall, FirewallRule, FirewallRuleSource

from .errors import translated
from .rest import call, json_of, paged, segment

if TYPE_CHECKING:
    from .session import Cloud

__all__ = ["SecurityGroupsMixin", "neutron_firewall", "neutron_rule"]

_PROTOCOLS = ("tcp", "udp", "icmp")
#: Neutron's names of ICMP for IPv6 (it stores ``icmp`` on an IPv6 rule as ``ipv6-icmp``).
_PROTOCOL_NAMES = {"ipv6-icmp": "icmp", "icmpv6": "icmp"}


def neutron_rule(rule: Mapping[str, Any]) -> FirewallRule:
    ethertype = str(rule.get("ethertype") or "IPv4")
    if rule.get("remote_group_id"):
        source = FirewallRuleSource.group(str(rule["remote_group_id"]), rule.get("project_id"))
    else:
        default = "::/0" if ethertype == "IPv6" else "0.0.0.0/0"
        source = FirewallRuleSource.cidr(str(rule.get("remote_ip_prefix") or default))

    def port(value: Any) -> str:
        return "" if value is None else str(value)

    protocol = str(rule.get("protocol") or "any")
    return FirewallRule(id=str(rule["id"]), allow_protocol=_PROTOCOL_NAMES.get(protocol, protocol),
                        port_from=port(rule.get("port_range_min")), port_to=port(rule.get("port_range_max")),
                        direction=rule.get("direction"), sources=(source,),
                        extra={"ethertype": ethertype, "protocol": rule.get("protocol")})


def neutron_firewall(group: Mapping[str, Any]) -> Firewall:
    rules = sorted(group.get("security_group_rules") or (), key=lambda r: (r.get("direction") != "ingress",
                                                                            str(r.get("id"))))
    return Firewall(id=str(group["id"]), name=group.get("name"), description=group.get("description"),
                    owner_id=group.get("project_id") or group.get("tenant_id"),
                    rules=tuple(neutron_rule(r) for r in rules), extra={"stateful": group.get("stateful")})


def _port(value: str | None, name: str) -> int | None:
    text = "" if value is None else str(value).strip()
    if text in ("", "-1"):  # the original's ec2 clients send -1 for "every port" / "every ICMP type"
        return None
    if not text.isdigit() or int(text) > 65535:
        raise ValidationError(f"Parameter {name} must be a port number from 0 to 65535, not {value!r}.")
    return int(text)


class SecurityGroupsMixin:
    """Security groups as firewalls."""

    cloud: Cloud

    def _groups(self, **params: Any) -> list[dict[str, Any]]:
        project = self.cloud.project_id
        scope = {"project_id": project} if project else {}
        return list(paged(self.cloud.network, "/security-groups", "security_groups", params={**scope, **params}))

    def _group(self, id: str) -> dict[str, Any] | None:
        response = call(self.cloud.network, "GET", f"/security-groups/{segment(id)}", allow=(404,))
        if response.status_code != 404:
            return response.json()["security_group"]
        named = self._groups(name=id)
        return named[0] if named else None

    def _must_group(self, id: str) -> dict[str, Any]:
        group = self._group(id)
        if group is None:
            raise ObjectNotFound(f"Firewall {id} could not be found.")
        return group

    @translated
    def list_firewalls(self, **filters: str) -> list[Firewall]:
        if filters.get("id"):
            one = self._group(filters["id"])
            return [neutron_firewall(one)] if one is not None else []
        return [neutron_firewall(g) for g in self._groups()]

    @translated
    def get_firewall(self, id: str) -> Firewall | None:
        group = self._group(id)
        return neutron_firewall(group) if group is not None else None

    @translated
    def create_firewall(self, *, name: str, description: str, **extra: str) -> Firewall:
        if not (name or "").strip():
            raise ValidationError("A firewall needs a name.")
        body = {"name": name, "description": description or ""}
        created = json_of(call(self.cloud.network, "POST", "/security-groups", json={"security_group": body}))
        return neutron_firewall(created["security_group"])

    @translated
    def destroy_firewall(self, id: str) -> None:
        call(self.cloud.network, "DELETE", f"/security-groups/{segment(self._must_group(id)['id'])}")

    def _remote(self, source: FirewallRuleSource) -> dict[str, Any]:
        if source.type == "group":
            group = self._must_group(source.name or "")
            return {"remote_group_id": group["id"], "ethertype": "IPv4"}
        block = f"{source.address}/{source.prefix}"
        return {"remote_ip_prefix": block, "ethertype": "IPv6" if source.family == "ipv6" else "IPv4"}

    @translated
    def create_firewall_rule(self, id: str, *, protocol: str | None, port_from: str | None, port_to: str | None,
                             sources: Sequence[FirewallRuleSource], **extra: str) -> None:
        proto = (protocol or "").strip().lower()
        if proto not in _PROTOCOLS:
            raise ValidationError(f"A firewall rule needs a protocol: one of {', '.join(_PROTOCOLS)}, "
                                  f"not {protocol!r}.")
        low, high = _port(port_from, "port_from"), _port(port_to, "port_to")
        if low is None and high is not None:
            low = high
        if high is None and low is not None and proto != "icmp":
            high = low
        if proto != "icmp" and low is not None and high is not None and low > high:
            raise ValidationError(f"Parameter port_from ({low}) is above port_to ({high}).")
        group = self._must_group(id)
        base: dict[str, Any] = {"security_group_id": group["id"], "direction": "ingress", "protocol": proto}
        if low is not None:
            base["port_range_min"] = low
        if high is not None:
            base["port_range_max"] = high
        remotes = [self._remote(s) for s in sources]
        made: list[str] = []
        try:
            for remote in remotes:
                created = json_of(call(self.cloud.network, "POST", "/security-group-rules",
                                       json={"security_group_rule": {**base, **remote}}))
                made.append(created["security_group_rule"]["id"])
        except Exception:
            for rule_id in made:
                call(self.cloud.network, "DELETE", f"/security-group-rules/{segment(rule_id)}", allow=(404,))
            raise

    @translated
    def destroy_firewall_rule(self, id: str, rule_id: str) -> None:
        group = self._must_group(id)
        response = call(self.cloud.network, "GET", f"/security-group-rules/{segment(rule_id)}", allow=(404,))
        if response.status_code == 404 or response.json()["security_group_rule"].get("security_group_id") \
                != group["id"]:
            raise ObjectNotFound(f"Firewall {id} has no rule {rule_id}.")
        call(self.cloud.network, "DELETE", f"/security-group-rules/{segment(rule_id)}")
