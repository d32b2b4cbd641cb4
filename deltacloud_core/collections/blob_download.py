"""``GET /api/buckets/:id/:blob_id/content``: ranges and conditions of a blob download.

What a client may send (RFC 9110) and what it gets:

* ``Range: bytes=first-last`` / ``bytes=first-`` / ``bytes=-suffix``: ``206 Partial Content`` with
  ``Content-Range: bytes first-last/size`` and just those bytes; ``416`` with
  ``Content-Range: bytes */size`` when no byte of the range exists. Several ranges at once, other
  units and malformed values are ignored (the whole blob, 200), as RFC 9110 allows.
* ``If-None-Match: "etag"`` (or ``*``): ``304 Not Modified`` when it matches the blob's ETag.
* ``If-Range: "etag"``: the range only when the blob still has that (strong) ETag, else the whole
  blob with 200. A date never matches (blob dates are not HTTP dates).

Every download answers ``Accept-Ranges: bytes`` and, when the driver reports one, ``ETag``.

Drivers: a ``blob_content`` with a keyword parameter ``byte_range`` receives the range (a
:class:`~deltacloud_core.models.ByteRange`) and may pass it to the cloud; its stream then says
which bytes it holds in a ``served_range`` attribute ``(first, last)``. A driver that knows
nothing of ranges (no such parameter), or a stream without ``served_range``, is the whole blob:
the core skips to the range and stops after it, reading no more of the stream than it needs.
With a condition to check, the core asks ``get_blob`` first (a cheap metadata call) so a 304
never opens a download.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from ..errors import RangeNotSatisfiable
from ..models import Blob, ByteRange

if TYPE_CHECKING:
    from ..drivers.base import Driver

__all__ = ["accepts_byte_range", "etag_header", "etag_matches", "parse_range", "partial_answer", "sliced"]

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_ETAG = re.compile(r'\s*(W/)?("[^"]*"|[^,\s]+)\s*(?:,|$)')


def parse_range(header: str | None) -> ByteRange | None:
    """The one byte range of a ``Range`` header; None when absent or to be ignored."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:  # another unit, several ranges, or not a range at all
        return None
    first, last = match.groups()
    try:
        if not first:
            return ByteRange(suffix=int(last)) if last else None
        return ByteRange(start=int(first), end=int(last) if last else None)
    except ValueError:  # last < first, or a zero suffix: an invalid range, ignored
        return None


def _opaque(tag: str) -> str:
    """An entity tag without ``W/`` and quotes: what two tags are compared by."""
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else tag


def etag_header(etag: str) -> str:
    """A driver's ETag as a header value: quoted (RFC 9110), a weak ``W/`` kept."""
    tag = etag.strip()
    weak = tag.startswith("W/")
    return f'{"W/" if weak else ""}"{_opaque(tag)}"'


def etag_matches(header: str, etag: str | None, *, strong: bool = False) -> bool:
    """Whether the list of entity tags in ``header`` (or ``*``) names ``etag``.

    Weak comparison (If-None-Match) ignores ``W/``; strong comparison (If-Range) needs both
    tags strong.
    """
    if etag is None:
        return False
    if header.strip() == "*":
        return True
    ours = etag.strip()
    if strong and ours.startswith("W/"):
        return False
    wanted = _opaque(ours)
    for match in _ETAG.finditer(header):
        weak, tag = match.groups()
        if not tag:
            continue
        if strong and weak:
            continue
        if _opaque(tag) == wanted:
            return True
    return False


#: Driver class -> whether its ``blob_content`` takes ``byte_range`` (worked out once per class).
_ACCEPTS: WeakKeyDictionary[type, bool] = WeakKeyDictionary()


def accepts_byte_range(driver_cls: type[Driver]) -> bool:
    """Whether the driver's ``blob_content`` takes the ``byte_range`` keyword."""
    known = _ACCEPTS.get(driver_cls)
    if known is not None:
        return known
    try:
        param = inspect.signature(driver_cls.blob_content).parameters.get("byte_range")
    except (TypeError, ValueError):
        param = None
    answer = param is not None and param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD)
    _ACCEPTS[driver_cls] = answer
    return answer


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def _sync_slice(stream: Iterable[bytes], first: int, last: int) -> Iterator[bytes]:
    skip, left = first, last - first + 1
    try:
        for chunk in stream:
            if skip:
                if len(chunk) <= skip:
                    skip -= len(chunk)
                    continue
                chunk = chunk[skip:]
                skip = 0
            if len(chunk) >= left:
                yield chunk[:left]
                return
            left -= len(chunk)
            yield chunk
    finally:
        _close(stream)


async def _async_slice(stream: AsyncIterable[bytes], first: int, last: int) -> AsyncIterator[bytes]:
    skip, left = first, last - first + 1
    try:
        async for chunk in stream:
            if skip:
                if len(chunk) <= skip:
                    skip -= len(chunk)
                    continue
                chunk = chunk[skip:]
                skip = 0
            if len(chunk) >= left:
                yield chunk[:left]
                return
            left -= len(chunk)
            yield chunk
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
        else:
            _close(stream)


def sliced(stream: Iterable[bytes] | AsyncIterable[bytes], first: int, last: int) -> Any:
    """Bytes ``first..last`` (inclusive) of a whole-blob stream; the stream is closed after them."""
    if isinstance(stream, AsyncIterable):
        return _async_slice(stream, first, last)
    return _sync_slice(stream, first, last)


def partial_answer(stream: Any, blob: Blob, wanted: ByteRange) -> tuple[Any, tuple[int, int], int]:
    """``(body, (first, last), size)`` of a 206 for ``wanted``; RangeNotSatisfiable when it is none.

    The driver's ``served_range`` is taken as it is; a whole-blob stream is sliced here.
    """
    size = blob.content_length
    served = getattr(stream, "served_range", None)
    if served is not None:
        first, last = served
        if size is None:
            size = last + 1
        return stream, (first, last), size
    assert size is not None
    resolved = wanted.resolve(size)
    if resolved is None:
        _close(stream)
        raise RangeNotSatisfiable(f"The blob has {size} bytes: no byte of {wanted.header()} exists.", size=size)
    return sliced(stream, *resolved), resolved, size
