"""Building blocks for the dump schemas.

Every resource has two dump schemas: ``<Resource>Json`` (the JSON object) and
``<Resource>Xml`` (an xmltodict tree: ``@name`` keys are attributes, ``#text`` the text,
a list value repeats the element, None prints an empty element). A field whose method
returns :data:`OMIT` is left out entirely (the original's "only if" elements).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, post_dump

from ..hardware import format_value
from .context import render_context

__all__ = ["OMIT", "DumpSchema", "link", "ref", "text"]


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


#: Returned by a schema method to leave the key out of the dump.
OMIT: Any = _Omit()


class DumpSchema(Schema):
    """Base of all dump schemas: drops :data:`OMIT` values after dumping."""

    @post_dump
    def _drop_omitted(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: v for k, v in data.items() if v is not OMIT}


def text(value: object) -> str:
    """A value printed as the original printed it; None as empty text."""
    return format_value(value)


def ref(collection: str, id: str, **attrs: str) -> dict[str, str]:
    """An XML reference element's attributes: ``{"@href": ..., "@id": ...}`` (+ extra)."""
    out = {"@href": render_context().url(collection, id), "@id": id}
    out.update({f"@{k}": v for k, v in attrs.items()})
    return out


def link(href: str, rel: str, method: str | None = None) -> dict[str, str]:
    out = {"@href": href}
    if method is not None:
        out["@method"] = method
    out["@rel"] = rel
    return out
