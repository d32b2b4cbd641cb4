"""The ASGI application: the request pipeline of API.md §2 in front of generated routes.

Stage by stage: matrix parameters are taken out of the path; negotiation stage 1 (406
with an empty body when nothing fits); driver and provider are chosen (matrix, then
``X-Deltacloud-*`` headers, then the server default); method override; the Host check;
then routing to a generated endpoint per collection operation (see :mod:`.endpoints`).
"""

from __future__ import annotations

import gc
import logging
import traceback
from collections.abc import Mapping
from contextlib import asynccontextmanager
from email.utils import formatdate
from functools import lru_cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pluggy
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from ..collections.base import Collection, CollectionRegistry, Operation, Outcome, Resource, invoke_driver
from ..drivers.base import Driver
from ..drivers.registry import DriverRegistry, UnknownDriver
from ..errors import AuthenticationFailure, AuthenticationRequired, DeltacloudError, ValidationError
from ..features import FeatureRegistry
from ..plugins import blocked_names, get_plugin_manager
from ..schemas.entry import EntryLink, EntryPoint, EntryPointJson, EntryPointXml
from ..state_machine import StateMachine
from .docs import DocsPages
from .endpoints import (
    DOCUMENT_FORMATS,
    RuntimeFailure,
    check_provider,
    context_for,
    operation_endpoint,
    outcome_headers,
)
from .matrix import parse_matrix_path
from .negotiation import choose, rank_formats
from .renderers import RenderEnv, RendererRegistry
from .renderers.fragments import FragmentCache
from .request_info import RequestInfo, ordered_params, parse_query, request_credentials, request_info
from .responses import PLAIN, ResponseFactory
from .routing import IndexedRouter, OriginalRoute
from .settings import API_VERSION, Settings

__all__ = ["DeltacloudApp", "create_app"]

log = logging.getLogger("deltacloud.web")

STANDARD_OPERATIONS = ("index", "show", "create", "destroy", "update")
_NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head><title>Not Found</title></head>\n<body>\n"
    "<h1>Not Found</h1>\n<p>No route matches this path. Start at <a href='{api}'>{api}</a>.</p>\n"
    "</body>\n</html>\n")
_STATIC = Path(__file__).parent / "static"


class DeltacloudApp:
    """The Deltacloud API as an ASGI application."""

    def __init__(self, settings: Settings | None = None, *, plugin_manager: pluggy.PluginManager | None = None,
                 drivers: DriverRegistry | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.pm = plugin_manager or get_plugin_manager()
        self.drivers = drivers or DriverRegistry(blocked=blocked_names())
        self.collections = CollectionRegistry()
        self.pm.hook.deltacloud_register_collections(registry=self.collections)
        self.features = FeatureRegistry()
        self.pm.hook.deltacloud_register_features(registry=self.features)
        self.renderers = RendererRegistry()
        self.pm.hook.deltacloud_register_renderers(registry=self.renderers)
        self.media_types = self.renderers.media_types()
        self.resources: dict[str, Resource] = {
            "api": Resource("api", "api", {"json": EntryPointJson(), "xml": EntryPointXml()},
                            xml_declaration=False)}
        for collection in self.collections:
            for resource in collection.resources:
                self.resources.setdefault(resource.name, resource)
        self.fragments = FragmentCache(self.settings.render_cache_bytes)
        self.responses = ResponseFactory(self.renderers, self.settings.hostname, etag=self.fragments.etag)
        self.providers = self.settings.provider_policy()
        self._machines: dict[type[Driver], StateMachine | None] = {}
        self._supported: dict[type[Driver] | None, list[str]] = {}
        self._ranked: dict[tuple[str | None, str | None], tuple[str, ...]] = {}
        self._offers: dict[type[Driver], list[tuple[Collection, tuple[Any, ...]]]] = {}
        self.starlette = Starlette(lifespan=self._lifespan)
        # Routes tried by path prefix; /api/instances/ is a 404 (no slash redirect), as in the original.
        self.starlette.router = IndexedRouter(routes=self._routes(), lifespan=self._lifespan, redirect_slashes=False)
        self.starlette.add_exception_handler(404, self._not_found)  # type: ignore[arg-type]
        self.asgi: Any = self._prelude
        # Each wrapper goes around the result of the previous one (hook-call order).
        for impl in reversed(self.pm.hook.deltacloud_asgi_wrapper.get_hookimpls()):
            wrapped = impl.function(app=self.asgi)
            if wrapped is not None:
                self.asgi = wrapped

    # -- ASGI --------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> Any:
        self.pm.hook.deltacloud_startup(app=self)
        # Garbage collection scaled with the heap: a 10,000-instance list allocates ~300,000
        # containers, and each full collection walked every object of the process, so one
        # list cost 24 us per instance at 10,000 against 17 at 1,000. The objects built at
        # startup (modules, routes, schemas) are frozen out of collections, and the youngest
        # generation collects every 10,000 allocations instead of 700: 19 us per instance.
        threshold = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(max(threshold[0], 10_000), *threshold[1:])
        try:
            yield
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()

    async def _prelude(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        root = scope.get("root_path", "")
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else scope["path"]
        if root and raw_path.startswith(root):
            raw_path = raw_path[len(root):]
        if not (raw_path == "/api" or raw_path.startswith(("/api/", "/api;"))):
            await self.starlette(scope, receive, send)
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
        api_matrix = matrix.params.get("api", {})
        driver = (api_matrix.get("driver") or headers.get("x-deltacloud-driver") or self.settings.default_driver)
        provider = (api_matrix.get("provider") or headers.get("x-deltacloud-provider")
                    or self.settings.default_provider)
        driver = driver.strip().lower()
        # Lower-cased as the original did (EU-West-1 -> eu-west-1), except URLs (a Keystone path).
        provider = provider.strip() if provider else None
        if provider and "://" not in provider:
            provider = provider.lower()
        host = headers.get("host")
        scheme = scope.get("scheme", "http")
        info = RequestInfo(matrix=matrix, ranked=ranked, driver_name=driver, provider=provider, query=query,
                           api_url=f"{scheme}://{host}{root}/api")
        state = scope.setdefault("state", {})
        state["deltacloud"] = info
        scope["path"] = root + matrix.path
        scope["raw_path"] = (root + matrix.path).encode("utf-8")
        if not host:
            await self.responses.plain(400, "Unable to find HTTP Host header", driver=driver,
                                       provider=provider)(scope, receive, send)
            return
        if matrix.malformed:
            error = ValidationError("Malformed matrix parameter in the path: write ;name=value "
                                    "(e.g. /api;driver=mock;provider=default).")
            env = self.render_env(info, path=matrix.path)
            await self.responses.error(error, choose(ranked, DOCUMENT_FORMATS), env)(scope, receive, send)
            return
        override = headers.get("x-http-method-override")
        if scope["method"] == "POST":
            if override:
                scope["method"] = override.upper()
            elif headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                receive = await self._method_field_override(scope, receive, headers)
        await self._dispatch(scope, receive, send)

    def _rank(self, format_param: str | None, accept: str | None) -> list[str]:
        """:func:`rank_formats` for this app's renderers, remembered per distinct question
        (clients send the same few ``Accept`` headers again and again)."""
        key = (format_param, accept)
        ranked = self._ranked.get(key)
        if ranked is None:
            ranked = tuple(rank_formats(format_param, accept, self.media_types))
            if len(self._ranked) >= 1024:
                self._ranked.clear()
            self._ranked[key] = ranked
        return list(ranked)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route an API request. An operation's endpoint is called straight away: it answers
        every outcome and error itself, so Starlette's middleware and exception layers (15% of a
        small list answer) have nothing to add. Anything else (404s, mounts, method mismatches,
        docs pages) takes Starlette's full path, exactly as before."""
        found = self.starlette.router.full_match(scope)
        if found is None or not getattr(found[0].endpoint, "direct", False):
            await self.starlette(scope, receive, send)
            return
        route, child_scope = found
        scope["app"] = self.starlette
        scope["router"] = self.starlette.router
        scope["route"] = route
        scope.update(child_scope)
        try:
            response = await route.endpoint(Request(scope, receive, send))
        except Exception:
            # What Starlette's ServerErrorMiddleware would have answered (the endpoint raised
            # before sending anything); the exception goes on to the server's log.
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise
        await response(scope, receive, send)

    async def _method_field_override(self, scope: Scope, receive: Receive, headers: Mapping[str, str]) -> Receive:
        """Honour a ``_method`` form field (HTML forms delete with ``_method=delete``)."""
        length = headers.get("content-length", "")
        if not length.isdigit() or int(length) > self.settings.max_body_bytes:
            return receive
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if key == "_method" and value:
                scope["method"] = value.upper()
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    # -- helpers used by endpoints -----------------------------------------------------------
    def state_machine_for(self, driver_cls: type[Driver]) -> StateMachine | None:
        if driver_cls not in self._machines:
            self._machines[driver_cls] = self.pm.hook.deltacloud_instance_state_machine(
                driver_name=driver_cls.driver_id, driver_class=driver_cls)
        return self._machines[driver_cls]

    def render_env(self, info: RequestInfo, path: str, driver_cls: type[Driver] | None = None,
             params: list[tuple[str, Any]] | None = None) -> RenderEnv:
        return RenderEnv(context=context_for(self, info, driver_cls), resources=self.resources,
                         driver_name=info.driver_name, provider=info.provider, path=path,
                         request_params=params if params is not None else ordered_params(info, [], {}),
                         page_facts=partial(self.page_facts, info))

    def page_facts(self, info: RequestInfo) -> dict[str, Any]:
        """What HTML pages show around the content: drivers, supported collections, request id."""
        try:
            driver_cls: type[Driver] | None = self.drivers.load(info.driver_name)
        except UnknownDriver:
            driver_cls = None
        supported = self._supported.get(driver_cls)
        if supported is None:  # the same for every request of a driver: worked out once
            supported = [c.name for c in self.collections if driver_cls is not None and c.supported_by(driver_cls)]
            self._supported[driver_cls] = supported
        return {"drivers": self.drivers.names(), "request_id": info.request_id,
                "supported_collections": list(supported)}

    def render_outcome(self, outcome: Outcome, fmt: str, env: RenderEnv, request: Request,
                       timing: Mapping[str, str]) -> Response:
        headers = {**outcome_headers(outcome), **timing}
        method = request.method
        driver, provider = env.driver_name, env.provider
        if outcome.kind == "raw":
            if outcome.body is not None and not isinstance(outcome.body, bytes):
                streamed = StreamingResponse(outcome.body, status_code=outcome.status, headers=headers,
                                             media_type=outcome.content_type)
                if outcome.decorate:
                    self.responses.decorate(streamed, driver=driver, provider=provider)
                return streamed
            body = outcome.body or b""
            if not outcome.decorate:
                return Response(body, status_code=outcome.status, headers=headers, media_type=outcome.content_type)
            return self.responses.finish(status=outcome.status, body=body, content_type=outcome.content_type,
                                         driver=driver, provider=provider, headers=headers, method=method,
                                         etag=outcome.content_type != PLAIN)
        if outcome.kind == "redirect":
            return self.responses.finish(status=outcome.status, content_type=PLAIN, driver=driver,
                                         provider=provider, headers=headers, method=method)
        if outcome.kind == "empty":
            if fmt == "html" and outcome.html_redirect:
                status = 303 if request.scope.get("http_version", "1.1") != "1.0" else 302
                headers["Location"] = outcome.html_redirect
                # The original: the negotiated text/html (golden blob_delete_html_303.html), no charset.
                return self.responses.finish(status=status, content_type="text/html", driver=driver,
                                             provider=provider, headers=headers, method=method)
            # A body-less 202 (address associate) still names the negotiated type; a 204 has none.
            renderer = self.renderers.get(fmt)
            return self.responses.finish(status=outcome.status, driver=driver, provider=provider,
                                         content_type=renderer.content_type if renderer else None,
                                         headers=headers, method=method)
        body = self.renderers[fmt].render(outcome, env)
        return self.responses.document(outcome.status, body, fmt, env, method=method, headers=headers)

    async def unexpected(self, request: Request, exc: BaseException, fmt: str, env: RenderEnv) -> Response:
        """A surprise: let a plugin answer, else 500 with a request id (logged with a trace)."""
        info = request_info(request)
        handled = self.pm.hook.deltacloud_handle_exception(request=request, exception=exc)
        if handled is not None:
            return handled
        log.error("request %s %s %s failed (request id %s):\n%s", request.method, request.url.path,
                  info.driver_name, info.request_id, "".join(traceback.format_exception(exc)))
        error = RuntimeFailure(f"{exc} (request id {info.request_id})", type(exc).__name__)
        return self.responses.error(error, fmt, env, method=request.method,
                                    headers={"X-Request-Id": info.request_id})

    # -- routes ------------------------------------------------------------------------------
    def _routes(self) -> list[Any]:
        routes: list[Any] = [
            OriginalRoute("/api", self._entry_point, methods=["GET", "POST", "OPTIONS"]),
            OriginalRoute("/api/", self._entry_point, methods=["GET", "POST", "OPTIONS"]),
        ]
        # /api/docs... and /api/openapi(.json): before the collections, never shadowed by them.
        routes.extend(OriginalRoute(path, endpoint, methods=methods)
                      for path, endpoint, methods in DocsPages(self).routes())
        # Sub-collections (blobs below /api/buckets/{id}) after every top-level collection, so
        # their {id} routes never shadow a parent's fixed paths (OPTIONS /api/buckets/show).
        for collection in sorted(self.collections, key=lambda c: c.parent is not None):
            routes.extend(self._collection_routes(collection))
        routes.append(OriginalRoute("/", self._root_index, methods=["GET"]))
        routes.append(OriginalRoute("/robots.txt", self._robots, methods=["GET"]))
        if _STATIC.is_dir():
            from starlette.routing import Mount

            routes.append(Mount("/stylesheets", app=StaticFiles(directory=_STATIC), name="static"))
        return routes

    def _collection_routes(self, collection: Collection) -> list[Any]:
        # A sub-collection lives below a member of its parent: /api/buckets/{id}/...
        base = f"/api/{collection.parent}/{{id}}" if collection.parent else f"/api/{collection.name}"
        routes: list[Any] = []
        for form in collection.forms:
            routes.append(OriginalRoute(base + form.path, operation_endpoint(self, collection, form), methods=["GET"]))
        get_paths = {op.path for op in collection.operations if op.http_method == "GET"}
        # Paths with a fixed tail (.../content) before those ending in a parameter (a blob id may
        # hold slashes); explicit HEAD operations (blob metadata) before the GETs that imply HEAD.
        ordered = sorted(collection.operations, key=lambda o: (o.path.endswith("}"), o.http_method != "HEAD"))
        for op in ordered:
            endpoint = operation_endpoint(self, collection, op)
            routes.append(OriginalRoute(base + op.path, endpoint, methods=[op.http_method]))
            if op.http_method != "GET" and op.path not in get_paths and op.path != "":
                routes.append(OriginalRoute(base + op.path, self._empty_head, methods=["HEAD"]))
        routes.append(OriginalRoute(base, self._options_collection(collection), methods=["OPTIONS"]))
        for name in STANDARD_OPERATIONS:
            op = collection.operation(name)
            if op is not None:
                routes.append(OriginalRoute(f"{base}/{name}", self._options_operation(op), methods=["OPTIONS"]))
        for op in collection.operations:
            if op.name not in STANDARD_OPERATIONS and op.member:
                routes.append(OriginalRoute(base + op.path, self._options_operation(op), methods=["OPTIONS"]))
        return routes

    # -- endpoints of the API root -----------------------------------------------------------
    async def _entry_point(self, request: Request) -> Response:
        info = request_info(request)
        env = self.render_env(info, path="/api")
        fmt_error = choose(info.ranked, DOCUMENT_FORMATS) or "xml"
        if request.method == "POST":
            return await self._switch(request, info)
        try:
            driver_cls = self.drivers.load(info.driver_name)
        except UnknownDriver as exc:
            return self.responses.error(RuntimeFailure(exc.message), fmt_error, env, method=request.method)
        env.context = context_for(self, info, driver_cls)
        offers = self._entry_offers(driver_cls)
        supported = [collection for collection, _features in offers]
        if request.method == "OPTIONS":
            allow = ",".join("Deltacloud::Rabbit::" + "".join(p.title() for p in c.name.split("_")) + "Collection"
                             for c in supported)
            return self.responses.finish(status=200, content_type=PLAIN, driver=info.driver_name,
                                         provider=info.provider, headers={"Allow": allow}, etag=False)
        fmt = choose(info.ranked, DOCUMENT_FORMATS)
        if fmt is None:
            return self.responses.plain(406, "", driver=info.driver_name, provider=info.provider)
        try:
            await check_provider(self, driver_cls, info.provider)
            driver = driver_cls(credentials=lambda: request_credentials(request, self.settings.server_credentials),
                                provider=info.provider)
            driver.allowed_providers = self.providers.allowed_for(driver_cls.driver_id)
            if "force_auth" in info.query_dict():
                try:
                    valid = await invoke_driver(driver, "validate_credentials")
                except AuthenticationRequired:
                    raise
                except AuthenticationFailure:
                    valid = False
                if not valid:
                    return self.responses.plain(401, "Authentication failed", driver=info.driver_name,
                                                provider=info.provider, method=request.method)
            if driver_cls.entry_point_collections is not Driver.entry_point_collections:
                offered = set(await invoke_driver(driver, "entry_point_collections", [c.name for c in supported]))
                supported = [c for c in supported if c.name in offered]
            offered_names = {c.name for c in supported}
            links = [EntryLink(collection.name, f"{info.api_url}/{collection.name}", features)
                     for collection, features in offers if collection.name in offered_names]
            entry = EntryPoint(API_VERSION, info.driver_name, info.provider, tuple(links))
        except DeltacloudError as exc:
            return self.responses.error(exc, fmt, env, method=request.method)
        outcome = Outcome.member("api", entry)
        return self.render_outcome(outcome, fmt, env, request, {})

    _entry_point.direct = True  # type: ignore[attr-defined]  # answers every error itself (_dispatch)

    def _entry_offers(self, driver_cls: type[Driver]) -> list[tuple[Collection, tuple[Any, ...]]]:
        """The collections a driver class supports, each with its features and their constraints
        as the entry point lists them (facts of the class: worked out once per class)."""
        offers = self._offers.get(driver_cls)
        if offers is None:
            offers = [(collection, tuple(
                (f, driver_cls.FEATURE_CONSTRAINTS.get((collection.name, f.name), {}))
                for f in self.features.for_collection(collection.name)
                if driver_cls.has_feature(collection.name, f.name)))
                for collection in self.collections if collection.supported_by(driver_cls)]
            self._offers[driver_cls] = offers
        return offers

    async def _switch(self, request: Request, info: RequestInfo) -> Response:
        """``POST /api`` with ``driver=`` / ``provider=``: 301 to the matrix URL (the HTML switcher)."""
        form = await request.form()
        base = info.api_url
        driver = str(form.get("driver") or "").strip().lower()
        provider = str(form.get("provider") or "").strip()
        if driver:
            location = f"{base};driver={driver}"
        elif provider and provider != "default":
            referer = request.headers.get("referer", "")
            ref_driver = parse_matrix_path(referer.split("://", 1)[-1].partition("/")[2] and
                                           "/" + referer.split("://", 1)[-1].partition("/")[2]).params
            from_referer = ref_driver.get("api", {}).get("driver")
            location = f"{base};driver={from_referer};provider={provider}" if from_referer else \
                f"{base};provider={provider}"
        else:
            location = f"{base}/"
        return self.responses.finish(status=301, content_type=PLAIN, driver=info.driver_name,
                                     provider=info.provider, headers={"Location": location})

    def _options_collection(self, collection: Collection) -> Any:
        async def endpoint(request: Request) -> Response:
            info = request_info(request)
            allow = ",".join(["OPTIONS", *collection.http_methods])
            return self.responses.finish(status=200, content_type=PLAIN, driver=info.driver_name,
                                         provider=info.provider, headers={"Allow": allow}, etag=False)

        return endpoint

    def _options_operation(self, op: Operation) -> Any:
        async def endpoint(request: Request) -> Response:
            info = request_info(request)
            specs = self._feature_param_specs(op)
            specs.extend(p.spec() for p in op.params if p.advertised)
            return self.responses.finish(status=200, content_type=PLAIN, driver=info.driver_name,
                                         provider=info.provider, headers={"Allow": ",".join(specs)}, etag=False)

        return endpoint

    @lru_cache(maxsize=256)  # noqa: B019 - one app per process; the cache dies with it
    def _default_feature_specs(self, collection: str, operation: str) -> tuple[str, ...]:
        try:
            driver_cls = self.drivers.load(self.settings.default_driver)
        except UnknownDriver:
            return ()
        return tuple(p.spec() for f in self.features.for_collection(collection)
                     if f.operation == operation and driver_cls.has_feature(collection, f.name)
                     for p in f.params)

    def _feature_param_specs(self, op: Operation) -> list[str]:
        for collection in self.collections:
            if op in collection.operations:
                return list(self._default_feature_specs(collection.name, op.name))
        return []

    async def _empty_head(self, request: Request) -> Response:
        info = request_info(request)
        return self.responses.finish(status=200, content_type=PLAIN, driver=info.driver_name,
                                     provider=info.provider, etag=False)

    async def _not_found(self, request: Request, _exc: Exception) -> Response:
        state = request.scope.get("state", {})
        info: RequestInfo | None = state.get("deltacloud")
        body = _NOT_FOUND_PAGE.format(api=(info.api_url if info else "/api")).encode()
        if info is None:
            return Response(body, status_code=404, media_type=None,
                            headers={"Content-Type": PLAIN, "X-Cascade": "pass", "Date": formatdate(usegmt=True)})
        return self.responses.finish(status=404, body=body, content_type=PLAIN, driver=info.driver_name,
                                     provider=info.provider, headers={"X-Cascade": "pass"}, etag=False)

    async def _root_index(self, request: Request) -> Response:
        body = ("<!DOCTYPE html>\n<html><head><title>Deltacloud API</title></head><body>\n"
                "<h1>Deltacloud API</h1>\n<h2>Enabled Frontends:</h2>\n"
                "<ul><li><a href='/api'>deltacloud</a></li></ul>\n</body></html>\n")
        return Response(body, media_type="text/html", headers={"Date": formatdate(usegmt=True)})

    async def _robots(self, request: Request) -> Response:
        return Response("User-agent: *\nDisallow: /\n", media_type="text/plain",
                        headers={"Date": formatdate(usegmt=True)})


def create_app(settings: Settings | None = None, **kwargs: Any) -> DeltacloudApp:
    """The ASGI application (``uvicorn deltacloud_core.web.app:create_app --factory``)."""
    return DeltacloudApp(settings, **kwargs)
