"""Precompiled dumpers: what ``schema.dump(obj)`` returns, without marshmallow's per-field machinery.

Dumping one instance through marshmallow costs about 20 calls per field (``Field.serialize``,
``get_value``, ``_serialize``, the post-dump hook ...); for a list that was the biggest part
of a request (py-spy: 30% of ``GET /api/instances``). :func:`dumper` looks at a schema once
and returns a function that calls each field's own getter directly:

* ``fields.Function``: its ``serialize`` function; ``fields.Method``: the bound method;
* a plain ``fields.String`` read from an attribute: ``getattr`` and ``str`` as marshmallow does;
* any other field: ``field.serialize(...)`` exactly as ``Schema._serialize`` calls it.

Keys come out in the same order; a field that gives ``missing`` is left out, and so is
:data:`~.base.OMIT` when the schema drops it (``DumpSchema``). Schemas with other pre/post
dump hooks, ``many=True``, another ``dict_class`` or their own ``get_attribute``, and objects
that support ``[]`` (marshmallow tries ``obj[key]`` first for them) use ``schema.dump``. Anything
that is not a marshmallow schema (the entry point's dumpers) is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import missing

from .base import OMIT, DumpSchema

__all__ = ["dumper"]

Dumper = Callable[[Any], Any]
_ATTR = "_deltacloud_dumper"


def dumper(schema: Any) -> Dumper:
    """The fastest exact way to dump one object with ``schema`` (built once per schema object)."""
    found = getattr(schema, _ATTR, None)
    if found is None:
        found = _compile(schema) if isinstance(schema, Schema) else schema.dump
        try:
            setattr(schema, _ATTR, found)
        except AttributeError:  # a dumper object with __slots__: compile each time, still exact
            pass
    return found


def _compile(schema: Schema) -> Dumper:
    post = [name for name, _many, _kw in schema._hooks[POST_DUMP]]
    drop_omitted = post == ["_drop_omitted"] and isinstance(schema, DumpSchema)
    if (schema._hooks[PRE_DUMP] or (post and not drop_omitted) or schema.many or schema.dict_class is not dict
            or type(schema).get_attribute is not Schema.get_attribute):
        return schema.dump
    plan: list[tuple[str, Callable[[Any], Any]]] = []
    for attr_name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        plan.append((key, _getter(schema, attr_name, field)))
    plan_t = tuple(plan)
    generic = schema.dump

    def dump(obj: Any) -> Any:
        if hasattr(obj, "__getitem__"):
            return generic(obj)
        out = {}
        for key, get in plan_t:
            value = get(obj)
            if value is missing or (drop_omitted and value is OMIT):
                continue
            out[key] = value
        return out

    return dump


def _getter(schema: Schema, attr_name: str, field: fields.Field) -> Callable[[Any], Any]:
    kind = type(field)
    if kind is fields.Function and field.serialize_func:
        return field.serialize_func
    if kind is fields.Method and field._serialize_method is not None:
        return field._serialize_method
    attribute = field.attribute if field.attribute is not None else attr_name
    if kind is fields.String and field.dump_default is missing and "." not in attribute:
        def string(obj: Any, _attribute: str = attribute) -> Any:
            value = getattr(obj, _attribute, missing)
            if value is None or value is missing or type(value) is str:
                return value
            return value.decode("utf-8") if isinstance(value, bytes) else str(value)

        return string
    accessor = schema.get_attribute

    def generic(obj: Any, _attr: str = attr_name, _field: fields.Field = field) -> Any:
        return _field.serialize(_attr, obj, accessor=accessor)

    return generic
