"""Matrix parameters (``/api;driver=ec2;provider=eu-west-1/instances``) and path clean-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

__all__ = ["MatrixPath", "parse_matrix_path"]


@dataclass
class MatrixPath:
    """A request path with its matrix parameters taken out."""

    #: The path used for routing (matrix parts removed, doubled slashes collapsed).
    path: str
    #: ``segment name -> {key: value}`` in order of appearance.
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Matrix pairs of the last segment (a POST target's ``;instance_id=X``).
    last: dict[str, str] = field(default_factory=dict)
    #: True when a ``;`` part could not be understood (``;=x``, ``;novalue``).
    malformed: bool = False
    #: Indices of the routing path's segments (``path.split("/")``) that lost something in the
    #: clean-up: a ``;`` part taken out, or an empty segment (``//``) dropped after them.
    altered: frozenset[int] = frozenset()


def parse_matrix_path(raw_path: str) -> MatrixPath:
    """Split ``raw_path`` (still percent-encoded) into a routing path and matrix params."""
    if ";" not in raw_path and "%" not in raw_path and "//" not in raw_path:
        return MatrixPath(path=raw_path or "/")  # nothing to take out or decode (most requests)
    segments = raw_path.split("/")
    out_segments: list[str] = []
    params: dict[str, dict[str, str]] = {}
    last: dict[str, str] = {}
    malformed = False
    altered: set[int] = set()
    for index, segment in enumerate(segments):
        is_last = index == len(segments) - 1
        if segment == "" and index not in (0, len(segments) - 1):
            altered.add(len(out_segments) - 1)
            continue  # doubled slash
        name, *pairs = segment.split(";")
        if pairs:
            altered.add(len(out_segments))
        seg_params: dict[str, str] = {}
        for pair in pairs:
            if pair == "":
                continue
            key, sep, value = pair.partition("=")
            key = unquote(key)
            if not sep or not key:
                malformed = True
                continue
            seg_params[key] = unquote(value)
        decoded = unquote(name)
        if seg_params:
            params.setdefault(decoded, {}).update(seg_params)
            if is_last or (index == len(segments) - 2 and segments[-1] == ""):
                last = dict(seg_params)
        out_segments.append(name)
    path = "/".join(out_segments) or "/"
    return MatrixPath(path=unquote(path), params=params, last=last, malformed=malformed,
                      altered=frozenset(altered))
