"""Turning outcomes and errors into HTTP responses with the headers the original sent."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from email.utils import formatdate
from typing import Any

from starlette.responses import Response

from ..errors import (
    AuthenticationFailure,
    CapabilityMissing,
    DeltacloudError,
    NotAcceptable,
    RequiredParameterMissing,
)
from .renderers import RenderEnv, RendererRegistry
from .settings import API_VERSION

__all__ = ["PLAIN", "ResponseFactory"]

PLAIN = "text/html;charset=utf-8"
log = logging.getLogger("deltacloud.web")

#: Content types that got the original's XSS/frame headers.
_MARKUP_TYPES = ("application/xml", "text/html")


_date: tuple[int, str] = (0, "")


def http_date() -> str:
    """``formatdate(usegmt=True)``, formatted once per second (it names whole seconds)."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True))
    return _date[1]


def http_date_bytes() -> bytes:
    """:func:`http_date` as header bytes (encoded once per second)."""
    global _date_bytes
    value = http_date()
    if _date_bytes[0] is not value:
        _date_bytes = (value, value.encode("latin-1"))
    return _date_bytes[1]


_date_bytes: tuple[str, bytes] = ("", b"")
_SERVER = (b"server", f"Apache-Deltacloud/{API_VERSION}".encode("latin-1"))
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_MARKUP_HEADERS = ((b"x-xss-protection", b"1; mode=block"), (b"x-frame-options", b"SAMEORIGIN"))
_CACHE_CONTROL = (b"cache-control", b"max-age=0, private, must-revalidate")


def _md5_hex(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def _names_content_length(headers: Mapping[str, str]) -> bool:
    return any(name.lower() == "content-length" for name in headers)


def _merge(raw: list[tuple[bytes, bytes]], headers: Mapping[str, str]) -> None:
    """``dict.update`` on the header list: a name already present keeps its place, new value."""
    for name, value in headers.items():
        key = name.lower().encode("latin-1")
        encoded = value.encode("latin-1")
        for index, (existing, _old) in enumerate(raw):
            if existing == key:
                raw[index] = (key, encoded)
                break
        else:
            raw.append((key, encoded))


def _set(raw: list[tuple[bytes, bytes]], key: bytes, value: bytes) -> None:
    """Starlette's ``response.headers[key] = value``: the first one replaced, later ones dropped."""
    found = [i for i, h in enumerate(raw) if h[0] == key]
    for index in reversed(found[1:]):
        del raw[index]
    if found:
        raw[found[0]] = (key, value)
    else:
        raw.append((key, value))


class _Prepared(Response):
    """A ``Response`` whose header list is already made."""

    def __init__(self, body: bytes, status: int, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        self.raw_headers = raw_headers


class ResponseFactory:
    """Builds every response of the API so the common headers are added in one place."""

    def __init__(self, renderers: RendererRegistry, hostname: str = "",
                 etag: Callable[[bytes], str] | None = None) -> None:
        self.renderers = renderers
        self.hostname = hostname
        #: The ETag of a body: its MD5 hex digest (as Rack::ETag), perhaps remembered.
        self.etag = etag or _md5_hex

    def finish(self, *, status: int, body: bytes = b"", content_type: str | None = None,
               driver: str, provider: str | None, method: str = "GET",
               headers: Mapping[str, str] | None = None, etag: bool = True) -> Response:
        """A response with ``Server``, driver/provider, ETag and protection headers.

        The header list is written directly in the form Starlette would have made of it
        (names lower-cased, in this order, ``content-length`` then ``content-type`` last):
        building a ``Response`` from a dict and then setting its content type cost 10% of a
        small list answer.
        """
        raw: list[tuple[bytes, bytes]] = [_SERVER, (b"x-deltacloud-driver", driver.encode("latin-1"))]
        if provider:
            raw.append((b"x-deltacloud-provider", provider.encode("latin-1")))
        raw.append((b"date", http_date_bytes()))
        raw.append(_NOSNIFF)
        if content_type and content_type.startswith(_MARKUP_TYPES) and status != 204:
            raw.extend(_MARKUP_HEADERS)
        if etag and status in (200, 201) and body and method != "HEAD":
            raw.append((b"etag", self.etag(body).encode("ascii")))
            raw.append(_CACHE_CONTROL)
        if headers:
            _merge(raw, headers)
        if status == 204:
            body = b""
            raw = [h for h in raw if h[0] not in (b"content-type", b"content-length")]
        else:
            if status >= 200 and status != 304 and not (headers and _names_content_length(headers)):
                raw.append((b"content-length", str(len(body)).encode("latin-1")))
            if content_type:
                _set(raw, b"content-type", content_type.encode("latin-1"))
        return _Prepared(body, status, raw)

    def decorate(self, response: Response, *, driver: str, provider: str | None) -> None:
        """Add the common headers to a response built elsewhere (streams)."""
        response.headers["Server"] = f"Apache-Deltacloud/{API_VERSION}"
        response.headers["X-Deltacloud-Driver"] = driver
        if provider:
            response.headers["X-Deltacloud-Provider"] = provider
        response.headers["Date"] = http_date()
        response.headers["X-Content-Type-Options"] = "nosniff"

    def plain(self, status: int, text: str, *, driver: str, provider: str | None,
              headers: Mapping[str, str] | None = None, method: str = "GET") -> Response:
        """The original's framework texts (400 missing param, 412, 406 ...)."""
        return self.finish(status=status, body=text.encode(), content_type=PLAIN, driver=driver,
                           provider=provider, headers=headers, etag=False, method=method)

    def error(self, error: DeltacloudError, fmt: str | None, env: RenderEnv, *, method: str = "GET",
              headers: Mapping[str, str] | None = None) -> Response:
        """Render ``error`` in ``fmt`` (or XML when no document format was negotiated)."""
        extra: dict[str, str] = dict(error.headers)
        if headers:
            extra.update(headers)
        driver, provider = env.driver_name, env.provider
        if isinstance(error, RequiredParameterMissing):
            return self.plain(400, error.message, driver=driver, provider=provider, headers=extra, method=method)
        if isinstance(error, CapabilityMissing):
            extra["Expect"] = error.capability
            return self.plain(412, error.message, driver=driver, provider=provider, headers=extra, method=method)
        if isinstance(error, NotAcceptable):
            return self.plain(406, "", driver=driver, provider=provider, headers=extra, method=method)
        if isinstance(error, AuthenticationFailure):
            extra.setdefault("WWW-Authenticate", f'Basic realm="{driver}-deltacloud@{self.hostname}"')
        renderer = self.renderers.get(fmt or "xml")
        if renderer is None or not getattr(renderer, "documents", True):
            renderer = self.renderers["xml"]
        body = renderer.render_error(error, env)
        return self.finish(status=error.status, body=body, content_type=renderer.content_type, driver=driver,
                           provider=provider, headers=extra, etag=False, method=method)

    def document(self, status: int, body: bytes, fmt: str, env: RenderEnv, *, method: str = "GET",
                 headers: Mapping[str, Any] | None = None) -> Response:
        renderer = self.renderers[fmt]
        return self.finish(status=status, body=body, content_type=renderer.content_type,
                           driver=env.driver_name, provider=env.provider, method=method,
                           headers={k: str(v) for k, v in (headers or {}).items()})
