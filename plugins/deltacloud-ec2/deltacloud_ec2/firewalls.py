"""Firewalls: EC2 security groups and their ingress rules.

A firewall's id is its group id (``sg-...``); a group *name* is accepted wherever an id is.
Rule ids are the original's synthetic ones, which say everything needed to revoke the rule::

    <owner>~<protocol>~<from port>~<to port>~@group,<owner>,<group>,@address,ipv4,<ip>,<prefix>...

(``~ @ ,`` in them must be URL-encoded in paths.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from deltacloud_core import ObjectNotFound, ValidationError
from deltacloud_core.models import Firewall, FirewallRule, FirewallRuleSource

from .clients import AwsDriverBase
from .shapes import looks_like

__all__ = ["FirewallsMixin", "parse_rule_id", "permission_for", "rule_id"]


def _port(value: Any) -> str:
    return "" if value is None else str(value)


def _sources(perm: Mapping[str, Any]) -> list[FirewallRuleSource]:
    out = [FirewallRuleSource.group(str(p.get("GroupName") or p.get("GroupId")), p.get("UserId"))
           for p in perm.get("UserIdGroupPairs") or ()]
    out += [FirewallRuleSource.cidr(r["CidrIp"]) for r in perm.get("IpRanges") or () if r.get("CidrIp")]
    out += [FirewallRuleSource.cidr(r["CidrIpv6"]) for r in perm.get("Ipv6Ranges") or () if r.get("CidrIpv6")]
    return out


def rule_id(owner: str, protocol: str, port_from: str, port_to: str, sources: Iterable[FirewallRuleSource]) -> str:
    parts = []
    for s in sources:
        if s.type == "group":
            parts.append(f"@group,{s.owner or ''},{s.name}")
        else:
            parts.append(f"@address,{s.family},{s.address},{s.prefix}")
    return f"{owner}~{protocol}~{port_from}~{port_to}~{','.join(parts)}"


def parse_rule_id(text: str) -> tuple[str, str, str, list[FirewallRuleSource]]:
    """(protocol, from port, to port, sources) of a rule id; 404 when it is not one of ours."""
    fields = text.split("~")
    if len(fields) != 5:
        raise ObjectNotFound(f"'{text}' is not a rule of this firewall")
    _owner, protocol, port_from, port_to, rest = fields
    sources: list[FirewallRuleSource] = []
    for chunk in rest.split("@")[1:]:
        items = [i for i in chunk.split(",")]
        while items and items[-1] == "":
            items.pop()
        if items[:1] == ["group"] and len(items) == 3:
            sources.append(FirewallRuleSource.group(items[2], items[1] or None))
        elif items[:1] == ["address"] and len(items) == 4:
            sources.append(FirewallRuleSource(type="address", family=items[1], address=items[2], prefix=items[3]))
        else:
            raise ObjectNotFound(f"'{text}' is not a rule of this firewall")
    if not sources:
        raise ObjectNotFound(f"'{text}' is not a rule of this firewall")
    return protocol, port_from, port_to, sources


def _port_number(value: str | None, name: str) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise ValidationError(f"Parameter {name} must be a port number, not '{value}'.")
    return int(text)


def permission_for(protocol: str | None, port_from: str | None, port_to: str | None,
                   sources: Sequence[FirewallRuleSource], group_ids: Mapping[str, str]) -> dict[str, Any]:
    """An ``IpPermissions`` item; ``group_ids`` maps source group names to their ids."""
    proto = (protocol or "").strip().lower()
    if not proto:
        raise ValidationError("A firewall rule needs a protocol (tcp, udp or icmp).")
    perm: dict[str, Any] = {"IpProtocol": proto}
    low, high = _port_number(port_from, "port_from"), _port_number(port_to, "port_to")
    if low is not None or high is not None:
        perm["FromPort"] = low if low is not None else high
        perm["ToPort"] = high if high is not None else low
    pairs, v4, v6 = [], [], []
    for s in sources:
        if s.type == "group":
            name = s.name or ""
            pair: dict[str, Any] = {"GroupId": name if looks_like("sg-", name) else group_ids.get(name, name)}
            if s.owner:
                pair["UserId"] = s.owner
            pairs.append(pair)
        elif s.family == "ipv6":
            v6.append({"CidrIpv6": f"{s.address}/{s.prefix}"})
        else:
            v4.append({"CidrIp": f"{s.address}/{s.prefix}"})
    if pairs:
        perm["UserIdGroupPairs"] = pairs
    if v4:
        perm["IpRanges"] = v4
    if v6:
        perm["Ipv6Ranges"] = v6
    return perm


def _firewall(group: Mapping[str, Any]) -> Firewall:
    owner = str(group.get("OwnerId") or "")
    rules = []
    for perm in group.get("IpPermissions") or ():
        protocol = str(perm.get("IpProtocol"))
        low, high = _port(perm.get("FromPort")), _port(perm.get("ToPort"))
        sources = _sources(perm)
        if not sources:
            continue
        rules.append(FirewallRule(id=rule_id(owner, protocol, low, high, sources), allow_protocol=protocol,
                                  port_from=low, port_to=high, direction="ingress", sources=tuple(sources)))
    return Firewall(id=group["GroupId"], name=group.get("GroupName"), description=group.get("Description"),
                    owner_id=owner, rules=tuple(rules), extra={"vpc_id": group.get("VpcId")})


class FirewallsMixin(AwsDriverBase):
    """Security groups as firewalls."""

    def _groups(self, id: str | None = None) -> list[dict[str, Any]]:
        if id is None:
            return list(self.ec2.pages("describe_security_groups", "SecurityGroups"))
        key = "group-id" if looks_like("sg-", id) else "group-name"
        filters = [{"Name": key, "Values": [id]}]
        return list(self.ec2.pages("describe_security_groups", "SecurityGroups", Filters=filters))

    def _group_id(self, id: str) -> str:
        found = self._groups(id)
        if not found:
            raise ObjectNotFound(f"Firewall '{id}' does not exist")
        return str(found[0]["GroupId"])

    def list_firewalls(self, **filters: str) -> list[Firewall]:
        return [_firewall(g) for g in self._groups(filters.get("id") or None)]

    def get_firewall(self, id: str) -> Firewall | None:
        found = self._groups(id)
        return _firewall(found[0]) if found else None

    def create_firewall(self, *, name: str, description: str, **extra: str) -> Firewall:
        kwargs: dict[str, Any] = {"GroupName": name, "Description": description or name}
        if extra.get("vpc_id"):
            kwargs["VpcId"] = extra["vpc_id"]
        group_id = self.ec2.create_security_group(**kwargs)["GroupId"]
        return self.get_firewall(group_id) or Firewall(id=group_id, name=name, description=description)

    def destroy_firewall(self, id: str) -> None:
        self.ec2.delete_security_group(GroupId=self._group_id(id))

    def _source_group_ids(self, sources: Sequence[FirewallRuleSource]) -> dict[str, str]:
        names = [s.name for s in sources if s.type == "group" and s.name and not looks_like("sg-", s.name)]
        if not names:
            return {}
        found = self.ec2.pages("describe_security_groups", "SecurityGroups",
                               Filters=[{"Name": "group-name", "Values": names}])
        return {g["GroupName"]: g["GroupId"] for g in found}

    def create_firewall_rule(self, id: str, *, protocol: str | None, port_from: str | None, port_to: str | None,
                             sources: Sequence[FirewallRuleSource], **extra: str) -> None:
        perm = permission_for(protocol, port_from, port_to, sources, self._source_group_ids(sources))
        self.ec2.authorize_security_group_ingress(GroupId=self._group_id(id), IpPermissions=[perm])

    def destroy_firewall_rule(self, id: str, rule_id: str) -> None:
        group_id = self._group_id(id)
        protocol, low, high, sources = parse_rule_id(rule_id)
        perm = permission_for(protocol, low, high, sources, self._source_group_ids(sources))
        self.ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[perm])
