"""The entry point (``GET /api``): which collections the driver offers, their features, and what
the server itself offers beyond Deltacloud 1.1.3.

Extensions are read from places the original's clients ignore, so they never change a document:

* ``events``: the URL of a server-sent event stream of changes (``GET /api/events``), from a
  ``Link: <...>; rel="events"`` header of the entry point's answer or a ``links`` entry with
  ``rel == "events"``. ``wait_for`` and ``watch`` use it when present, and poll otherwise.
* ``idempotency``: the server honours an ``Idempotency-Key`` header on creates, said by a
  ``Link: <...>; rel="idempotency-key"`` header or the header ``X-Deltacloud-Idempotency: supported``.
  Only then does the client send keys, and only then does it retry a create.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CollectionLink", "EntryPoint", "Feature", "parse_link_header"]

_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]+)*)')
_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*"?([^";]*)"?')


def parse_link_header(value: str) -> dict[str, str]:
    """``<url>; rel="a b", <url2>; rel=c`` -> ``{"a": url, "b": url, "c": url2}``."""
    out: dict[str, str] = {}
    for match in _LINK.finditer(value):
        url, params = match.group(1), match.group(2)
        for name, param in _PARAM.findall(params):
            if name.lower() == "rel":
                for rel in param.split():
                    out.setdefault(rel.lower(), url)
    return out


@dataclass(frozen=True)
class Feature:
    """A feature a driver declares for an operation: the parameters it adds (``name``, ``keyname``)."""

    name: str
    operation: str
    params: tuple[str, ...] = ()
    constraints: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class CollectionLink:
    name: str
    href: str
    features: tuple[Feature, ...] = ()

    def feature(self, name: str) -> Feature | None:
        return next((f for f in self.features if f.name == name), None)


@dataclass(frozen=True)
class EntryPoint:
    version: str
    driver: str
    provider: str | None
    collections: Mapping[str, CollectionLink] = field(default_factory=dict, hash=False)
    events_url: str | None = None
    idempotency: bool = False

    @staticmethod
    def _extensions(headers: Mapping[str, str], body_links: Mapping[str, str]) -> dict[str, Any]:
        links = parse_link_header(headers.get("link", ""))
        idempotent = ("idempotency-key" in links
                      or headers.get("x-deltacloud-idempotency", "").strip().lower() == "supported")
        return {"events_url": links.get("events") or body_links.get("events"), "idempotency": idempotent}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], headers: Mapping[str, str]) -> EntryPoint:
        api = doc.get("api", doc)
        collections: dict[str, CollectionLink] = {}
        extra_links: dict[str, str] = {}
        for link in api.get("links") or ():
            rel, href = str(link.get("rel", "")), str(link.get("href", ""))
            features = []
            for per_feature in link.get("features") or ():
                for f in per_feature if isinstance(per_feature, list) else [per_feature]:
                    params = tuple(str(p).split(":", 1)[0] for p in f.get("params") or ())
                    features.append(Feature(str(f.get("name", "")), str(f.get("rel", "")), params,
                                            {str(k): str(v) for k, v in (f.get("constraints") or {}).items()}))
            if rel == "events":
                extra_links[rel] = href
            else:
                collections[rel] = CollectionLink(rel, href, tuple(features))
        provider = api.get("provider")
        return cls(str(api.get("version", "")), str(api.get("driver", "")),
                   None if provider in (None, "default") else str(provider), collections,
                   **cls._extensions(headers, extra_links))

    @classmethod
    def from_xml(cls, root: ET.Element, headers: Mapping[str, str]) -> EntryPoint:
        collections: dict[str, CollectionLink] = {}
        extra_links: dict[str, str] = {}
        for link in root.findall("link"):
            rel, href = link.get("rel", ""), link.get("href", "")
            features = tuple(Feature(f.get("name", ""), f.get("rel", ""),
                                     tuple(p.get("name", "") for p in f.findall("param")),
                                     {c.get("name", ""): (c.text or "").strip() for c in f.findall("constraint")})
                             for f in link.findall("feature"))
            if rel == "events":
                extra_links[rel] = href
            else:
                collections[rel] = CollectionLink(rel, href, features)
        return cls(root.get("version", ""), root.get("driver", ""), root.get("provider"), collections,
                   **cls._extensions(headers, extra_links))
