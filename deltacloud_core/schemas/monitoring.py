"""Dump schemas of metrics (FORMATS.md §14)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from ..models import Metric, MetricProperty
from .base import DumpSchema, computed, text
from .context import render_context
from .shapes import STRING

__all__ = ["MetricJson", "MetricXml"]


def _entity(metric: Metric) -> str:
    return metric.id if metric.entity is None else metric.entity


def _property_json(prop: MetricProperty) -> dict[str, Any]:
    values = None if prop.values is None else [dict(s.items()) for s in prop.values]
    return {"name": prop.name, "values": values}


def _property_xml(prop: MetricProperty) -> Any:
    """The samples of one property; an empty element when it has none (listings)."""
    if not prop.values:
        return None
    return {"sample": [{"property": [{"@name": name, "@value": text(value)} for name, value in s.items()]}
                       for s in prop.values]}


#: The metric's properties, each with its samples.
_PROPERTIES = {"type": "array", "items": {"type": "object", "properties": {
    "name": STRING, "values": {"type": ["array", "null"], "items": {"type": "object"}}}}}


class MetricJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda m: render_context().url("metrics", m.id))
    entity = fields.Function(_entity)
    properties = computed(lambda m: [_property_json(p) for p in m.properties], shape=_PROPERTIES)


class MetricXml(DumpSchema):
    href = fields.Function(lambda m: render_context().url("metrics", m.id), data_key="@href")
    id = fields.String(data_key="@id")
    entity = fields.Function(lambda m: text(_entity(m)))
    # Each property is an element named after it: <cpuUtilization><sample>...</sample></cpuUtilization>.
    properties = fields.Function(lambda m: {p.name: _property_xml(p) for p in m.properties} or None)
