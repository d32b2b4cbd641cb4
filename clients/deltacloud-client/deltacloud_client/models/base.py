"""What every model shares: links, references, the resource base class and the document readers.

A model is a frozen dataclass with Deltacloud's field names. It is read from the server's JSON
(``from_json``) or XML (``from_xml``); whatever a document carries that the model does not know
lands in ``extra`` (JSON values as they came, XML children as :func:`element_value` renders them),
so a newer server's fields are never lost. ``_bound`` is the client the resource came from (not
part of equality, hashing or repr); it is what ``instance.stop()`` and friends talk to.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

__all__ = [
    "Link",
    "Ref",
    "Resource",
    "element_value",
    "json_link",
    "json_links",
    "json_ref",
    "json_refs",
    "text_of",
    "xml_links",
    "xml_ref",
]

R = TypeVar("R", bound="Resource")


@dataclass(frozen=True)
class Link:
    """An action a resource offers: follow ``href`` with ``method`` to do ``rel``."""

    rel: str
    href: str
    method: str = "post"


@dataclass(frozen=True)
class Ref:
    """A reference to another resource (``{"id","href"}`` in JSON, ``<x id href/>`` in XML)."""

    id: str
    href: str | None = None


@dataclass(frozen=True, kw_only=True)
class Resource:
    """Base of every collection member."""

    #: The collection's name in the entry point (``instances``) and its singular (``instance``).
    COLLECTION: ClassVar[str] = ""
    SINGULAR: ClassVar[str] = ""
    #: JSON / XML keys read into fields (anything else goes to ``extra``).
    JSON_KEYS: ClassVar[frozenset[str]] = frozenset()
    XML_KEYS: ClassVar[frozenset[str]] = frozenset()

    id: str
    href: str | None = None
    actions: tuple[Link, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    _bound: Any = field(default=None, compare=False, repr=False, hash=False)

    # -- reading ------------------------------------------------------------------------------

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The model's fields from a JSON object (subclasses read their own keys)."""
        return {"id": str(doc.get("id", "")), "href": doc.get("href"), "actions": json_links(doc.get("actions"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        """The model's fields from an XML element (subclasses read their own children)."""
        return {"id": element.get("id", ""), "href": element.get("href"), "actions": xml_links(element)}

    @classmethod
    def from_json(cls: type[R], doc: Mapping[str, Any], bound: Any = None) -> R:
        known = cls.JSON_KEYS | {"id", "href", "actions"}
        extra = {k: v for k, v in doc.items() if k not in known}
        return cls(**cls.json_fields(doc), extra=extra, _bound=bound)

    @classmethod
    def from_xml(cls: type[R], element: ET.Element, bound: Any = None) -> R:
        known = cls.XML_KEYS | {"actions"}
        extra: dict[str, Any] = {}
        for child in element:
            if child.tag not in known:
                _add(extra, child.tag, element_value(child))
        for name, value in element.attrib.items():
            if name not in ("id", "href") and f"@{name}" not in known:
                extra[f"@{name}"] = value
        return cls(**cls.xml_fields(element), extra=extra, _bound=bound)

    def rebind(self: R, bound: Any) -> R:
        """The same data attached to another client (same class, new ``_bound``)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        values["_bound"] = bound
        return type(self)(**values)

    def link(self, rel: str) -> Link | None:
        return next((a for a in self.actions if a.rel == rel), None)

    @property
    def action_names(self) -> tuple[str, ...]:
        return tuple(a.rel for a in self.actions)


def _add(out: dict[str, Any], key: str, value: Any) -> None:
    if key in out:
        previous = out[key]
        out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
    else:
        out[key] = value


def element_value(element: ET.Element) -> Any:
    """An unknown XML element as plain data: its text when it has nothing else, else a dict of
    ``@attributes``, children (repeated ones as lists) and ``#text``."""
    text = (element.text or "").strip()
    if not element.attrib and len(element) == 0:
        return text
    out: dict[str, Any] = {f"@{k}": v for k, v in element.attrib.items()}
    for child in element:
        _add(out, child.tag, element_value(child))
    if text:
        out["#text"] = text
    return out


def text_of(element: ET.Element, tag: str) -> str | None:
    """The stripped text of the first ``tag`` child, or None when there is no such child."""
    child = element.find(tag)
    if child is None:
        return None
    return (child.text or "").strip()


def json_ref(value: Any) -> Ref | None:
    if not isinstance(value, Mapping) or not value.get("id"):
        return None
    return Ref(str(value["id"]), value.get("href"))


def json_refs(values: Any) -> tuple[Ref, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(r for r in (json_ref(v) for v in values) if r is not None)


def json_link(value: Any) -> Link | None:
    if not isinstance(value, Mapping) or "rel" not in value or "href" not in value:
        return None
    return Link(str(value["rel"]), str(value["href"]), str(value.get("method") or "post").lower())


def json_links(values: Any) -> tuple[Link, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(link for link in (json_link(v) for v in values) if link is not None)


def xml_ref(element: ET.Element | None) -> Ref | None:
    if element is None or not element.get("id"):
        return None
    return Ref(element.get("id", ""), element.get("href"))


def xml_links(element: ET.Element, path: str = "actions/link") -> tuple[Link, ...]:
    return tuple(Link(e.get("rel", ""), e.get("href", ""), (e.get("method") or "post").lower())
                 for e in element.findall(path) if e.get("rel") and e.get("href"))


def keys(*names: Iterable[str] | str) -> frozenset[str]:
    out: set[str] = set()
    for name in names:
        out.update([name] if isinstance(name, str) else name)
    return frozenset(out)
