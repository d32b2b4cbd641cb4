"""Content negotiation as pure functions (API.md §3).

Stage 1 (:func:`rank_formats`) turns the query's ``format`` or the ``Accept`` header into
the formats the client accepts, most preferred first; an empty result is a body-less 406.
Stage 2 (:func:`choose`) picks, among the formats a route implements, the most preferred.

Rules kept from the original so answers match its recordings: no or empty ``Accept`` means
XML; ``*/*`` is an HTML match; wildcards like ``application/*`` match nothing; among
equal q values the later-listed type wins. Improvements: a valid ``format`` always wins,
parameters other than ``q`` are ignored, malformed entries are skipped instead of failing, and
``q=0`` means "not acceptable" (RFC 9110 §12.4.2; the original still counted it), so
``Accept: text/html;q=0, */*;q=0`` is a 406.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["DOCUMENT_FORMATS", "FORMAT_MEDIA_TYPES", "choose", "parse_accept", "rank_formats"]

#: The formats of documents and error documents (the others render one resource only: png, gv).
DOCUMENT_FORMATS: frozenset[str] = frozenset({"xml", "json", "html"})

#: Format -> the Accept media types that select it, in table order.
FORMAT_MEDIA_TYPES: Mapping[str, tuple[str, ...]] = {
    "xml": ("application/xml", "text/xml"),
    "json": ("application/json",),
    "html": ("application/xhtml+xml", "text/html", "*/*"),
    "png": ("image/png",),
    "gv": ("application/ghostscript",),
}


#: The weight of an unreadable ``q`` (``q=abc``): acceptable, least preferred.
_UNREADABLE_Q = 1e-9


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """``(media type, q)`` pairs sorted by ascending q, header order kept among equals."""
    if header is None or not header.strip():
        return [("application/xml", 1.0)]
    pairs: list[tuple[str, float]] = []
    for raw in header.split(","):
        parts = [p.strip() for p in raw.split(";")]
        media = parts[0].lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = _UNREADABLE_Q
        if q <= 0.0 or q != q:  # "not acceptable" (and a NaN is nothing)
            continue
        pairs.append((media, q))
    return sorted(pairs, key=lambda p: p[1])  # stable: header order kept among equal q


def rank_formats(format_param: str | None, accept: str | None,
                 media_types: Mapping[str, Sequence[str]] = FORMAT_MEDIA_TYPES) -> list[str]:
    """Formats the client accepts, most preferred first. Empty means 406."""
    if format_param is not None:
        return [format_param] if format_param in media_types else []
    sorted_pairs = [m for m, _q in parse_accept(accept)]
    scored: list[tuple[int, str]] = []
    for fmt, types in media_types.items():
        for media in types:
            if media in sorted_pairs:
                scored.append((sorted_pairs.index(media), fmt))
                break
    scored.sort(key=lambda item: -item[0])
    return [fmt for _idx, fmt in scored]


def choose(ranked: Sequence[str], implemented: frozenset[str] | set[str]) -> str | None:
    """The most preferred of ``ranked`` that the route implements, else None (406)."""
    for fmt in ranked:
        if fmt in implemented:
            return fmt
    return None
