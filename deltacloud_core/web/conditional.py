"""Cheap polling: ``If-None-Match`` with the answer's current ETag is a ``304 Not Modified`` without
a body (RFC 9110 §13.1.2). The answer is still made (the driver is asked: only it knows whether
anything changed), but an unchanged list costs no rendering: the render cache hands back the same
document and its ETag (:mod:`.renderers.fragments`), and nothing is sent but the headers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["not_modified"]

#: Headers a 304 keeps (RFC 9110 §15.4.5: those a 200 would have carried about caching), plus ours.
_KEPT = frozenset({b"etag", b"cache-control", b"date", b"vary", b"expires", b"content-location", b"server",
                   b"x-deltacloud-driver", b"x-deltacloud-provider", b"x-content-type-options", b"x-backend-runtime"})


def _tags(header: str) -> list[str]:
    out = []
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        out.append(tag.strip('"'))
    return out


def not_modified(request: Request, response: Response) -> Response:
    """``response``, or a 304 when the request's ``If-None-Match`` names its ETag (or ``*``)."""
    if response.status_code != 200 or request.method not in ("GET", "HEAD"):
        return response
    # The raw header list, not ``request.headers``: building that mapping on every answer of the
    # hot path would cost more than the whole check.
    raw = next((v for k, v in request.scope["headers"] if k == b"if-none-match"), None)
    if not raw:
        return response
    condition = raw.decode("latin-1")
    etag = next((v for k, v in response.raw_headers if k == b"etag"), None)
    if etag is None:
        return response
    tags = _tags(condition)
    if "*" not in tags and etag.decode("latin-1").strip('"').removeprefix("W/").strip('"') not in tags:
        return response
    answer = Response(status_code=304)
    answer.body = b""
    answer.raw_headers = [(k, v) for k, v in response.raw_headers if k in _KEPT]
    return answer
