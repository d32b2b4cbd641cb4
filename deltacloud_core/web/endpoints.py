"""The request handlers: one generic endpoint per collection operation, plus the entry point."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from ..collections.base import Collection, Operation, OperationCall, Outcome, UploadedFile
from ..drivers.base import Driver
from ..drivers.registry import UnknownDriver
from ..errors import (
    BackendError,
    CapabilityMissing,
    DeltacloudError,
    NotAcceptable,
    PayloadTooLarge,
    ProviderTimeout,
    RequiredParameterMissing,
    ValidationError,
)
from ..schemas.context import RenderContext
from .lazy_timeout import run_with_timeout
from .negotiation import choose
from .renderers import RenderEnv
from .request_info import RequestInfo, ordered_params, request_credentials, request_info

if TYPE_CHECKING:
    from .app import DeltacloudApp

__all__ = ["DOCUMENT_FORMATS", "RuntimeFailure", "check_provider", "operation_endpoint", "run_operation"]

log = logging.getLogger("deltacloud.web")

DOCUMENT_FORMATS = frozenset({"xml", "json", "html"})


class RuntimeFailure(BackendError):
    """An unexpected failure, reported with the class name clients saw from the original."""

    def __init__(self, message: str, error_class: str = "RuntimeError") -> None:
        super().__init__(message)
        self.error_class = error_class


def operation_endpoint(app: DeltacloudApp, collection: Collection,
                       operation: Operation) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint serving one operation."""

    async def endpoint(request: Request) -> Response:
        return await run_operation(app, request, collection, operation)

    endpoint.__name__ = f"{collection.name}_{operation.name}"
    endpoint.direct = True  # type: ignore[attr-defined]  # answers every error itself (app._dispatch)
    return endpoint


async def read_form(request: Request, max_bytes: int,
                    max_upload_bytes: int | None = None) -> tuple[list[tuple[str, str]], dict[str, UploadedFile]]:
    """Form fields (urlencoded or multipart) in order, and the uploaded files.

    The body is counted as it arrives (``Content-Length`` may be absent or lie): past
    ``max_bytes`` it is a 413. ``max_upload_bytes`` (operations that take file uploads,
    whose parts spool to disk) raises the limit for multipart bodies.
    """
    content_type = request.headers.get("content-type", "")
    multipart = content_type.startswith("multipart/form-data")
    if request.method not in ("POST", "PUT", "DELETE") or not (
            multipart or content_type.startswith("application/x-www-form-urlencoded")):
        return [], {}
    limit = max_upload_bytes if multipart and max_upload_bytes is not None else max_bytes
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"Request body of {length} bytes is larger than the limit of {limit} bytes.")
    received = 0

    async def counting_receive() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes.")
        return message

    limited = Request(request.scope, counting_receive)
    try:
        form = await limited.form(max_files=100, max_fields=10000, max_part_size=max_bytes)
    except PayloadTooLarge:
        raise
    except Exception as exc:  # python-multipart / Starlette parse errors: the client's fault
        if "maximum size" in str(exc):
            raise PayloadTooLarge(f"A form field is larger than the limit of {max_bytes} bytes.") from exc
        raise ValidationError(f"The request body could not be parsed: {exc}") from exc
    fields: list[tuple[str, str]] = []
    files: dict[str, UploadedFile] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            upload = value
            files[key] = UploadedFile(filename=upload.filename, content_type=upload.content_type,
                                      size=upload.size, file=upload.file)
            fields.append((key, upload.filename or ""))
        else:
            fields.append((key, value))
    return fields, files


def _on_asyncio() -> bool:
    """True under asyncio, whose own timeout is used then: anyio's fail_after first asks sniffio
    which event loop runs, about 8% of a small request (cProfile, GET /api/instances)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def driver_factory(app: DeltacloudApp, request: Request, info: RequestInfo,
                   driver_cls: type[Driver]) -> Callable[[], Driver]:
    def build() -> Driver:
        def credentials() -> Any:
            return request_credentials(request, app.settings.server_credentials)

        app.providers.check(driver_cls, info.provider)
        driver = driver_cls(credentials=credentials, provider=info.provider)
        driver.state_machine = app.state_machine_for(driver_cls)
        driver.allowed_providers = app.providers.allowed_for(driver_cls.driver_id)
        return driver

    return build


async def check_provider(app: DeltacloudApp, driver_cls: type[Driver], provider: str | None) -> None:
    """The provider policy, before anything reads the body or calls the driver: 403 for a provider
    the operator did not allow (host names resolved in a worker thread, never on the event loop)."""
    if provider is None:
        return
    app.providers.check(driver_cls, provider)
    if app.providers.needs_resolving(driver_cls, provider):
        await asyncio.get_running_loop().run_in_executor(None, app.providers.check_resolved, driver_cls, provider)


def context_for(app: DeltacloudApp, info: RequestInfo, driver_cls: type[Driver] | None,
                   driver: Driver | None = None) -> RenderContext:
    return RenderContext(api_url=info.api_url, driver_cls=driver_cls, driver=driver,
                         state_machine=app.state_machine_for(driver_cls) if driver_cls else None)


async def run_operation(app: DeltacloudApp, request: Request, collection: Collection,
                        operation: Operation) -> Response:
    """The whole pipeline of one operation (API.md §2, steps 7-10)."""
    info = request_info(request)
    started = time.perf_counter()
    path_params = {k: str(v) for k, v in request.path_params.items()}
    env = RenderEnv(context=RenderContext(api_url=info.api_url), resources=app.resources,
                    driver_name=info.driver_name, provider=info.provider, path=url_path(request),
                    request_params=ordered_params(info, [], path_params), collection=collection,
                    operation=operation, page_facts=partial(app.page_facts, info))
    error_format = choose(info.ranked, DOCUMENT_FORMATS) or "xml"
    call: OperationCall | None = None
    timing: dict[str, str] = {}
    try:
        driver_cls: type[Driver] | None = None
        if not operation.driverless:
            try:
                driver_cls = app.drivers.load(info.driver_name)
            except UnknownDriver as exc:
                raise RuntimeFailure(exc.message) from exc
            env.context = context_for(app, info, driver_cls)
            if collection.name in driver_cls.REUSES_MODELS:
                env.fragments = app.fragments
            if operation.capability is not None and not operation.supported_by(driver_cls):
                raise CapabilityMissing(operation.capability)
            await check_provider(app, driver_cls, info.provider)
        form: list[tuple[str, str]] = []
        files: dict[str, UploadedFile] = {}
        if request.method in _BODY_METHODS and not operation.streams_body:
            form, files = await read_form(request, app.settings.max_body_bytes,
                                          app.settings.max_upload_bytes if operation.accepts_uploads else None)
            if form:
                env.request_params = ordered_params(info, form, path_params)
        params: dict[str, str] = {}
        params.update(info.query)
        params.update(form)
        if request.method == "POST":
            for key, value in info.matrix.last.items():
                params.setdefault(key, value)
        params.update(path_params)
        for param in operation.required_params:
            if param.name not in params:
                raise RequiredParameterMissing(param.name, [k for k, _v in env.request_params])
        fmt = choose(info.ranked, operation.formats)
        if fmt is None and not operation.negotiate_late:
            raise NotAcceptable()
        if fmt in DOCUMENT_FORMATS:
            error_format = fmt
        call = OperationCall(
            collection=collection, operation=operation, params=params, path_params=path_params,
            api_url=info.api_url, driver_name=info.driver_name, features=app.features,
            driver_factory=driver_factory(app, request, info, driver_cls) if driver_cls else
            _lazy_driver(app, request, info),
            state_machine_for=app.state_machine_for, headers=request.headers, files=files,
            body_stream=request.stream() if operation.streams_body else None,
            driver_registry=app.drivers)
        try:
            # An upload handler (streams_body) runs as long as the client takes to send the body:
            # the backend timeout would cut off any large or slow upload.
            limit = None if operation.streams_body else app.settings.backend_timeout
            if _on_asyncio():
                outcome = await run_with_timeout(operation.handler(call), limit)
            else:
                with anyio.fail_after(limit):
                    outcome = await operation.handler(call)
        except TimeoutError as exc:
            raise ProviderTimeout(
                f"The backend did not answer within {app.settings.backend_timeout:g} seconds.") from exc
        finally:
            if operation.timed:
                timing["X-Backend-Runtime"] = f"{time.perf_counter() - started:.6f}"
        if call._driver is not None:
            env.context.driver = call._driver
        if fmt is None and outcome.kind == "raw":
            fmt = "html"  # plain answers (an empty 404) need no representation
        if fmt is None:  # negotiate_late: the change is made, but no acceptable representation
            return app.responses.plain(406, "", driver=info.driver_name, provider=info.provider,
                                       headers=outcome.headers, method=request.method)
        return app.render_outcome(outcome, fmt, env, request, timing)
    except DeltacloudError as exc:
        # The original timed index/show also when they end in 404 or 406, but no other error.
        if operation.timed and isinstance(exc, NotAcceptable):
            timing["X-Backend-Runtime"] = f"{time.perf_counter() - started:.6f}"
        headers = timing if exc.status in (404, 406) else None
        return app.responses.error(exc, error_format, env, method=request.method, headers=headers)
    except Exception as exc:  # noqa: BLE001 - one place turns surprises into a 500 with a request id
        return await app.unexpected(request, exc, error_format, env)


#: Methods whose form body is read (``read_form`` answers nothing for the others).
_BODY_METHODS = frozenset({"POST", "PUT", "DELETE"})
#: Characters after which ``request.url.path`` is not simply the scope's path.
_URL_SPECIAL = re.compile(r"[?#\\\t\r\n]")


def url_path(request: Request) -> str:
    """``request.url.path`` without building a ``URL`` (5% of a small answer) when the path
    has nothing that the URL's quoting and parsing would change."""
    path: str = request.scope["path"]
    if path.startswith("//") or _URL_SPECIAL.search(path):
        return request.url.path
    return path


def _lazy_driver(app: DeltacloudApp, request: Request, info: RequestInfo) -> Callable[[], Driver]:
    """For driverless operations that may still consult the driver (``/api/drivers/:current``)."""

    def build() -> Driver:
        try:
            driver_cls = app.drivers.load(info.driver_name)
        except UnknownDriver as exc:
            raise RuntimeFailure(exc.message) from exc
        return driver_factory(app, request, info, driver_cls)()

    return build


def outcome_headers(outcome: Outcome) -> dict[str, str]:
    headers = dict(outcome.headers)
    if outcome.location:
        headers["Location"] = outcome.location
    return headers
