"""Metrics: one per monitored entity, with its properties and (in show) their samples."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import Resource, keys, text_of

__all__ = ["Metric", "MetricProperty"]


@dataclass(frozen=True)
class MetricProperty:
    name: str
    #: None in a listing; in show the samples, each ``{"minimum","maximum","average","timestamp","unit"}``.
    samples: tuple[Mapping[str, Any], ...] | None = field(default=None, hash=False)


@dataclass(frozen=True, kw_only=True)
class Metric(Resource):
    COLLECTION = "metrics"
    SINGULAR = "metric"
    JSON_KEYS = keys("entity", "properties")
    XML_KEYS = keys("entity", "properties")

    entity: str | None = None
    properties: tuple[MetricProperty, ...] = ()

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        props = tuple(MetricProperty(str(p.get("name", "")),
                                     None if p.get("values") is None else tuple(dict(v) for v in p["values"]))
                      for p in doc.get("properties") or () if isinstance(p, Mapping))
        return {**super().json_fields(doc), "entity": doc.get("entity"), "properties": props}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        props = []
        container = element.find("properties")
        for prop in container if container is not None else ():
            samples = tuple({p.get("name", ""): p.get("value", "") for p in sample.findall("property")}
                            for sample in prop.findall("sample"))
            props.append(MetricProperty(prop.tag, samples or None))
        return {**super().xml_fields(element), "entity": text_of(element, "entity"), "properties": tuple(props)}
