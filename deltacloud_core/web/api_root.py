"""The endpoints that are no collection operation: the entry point ``/api`` (GET, the driver
switch POST, OPTIONS), the ``OPTIONS`` answers of collections and operations, the empty ``HEAD``
of non-GET routes, the 404 page, the server's front page and ``robots.txt``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from ..collections.base import Collection, Operation, Outcome, call_driver
from ..drivers.base import Driver
from ..errors import AuthenticationFailure, AuthenticationRequired, DeltacloudError
from ..schemas.entry import EntryLink, EntryPoint
from .context import RequestContext, request_context, request_credentials
from .events import events_link
from .forms import read_form
from .matrix import parse_matrix_path
from .negotiation import choose
from .outcomes import render_outcome
from .pipeline import check_provider
from .request_checks import check_choice
from .responses import PLAIN
from .services import Services
from .settings import API_VERSION

__all__ = ["ApiRoot"]

Endpoint = Callable[[Request], Awaitable[Response]]

_NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head><title>Not Found</title></head>\n<body>\n"
    "<h1>Not Found</h1>\n<p>No route matches this path. Start at <a href='{api}'>{api}</a>.</p>\n"
    "</body>\n</html>\n")
_ROOT_PAGE = ("<!DOCTYPE html>\n<html><head><title>Deltacloud API</title></head><body>\n"
              "<h1>Deltacloud API</h1>\n<h2>Enabled Frontends:</h2>\n"
              "<ul><li><a href='/api'>deltacloud</a></li></ul>\n</body></html>\n")

Offers = list[tuple[Collection, tuple[Any, ...]]]
#: Characters a matrix parameter's value keeps in a Location URL (``;``, ``/``, ``?``, ``#``, ``%``
#: and the rest are percent-encoded).
_MATRIX_SAFE = ":@!$'()*+,="

#: What the entry point says the server offers beyond Deltacloud 1.1.3, in headers the original's
#: clients ignore: ``Idempotency-Key`` is honoured on creates and actions (deltacloud-client then
#: sends keys and retries creates; docs/running.md).
_EXTENSIONS = {"X-Deltacloud-Idempotency": "supported"}


class ApiRoot:
    """The API root's endpoints over one app's services."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._offers: dict[type[Driver], Offers] = {}
        self._default_specs: dict[tuple[str, str], tuple[str, ...]] = {}

    # -- /api ----------------------------------------------------------------------------------
    async def entry_point(self, request: Request) -> Response:
        context = request_context(request)
        if request.method == "POST":
            return await self._switch(request, context)
        services = self.services
        env = services.render_env(context, "/api")
        try:
            driver_cls = services.load_driver(context)
        except DeltacloudError as exc:
            return services.responses.error(exc, context.error_format, env, method=request.method)
        offers = self._entry_offers(driver_cls)
        if request.method == "OPTIONS":
            allow = ",".join("Deltacloud::Rabbit::" + "".join(p.title() for p in c.name.split("_")) + "Collection"
                             for c, _features in offers)
            return services.responses.finish(status=200, content_type=PLAIN, driver=context.driver_name,
                                             provider=context.provider, headers={"Allow": allow}, etag=False)
        fmt = choose(context.ranked, context.document_formats)
        if fmt is None:
            return services.responses.plain(406, "", driver=context.driver_name, provider=context.provider)
        try:
            entry = await self._entry(request, context, driver_cls, offers)
        except DeltacloudError as exc:
            return services.responses.error(exc, fmt, env, method=request.method)
        if entry is None:
            return services.responses.plain(401, "Authentication failed", driver=context.driver_name,
                                            provider=context.provider, method=request.method)
        return render_outcome(services, Outcome.member("api", entry), fmt, env, request,
                              {**_EXTENSIONS, **events_link(services, context, driver_cls)})

    entry_point.direct = True  # type: ignore[attr-defined]  # answers every error itself (see dispatch)

    async def _entry(self, request: Request, context: RequestContext, driver_cls: type[Driver],
                     offers: Offers) -> EntryPoint | None:
        """The entry point's document; None when ``force_auth`` finds the credentials wrong."""
        await check_provider(self.services, driver_cls, context.provider)
        server_credentials = self.services.settings.server_credentials
        driver = driver_cls(credentials=lambda: request_credentials(request, server_credentials),
                            provider=context.provider)
        driver.allowed_providers = self.services.providers.allowed_for(driver_cls.driver_id)
        if "force_auth" in context.query_dict():
            try:
                valid = await call_driver(self.services.backend, driver, "validate_credentials", (), {}, read=True)
            except AuthenticationRequired:
                raise
            except AuthenticationFailure:
                valid = False
            if not valid:
                return None
        offered = {c.name for c, _features in offers}
        if driver_cls.entry_point_collections is not Driver.entry_point_collections:
            offered &= set(await call_driver(self.services.backend, driver, "entry_point_collections",
                                             ([c.name for c, _f in offers],), {}, read=True))
        links = [EntryLink(collection.name, f"{context.api_url}/{collection.name}", features)
                 for collection, features in offers if collection.name in offered]
        return EntryPoint(API_VERSION, context.driver_name, context.provider, tuple(links))

    def _entry_offers(self, driver_cls: type[Driver]) -> Offers:
        """The collections a driver class supports, each with its features and their constraints
        as the entry point lists them (facts of the class: worked out once per class)."""
        offers = self._offers.get(driver_cls)
        if offers is None:
            features = self.services.features
            offers = [(collection, tuple(
                (f, driver_cls.FEATURE_CONSTRAINTS.get((collection.name, f.name), {}))
                for f in features.for_collection(collection.name)
                if driver_cls.has_feature(collection.name, f.name)))
                for collection in self.services.collections if collection.supported_by(driver_cls)]
            self._offers[driver_cls] = offers
        return offers

    async def _switch(self, request: Request, context: RequestContext) -> Response:
        """``POST /api`` with ``driver=`` / ``provider=``: 301 to the matrix URL (the HTML switcher)."""
        try:
            form = await read_form(request, self.services.settings.max_body_bytes)
        except DeltacloudError as exc:
            return self.services.responses.error(exc, context.error_format, self.services.render_env(context, "/api"))
        fields = dict(form[0])
        base = context.api_url
        driver = str(fields.get("driver") or "").strip().lower()
        provider = str(fields.get("provider") or "").strip()
        problem = check_choice(driver or context.driver_name, provider or None)
        if problem is not None:
            return self.services.responses.error(problem, context.error_format,
                                                 self.services.render_env(context, "/api"))
        if driver:
            location = f"{base};driver={quote(driver, safe=_MATRIX_SAFE)}"
        elif provider and provider != "default":
            referer = request.headers.get("referer", "").split("://", 1)[-1].partition("/")[2]
            from_referer = parse_matrix_path("/" + referer if referer else "").params.get("api", {}).get("driver")
            if from_referer is not None and check_choice(from_referer, None) is not None:
                from_referer = None
            quoted = quote(provider, safe=_MATRIX_SAFE)
            location = f"{base};driver={from_referer};provider={quoted}" if from_referer else \
                f"{base};provider={quoted}"
        else:
            location = f"{base}/"
        return self.services.responses.finish(status=301, content_type=PLAIN, driver=context.driver_name,
                                              provider=context.provider, headers={"Location": location})

    # -- OPTIONS and HEAD ----------------------------------------------------------------------
    def options_collection(self, collection: Collection) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            context = request_context(request)
            allow = ",".join(["OPTIONS", *collection.http_methods])
            return self.services.responses.finish(status=200, content_type=PLAIN, driver=context.driver_name,
                                                  provider=context.provider, headers={"Allow": allow}, etag=False)

        return endpoint

    def options_operation(self, collection: Collection, op: Operation) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            context = request_context(request)
            specs = [*self._default_feature_specs(collection.name, op.name),
                     *(p.spec() for p in op.params if p.advertised)]
            return self.services.responses.finish(status=200, content_type=PLAIN, driver=context.driver_name,
                                                  provider=context.provider, headers={"Allow": ",".join(specs)},
                                                  etag=False)

        return endpoint

    def _default_feature_specs(self, collection: str, operation: str) -> tuple[str, ...]:
        """The parameters the default driver's features add to an operation (the original's
        OPTIONS answered for the server's driver)."""
        key = (collection, operation)
        specs = self._default_specs.get(key)
        if specs is None:
            try:
                driver_cls = self.services.drivers.load(self.services.settings.default_driver)
            except LookupError:
                return ()
            specs = self._default_specs[key] = tuple(
                p.spec() for f in self.services.features.for_collection(collection)
                if f.operation == operation and driver_cls.has_feature(collection, f.name) for p in f.params)
        return specs

    async def empty_head(self, request: Request) -> Response:
        context = request_context(request)
        return self.services.responses.finish(status=200, content_type=PLAIN, driver=context.driver_name,
                                              provider=context.provider, etag=False)

    # -- outside the API -----------------------------------------------------------------------
    async def not_found(self, request: Request, _exc: Exception) -> Response:
        context: RequestContext | None = request.scope.get("state", {}).get("deltacloud")
        body = _NOT_FOUND_PAGE.format(api=(context.api_url if context else "/api")).encode()
        if context is None:
            return Response(body, status_code=404, media_type=None,
                            headers={"Content-Type": PLAIN, "X-Cascade": "pass", "Date": formatdate(usegmt=True)})
        return self.services.responses.finish(status=404, body=body, content_type=PLAIN, driver=context.driver_name,
                                              provider=context.provider, headers={"X-Cascade": "pass"}, etag=False)

    async def root_index(self, request: Request) -> Response:
        return Response(_ROOT_PAGE, media_type="text/html", headers={"Date": formatdate(usegmt=True)})

    async def robots(self, request: Request) -> Response:
        return Response("User-agent: *\nDisallow: /\n", media_type="text/plain",
                        headers={"Date": formatdate(usegmt=True)})
