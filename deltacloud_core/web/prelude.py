"""The ASGI prelude of every ``/api`` request (API.md §2, steps 1-5): it builds the request's
:class:`~.context.RequestContext` once and hands the request on.

1. Matrix parameters are taken out of the path (``/api;driver=ec2;provider=eu-west-1/instances``
   routes as ``/api/instances``).
2. Negotiation, stage 1: ``?format=`` or ``Accept`` gives the ranked formats; nothing acceptable
   is a 406 with an empty body, and nothing else runs.
3. Driver and provider: matrix parameters, then ``X-Deltacloud-*`` headers, then the server default.
4. Method override: ``X-HTTP-Method-Override``, or a ``_method`` field of a urlencoded ``POST``.
5. Host check: no ``Host`` header is a plain 400; a malformed matrix parameter a 400 document.

Hostile input stops here with a 400 document (:mod:`.request_checks`): a path whose percent-escapes
are not UTF-8, a driver that is no driver id, a provider with control or non-ASCII characters; and
a cross-site browser request that would change something is a 403. A form body that ends before
its ``Content-Length`` (the client went away) is never handed on as complete.

Everything else (the root page, static files, non-HTTP scopes) goes straight to ``inner``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..credentials import parse_basic_authorization
from ..errors import DeltacloudError, ValidationError
from ..schemas.context import RenderContext
from .context import RequestContext, parse_query
from .matrix import parse_matrix_path
from .negotiation import choose, rank_formats
from .request_checks import check_choice, check_path, check_same_origin
from .services import Services

__all__ = ["Prelude"]


class Prelude:
    """ASGI middleware: the request context for ``/api`` requests, then ``inner``."""

    def __init__(self, services: Services, inner: ASGIApp, api_inner: ASGIApp) -> None:
        self.services = services
        #: Where everything that is not an API request goes.
        self.inner = inner
        #: Where API requests go once their context is made.
        self.api_inner = api_inner
        self.media_types = services.renderers.media_types()
        self._ranked: dict[tuple[str | None, str | None], tuple[str, ...]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        root = scope.get("root_path", "")
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else scope["path"]
        if root and raw_path.startswith(root):
            raw_path = raw_path[len(root):]
        if not (raw_path == "/api" or raw_path.startswith(("/api/", "/api;"))):
            await self.inner(scope, receive, send)
            return
        matrix = parse_matrix_path(raw_path)
        query_string = scope.get("query_string", b"")
        query = parse_query(query_string) if query_string else []
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        formats = [v for k, v in query if k == "format"] if query else None
        ranked = self._rank(formats[-1] if formats else None, headers.get("accept"))
        if not ranked:
            await Response(status_code=406, headers={"X-Content-Type-Options": "nosniff"})(scope, receive, send)
            return
        driver, provider = self._choose_driver(matrix.params.get("api", {}), headers)
        refusal: DeltacloudError | None = check_path(raw_path) or check_choice(driver, provider)
        if refusal is not None:  # answered for the server's own driver: the request's cannot be echoed
            driver, provider = self.services.settings.default_driver, None
        host = headers.get("host")
        render = RenderContext(api_url=f"{scope.get('scheme', 'http')}://{host}{root}/api", driver_name=driver,
                               provider=provider)
        context = RequestContext(render=render, matrix=matrix, ranked=ranked, query=query,
                                 document_formats=self.services.document_formats)
        scope.setdefault("state", {})["deltacloud"] = context
        # Routing reads the path; ``raw_path`` stays as the client sent it, percent-encoded (the access
        # log writes it: a %0d%0a in it is no line break there).
        scope["path"] = root + matrix.path
        responses = self.services.responses
        if not host:
            await responses.plain(400, "Unable to find HTTP Host header", driver=driver,
                                  provider=provider)(scope, receive, send)
            return
        if matrix.malformed and refusal is None:
            refusal = ValidationError("Malformed matrix parameter in the path: write ;name=value "
                                      "(e.g. /api;driver=mock;provider=default).")
        if refusal is None:
            refusal = check_same_origin(scope["method"], headers, host)
        if refusal is not None:
            env = self.services.render_env(context, matrix.path)
            await responses.error(refusal, choose(ranked, self.services.document_formats), env,
                                  method=scope["method"])(scope, receive, send)
            return
        override = headers.get("x-http-method-override")
        if scope["method"] == "POST":
            if override:
                scope["method"] = override.upper()
            elif headers.get("content-type", "").startswith("application/x-www-form-urlencoded") \
                    and self._has_credentials(headers):
                # Without credentials the body is not read here: the operation answers 401 unread.
                receive = await self._method_field_override(scope, receive, headers)
        await self.api_inner(scope, receive, send)

    def _choose_driver(self, api_matrix: Mapping[str, str], headers: Mapping[str, str]) -> tuple[str, str | None]:
        """Matrix parameters, then ``X-Deltacloud-*`` headers, then the server's defaults."""
        settings = self.services.settings
        driver = (api_matrix.get("driver") or headers.get("x-deltacloud-driver") or settings.default_driver)
        provider = (api_matrix.get("provider") or headers.get("x-deltacloud-provider") or settings.default_provider)
        # Lower-cased as the original did (EU-West-1 -> eu-west-1), except URLs (a Keystone path).
        provider = provider.strip() if provider else None
        if provider and "://" not in provider:
            provider = provider.lower()
        return driver.strip().lower(), provider

    def _has_credentials(self, headers: Mapping[str, str]) -> bool:
        return self.services.settings.server_credentials is not None or \
            parse_basic_authorization(headers.get("authorization")) is not None

    def _rank(self, format_param: str | None, accept: str | None) -> tuple[str, ...]:
        """:func:`rank_formats` for the app's renderers, remembered per distinct question
        (clients send the same few ``Accept`` headers again and again)."""
        key = (format_param, accept)
        ranked = self._ranked.get(key)
        if ranked is None:
            ranked = tuple(rank_formats(format_param, accept, self.media_types))
            if len(self._ranked) >= 1024:
                self._ranked.clear()
            self._ranked[key] = ranked
        return ranked

    async def _method_field_override(self, scope: Scope, receive: Receive, headers: Mapping[str, str]) -> Receive:
        """Honour a ``_method`` form field (HTML forms delete with ``_method=delete``)."""
        length = headers.get("content-length", "")
        if not length.isdigit() or int(length) > self.services.settings.max_body_bytes:
            return receive
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away before the whole body came: hand on the disconnect, never
                # the half body as if it were complete (it would be executed).
                return _disconnected(message)
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if key == "_method" and value:
                scope["method"] = value.upper()
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _disconnected(message: Message) -> Receive:
    """A ``receive`` that answers ``message`` (the client's disconnect) from now on."""

    async def receive() -> Message:
        return dict(message)

    return receive
