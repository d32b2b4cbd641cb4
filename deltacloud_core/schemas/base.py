"""Building blocks for the dump schemas.

Every resource has two dump schemas: ``<Resource>Json`` (the JSON object) and
``<Resource>Xml`` (an xmltodict tree: ``@name`` keys are attributes, ``#text`` the text,
a list value repeats the element, None prints an empty element). A field whose function
returns :data:`OMIT` (marshmallow's ``missing``) is left out entirely (the original's "only if"
elements): marshmallow itself skips it.

A JSON field says what it holds for the OpenAPI document with :func:`computed`'s ``shape`` (a
JSON Schema); plain ``fields.String`` fields are typed from their class. :class:`DumpSchema`
schemas have no pre/post-dump hooks: their fields are the whole description, which
:mod:`.fastdump` relies on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields
from marshmallow.utils import missing

from ..hardware import format_value
from .context import render_context

__all__ = ["OMIT", "DumpSchema", "computed", "link", "ref", "text"]

#: Returned by a field's function to leave the key out of the dump (marshmallow's ``missing``).
OMIT: Any = missing

#: Metadata key of a field's JSON Schema (read by the OpenAPI generator).
SHAPE = "shape"


class DumpSchema(Schema):
    """Base of all dump schemas: fields only (no hooks), so a dump is the fields' values in order."""


def computed(func: Callable[[Any], Any], *, shape: dict[str, Any] | None = None, data_key: str | None = None,
             description: str | None = None) -> fields.Function:
    """A field computed from the whole object by ``func``, with the JSON Schema of its value."""
    metadata: dict[str, Any] = {}
    if shape is not None:
        metadata[SHAPE] = shape
    if description is not None:
        metadata["description"] = description
    return fields.Function(func, data_key=data_key, metadata=metadata)


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
