"""Precompiled dumpers: what ``schema.dump(obj)`` returns, without marshmallow's per-field machinery.

Dumping one instance through marshmallow costs about 20 calls per field (``Field.serialize``,
``get_value``, ``_serialize`` ...); for a list that was the biggest part of a request (py-spy:
30% of ``GET /api/instances``). :func:`dumper` reads a :class:`~.base.DumpSchema`'s public
description once (``dump_fields``, each field's ``data_key``, ``attribute`` and, for
``fields.Function``, its ``serialize_func``) and returns a function that calls each field's
getter directly:

* ``fields.Function``: its ``serialize_func`` with the object;
* ``fields.String`` read from an attribute: ``getattr`` and the text conversion marshmallow makes;
* ``fields.Raw`` read from an attribute: ``getattr``;
* any other field: ``field.serialize(name, obj, accessor=schema.get_attribute)``, marshmallow's own.

Keys come out in the same order; a value that is ``missing`` (:data:`~.base.OMIT`) is left out,
as marshmallow leaves it out. Only ``DumpSchema`` schemas are compiled (they have no hooks, so
their fields are the whole dump) and only for plain objects (marshmallow reads a mapping by key);
everything else uses ``schema.dump``. ``tests/unit/test_hot_path_encoders.py`` dumps every
resource both ways and fails on any difference, so a marshmallow that changes under this module
is caught there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields
from marshmallow.utils import missing

from .base import DumpSchema

__all__ = ["dumper"]

Dumper = Callable[[Any], Any]
_COMPILED: dict[int, tuple[Any, Dumper]] = {}


def dumper(schema: Any) -> Dumper:
    """The fastest exact way to dump one object with ``schema`` (compiled once per schema object)."""
    known = _COMPILED.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    compiled = _compile(schema) if isinstance(schema, DumpSchema) else schema.dump
    if len(_COMPILED) >= 4096:
        _COMPILED.clear()
    _COMPILED[id(schema)] = (schema, compiled)  # the schema is kept, so its id stays its own
    return compiled


def _compile(schema: Schema) -> Dumper:
    if schema.many or schema.dict_class is not dict or type(schema).get_attribute is not Schema.get_attribute:
        return schema.dump
    plan = tuple((field.data_key if field.data_key is not None else name, _getter(schema, name, field))
                 for name, field in schema.dump_fields.items())
    generic = schema.dump

    def dump(obj: Any) -> Any:
        if hasattr(obj, "__getitem__"):
            return generic(obj)
        out = {}
        for key, get in plan:
            value = get(obj)
            if value is not missing:
                out[key] = value
        return out

    return dump


def _getter(schema: Schema, name: str, field: fields.Field) -> Callable[[Any], Any]:
    kind = type(field)
    if isinstance(field, fields.Function) and kind is fields.Function and field.serialize_func:
        func: Callable[[Any], Any] = field.serialize_func
        return func
    attribute = field.attribute if field.attribute is not None else name
    if kind in (fields.String, fields.Raw) and field.dump_default is missing and "." not in attribute:
        if kind is fields.Raw:
            def raw(obj: Any, _attribute: str = attribute) -> Any:
                return getattr(obj, _attribute, missing)

            return raw

        def string(obj: Any, _attribute: str = attribute) -> Any:
            value = getattr(obj, _attribute, missing)
            if value is None or value is missing or type(value) is str:
                return value
            return value.decode("utf-8") if isinstance(value, bytes) else str(value)

        return string
    accessor = schema.get_attribute

    def generic(obj: Any, _name: str = name, _field: fields.Field = field) -> Any:
        return _field.serialize(_name, obj, accessor=accessor)

    return generic
