"""The entry point document (``GET /api``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..features import Feature

__all__ = ["EntryLink", "EntryPoint", "EntryPointJson", "EntryPointXml"]


@dataclass(frozen=True)
class EntryLink:
    rel: str
    href: str
    #: ``(feature, constraints)`` pairs, in catalogue order.
    features: tuple[tuple[Feature, Mapping[str, object]], ...] = ()


@dataclass(frozen=True)
class EntryPoint:
    version: str
    driver: str
    provider: str | None
    links: tuple[EntryLink, ...] = field(default=())


class EntryPointXml:
    def dump(self, entry: EntryPoint) -> dict[str, Any]:
        out: dict[str, Any] = {"@driver": entry.driver}
        if entry.provider:
            out["@provider"] = entry.provider
        out["@version"] = entry.version
        links = []
        for link in entry.links:
            item: dict[str, Any] = {"@href": link.href, "@rel": link.rel}
            features = []
            for feature, constraints in link.features:
                if feature.operation is None:
                    continue
                f: dict[str, Any] = {"@name": feature.name, "@rel": feature.operation}
                if feature.params:
                    f["param"] = [{"@name": p.name} for p in feature.params]
                if constraints:
                    f["constraint"] = [{"@name": k, "#text": str(v)} for k, v in constraints.items()]
                features.append(f)
            if features:
                item["feature"] = features
            links.append(item)
        if links:
            out["link"] = links
        return out


class EntryPointJson:
    #: The JSON Schema of the document (the OpenAPI component).
    shape: dict[str, Any] = {"type": "object", "properties": {
        "version": {"type": "string"}, "driver": {"type": "string"}, "provider": {"type": "string"},
        "links": {"type": "array", "items": {"type": "object", "properties": {
            "rel": {"type": "string"}, "href": {"type": "string", "format": "uri"},
            "features": {"type": "array", "items": {"type": "array"}}}, "required": ["rel", "href"]}}},
        "required": ["version", "driver", "links"]}

    def dump(self, entry: EntryPoint) -> dict[str, Any]:
        return {
            "version": entry.version,
            "driver": entry.driver,
            "provider": entry.provider or "default",
            "links": [
                {"rel": link.rel, "href": link.href,
                 "features": [[{"name": f.name, "rel": f.operation, "params": [p.spec() for p in f.params],
                                "constraints": dict(c)}]
                              for f, c in link.features if f.operation is not None]}
                for link in entry.links
            ],
        }
