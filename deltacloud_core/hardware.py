"""Hardware profiles: named sets of properties, each fixed, a range or an enum.

Creating an instance may override a variable property with ``hwp_<name>``; the value is
validated against the property (inside the range, one of the enum values, equal to a
fixed value) and a :class:`~deltacloud_core.errors.ValidationError` (400) names what is
allowed otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from .errors import ValidationError

__all__ = ["PROPERTY_UNITS", "HardwareProfile", "HardwareProperty", "Number", "format_value",
           "validate_overrides"]

Number = int | float | str
Kind = Literal["fixed", "range", "enum"]

#: Unit of each known property, in the order properties are rendered.
PROPERTY_UNITS: Mapping[str, str | None] = {
    "cpu": "count",
    "memory": "MB",
    "storage": "GB",
    "architecture": "label",
    "root_type": None,
}


def format_value(value: object) -> str:
    """A value printed as the original printed it (``160``, ``1740.8``, ``7680.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _as_decimal(value: object) -> Decimal | None:
    """A finite number, or None (text, NaN and infinities are not sizes)."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True)
class HardwareProperty:
    """One property of a profile: ``fixed`` (value), ``range`` (first..last) or ``enum`` (values)."""

    name: str
    kind: Kind
    value: Number | None = None
    first: Number | None = None
    last: Number | None = None
    values: tuple[Number, ...] = ()
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.unit is None and self.name in PROPERTY_UNITS:
            object.__setattr__(self, "unit", PROPERTY_UNITS[self.name])
        if self.kind == "range":
            if self.first is None or self.last is None:
                raise ValueError(f"range property '{self.name}' needs first and last")
            lo, hi = _as_decimal(self.first), _as_decimal(self.last)
            if lo is None or hi is None or lo > hi:
                raise ValueError(f"range property '{self.name}' has first > last or non-numbers")
            if self.value is None:
                object.__setattr__(self, "value", self.first)
        elif self.kind == "enum":
            if not self.values:
                raise ValueError(f"enum property '{self.name}' needs values")
            if self.value is None:
                object.__setattr__(self, "value", self.values[0])
        elif self.kind == "fixed":
            if self.value is None:
                raise ValueError(f"fixed property '{self.name}' needs a value")
        else:
            raise ValueError(f"unknown property kind '{self.kind}'")

    @classmethod
    def fixed(cls, name: str, value: Number, unit: str | None = None) -> HardwareProperty:
        return cls(name=name, kind="fixed", value=value, unit=unit)

    @classmethod
    def range(cls, name: str, first: Number, last: Number, default: Number | None = None,
              unit: str | None = None) -> HardwareProperty:
        return cls(name=name, kind="range", first=first, last=last, value=default, unit=unit)

    @classmethod
    def enum(cls, name: str, values: Sequence[Number], default: Number | None = None,
             unit: str | None = None) -> HardwareProperty:
        return cls(name=name, kind="enum", values=tuple(values), value=default, unit=unit)

    @property
    def default(self) -> Number | None:
        return self.value

    @property
    def param(self) -> str:
        """The instance-create parameter that overrides this property."""
        return f"hwp_{self.name}"

    def includes(self, candidate: object) -> bool:
        """True when ``candidate`` (a string from a request, or a number) is allowed."""
        if self.kind == "range":
            num = _as_decimal(candidate)
            lo, hi = _as_decimal(self.first), _as_decimal(self.last)
            return num is not None and lo is not None and hi is not None and lo <= num <= hi
        allowed = self.values if self.kind == "enum" else (self.value,)
        text = str(candidate).strip()
        num = _as_decimal(text)
        for v in allowed:
            if text == format_value(v) or text == str(v):
                return True
            vn = _as_decimal(v)
            if num is not None and vn is not None and num == vn:
                return True
        return False

    def describe(self) -> str:
        """Human text of what is allowed, for error messages."""
        unit = f" {self.unit}" if self.unit and self.unit != "label" else ""
        if self.kind == "range":
            return f"{format_value(self.first)}..{format_value(self.last)}{unit}"
        if self.kind == "enum":
            return "one of " + ", ".join(format_value(v) for v in self.values) + unit
        return f"exactly {format_value(self.value)}{unit}"


@dataclass(frozen=True)
class HardwareProfile:
    """A named hardware profile; ``properties`` keep their definition order."""

    id: str
    properties: tuple[HardwareProperty, ...] = ()
    name: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name is None:
            object.__setattr__(self, "name", self.id)
        names = [p.name for p in self.properties]
        if len(set(names)) != len(names):
            raise ValueError(f"hardware profile '{self.id}' defines a property twice")

    def property(self, name: str) -> HardwareProperty | None:
        for p in self.properties:
            if p.name == name:
                return p
        return None

    def matches_architecture(self, architecture: str) -> bool:
        prop = self.property("architecture")
        return prop is not None and prop.includes(architecture)

    def sort_key(self) -> tuple[int, Decimal, Decimal]:
        """XML list order: (cpu default, memory default) numerically; incomplete ones last."""
        cpu, mem = self.property("cpu"), self.property("memory")
        if cpu is None or mem is None:
            return (1, Decimal(0), Decimal(0))
        return (0, _as_decimal(cpu.default) or Decimal(0), _as_decimal(mem.default) or Decimal(0))


def validate_overrides(profile: HardwareProfile, overrides: Mapping[str, str]) -> dict[str, str]:
    """Check ``{property name: requested value}`` against ``profile``.

    Returns the overrides to record (values as given); raises ValidationError (400) naming
    the property and what it allows, or naming a property the profile does not have.
    """
    accepted: dict[str, str] = {}
    for name, raw in overrides.items():
        if raw is None or str(raw).strip() == "":
            continue
        prop = profile.property(name)
        if prop is None:
            raise ValidationError(
                f"Hardware profile '{profile.id}' has no property '{name}'; "
                f"remove the parameter hwp_{name}.")
        if not prop.includes(raw):
            raise ValidationError(
                f"Value '{raw}' for hwp_{name} is out of range for hardware profile "
                f"'{profile.id}': {name} must be {prop.describe()}.")
        accepted[name] = str(raw).strip()
    return accepted
