"""Collections and their operations, as data the web layer turns into routes.

A collection module builds one :class:`Collection` and registers it from its
``deltacloud_register_collections`` hook implementation. Each :class:`Operation` names the
HTTP method and path, the driver capability it needs (412 otherwise), its parameters
(required ones are checked before anything else, 400 otherwise) and an async handler
that turns an :class:`OperationCall` into an :class:`Outcome`. Handlers never see HTTP
objects; the web layer renders outcomes in the negotiated format.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

import anyio
import anyio.from_thread
import anyio.lowlevel

from ..backends.calls import BackendCalls, default_calls
from ..drivers.base import Driver, runs_on_loop
from ..drivers.capabilities import implements
from ..errors import DeltacloudError, ObjectNotFound
from ..features import FeatureRegistry
from ..schemas.context import RenderContext
from ..state_machine import StateMachine

__all__ = [
    "ALL_FORMATS",
    "Answer",
    "BodyReader",
    "Collection",
    "CollectionRegistry",
    "Handler",
    "Operation",
    "OperationCall",
    "Outcome",
    "Param",
    "Requirement",
    "Resource",
    "call_driver",
    "invoke_driver",
    "needs",
    "read_operations",
]

#: The core's document formats (``Operation.formats=None`` means these and any a plugin adds).
ALL_FORMATS: frozenset[str] = frozenset({"xml", "json", "html"})
DATA_FORMATS: frozenset[str] = frozenset({"xml", "json"})
HTML_ONLY: frozenset[str] = frozenset({"html"})

Requirement = Callable[[type[Driver]], bool]
Handler = Callable[["OperationCall"], Coroutine[Any, Any, "Outcome"]]

#: Per driver function: 0 plain (worker thread), 1 ``async def`` (awaited), 2 ``@nonblocking`` (on the loop).
_HOW: dict[Any, int] = {}
_THREAD, _AWAIT, _ON_LOOP = 0, 1, 2
#: Operations whose driver calls are reads, which the server may retry on its own.
_READ_METHODS = frozenset({"GET", "HEAD"})


def _how_to_call(func: Any) -> int:
    """How a bound driver method is called, worked out once per function of a driver class."""
    target = getattr(func, "__func__", func)
    how = _HOW.get(target)
    if how is None:
        how = _AWAIT if inspect.iscoroutinefunction(func) else _ON_LOOP if runs_on_loop(func) else _THREAD
        if len(_HOW) < 10_000:
            _HOW[target] = how
    return how


async def invoke_driver(driver: Driver, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``driver.<method>``: right here when marked :func:`~deltacloud_core.nonblocking`, else in
    the bulkhead of the driver and provider, awaited when async, else in a worker thread (so a slow
    cloud never blocks the event loop nor another cloud). The process's default
    :class:`~deltacloud_core.backends.BackendCalls`; operations use their app's (:func:`call_driver`)."""
    return await call_driver(None, driver, method, args, kwargs)


async def call_driver(calls: BackendCalls | None, driver: Driver, method: str, args: tuple[Any, ...],
                      kwargs: dict[str, Any], *, read: bool = False) -> Any:
    """:func:`invoke_driver` through ``calls`` (None: the default); ``read``: the call may be retried."""
    func = getattr(driver, method)
    how = _how_to_call(func)
    if how == _ON_LOOP:
        return func(*args, **kwargs)
    return await (calls or default_calls()).call(driver.driver_id, driver.provider, method, func, how == _AWAIT,
                                                 args, kwargs, read=read)


def needs(*methods: str) -> Requirement:
    """A requirement: the driver implements every one of ``methods``."""

    def requirement(driver_cls: type[Driver]) -> bool:
        return all(implements(driver_cls, m) for m in methods)

    requirement.__doc__ = "implements " + ", ".join(methods)
    return requirement


@dataclass(frozen=True)
class Param:
    """A parameter of an operation (query string, form body or path)."""

    name: str
    type: str = "string"
    required: bool = False
    description: str = ""
    #: Allowed values, shown in docs (not enforced unless the handler does).
    values: tuple[str, ...] = ()
    #: Listed in ``OPTIONS`` answers; False for parameters the original did not declare
    #: (filters, ``hwp_*`` overrides) but which we document.
    advertised: bool = True

    def spec(self) -> str:
        return f"{self.name}:{self.type}:{'required' if self.required else 'optional'}"


@dataclass(frozen=True)
class Answer:
    """What a successful call of an operation answers, as the OpenAPI document and the docs tell it.

    ``body``: ``"member"`` (``{"<tag>": <resource>}``), ``"list"`` (``{"<plural>": [...]}``),
    ``"bare"`` (the resource's document itself), ``"member_or_list"`` (one or several, as instance
    creation with ``instance_count``), ``"raw"`` (bytes of ``media_type``) or None (no body).
    ``resource`` names the resource carried (default: the collection's first).
    """

    status: int
    description: str
    body: Literal["member", "list", "bare", "member_or_list", "raw"] | None = "member"
    resource: str | None = None
    media_type: str | None = None
    #: The answer has a ``Location`` header (the new object's URL).
    location: bool = False


@dataclass(frozen=True)
class Operation:
    """One operation of a collection."""

    name: str
    http_method: Literal["GET", "POST", "PUT", "DELETE", "HEAD"]
    #: Path below the collection's URL: ``""``, ``"/{id}"``, ``"/{id}/reboot"``.
    path: str
    handler: Handler
    #: Name sent in the ``Expect`` header of a 412; None = never checked (e.g. drivers).
    capability: str | None = None
    #: What the driver must implement for this operation (checked when capability is set).
    requires: Requirement | None = None
    params: tuple[Param, ...] = ()
    #: The formats it answers in; None: every document format the server has (XML, JSON, HTML and
    #: any a plugin's renderer adds), the usual case.
    formats: frozenset[str] | None = None
    #: Formats beyond those (``png`` and ``gv`` of the state machine).
    extra_formats: frozenset[str] = frozenset()
    #: Adds ``X-Backend-Runtime`` (index, show, instance actions).
    timed: bool = False
    #: The operation needs no driver at all (``/api/drivers``).
    driverless: bool = False
    #: The handler reads the raw request body itself (blob PUT): no form parsing, no size limit.
    streams_body: bool = False
    #: Takes multipart file uploads (blob POST): the body may be up to ``max_upload_bytes``.
    accepts_uploads: bool = False
    #: Negotiate the format after the handler ran (the original's blob metadata routes answer
    #: 406 to an HTML preference *after* applying the change, with the outcome's headers).
    negotiate_late: bool = False
    description: str = ""
    #: What success answers; None: what the operation's name implies (see :meth:`success`).
    answer: Answer | None = None

    @property
    def required_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.required)

    @property
    def member(self) -> bool:
        return "{id}" in self.path

    def success(self, collection: Collection) -> Answer:
        """The declared :attr:`answer`, else the standard one: index a list (200), show a member
        (200), create a new member (201 with Location), a DELETE nothing (204), any other action
        the member after it (202)."""
        if self.answer is not None:
            return self.answer
        what = (collection.resources[0].name if collection.resources else collection.singular).replace("_", " ")
        if self.name == "index":
            return Answer(200, f"The {collection.name.replace('_', ' ')}", "list")
        if self.name == "show":
            return Answer(200, f"One {what}")
        if self.name == "create":
            return Answer(201, f"The new {what}", location=True)
        if self.http_method == "DELETE":
            return Answer(204, "Deleted (an HTML client is redirected)", None)
        return Answer(202, f"The {what} after the action")

    def supported_by(self, driver_cls: type[Driver]) -> bool:
        return self.requires is None or self.requires(driver_cls)


@dataclass(frozen=True)
class Resource:
    """How one kind of object is dumped: its element/key names and a schema per format."""

    name: str
    plural: str
    #: Format name (``json``, ``xml``) -> marshmallow schema instance.
    schemas: Mapping[str, Any]
    #: XML: whether a member document starts with the XML declaration.
    xml_declaration: bool = True
    #: XML lists sorted by this key (hardware profiles); JSON keeps the driver's order.
    xml_sort: Callable[[Any], Any] | None = None
    #: Element / JSON key of a member when it differs from ``name`` (run result -> ``instance``).
    element: str | None = None

    @property
    def tag(self) -> str:
        return self.element or self.name


@dataclass(frozen=True)
class Collection:
    """A named collection (``instances``) with its operations and HTML-only forms."""

    name: str
    singular: str
    description: str
    operations: tuple[Operation, ...]
    #: HTML-only helper routes (``/new`` forms ...), never capability-checked.
    forms: tuple[Operation, ...] = ()
    #: Sub-collections documented under this one (blobs under buckets ...).
    parent: str | None = None
    #: The resources this collection's outcomes carry (usually one).
    resources: tuple[Resource, ...] = ()
    #: The package whose ``templates/`` directory holds this collection's HTML pages
    #: (``<plural>.html``, ``<resource>.html``, its forms' pages), found before the core's; None:
    #: the core's templates (a collection without pages of its own gets the generic ones).
    templates: str | None = None

    def operation(self, name: str) -> Operation | None:
        for op in self.operations:
            if op.name == name:
                return op
        return None

    @property
    def index(self) -> Operation | None:
        return self.operation("index")

    def supported_by(self, driver_cls: type[Driver]) -> bool:
        """Present in the entry point: the driver satisfies the index operation's requirement."""
        index = self.index
        if index is None or self.parent is not None:
            return False
        return index.supported_by(driver_cls)

    @property
    def http_methods(self) -> list[str]:
        """Distinct HTTP methods of the operations, in declaration order (for OPTIONS)."""
        seen: list[str] = []
        for op in self.operations:
            if op.http_method not in seen:
                seen.append(op.http_method)
        return seen


class CollectionRegistry:
    """Collections by name; refuses a duplicate, naming both contributors."""

    def __init__(self) -> None:
        self._collections: dict[str, Collection] = {}
        self._owners: dict[str, str] = {}

    def register(self, collection: Collection, *, owner: str | None = None) -> None:
        owner = owner or _caller_module()
        if collection.name in self._collections:
            raise ValueError(
                f"Collection '{collection.name}' registered twice: by {self._owners[collection.name]} "
                f"and by {owner}")
        self._collections[collection.name] = collection
        self._owners[collection.name] = owner

    def __iter__(self) -> Iterator[Collection]:
        return iter(sorted(self._collections.values(), key=lambda c: c.name))

    def __len__(self) -> int:
        return len(self._collections)

    def __contains__(self, name: object) -> bool:
        return name in self._collections

    def get(self, name: str) -> Collection | None:
        return self._collections.get(name)

    def __getitem__(self, name: str) -> Collection:
        return self._collections[name]

    def owner(self, name: str) -> str:
        return self._owners[name]

    def resource(self, name: str) -> Resource | None:
        """The resource called ``name`` in any registered collection."""
        for collection in self._collections.values():
            for res in collection.resources:
                if res.name == name:
                    return res
        return None


def _caller_module() -> str:
    frame = inspect.currentframe()
    try:
        outer = frame.f_back.f_back if frame and frame.f_back else None
        return outer.f_globals.get("__name__", "?") if outer else "?"
    finally:
        del frame


@dataclass
class UploadedFile:
    """A file part of a multipart body (spooled to disk past 1 MiB, so memory stays flat).

    ``file`` is a plain binary file object a sync driver can read in its worker thread.
    """

    filename: str | None
    content_type: str | None
    size: int | None
    file: BinaryIO


class BodyReader:
    """The request body as a sync, read-only binary file, for sync drivers in worker threads.

    Chunks are pulled from the ASGI stream on demand (``anyio.from_thread``), so a 1 GiB
    upload never sits in memory. Only usable from a thread started by :meth:`OperationCall.invoke`.
    """

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._stream = stream
        #: The event loop the body arrives on (the reader is used from a driver thread).
        self._token = anyio.lowlevel.current_token()
        self._buffer = bytearray()
        self._done = False
        self.bytes_read = 0

    async def _next_chunk(self) -> bytes | None:
        try:
            return await self._stream.__anext__()
        except StopAsyncIteration:
            return None

    def _fill(self, size: int) -> None:
        while not self._done and (size < 0 or len(self._buffer) < size):
            chunk = anyio.from_thread.run(self._next_chunk, token=self._token)
            if chunk is None:
                self._done = True
            elif chunk:
                self._buffer.extend(chunk)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            self._fill(-1)
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            self._fill(size)
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
        self.bytes_read += len(data)
        return data

    def readable(self) -> bool:
        return True

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self.read(1024 * 1024)
            if not chunk:
                return
            yield chunk


@dataclass
class Outcome:
    """What a handler produced; the web layer renders it in the negotiated format."""

    kind: Literal["collection", "member", "empty", "redirect", "raw", "custom"]
    status: int = 200
    #: Schema / template name of the resource (``instance``) or of the collection (``instances``).
    resource: str | None = None
    data: Any = None
    location: str | None = None
    #: JSON: wrap a member as ``{"<resource>": ...}`` (False for instance actions' 202).
    wrap: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    #: For HTML: where a body-less success (destroy) redirects to.
    html_redirect: str | None = None
    #: For ``raw``: body bytes or a (sync or async) iterator of chunks, and its content type.
    body: bytes | Iterable[bytes] | AsyncIterable[bytes] | None = None
    content_type: str | None = None
    #: False for answers that carry only their own headers (the blob ``content`` download).
    decorate: bool = True

    @classmethod
    def collection(cls, resource: str, items: Sequence[Any]) -> Outcome:
        return cls(kind="collection", resource=resource, data=list(items))

    @classmethod
    def member(cls, resource: str, item: Any, *, status: int = 200, location: str | None = None,
               wrap: bool = True) -> Outcome:
        return cls(kind="member", resource=resource, data=item, status=status, location=location, wrap=wrap)

    @classmethod
    def empty(cls, status: int = 204, *, html_redirect: str | None = None) -> Outcome:
        return cls(kind="empty", status=status, html_redirect=html_redirect)

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> Outcome:
        return cls(kind="redirect", status=status, location=location)

    @classmethod
    def plain(cls, status: int, text: str = "") -> Outcome:
        """A plain ``text/html;charset=utf-8`` answer, as the original's framework sent them."""
        return cls(kind="raw", status=status, body=text.encode(), content_type="text/html;charset=utf-8")


@dataclass
class OperationCall:
    """Everything a handler may use: parameters, the driver, URLs. No HTTP objects."""

    collection: Collection
    operation: Operation
    #: Merged parameters: query string, then form body, then path (later sources win).
    params: Mapping[str, str]
    path_params: Mapping[str, str]
    #: The request's API URL, driver and provider (and, once loaded, the driver class).
    context: RenderContext
    features: FeatureRegistry
    driver_factory: Callable[[], Driver]
    headers: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, UploadedFile] = field(default_factory=dict)
    #: The raw request body stream (blob PUT), when the operation reads it itself.
    body_stream: AsyncIterator[bytes] | None = None
    #: The installed drivers (``/api/drivers``); a :class:`~deltacloud_core.drivers.DriverRegistry`.
    driver_registry: Any = None
    #: How driver calls are made (bulkheads, threads, retries); None: the process default.
    backend: BackendCalls | None = None
    _driver: Driver | None = None
    backend_seconds: float = 0.0

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            self._driver = self.driver_factory()
        return self._driver

    @property
    def api_url(self) -> str:
        """Absolute URL of the API root, e.g. ``http://host:3001/api``."""
        return self.context.api_url

    @property
    def driver_name(self) -> str:
        return self.context.driver_name

    @property
    def state_machine(self) -> StateMachine | None:
        if self.context.driver_cls is None:
            self.driver  # noqa: B018 - building the driver loads its class into the context
        return self.context.state_machine

    def param(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name)
        return default if value is None else value

    @property
    def id(self) -> str:
        return self.path_params["id"]

    def url(self, *parts: str) -> str:
        """Absolute URL below the API root: ``url("instances", "inst1")``."""
        return self.context.url(*parts)

    async def invoke(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a driver method (see :func:`invoke_driver`); in a ``GET`` operation, a read that may
        be retried."""
        started = time.perf_counter()
        try:
            return await call_driver(self.backend, self.driver, method, args, kwargs,
                                     read=self.operation.http_method in _READ_METHODS)
        finally:
            self.backend_seconds += time.perf_counter() - started

    def body_reader(self) -> BodyReader:
        """The raw request body as a sync file for a sync driver (operations with ``streams_body``)."""
        if self.body_stream is None:
            raise RuntimeError(f"operation {self.operation.name} does not stream its body")
        return BodyReader(self.body_stream)

    def extra_params(self, *consumed: str) -> dict[str, str]:
        """The request's other parameters, passed to a driver as ``**extra``: everything but
        ``consumed``, ``id``, the path parameters, ``format`` and names that are no Python identifier
        or start with ``_`` (``_method``)."""
        skip = {"id", "format", *consumed, *self.path_params}
        return {k: v for k, v in self.params.items()
                if k not in skip and k.isidentifier() and not k.startswith("_")}

    def filters(self, *names: str) -> dict[str, str]:
        """The given parameters that the request carries, for a driver's ``list_*``."""
        return {n: self.params[n] for n in names if self.params.get(n) not in (None, "")}

    def feature_params(self, operation: str) -> list[str]:
        """Names of parameters the catalogue's features add to ``operation`` of this collection."""
        return list(self.features.param_names(self.collection.name, operation))


# -- generic handlers ------------------------------------------------------------------------

def index_handler(resource: str, method: str, filter_names: Sequence[str]) -> Handler:
    """``GET /api/<collection>``: driver errors are re-reported with the generic message."""

    async def handler(call: OperationCall) -> Outcome:
        names = list(filter_names) + [n for n in call.feature_params("index") if n not in filter_names]
        try:
            items = await call.invoke(method, **call.filters(*names))
        except DeltacloudError as exc:
            raise exc.generic() from exc
        return Outcome.collection(resource, items)

    return handler


def show_handler(resource: str, method: str) -> Handler:
    """``GET /api/<collection>/:id``: None from the driver is a 404."""

    async def handler(call: OperationCall) -> Outcome:
        item = await call.invoke(method, call.id)
        if item is None:
            raise ObjectNotFound()
        return Outcome.member(resource, item)

    return handler


def destroy_handler(collection: str, method: str) -> Handler:
    """``DELETE /api/<collection>/:id``: 204; an HTML client is sent back to the list."""

    async def handler(call: OperationCall) -> Outcome:
        await call.invoke(method, call.id)
        return Outcome.empty(204, html_redirect=call.url(collection))

    return handler




def read_operations(resource: str, capability: str, list_method: str, get_method: str, *, id_param: Param,
                    index_description: str, show_description: str, filters: Sequence[str] = ("id",),
                    index_resource: str | None = None, show_capability: str | None = None,
                    ) -> tuple[Operation, Operation]:
    """The ``index`` and ``show`` operations of most collections: the list (filtered by ``filters``)
    and one member by id, both timed (``X-Backend-Runtime``) and both needing ``list_method``, as
    the original checked its list capability for both."""
    requires = needs(list_method)
    return (
        Operation("index", "GET", "", index_handler(index_resource or resource, list_method, filters),
                  capability=capability, requires=requires, timed=True, description=index_description),
        Operation("show", "GET", "/{id}", show_handler(resource, get_method), capability=show_capability or capability,
                  requires=requires, timed=True, params=(id_param,), description=show_description),
    )
