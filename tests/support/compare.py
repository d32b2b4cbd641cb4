"""Structural comparison of XML, JSON and response headers against the original's recordings.

What counts (FORMATS.md §0): element names, nesting, attribute names and values, text with
surrounding whitespace stripped; JSON keys (and their order), values and value types. What does
not count: quoting, attribute order, indentation, and the scheme+host part of URLs (the
recordings were made at ``http://127.0.0.1:3001``). Values that vary between runs (time-derived
names, key material, backtraces) are excluded per comparison with path patterns.

Path patterns: XML paths look like ``/instances/instance/actions/link/@href`` (attributes) or
``/key/pem`` (element text); JSON paths like ``$.instances[].name``. In a pattern ``*`` matches
within one path step and ``**`` matches anything. Diff messages show the indexed path of the
first difference (``/instances/instance[2]/actions/link[3]/@href``).
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BASE_PLACEHOLDER",
    "GoldenHeaders",
    "assert_json_equal",
    "assert_xml_equal",
    "header_diff",
    "json_diff",
    "normalize_base",
    "normalize_text",
    "parse_headers_text",
    "path_matches",
    "xml_diff",
]

BASE_PLACEHOLDER = "<base>"
#: scheme://host[:port] at the start of an absolute URL, wherever it appears in a value.
_BASE_RE = re.compile(r"https?://[^/\s'\"<>;?#]+")


def normalize_base(value: str) -> str:
    """Replace the scheme+host part of every absolute URL in ``value`` by ``<base>``."""
    return _BASE_RE.sub(BASE_PLACEHOLDER, value)


def normalize_text(text: str | None) -> str:
    """Element text as clients read it: surrounding whitespace stripped (also per line, since the
    original's Haml indents continuation lines of multi-line CDATA such as a PEM)."""
    if text is None:
        return ""
    lines = [line.strip() for line in text.strip().splitlines()]
    return normalize_base("\n".join(lines))


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append(r"[^/.\[\]]*")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def path_matches(patterns: Iterable[str], path: str) -> bool:
    """Whether the generic (index-free) ``path`` matches one of ``patterns``."""
    return any(_pattern_regex(p).match(path) for p in patterns)


def _show(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


# -- XML ------------------------------------------------------------------------------------------

def _parse_xml(document: str | bytes, which: str) -> ET.Element:
    data = document.encode() if isinstance(document, str) else document
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise AssertionError(f"{which} is not well-formed XML ({exc}): {_show(data[:300])}") from exc


def _child_steps(parent: ET.Element) -> list[tuple[ET.Element, str]]:
    """Children with their indexed step (``link[3]`` when the tag repeats, else ``link``)."""
    counts: dict[str, int] = {}
    for child in parent:
        counts[child.tag] = counts.get(child.tag, 0) + 1
    seen: dict[str, int] = {}
    steps = []
    for child in parent:
        seen[child.tag] = seen.get(child.tag, 0) + 1
        step = f"{child.tag}[{seen[child.tag]}]" if counts[child.tag] > 1 else child.tag
        steps.append((child, step))
    return steps


def _xml_compare(exp: ET.Element, act: ET.Element, shown: str, generic: str,
                 ignore: tuple[str, ...], skip: tuple[str, ...]) -> str | None:
    if exp.tag != act.tag:
        return f"at {shown}: expected element <{exp.tag}>, got <{act.tag}>"
    if path_matches(skip, generic):
        return None
    exp_names, act_names = set(exp.attrib), set(act.attrib)
    if exp_names != act_names:
        missing = sorted(exp_names - act_names)
        extra = sorted(act_names - exp_names)
        return f"at {shown}: attributes differ: missing {missing}, unexpected {extra}"
    for name in sorted(exp_names):
        if path_matches(ignore, f"{generic}/@{name}"):
            continue
        want, got = normalize_base(exp.attrib[name]), normalize_base(act.attrib[name])
        if want != got:
            return f"at {shown}/@{name}: expected {_show(want)}, got {_show(got)}"
    if not path_matches(ignore, generic):
        want, got = normalize_text(exp.text), normalize_text(act.text)
        if want != got:
            return f"at {shown} (text): expected {_show(want)}, got {_show(got)}"
    exp_children, act_children = _child_steps(exp), _child_steps(act)
    exp_tags = [c.tag for c, _ in exp_children]
    act_tags = [c.tag for c, _ in act_children]
    if exp_tags != act_tags:
        position = next((i for i, (a, b) in enumerate(zip(exp_tags, act_tags, strict=False)) if a != b),
                        min(len(exp_tags), len(act_tags)))
        want = exp_tags[position] if position < len(exp_tags) else "(nothing)"
        got = act_tags[position] if position < len(act_tags) else "(nothing)"
        return (f"at {shown}: children differ at position {position + 1}: expected <{want}>, got <{got}>"
                f" (expected {exp_tags}, got {act_tags})")
    for (exp_child, step), (act_child, _) in zip(exp_children, act_children, strict=True):
        problem = _xml_compare(exp_child, act_child, f"{shown}/{step}", f"{generic}/{exp_child.tag}",
                               ignore, skip)
        if problem:
            return problem
    return None


def xml_diff(expected: str | bytes, actual: str | bytes, *, ignore: Iterable[str] = (),
             skip: Iterable[str] = ()) -> str | None:
    """The first structural difference between two XML documents, or None when they match.

    ``ignore``: paths whose text / attribute value is not compared (presence still is).
    ``skip``: element paths whose whole subtree is not compared (the element itself must exist).
    """
    exp_root = _parse_xml(expected, "expected")
    act_root = _parse_xml(actual, "actual")
    return _xml_compare(exp_root, act_root, "/" + exp_root.tag, "/" + exp_root.tag, tuple(ignore), tuple(skip))


def assert_xml_equal(expected: str | bytes, actual: str | bytes, **kwargs: Any) -> None:
    problem = xml_diff(expected, actual, **kwargs)
    if problem:
        raise AssertionError(f"XML differs {problem}")


# -- JSON -----------------------------------------------------------------------------------------

def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _json_compare(exp: Any, act: Any, shown: str, generic: str, ignore: tuple[str, ...],
                  ordered: bool) -> str | None:
    if path_matches(ignore, generic):
        return None
    exp_type, act_type = _json_type(exp), _json_type(act)
    if exp_type != act_type:
        return f"at {shown}: expected {exp_type} {_show(exp)}, got {act_type} {_show(act)}"
    if isinstance(exp, dict):
        exp_keys, act_keys = list(exp), list(act)
        if set(exp_keys) != set(act_keys):
            missing = [k for k in exp_keys if k not in act]
            extra = [k for k in act_keys if k not in exp]
            return f"at {shown}: keys differ: missing {missing}, unexpected {extra}"
        if ordered and exp_keys != act_keys:
            return f"at {shown}: key order differs: expected {exp_keys}, got {act_keys}"
        for key in exp_keys:
            problem = _json_compare(exp[key], act[key], f"{shown}.{key}", f"{generic}.{key}", ignore, ordered)
            if problem:
                return problem
        return None
    if isinstance(exp, list):
        if len(exp) != len(act):
            return f"at {shown}: expected {len(exp)} items, got {len(act)}: {_show(act)}"
        for i, (e, a) in enumerate(zip(exp, act, strict=True)):
            problem = _json_compare(e, a, f"{shown}[{i}]", f"{generic}[]", ignore, ordered)
            if problem:
                return problem
        return None
    if isinstance(exp, str):
        exp, act = normalize_base(exp), normalize_base(act)
    if exp != act:
        return f"at {shown}: expected {_show(exp)}, got {_show(act)}"
    return None


def json_diff(expected: Any, actual: Any, *, ignore: Iterable[str] = (), ordered: bool = True) -> str | None:
    """The first difference between two JSON documents (text or parsed), or None.

    Keys must match, in the same order when ``ordered`` (the original's emission order is part of
    FORMATS.md); values must have the same JSON type (``"0"`` is not ``0``); strings are compared
    after URL base normalisation. ``ignore`` paths (``$.key.pem_rsa_key``) are not compared at all.
    """
    if isinstance(expected, str | bytes):
        expected = json.loads(expected)
    if isinstance(actual, str | bytes):
        try:
            actual = json.loads(actual)
        except ValueError as exc:
            return f"actual is not JSON ({exc}): {_show(actual[:300])}"
    return _json_compare(expected, actual, "$", "$", tuple(ignore), ordered)


def assert_json_equal(expected: Any, actual: Any, **kwargs: Any) -> None:
    problem = json_diff(expected, actual, **kwargs)
    if problem:
        raise AssertionError(f"JSON differs {problem}")


# -- headers --------------------------------------------------------------------------------------

@dataclass
class GoldenHeaders:
    """A recorded status line and headers (``NAME.FMT.headers``)."""

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def has(self, name: str) -> bool:
        return self.get(name) is not None

    @property
    def from_deltacloud(self) -> bool:
        """False for answers the original's web server produced before Deltacloud ran (``Server: thin``)."""
        return (self.get("Server") or "").startswith("Apache-Deltacloud/")


def parse_headers_text(text: str) -> GoldenHeaders:
    lines = [line.rstrip("\r") for line in text.splitlines()]
    _version, code, reason = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if not line.strip():
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return GoldenHeaders(int(code), reason, headers)


#: Headers whose value must be equal (absent in the recording means absent in the answer).
VALUE_HEADERS = ("Content-Type", "Location", "Allow", "Expect", "WWW-Authenticate", "X-Cascade",
                 "Server", "X-Deltacloud-Driver", "X-Deltacloud-Provider")
#: Headers whose presence must be equal (their values vary).
PRESENCE_HEADERS = ("ETag", "Cache-Control", "X-Backend-Runtime")
_DELTACLOUD_ONLY = ("Server", "X-Deltacloud-Driver", "X-Deltacloud-Provider")


def _header_value(name: str, value: str) -> str:
    if name == "Location":
        return normalize_base(value)
    if name == "WWW-Authenticate":
        # The part after '@' is the server's HOSTNAME environment variable (empty on the recorder).
        return re.sub(r'@[^"]*"', '@<hostname>"', value)
    return value


def header_diff(golden: GoldenHeaders, status: int, headers: Mapping[str, str], body: bytes, *,
                method: str = "GET", skip: Iterable[str] = ()) -> list[str]:
    """Every difference in status and in the headers that matter; empty when they agree.

    ``headers`` is case-insensitive (httpx ``Headers``). ``skip`` names headers not to compare.
    An ``ETag`` we send must be the md5 hex of the body we sent.
    """
    skipped = {s.lower() for s in skip}
    problems = []
    if status != golden.status:
        problems.append(f"status: expected {golden.status} {golden.reason}, got {status}")
    for name in VALUE_HEADERS:
        if name.lower() in skipped:
            continue
        if name in _DELTACLOUD_ONLY and not golden.from_deltacloud:
            continue  # e.g. the first-stage 406: adding the Deltacloud headers is harmless (API.md §2)
        want, got = golden.get(name), headers.get(name)
        if want is None and got is not None:
            problems.append(f"{name}: expected no such header, got {got!r}")
        elif want is not None and got is None:
            problems.append(f"{name}: expected {want!r}, header missing")
        elif want is not None and got is not None and _header_value(name, want) != _header_value(name, got):
            problems.append(f"{name}: expected {want!r}, got {got!r}")
    for name in PRESENCE_HEADERS:
        if name.lower() in skipped:
            continue
        want_present, got_present = golden.has(name), headers.get(name) is not None
        if want_present != got_present:
            problems.append(f"{name}: expected {'present' if want_present else 'absent'}, "
                            f"got {headers.get(name)!r}")
    etag = headers.get("ETag")
    if (etag is not None and method != "HEAD" and "etag" not in skipped
            and etag != hashlib.md5(body, usedforsecurity=False).hexdigest()):
        problems.append(f"ETag {etag!r} is not the md5 hex of the body")
    runtime = headers.get("X-Backend-Runtime")
    if runtime is not None:
        try:
            float(runtime)
        except ValueError:
            problems.append(f"X-Backend-Runtime {runtime!r} is not a number of seconds")
    return problems
