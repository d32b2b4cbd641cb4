"""JSON Schema fragments the JSON dump schemas declare for their computed fields (the OpenAPI
document's component schemas are made from them)."""

from __future__ import annotations

from typing import Any

__all__ = ["ACTIONS", "ADDRESSES", "ANY", "BOOLEAN", "LINK", "LINKS", "NULLABLE_LINK", "OBJECT", "STRING", "STRINGS",
           "URI", "nullable", "object_of"]

URI: dict[str, Any] = {"type": "string", "format": "uri"}
STRING: dict[str, Any] = {"type": "string"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
OBJECT: dict[str, Any] = {"type": "object"}
STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
ANY: dict[str, Any] = {"description": "Computed by the server (any JSON value)."}
LINK: dict[str, Any] = {"type": "object", "properties": {"id": {"type": "string"}, "href": URI,
                                                          "rel": {"type": "string"}}, "required": ["href"]}
NULLABLE_LINK: dict[str, Any] = {"anyOf": [LINK, {"type": "null"}]}
LINKS: dict[str, Any] = {"type": "array", "items": LINK}
ACTIONS: dict[str, Any] = {"type": "array", "items": {
    "type": "object", "properties": {"href": URI, "rel": {"type": "string"}, "method": {"type": "string"}},
    "required": ["href", "rel"]}}
ADDRESSES: dict[str, Any] = {"type": "array", "items": {
    "type": "object", "properties": {"address": {"type": "string"}, "type": {"type": "string"},
                                     "port": {"type": ["integer", "string"]}}, "required": ["address"]}}


def nullable(shape: dict[str, Any]) -> dict[str, Any]:
    """``shape`` or null."""
    return {"anyOf": [shape, {"type": "null"}]}


def object_of(values: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:
    """An object with the given properties, or (``values``) a map of such values."""
    if values is not None:
        return {"type": "object", "additionalProperties": values}
    return {"type": "object", "properties": properties}
