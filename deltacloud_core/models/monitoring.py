"""Monitoring: metrics of a monitored entity (an instance, a load balancer ...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Metric", "MetricProperty", "MetricSample"]

Number = int | float


@dataclass(frozen=True, slots=True)
class MetricSample:
    """One sample of one property over one period."""

    minimum: Number | None = None
    maximum: Number | None = None
    average: Number | None = None
    #: Unix seconds.
    timestamp: int | None = None
    #: ``Percent``, ``Bytes``, ``Count``, ``None`` ...
    unit: str | None = None

    #: Field order of the documents (XML ``property`` elements, JSON keys).
    FIELDS = ("minimum", "maximum", "average", "timestamp", "unit")

    def items(self) -> list[tuple[str, object]]:
        return [(name, getattr(self, name)) for name in self.FIELDS]


@dataclass(frozen=True, slots=True)
class MetricProperty:
    """A measured property (``cpuUtilization``); ``values`` is None when not sampled (listings)."""

    name: str
    values: tuple[MetricSample, ...] | None = None


@dataclass(frozen=True, slots=True)
class Metric:
    """The metrics of one monitored entity; the id is usually the entity's id."""

    id: str
    #: Display name of the monitored entity (documents fall back to the id when None).
    entity: str | None = None
    properties: tuple[MetricProperty, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)
