"""From a handler's :class:`~deltacloud_core.collections.Outcome` (or a surprise) to a response."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..collections.base import Outcome
from ..errors import RuntimeFailure
from .conditional import not_modified
from .context import request_context
from .renderers import RenderEnv
from .responses import PLAIN
from .services import Services

__all__ = ["outcome_headers", "render_outcome", "unexpected"]

log = logging.getLogger("deltacloud.web")


def outcome_headers(outcome: Outcome) -> dict[str, str]:
    headers = dict(outcome.headers)
    if outcome.location:
        headers["Location"] = outcome.location
    return headers


def render_outcome(services: Services, outcome: Outcome, fmt: str, env: RenderEnv, request: Request,
                   timing: Mapping[str, str]) -> Response:
    """The response of a successful outcome in the negotiated format ``fmt``."""
    headers = {**outcome_headers(outcome), **timing}
    if outcome.kind == "raw":
        return _raw(services, outcome, env, request, headers)
    responses = services.responses
    method = request.method
    driver, provider = env.driver_name, env.provider
    if outcome.kind == "redirect":
        return responses.finish(status=outcome.status, content_type=PLAIN, driver=driver, provider=provider,
                                headers=headers, method=method)
    if outcome.kind == "empty":
        if fmt == "html" and outcome.html_redirect:
            status = 303 if request.scope.get("http_version", "1.1") != "1.0" else 302
            headers["Location"] = outcome.html_redirect
            # The original: the negotiated text/html (golden blob_delete_html_303.html), no charset.
            return responses.finish(status=status, content_type="text/html", driver=driver, provider=provider,
                                    headers=headers, method=method)
        # A body-less 202 (address associate) still names the negotiated type; a 204 has none.
        renderer = services.renderers.get(fmt)
        return responses.finish(status=outcome.status, driver=driver, provider=provider,
                                content_type=renderer.content_type if renderer else None, headers=headers,
                                method=method)
    body = services.renderers[fmt].render(outcome, env)
    return not_modified(request, responses.document(outcome.status, body, fmt, env, method=method, headers=headers))


def _raw(services: Services, outcome: Outcome, env: RenderEnv, request: Request,
         headers: dict[str, str]) -> Response:
    """Bytes or a stream the handler made itself (blob content, plain answers)."""
    driver, provider = env.driver_name, env.provider
    if outcome.body is not None and not isinstance(outcome.body, bytes):
        streamed = StreamingResponse(outcome.body, status_code=outcome.status, headers=headers,
                                     media_type=outcome.content_type)
        if outcome.decorate:
            services.responses.decorate(streamed, driver=driver, provider=provider)
        return streamed
    body = outcome.body or b""
    if not outcome.decorate:
        return Response(body, status_code=outcome.status, headers=headers, media_type=outcome.content_type)
    return services.responses.finish(status=outcome.status, body=body, content_type=outcome.content_type,
                                     driver=driver, provider=provider, headers=headers, method=request.method,
                                     etag=outcome.content_type != PLAIN)


async def unexpected(services: Services, request: Request, exc: BaseException, fmt: str,
                     env: RenderEnv) -> Response:
    """A surprise: let a plugin answer (``deltacloud_handle_exception``), else 500 with a request
    id, logged with the trace (never the credentials)."""
    context = request_context(request)
    handled: Response | None = services.plugins.hook.deltacloud_handle_exception(request=request, exception=exc)
    if handled is not None:
        return handled
    log.error("request %s %s %s failed (request id %s):\n%s", request.method, request.url.path,
              context.driver_name, context.request_id, "".join(traceback.format_exception(exc)))
    error = RuntimeFailure(f"{exc} (request id {context.request_id})", type(exc).__name__)
    return services.responses.error(error, fmt, env, method=request.method,
                                    headers={"X-Request-Id": context.request_id})
