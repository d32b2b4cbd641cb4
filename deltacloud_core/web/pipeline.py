"""The pipeline of one collection operation (API.md §2, steps 7-10), one small step per function.

:func:`operation_endpoint` makes the Starlette endpoint of an operation; :func:`run_operation`
runs the steps in order:

0. :func:`_check_ids`: an id that may hold slashes (a blob's) exactly as sent, or 400;
1. :func:`_select_driver`: load the driver class (400 with the install hint when it is not
   installed, 500 when it cannot load), 412 for an operation it does not support, 403 for a
   provider the operator does not allow;
2. :func:`_refuse_anonymous_body`: a body sent to a driver-backed operation without credentials
   is a 401 before a byte of it is read; :func:`_read_body`: the form body (413 past the
   limits), unless the handler streams it;
3. :func:`_merge_params`: query, form, ``POST`` matrix parameters, path (later ones win), and the
   plain-text 400 for a missing required one;
4. :func:`_negotiate`: the best of the operation's formats (406 otherwise);
5. :func:`_run_handler`: the handler under the backend timeout (504 beyond);
6. :func:`_respond`: the outcome rendered in the negotiated format.

A :class:`~deltacloud_core.errors.DeltacloudError` anywhere is rendered in the best document
format known at that point; anything else becomes a 500 with a request id.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from starlette.requests import Request
from starlette.responses import Response

from ..collections.base import Collection, Operation, OperationCall, Outcome, UploadedFile
from ..drivers.base import Driver
from ..errors import (
    AuthenticationRequired,
    CapabilityMissing,
    DeltacloudError,
    NotAcceptable,
    ProviderTimeout,
    RequiredParameterMissing,
)
from .context import RequestContext, ordered_params, request_context, request_credentials
from .forms import BODY_METHODS, read_form
from .idempotent import HEADER as IDEMPOTENCY_HEADER
from .idempotent import applies_to, timeout_advice
from .lazy_timeout import run_with_timeout
from .negotiation import choose
from .outcomes import render_outcome, unexpected
from .renderers import RenderEnv
from .request_checks import check_exact_ids
from .services import Services

__all__ = ["check_provider", "operation_endpoint", "run_operation"]

Endpoint = Callable[[Request], Awaitable[Response]]
#: Methods that change nothing (every other one tells the event watchers: ``EventHub.written``).
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def operation_endpoint(services: Services, collection: Collection, operation: Operation) -> Endpoint:
    """A Starlette endpoint serving one operation."""

    async def endpoint(request: Request) -> Response:
        return await run_operation(services, request, collection, operation)

    endpoint.__name__ = f"{collection.name}_{operation.name}"
    endpoint.direct = True  # type: ignore[attr-defined]  # answers every error itself (see dispatch)
    return endpoint


@dataclass
class _Attempt:
    """What the steps of one operation learn as they go, for the answer or the error."""

    env: RenderEnv
    path_params: dict[str, str]
    started: float
    error_format: str
    timing: dict[str, str] = field(default_factory=dict)

    def time_backend(self) -> None:
        self.timing["X-Backend-Runtime"] = f"{time.perf_counter() - self.started:.6f}"


async def run_operation(services: Services, request: Request, collection: Collection,
                        operation: Operation) -> Response:
    """The whole pipeline of one operation."""
    context = request_context(request)
    path_params = {k: str(v) for k, v in request.path_params.items()}
    env = services.render_env(context, url_path(request), collection=collection, operation=operation,
                              params=ordered_params(context, [], path_params))
    attempt = _Attempt(env, path_params, time.perf_counter(), context.error_format)
    try:
        if context.matrix.altered or "." in request.scope["path"]:
            _check_ids(context, collection, operation, path_params)
        await _select_driver(services, context, collection, operation, env)
        _refuse_anonymous_body(services, request, context, operation)
        form, files = await _read_body(services, request, context, operation, attempt)
        params = _merge_params(context, request.method, operation, form, attempt)
        fmt = _negotiate(services, context, operation, attempt)
        call = OperationCall(
            collection=collection, operation=operation, params=params, path_params=path_params,
            context=context.render, features=services.features,
            driver_factory=services.driver_factory(request, context), headers=request.headers, files=files,
            body_stream=request.stream() if operation.streams_body else None, driver_registry=services.drivers,
            backend=services.backend)
        key = request.headers.get(IDEMPOTENCY_HEADER) if applies_to(operation) else None  # reads: never looked up
        if key is not None:
            return await services.idempotency.run(request, call, key, fmt,
                                                  lambda: _answer(services, request, operation, call, fmt, attempt))
        outcome = await _run_handler(services, operation, call, attempt)
        if services.events is not None and request.method not in _READS:  # watchers look at once
            services.events.written(context.render.driver, collection.name, path_params.get("id"), outcome)
        return _respond(services, request, outcome, fmt, attempt)
    except DeltacloudError as exc:
        # The original timed index/show also when they end in 404 or 406, but no other error.
        if operation.timed and isinstance(exc, NotAcceptable):
            attempt.time_backend()
        headers = attempt.timing if exc.status in (404, 406) else None
        return services.responses.error(exc, attempt.error_format, env, method=request.method, headers=headers)
    except Exception as exc:  # noqa: BLE001 - one place turns surprises into a 500 with a request id
        return await unexpected(services, request, exc, attempt.error_format, env)


async def _select_driver(services: Services, context: RequestContext, collection: Collection, operation: Operation,
                         env: RenderEnv) -> None:
    if operation.driverless:
        return
    driver_cls = services.load_driver(context)
    env.fragments = services.fragments
    if operation.capability is not None and not operation.supported_by(driver_cls):
        raise CapabilityMissing(operation.capability)
    await check_provider(services, driver_cls, context.provider)


async def check_provider(services: Services, driver_cls: type[Driver], provider: str | None) -> None:
    """The provider policy, before anything reads the body or calls the driver: 403 for a provider
    the operator did not allow (host names resolved in a worker thread, never on the event loop)."""
    if provider is None:
        return
    policy = services.providers
    policy.check(driver_cls, provider)
    if policy.needs_resolving(driver_cls, provider):
        await asyncio.get_running_loop().run_in_executor(None, policy.check_resolved, driver_cls, provider)


def _check_ids(context: RequestContext, collection: Collection, operation: Operation,
               path_params: dict[str, str]) -> None:
    base = f"/api/{collection.parent}/{{id}}" if collection.parent else f"/api/{collection.name}"
    problem = check_exact_ids(base + operation.path, context.matrix, path_params)
    if problem is not None:
        raise problem


def _refuse_anonymous_body(services: Services, request: Request, context: RequestContext,
                           operation: Operation) -> None:
    """401 before the body is read: a driver-backed operation that carries a body (every create,
    upload and action of a driver that needs the caller's credentials for what it changes, as
    every driver but one with ``ACCEPTS_ANONYMOUS`` does) and no credentials at all. The
    connection is closed after the answer (the body is never read; the server drops what still
    comes)."""
    if operation.driverless or request.method not in BODY_METHODS:
        return
    driver_cls = context.render.driver_cls
    if driver_cls is not None and driver_cls.ACCEPTS_ANONYMOUS:
        return
    headers = request.headers
    length = headers.get("content-length")
    if not (headers.get("transfer-encoding") or (length and length.strip() not in ("", "0"))):
        return
    if request_credentials(request, services.settings.server_credentials) is None:
        error = AuthenticationRequired()
        error.headers = {**error.headers, "Connection": "close"}
        raise error


async def _read_body(services: Services, request: Request, context: RequestContext, operation: Operation,
                     attempt: _Attempt) -> tuple[list[tuple[str, str]], dict[str, UploadedFile]]:
    if request.method not in BODY_METHODS or operation.streams_body:
        return [], {}
    settings = services.settings
    form, files = await read_form(request, settings.max_body_bytes,
                                  settings.max_upload_bytes if operation.accepts_uploads else None)
    if form:
        attempt.env.request_params = ordered_params(context, form, attempt.path_params)
    return form, files


def _merge_params(context: RequestContext, method: str, operation: Operation, form: list[tuple[str, str]],
                  attempt: _Attempt) -> dict[str, str]:
    params: dict[str, str] = {}
    params.update(context.query)
    params.update(form)
    if method == "POST":
        for key, value in context.matrix.last.items():
            params.setdefault(key, value)
    params.update(attempt.path_params)
    for param in operation.required_params:
        if param.name not in params:
            raise RequiredParameterMissing(param.name, [k for k, _v in attempt.env.request_params])
    return params


def _negotiate(services: Services, context: RequestContext, operation: Operation, attempt: _Attempt) -> str | None:
    fmt = choose(context.ranked, services.formats_of(operation))
    if fmt is None and not operation.negotiate_late:
        raise NotAcceptable()
    if fmt in context.document_formats:
        attempt.error_format = fmt
    return fmt


async def _run_handler(services: Services, operation: Operation, call: OperationCall, attempt: _Attempt) -> Outcome:
    # An upload handler (streams_body) runs as long as the client takes to send the body:
    # the backend timeout would cut off any large or slow upload.
    limit = None if operation.streams_body else services.settings.backend_timeout
    try:
        if _on_asyncio():
            return await run_with_timeout(operation.handler(call), limit)
        with anyio.fail_after(limit):
            return await operation.handler(call)
    except TimeoutError as exc:
        if operation.http_method == "GET":
            raise ProviderTimeout(
                f"The backend did not answer within {services.settings.backend_timeout:g} seconds.") from exc
        raise ProviderTimeout(timeout_advice(services.settings, keyed=False)) from exc
    finally:
        if operation.timed:
            attempt.time_backend()


async def _answer(services: Services, request: Request, operation: Operation, call: OperationCall, fmt: str | None,
                  attempt: _Attempt) -> Response:
    """The operation's answer, errors included, without a time limit (an idempotent run: its
    request waits for it only as long as the backend timeout, the work goes on)."""
    try:
        try:
            outcome = await operation.handler(call)
        finally:
            if operation.timed:
                attempt.time_backend()
        return _respond(services, request, outcome, fmt, attempt)
    except DeltacloudError as exc:
        headers = attempt.timing if exc.status in (404, 406) else None
        return services.responses.error(exc, attempt.error_format, attempt.env, method=request.method, headers=headers)


def _respond(services: Services, request: Request, outcome: Outcome, fmt: str | None, attempt: _Attempt) -> Response:
    if fmt is None and outcome.kind == "raw":
        fmt = "html"  # plain answers (an empty 404) need no representation
    if fmt is None:  # negotiate_late: the change is made, but no acceptable representation
        env = attempt.env
        return services.responses.plain(406, "", driver=env.driver_name, provider=env.provider,
                                        headers=outcome.headers, method=request.method)
    return render_outcome(services, outcome, fmt, attempt.env, request, attempt.timing)


def _on_asyncio() -> bool:
    """True under asyncio, whose own timeout is used then: anyio's fail_after first asks sniffio
    which event loop runs, about 8% of a small request (cProfile, GET /api/instances)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


#: Characters after which ``request.url.path`` is not simply the scope's path.
_URL_SPECIAL = re.compile(r"[?#\\\t\r\n]")


def url_path(request: Request) -> str:
    """``request.url.path`` without building a ``URL`` (5% of a small answer) when the path
    has nothing that the URL's quoting and parsing would change."""
    path: str = request.scope["path"]
    if path.startswith("//") or _URL_SPECIAL.search(path):
        return request.url.path
    return path
