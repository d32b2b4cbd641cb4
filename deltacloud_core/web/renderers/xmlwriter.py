"""A fast writer of the XML the renderers send: ``xmltodict.unparse`` output, several times faster.

``xmltodict.unparse(doc, full_document=False, pretty=True, indent="  ",
short_empty_elements=False)`` drives ``xml.sax.saxutils.XMLGenerator`` one SAX event at a
time; for a list of 4 instances that was 700 us, most of an XML answer. :func:`unparse`
writes the same characters straight into a list of strings:

* a dict is an element: ``@name`` keys are attributes (None is ``""``), ``#text`` is the
  text (written after the child elements), other keys are children; an empty list child
  is left out; a list or other iterable value repeats the element; None is an empty
  element ``<a></a>``; ``True``/``False`` are ``true``/``false``; other values ``str()``;
* text is escaped like ``saxutils.escape`` (``&``, ``>``, ``<``), attributes like
  ``saxutils.quoteattr`` (also newline, CR, tab; double quotes unless the value has one);
* pretty printing: two spaces per level before a start tag, a newline after a start tag
  that has children and after every end tag below the top, the parent's indent before an
  end tag that closes children.

Whatever this writer does not do (``#comment`` keys, ``@xmlns`` dicts, bytes values, names
xmltodict refuses) raises :class:`Unsupported`, and the caller hands the whole document to
xmltodict, which writes it or raises exactly as before. Differential tests hold the two to
the same output (tests/unit/test_hot_path_encoders.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Unsupported", "unparse", "unparse_element"]

_INDENT = "  "


class Unsupported(Exception):
    """The document has something only xmltodict knows how to write (or how to refuse)."""


#: Names already checked (element and attribute names come from a small fixed set).
_GOOD_NAMES: set[str] = set()
_BAD_CHARS = frozenset("<>/\"'=")


def _check_name(name: object) -> str:
    if name in _GOOD_NAMES:
        return name
    if (not isinstance(name, str) or name.startswith(("?", "!")) or any(c in _BAD_CHARS for c in name)
            or any(c.isspace() for c in name) or name == "#comment"):
        raise Unsupported(name)
    if len(_GOOD_NAMES) < 10_000:
        _GOOD_NAMES.add(name)
    return name


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise Unsupported("bytes")
    return str(value)


def _escape(data: str) -> str:
    if "&" in data:
        data = data.replace("&", "&amp;")
    if ">" in data:
        data = data.replace(">", "&gt;")
    if "<" in data:
        data = data.replace("<", "&lt;")
    return data


def _quoteattr(data: str) -> str:
    data = _escape(data)
    if "\n" in data:
        data = data.replace("\n", "&#10;")
    if "\r" in data:
        data = data.replace("\r", "&#13;")
    if "\t" in data:
        data = data.replace("\t", "&#9;")
    if '"' in data:
        if "'" in data:
            return '"' + data.replace('"', "&quot;") + '"'
        return "'" + data + "'"
    return '"' + data + '"'


_INDENTS = tuple(_INDENT * depth for depth in range(64))


def _emit(key: object, value: Any, depth: int, out: list[str]) -> None:
    name = key if key in _GOOD_NAMES else _check_name(key)
    indent = _INDENTS[depth] if depth < 64 else _INDENT * depth
    end = "\n" if depth else ""
    kind = type(value)
    # Fast paths for the common leaves: text and empty elements.
    if kind is str:
        out.append(indent + "<" + name + ">" + _escape(value) + "</" + name + ">" + end)
        return
    if value is None:
        out.append(indent + "<" + name + "></" + name + ">" + end)
        return
    if kind is dict:
        values: Any = (value,)
    elif kind is list or kind is tuple:
        values = value
    elif not hasattr(value, "__iter__") or isinstance(value, (str, bytes, bytearray, memoryview, dict)):
        values = (value,)
    else:
        values = value
    for v in values:
        if v is None:
            v = {}
        elif not isinstance(v, (dict, str)):
            v = _text(v)
        if isinstance(v, str):
            v = {"#text": v}
        cdata = None
        attrs: list[str] = []
        children: list[tuple[object, Any]] = []
        for ik, iv in v.items():
            if ik == "#text":
                cdata = None if iv is None else _text(iv)
                continue
            if isinstance(ik, str) and ik.startswith("@"):
                if ik == "@xmlns" and isinstance(iv, dict):
                    raise Unsupported("@xmlns")
                attr = ik[1:]
                if attr not in _GOOD_NAMES:
                    _check_name(attr)
                attrs.append(" " + attr + "=" + _quoteattr("" if iv is None else _text(iv)))
                continue
            if isinstance(iv, list) and not iv:
                continue
            children.append((ik, iv))
        start = indent + "<" + name + ("".join(attrs) if attrs else "") + ">"
        if children:
            out.append(start + "\n")
            for child_key, child_value in children:
                _emit(child_key, child_value, depth + 1, out)
            out.append((_escape(cdata) if cdata else "") + indent + "</" + name + ">" + end)
        else:
            out.append(start + (_escape(cdata) if cdata else "") + "</" + name + ">" + end)


def unparse(doc: Mapping[Any, Any]) -> str:
    """What ``xmltodict.unparse(doc, full_document=False, pretty=True, indent="  ",
    short_empty_elements=False)`` returns, or :class:`Unsupported`."""
    out: list[str] = []
    for key, value in doc.items():
        if key == "#comment":
            raise Unsupported("#comment")
        _emit(key, value, 0, out)
    return "".join(out)


def unparse_element(key: str, value: Any, depth: int) -> str:
    """One element (or one per item of a list ``value``) as :func:`unparse` writes it at ``depth``."""
    out: list[str] = []
    _emit(key, value, depth, out)
    return "".join(out)
