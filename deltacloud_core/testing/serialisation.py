"""Round trips of models through their schemas: dump to XML and JSON, parse back, compare.

The XML comparison follows xmltodict's rules: ``@name`` keys are attributes, ``#text``
the text, a one-element list is one element, an empty list vanishes, ``None`` and empty
text print an empty element (which parses back as ``None``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from ..collections.base import Outcome
    from .transport import InProcess

__all__ = ["round_trip_problems", "xml_normal"]

_DROP = object()


def xml_normal(value: Any) -> Any:
    """A dumped (or parsed) XML tree in the shape it has after printing and parsing."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list | tuple):
        items = [xml_normal(v) for v in value]
        if not items:
            return _DROP
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            norm = xml_normal(item)
            if norm is _DROP or (key == "#text" and norm is None):
                continue
            out[key] = norm
        if not out:
            return None
        if list(out) == ["#text"]:
            return out["#text"]
        return out
    return str(value).strip() or None


def round_trip_problems(transport: InProcess, outcome: Outcome, collection: str, sample: int) -> list[str]:
    """Problems of the outcome's models (a list, or one member) in XML and JSON."""
    import xmltodict

    from ..collections.base import Outcome
    from ..schemas.context import rendering

    problems: list[str] = []
    resource = transport.app.services.resources[outcome.resource or ""]
    context = transport.context("http://deltacloud.test/api")
    if outcome.kind == "collection":
        items = list(outcome.data)
        for fmt in ("xml", "json"):
            body = transport.render(fmt, outcome)
            parsed = json.loads(body) if fmt == "json" else xmltodict.parse(body)
            root = parsed.get(resource.plural) if isinstance(parsed, dict) else None
            count = 0 if root is None else len(root) if fmt == "json" else len(_as_list(root.get(resource.tag)))
            if count != len(items):
                problems.append(f"{collection} in {fmt}: {count} members rendered, {len(items)} listed")
        members = [(item, Outcome.member(outcome.resource or "", item)) for item in items[:sample]]
    else:
        members = [(outcome.data, outcome)]
    for item, member in members:
        label = f"{resource.name} {getattr(item, 'id', '')}".strip()
        with rendering(context):
            dumped = {fmt: resource.schemas[fmt].dump(item) for fmt in ("xml", "json")}
        # JSON: what is sent parses back to what the schema dumped.
        body = transport.render("json", member)
        parsed = json.loads(body)
        if member.wrap:
            parsed = parsed.get(resource.tag) if isinstance(parsed, dict) else None
        if parsed != json.loads(json.dumps(dumped["json"])):
            problems.append(f"{label}: JSON does not parse back to the schema's dump")
        # XML: likewise, under xmltodict's printing rules.
        text = transport.render("xml", member)
        tree = xmltodict.parse(text)
        if resource.tag not in tree:
            problems.append(f"{label}: XML root is <{next(iter(tree))}>, expected <{resource.tag}>")
            continue
        if xml_normal(tree[resource.tag]) != xml_normal(dumped["xml"]):
            problems.append(f"{label}: XML does not parse back to the schema's dump:\n{text.decode()[:500]}")
        item_id = getattr(item, "id", None)
        if item_id is None:
            continue
        doc = parsed if isinstance(parsed, dict) else {}
        if str(doc.get("id")) != str(item_id):
            problems.append(f"{label}: JSON id is {doc.get('id')!r}")
        href = doc.get("href")
        if href is not None and not str(href).endswith(f"/{collection}/{quote(str(item_id), safe='')}"):
            problems.append(f"{label}: JSON href {href!r} does not end with /{collection}/<id>")
        xml_member = tree[resource.tag] or {}
        xml_id = xml_member.get("@id", xml_member.get("id")) if isinstance(xml_member, dict) else None
        if str(xml_id) != str(item_id):
            problems.append(f"{label}: XML id is {xml_id!r}")
    return problems


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
