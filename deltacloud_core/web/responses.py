"""Turning outcomes and errors into HTTP responses with the headers the original sent."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
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


class ResponseFactory:
    """Builds every response of the API so the common headers are added in one place."""

    def __init__(self, renderers: RendererRegistry, hostname: str = "") -> None:
        self.renderers = renderers
        self.hostname = hostname

    def finish(self, *, status: int, body: bytes = b"", content_type: str | None = None,
               driver: str, provider: str | None, method: str = "GET",
               headers: Mapping[str, str] | None = None, etag: bool = True) -> Response:
        """A response with ``Server``, driver/provider, ETag and protection headers."""
        out: dict[str, str] = {"Server": f"Apache-Deltacloud/{API_VERSION}", "X-Deltacloud-Driver": driver}
        if provider:
            out["X-Deltacloud-Provider"] = provider
        out["Date"] = http_date()
        out["X-Content-Type-Options"] = "nosniff"
        if content_type and content_type.startswith(_MARKUP_TYPES) and status != 204:
            out["X-XSS-Protection"] = "1; mode=block"
            out["X-Frame-Options"] = "SAMEORIGIN"
        if etag and status in (200, 201) and body and method != "HEAD":
            out["ETag"] = hashlib.md5(body, usedforsecurity=False).hexdigest()
            out["Cache-Control"] = "max-age=0, private, must-revalidate"
        if headers:
            out.update(headers)
        response = Response(content=body if status != 204 else b"", status_code=status, headers=out,
                            media_type=None)
        if content_type and status != 204:
            response.headers["Content-Type"] = content_type
        if status == 204:
            for name in ("content-type", "content-length"):
                if name in response.headers:
                    del response.headers[name]
        return response

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
        if renderer is None or fmt not in ("xml", "json", "html"):
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
