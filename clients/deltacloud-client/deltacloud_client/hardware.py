"""Hardware-profile properties as the server describes them, and the check made before a create.

A property is ``fixed`` (one value), a ``range`` (``first``..``last``) or an ``enum`` (``values``);
the server tells which in its XML and, for servers that have the extension, in the JSON's
``property_details``. The original's JSON told only each default: such properties have kind
``unknown`` and are not checked here (the server still checks them).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from .errors import HardwareProfileError

__all__ = ["HardwareProperty", "check_overrides", "property_from_default", "property_from_json",
           "property_from_xml"]

Kind = Literal["fixed", "range", "enum", "unknown"]


def _number(value: object) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class HardwareProperty:
    """One property; values are the server's text (``"7680"``, ``"1740.8"``, ``"x86_64"``)."""

    name: str
    kind: Kind
    value: str | None = None
    unit: str | None = None
    first: str | None = None
    last: str | None = None
    values: tuple[str, ...] = ()
    #: The create parameter that overrides it (``hwp_memory``).
    param: str | None = None

    @property
    def default(self) -> str | None:
        return self.value

    def allows(self, candidate: object) -> bool:
        """Whether ``candidate`` (a number or text) is allowed; always True for kind ``unknown``."""
        if self.kind == "unknown":
            return True
        text = _text(candidate)
        number = _number(text)
        if self.kind == "range":
            lo, hi = _number(self.first), _number(self.last)
            return number is not None and lo is not None and hi is not None and lo <= number <= hi
        allowed = self.values if self.kind == "enum" else (self.value or "",)
        for value in allowed:
            if text == value:
                return True
            other = _number(value)
            if number is not None and other is not None and number == other:
                return True
        return False

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit and self.unit != "label" else ""
        if self.kind == "range":
            return f"{self.first}..{self.last}{unit}"
        if self.kind == "enum":
            return "one of " + ", ".join(self.values) + unit
        if self.kind == "fixed":
            return f"exactly {self.value}{unit}"
        return "unknown (the server does not say)"


def _kind(value: object) -> Kind:
    if value == "fixed":
        return "fixed"
    if value == "range":
        return "range"
    if value == "enum":
        return "enum"
    return "unknown"


def property_from_json(doc: Mapping[str, Any]) -> HardwareProperty:
    """From an entry of the JSON ``property_details``."""
    raw_range, raw_enum = doc.get("range"), doc.get("enum")
    rng: Mapping[str, Any] = raw_range if isinstance(raw_range, Mapping) else {}
    enum: list[Any] = raw_enum if isinstance(raw_enum, list) else []
    return HardwareProperty(
        name=str(doc.get("name", "")), kind=_kind(doc.get("kind")),
        value=None if doc.get("value") is None else _text(doc["value"]), unit=doc.get("unit"),
        first=None if rng.get("first") is None else _text(rng["first"]),
        last=None if rng.get("last") is None else _text(rng["last"]),
        values=tuple(_text(v) for v in enum), param=doc.get("param"))


def property_from_default(name: str, default: Any) -> HardwareProperty:
    """From the original's JSON ``properties`` (the default only: kind unknown)."""
    return HardwareProperty(name=name, kind="unknown", value=None if default is None else _text(default),
                            param=f"hwp_{name}")


def property_from_xml(element: ET.Element) -> HardwareProperty:
    """From a ``<property kind name unit value>`` element with its ``<param>``, ``<range>``, ``<enum>``."""
    kind = element.get("kind")
    rng = element.find("range")
    param = element.find("param")
    return HardwareProperty(
        name=element.get("name", ""), kind=_kind(kind),
        value=element.get("value"), unit=element.get("unit"),
        first=rng.get("first") if rng is not None else None, last=rng.get("last") if rng is not None else None,
        values=tuple(e.get("value", "") for e in element.findall("enum/entry")),
        param=param.get("name") if param is not None else None)


def check_overrides(profile_id: str, properties: tuple[HardwareProperty, ...],
                    overrides: Mapping[str, object]) -> dict[str, str]:
    """``{"memory": 12288}`` -> ``{"hwp_memory": "12288"}``, or :class:`HardwareProfileError` naming
    what the profile allows. None values are dropped."""
    by_name = {p.name: p for p in properties}
    out: dict[str, str] = {}
    for name, value in overrides.items():
        if value is None:
            continue
        prop = by_name.get(name)
        if prop is None:
            have = ", ".join(by_name) or "none"
            raise HardwareProfileError(f"hardware profile '{profile_id}' has no property '{name}' "
                                       f"(it has: {have})", profile=profile_id, prop=name)
        if not prop.allows(value):
            raise HardwareProfileError(f"{name} = {_text(value)} is not allowed by hardware profile "
                                       f"'{profile_id}': {name} must be {prop.describe()}",
                                       profile=profile_id, prop=name)
        out[prop.param or f"hwp_{name}"] = _text(value)
    return out
