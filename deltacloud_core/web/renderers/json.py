"""Compact JSON documents, keys in the original's order (FORMATS.md)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from ...collections.base import Outcome
from ...errors import DeltacloudError
from ...hookspecs import hookimpl
from ...schemas.context import rendering
from ...schemas.fastdump import dumper
from . import RenderEnv, RendererRegistry, error_tree

__all__ = ["JsonRenderer"]

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
#: Values orjson would spell its own way (dataclasses, datetimes, subclasses of str/int/
#: dict/list) go to the standard library instead, which decides as it always did.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


#: Every digit becomes ``0``: a float in exponent form is then ``0e``, whatever its digits.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0000000000")


def _may_differ(out: bytes) -> bool:
    """True when orjson's output may hold a float the standard library spells differently.

    They differ only where one of them uses an exponent: orjson then writes a digit followed
    by ``e`` (``1e16``, ``2.5e-7``), or ``0.0000`` (``0.00001`` for ``1e-05``); checked against
    every power of ten and 700,000 random doubles. With the digits mapped to ``0`` that is
    two substring tests (7 us on 4 KB; five tests on the raw text took 17 us, a regex 40 us);
    the same text inside a string only costs the slower, still exact path.
    """
    zeroed = out.translate(_DIGITS_AS_ZERO)
    # Hex ids (``i-6cfe03790df773b9e``) and other text hold such runs too: a run counts only
    # where a number can start, right after ``[``, ``:`` or ``,`` (or at the very start). Text
    # may still look like that (``"a:1e5"``): that only costs the exact, slower path.
    for marker in (b"0e", b"0.0000"):
        at = zeroed.find(marker)
        while at != -1:
            if _starts_a_value(zeroed, at):
                return True
            at = zeroed.find(marker, at + 1)
    return False


_DIGITS_OR_POINT = frozenset(b"0.")
_VALUE_STARTS = frozenset(b"[:,")


def _starts_a_value(zeroed: bytes, at: int) -> bool:
    """Whether the number-like run around ``zeroed[at]`` begins where a JSON value begins."""
    while at > 0 and zeroed[at - 1] in _DIGITS_OR_POINT:
        at -= 1
    if at > 0 and zeroed[at - 1] == 0x2D:  # a minus sign
        at -= 1
    return at == 0 or zeroed[at - 1] in _VALUE_STARTS


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, byte for byte what ``json`` (separators ``,``/``:``, no ASCII
    escaping) writes; orjson does the common case (documents of strings, ints, booleans,
    nulls) several times faster. Only NaN/Infinity differ: orjson writes ``null``."""
    try:
        out = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:  # non-string keys, ints past 64 bits, lone surrogates, unknown types
        return _encoder.encode(value).encode("utf-8")
    if not _may_differ(out):
        return out
    return _encoder.encode(value).encode("utf-8")


def _list_document(plural: str, parts: list[bytes]) -> bytes:
    return b"".join((b"{", dumps(plural), b":[", b",".join(parts), b"]}"))


class JsonRenderer:
    name: str = "json"
    media_types: tuple[str, ...] = ("application/json",)
    content_type: str = "application/json"
    documents: bool = True

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        resource = env.resources[outcome.resource or ""]
        schema = resource.schemas["json"]
        with rendering(env.context):
            if outcome.kind == "collection":
                return self._render_list(resource.plural, dumper(schema), outcome.data, env)
            tree = dumper(schema)(outcome.data)
        return dumps({resource.tag: tree} if outcome.wrap else tree)

    @staticmethod
    def _render_list(plural: str, dump: Any, items: Any, env: RenderEnv) -> bytes:
        """``{"<plural>":[item,...]}``, each item's JSON from the fragment cache when it has it
        (the same bytes as dumping the whole document: compact JSON is the concatenation)."""
        cache = env.fragments

        def render_item(item: Any) -> bytes:
            return dumps(dump(item))

        if cache is None or not cache.enabled:
            return _list_document(plural, [render_item(item) for item in items])
        return cache.list_document(env.fragment_scope("json", plural), items, render_item,
                                   lambda parts: _list_document(plural, parts))

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        return dumps(error_tree(error))


@hookimpl
def deltacloud_register_renderers(registry: RendererRegistry) -> None:
    registry.register(JsonRenderer(), owner=__name__)
