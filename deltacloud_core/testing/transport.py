"""Two ways to send the kit's requests to a driver, with one answer type.

* :class:`InProcess` dispatches ``(method, path, params, body)`` to the collection
  operations of the app's registry and runs their handlers against the driver object
  itself: the core's own checks (412 for what the driver lacks, required parameters, 405
  for actions the state machine forbids) and the driver, but no HTTP. Members are dumped
  through their JSON schemas, so answers look like the API's JSON documents.
* :class:`Http` sends the same requests to an ASGI server (in-process) or a live one.

Paths are relative to ``/api``: ``request("POST", "/instances/inst1/stop")``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    import httpx

    from ..collections.base import Collection, CollectionRegistry, Operation, Outcome
    from ..drivers.base import Driver
    from ..schemas.context import RenderContext
    from ..web.app import DeltacloudApp

__all__ = ["API_URL", "Http", "InProcess", "Reply", "Transport", "UnknownRouteParameter", "build_app", "driver_name",
           "find_operation", "operation_path", "route_order"]

#: The API root URL both transports pretend to serve.
API_URL = "http://deltacloud.test/api"


@dataclass
class Reply:
    """One answer: status, the JSON document (if any), raw body and headers."""

    status: int
    document: Any = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The error message of an error answer.
    message: str | None = None
    #: In-process only: the handler's outcome (the model objects before dumping).
    outcome: Outcome | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    def member(self, tag: str) -> dict[str, Any]:
        """The member document ``{"<tag>": {...}}`` unwrapped (or the bare one)."""
        doc = self.document
        if isinstance(doc, dict) and isinstance(doc.get(tag), dict):
            return doc[tag]
        if isinstance(doc, dict):
            return doc
        raise AssertionError(f"expected a {tag} document, got {self.describe()}")

    def describe(self) -> str:
        text = self.message or (self.body[:300].decode("utf-8", "replace") if self.body else "")
        return f"{self.status} {text}".strip()


class Transport(AbstractContextManager["Transport"]):
    """Sends requests; implementations answer every request with a :class:`Reply`."""

    name = "transport"

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Reply:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the transport holds."""

    def __exit__(self, *exc: object) -> None:
        self.close()


_NAMES: dict[type[Driver], str] = {}


def driver_name(driver_cls: type[Driver]) -> str:
    """The id the driver is known by: its ``driver_id``, else the name of the entry point that
    installs it, else its class name (``FooBarDriver`` -> ``foo_bar``); worked out once per class."""
    if driver_cls.driver_id:
        return driver_cls.driver_id
    if driver_cls not in _NAMES:
        _NAMES[driver_cls] = _installed_name(driver_cls)
    return _NAMES[driver_cls]


def _installed_name(driver_cls: type[Driver]) -> str:
    from importlib.metadata import entry_points

    from ..drivers.registry import DRIVER_GROUP

    wanted = {f"{c.__module__}:{c.__qualname__}" for c in driver_cls.__mro__
              if c.__module__ != "builtins" and not c.__module__.startswith("deltacloud_core.")}
    for ep in entry_points(group=DRIVER_GROUP):
        if ep.value.replace(" ", "") in wanted:
            return ep.name
    name = driver_cls.__name__
    if name.endswith("Driver") and len(name) > len("Driver"):
        name = name[: -len("Driver")]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def build_app(driver_cls: type[Driver], *, provider: str | None = None, plugins: Iterable[object] = (),
              backend_timeout: float = 60.0) -> DeltacloudApp:
    """An app serving ``driver_cls`` by default, with the installed plugins plus ``plugins``."""
    from ..drivers.registry import DriverRegistry
    from ..plugins import get_plugin_manager, new_plugin_manager
    from ..web import Settings, create_app

    extra = tuple(plugins)
    pm = new_plugin_manager(extra) if extra else get_plugin_manager()
    name = driver_name(driver_cls)
    registry = DriverRegistry()
    registry.register(name, driver_cls)
    settings = Settings(default_driver=name, default_provider=provider, backend_timeout=backend_timeout)
    return create_app(settings, plugin_manager=pm, drivers=registry)


# -- in-process ---------------------------------------------------------------------------------

#: A path parameter of an operation template: ``{id}``, or ``{blob_id:rest}`` with a converter.
_PARAM = re.compile(r"\{([a-z_]+)(?::([a-z]+))?\}")
#: What each converter the app's router knows matches (``deltacloud_core.web.routing``).
_CONVERTERS = {None: "[^/]+", "rest": "[^/]+(?:/[^/]+)*"}


class UnknownRouteParameter(ValueError):
    """An operation path uses a converter the kit's transport does not know: a kit bug, never a skip."""


@cache
def _template_regex(template: str) -> re.Pattern[str]:
    regex, last = [], 0
    for match in _PARAM.finditer(template):
        name, converter = match.groups()
        if converter not in _CONVERTERS:
            raise UnknownRouteParameter(
                f"route {template!r}: the conformance kit does not understand the converter '{converter}' "
                f"of {{{name}:{converter}}} (known: {', '.join(c for c in _CONVERTERS if c)}); "
                "teach deltacloud_core/testing/transport.py")
        regex.append(re.escape(template[last:match.start()]))
        regex.append(f"(?P<{name}>{_CONVERTERS[converter]})")
        last = match.end()
    regex.append(re.escape(template[last:]))
    return re.compile(f"^{''.join(regex)}$")


def route_order(operations: Iterable[Operation]) -> list[Operation]:
    """``operations`` in the order the app's router tries them: paths with a fixed tail
    (``.../content``) before those ending in a parameter (a blob id may hold slashes), explicit
    HEAD operations before the others (``DeltacloudApp._collection_routes``)."""
    return sorted(operations, key=lambda o: (o.path.endswith("}"), o.http_method != "HEAD"))


def find_operation(collections: CollectionRegistry, method: str,
                   path: str) -> tuple[Collection, Operation, dict[str, str]] | None:
    """The collection operation serving ``method path`` (below ``/api``) and its path parameters.

    Mirrors the app's routing: the first segment names the collection; its operations
    come first, then those of its sub-collections, which live below a member
    (``/buckets/{id}/{blob_id:rest}``); within a collection, in :func:`route_order`.
    """
    segments = path.strip("/").split("/", 1)
    name = unquote(segments[0])
    rest = "/" + segments[1] if len(segments) > 1 else ""
    top = collections.get(name)
    families = ([(top, "")] if top is not None and top.parent is None else []) + [
        (c, "/{id}") for c in collections if c.parent == name]
    for collection, prefix in families:
        for op in route_order(collection.operations):
            if op.http_method != method.upper():
                continue
            match = _template_regex(prefix + op.path).match(rest)
            if match is not None:
                return collection, op, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def operation_path(collection: Collection, op: Operation, fill: str) -> str:
    """A concrete path of ``op`` below ``/api`` with every path parameter set to ``fill``."""
    base = f"/{collection.parent}/{{id}}" if collection.parent else f"/{collection.name}"
    return _PARAM.sub(quote(fill, safe=""), base + op.path)


class InProcess(Transport):
    """Runs collection operations against one driver object, without HTTP."""

    name = "in-process"

    def __init__(self, app: DeltacloudApp, driver: Driver, *, step_timeout: float = 30.0) -> None:
        from anyio.from_thread import start_blocking_portal

        self.app = app
        self.driver = driver
        self.driver_cls = type(driver)
        self.step_timeout = step_timeout
        driver.state_machine = app.state_machine_for(self.driver_cls)
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()

    def close(self) -> None:
        if self._portal_cm is not None:
            self._portal_cm.__exit__(None, None, None)
            self._portal_cm = None  # type: ignore[assignment]

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Reply:
        from ..errors import DeltacloudError

        found = find_operation(self.app.collections, method, path)
        if found is None:
            return Reply(404, message=f"no operation serves {method} {path}")
        collection, op, path_params = found
        try:
            outcome = self._portal.call(self._run, collection, op, dict(params or {}), path_params, body,
                                        dict(headers or {}))
        except DeltacloudError as exc:
            return Reply(exc.status, document={"code": exc.status, "message": exc.message},
                         message=exc.message, headers=dict(exc.headers))
        return self._reply(outcome)

    async def _run(self, collection: Collection, op: Operation, params: dict[str, str],
                   path_params: dict[str, str], body: bytes | None, headers: dict[str, str]) -> Outcome:
        import anyio
        from starlette.datastructures import Headers

        from ..collections.base import OperationCall
        from ..errors import CapabilityMissing, ProviderTimeout, RequiredParameterMissing

        if op.capability is not None and not op.driverless and not op.supported_by(self.driver_cls):
            raise CapabilityMissing(op.capability)
        merged = {**params, **path_params}
        for param in op.required_params:
            if param.name not in merged:
                raise RequiredParameterMissing(param.name, list(merged))

        async def stream() -> AsyncIterator[bytes]:
            if body:
                yield body

        call = OperationCall(
            collection=collection, operation=op, params=merged, path_params=path_params, context=self.context(),
            features=self.app.features, driver_factory=lambda: self.driver,
            headers=Headers(headers=headers), body_stream=stream() if op.streams_body else None,
            driver_registry=self.app.drivers)
        try:
            with anyio.fail_after(self.step_timeout):
                outcome = await op.handler(call)
                if outcome.kind == "raw" and outcome.body is not None and not isinstance(outcome.body, bytes):
                    outcome.body = await _collect(outcome.body)
        except TimeoutError as exc:
            raise ProviderTimeout(f"{collection.name} {op.name} took longer than {self.step_timeout:g} s "
                                  "(raise ConformanceSettings.step_timeout for a slow backend)") from exc
        return outcome

    def _reply(self, outcome: Outcome) -> Reply:
        headers = dict(outcome.headers)
        if outcome.location:
            headers["Location"] = outcome.location
        if outcome.kind in ("collection", "member"):
            body = self.render("json", outcome)
            return Reply(outcome.status, document=json.loads(body), body=body, headers=headers, outcome=outcome)
        if outcome.kind == "raw":
            if outcome.content_type:
                headers.setdefault("Content-Type", outcome.content_type)
            return Reply(outcome.status, body=outcome.body or b"", headers=headers, outcome=outcome)  # type: ignore[arg-type]
        return Reply(outcome.status, headers=headers, outcome=outcome)

    # -- rendering -------------------------------------------------------------------------
    def context(self, api_url: str = API_URL) -> RenderContext:
        """The render context of a request to this transport's driver."""
        from ..schemas.context import RenderContext

        return RenderContext(api_url=api_url, driver_name=driver_name(self.driver_cls), provider=self.driver.provider,
                             driver_cls=self.driver_cls, driver=self.driver,
                             state_machine=self.app.state_machine_for(self.driver_cls))

    def render(self, fmt: str, outcome: Outcome) -> bytes:
        """``outcome`` as the server would send it in ``fmt`` (``xml`` or ``json``)."""
        from ..web.renderers import RenderEnv

        env = RenderEnv(context=self.context(), resources=self.app.services.resources)
        return self.app.renderers[fmt].render(outcome, env)


async def _collect(chunks: Iterable[bytes] | AsyncIterable[bytes]) -> bytes:
    out = bytearray()
    if isinstance(chunks, AsyncIterable):
        async for chunk in chunks:
            out.extend(chunk)
    else:
        import anyio.to_thread

        out.extend(await anyio.to_thread.run_sync(lambda: b"".join(chunks)))
    return bytes(out)


# -- HTTP ---------------------------------------------------------------------------------------

class Http(Transport):
    """Sends the requests over HTTP with an ``httpx.Client`` (JSON unless told otherwise)."""

    name = "http"

    def __init__(self, client: httpx.Client, *, prefix: str = "/api") -> None:
        self.client = client
        self.prefix = prefix

    def url(self, path: str) -> str:
        return self.prefix + "/".join(quote(unquote(p), safe=";=") for p in path.split("/"))

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                body: bytes | None = None, headers: Mapping[str, str] | None = None,
                fmt: str = "json") -> Reply:
        sent = {"Accept": _ACCEPT[fmt], **(headers or {})}
        kwargs: dict[str, Any] = {"headers": sent, "follow_redirects": False}
        if body is not None:
            kwargs["content"] = body
            kwargs["params"] = dict(params or {})
        elif method.upper() in ("GET", "HEAD"):
            kwargs["params"] = dict(params or {})
        else:
            kwargs["data"] = dict(params or {})
        response = self.client.request(method.upper(), self.url(path), **kwargs)
        document = None
        message = None
        if response.headers.get("content-type", "").startswith("application/json") and response.content:
            document = response.json()
            if response.status_code >= 400 and isinstance(document, dict):
                message = str(document.get("message"))
        elif response.status_code >= 400:
            message = response.text[:300]
        return Reply(response.status_code, document=document, body=response.content,
                     headers=dict(response.headers), message=message)


_ACCEPT = {"json": "application/json", "xml": "application/xml", "html": "text/html"}
