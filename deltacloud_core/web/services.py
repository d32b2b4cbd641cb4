"""The services a request needs, made once per app and handed to endpoints, docs and OpenAPI.

:class:`Services` holds the settings, the plugin manager and the registries the registration
hooks filled (collections, features, renderers, resources), the response factory, the render
cache, the provider policy and the state-machine lookup. It also knows how to turn a request's
context into a loaded driver class and a driver object, the two steps every endpoint shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy
from starlette.requests import Request

from ..backends.calls import BackendCalls
from ..collections.base import Collection, CollectionRegistry, Operation, Resource
from ..drivers.base import Driver
from ..drivers.registry import DriverRegistry, UnknownDriver
from ..errors import DeltacloudError, RuntimeFailure, ValidationError
from ..events import EventHub, make_hub
from ..features import FeatureRegistry
from ..providers import ProviderPolicy
from ..schemas.entry import EntryPointJson, EntryPointXml
from ..state_machine import StateMachine
from .context import RequestContext, ordered_params, request_credentials
from .idempotent import IdempotentRunner
from .renderers import RenderEnv, RendererRegistry
from .renderers.fragments import FragmentCache
from .responses import ResponseFactory
from .settings import Settings

__all__ = ["Services", "StateMachines"]


class StateMachines:
    """The instance state machine in force for each driver class: the
    ``deltacloud_instance_state_machine`` hook's answer, asked once per class."""

    def __init__(self, plugins: pluggy.PluginManager) -> None:
        self._plugins = plugins
        self._machines: dict[type[Driver], StateMachine | None] = {}

    def for_driver(self, driver_cls: type[Driver]) -> StateMachine | None:
        if driver_cls not in self._machines:
            self._machines[driver_cls] = self._plugins.hook.deltacloud_instance_state_machine(
                driver_name=driver_cls.driver_id, driver_class=driver_cls)
        return self._machines[driver_cls]


@dataclass
class Services:
    """Everything an endpoint may use besides the request itself."""

    settings: Settings
    plugins: pluggy.PluginManager
    drivers: DriverRegistry
    collections: CollectionRegistry
    features: FeatureRegistry
    renderers: RendererRegistry
    #: Resource name -> how it is dumped (every collection's, plus the entry point's ``api``).
    resources: dict[str, Resource]
    fragments: FragmentCache
    responses: ResponseFactory
    providers: ProviderPolicy
    machines: StateMachines
    #: Formats of the renderers that render every document: xml, json, html and plugins' ones.
    document_formats: frozenset[str]
    #: The event streams of this process (None when ``DELTACLOUD_EVENTS=off``).
    events: EventHub | None = None
    #: How driver calls are made: bulkheads, worker threads, retries of reads.
    backend: BackendCalls = field(default_factory=BackendCalls)
    #: Creates and actions under an ``Idempotency-Key``.
    idempotency: IdempotentRunner = field(default_factory=lambda: IdempotentRunner(Settings()))
    _supported: dict[type[Driver], tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, plugins: pluggy.PluginManager, drivers: DriverRegistry) -> Services:
        """Run the registration hooks into fresh registries and make the rest from them."""
        collections = CollectionRegistry()
        plugins.hook.deltacloud_register_collections(registry=collections)
        features = FeatureRegistry()
        plugins.hook.deltacloud_register_features(registry=features)
        renderers = RendererRegistry()
        plugins.hook.deltacloud_register_renderers(registry=renderers)
        resources: dict[str, Resource] = {
            "api": Resource("api", "api", {"json": EntryPointJson(), "xml": EntryPointXml()}, xml_declaration=False)}
        for collection in collections:
            for resource in collection.resources:
                resources.setdefault(resource.name, resource)
        fragments = FragmentCache(settings.render_cache_bytes)
        events = make_hub(settings.events, settings.redis_url, resources, backend_timeout=settings.backend_timeout) \
            if settings.events.enabled else None
        observer, note = None, None
        if settings.metrics or settings.metrics_path:
            from ..observability.metrics import PrometheusObserver, note_idempotency

            observer, note = PrometheusObserver(), note_idempotency
        return cls(settings=settings, plugins=plugins, drivers=drivers, collections=collections, features=features,
                   renderers=renderers, resources=resources, fragments=fragments,
                   responses=ResponseFactory(renderers, settings.hostname, etag=fragments.etag),
                   providers=settings.provider_policy(), machines=StateMachines(plugins),
                   document_formats=renderers.document_formats(), events=events,
                   backend=BackendCalls.configured(settings.bulkheads, settings.read_retries, observer=observer),
                   idempotency=IdempotentRunner(settings, observer=note))

    def formats_of(self, operation: Operation) -> frozenset[str]:
        """The formats ``operation`` answers in: its own list, else every document format; plus
        its extra ones."""
        formats = operation.formats if operation.formats is not None else self.document_formats
        return formats | operation.extra_formats

    # -- drivers -------------------------------------------------------------------------------
    def load_driver(self, context: RequestContext) -> type[Driver]:
        """The request's driver class, loaded and bound to its render context (once per request).

        A driver this server does not offer (not installed, or blocked) is the client's mistake: a
        400 naming the install hint and the installed drivers. One that is installed but cannot
        load, or the server's own default driver, is the server's fault: a 500 with the reason."""
        render = context.render
        if render.driver_cls is None:
            try:
                driver_cls = self.drivers.load(render.driver_name)
            except UnknownDriver as exc:
                if render.driver_name == self.settings.default_driver or (
                        exc.reason is not None and render.driver_name in self.drivers.names()):
                    raise RuntimeFailure(exc.message) from exc
                installed = ", ".join(self.drivers.names()) or "none"
                raise ValidationError(f"{exc.message} Drivers on this server: {installed}.") from exc
            render.driver_cls = driver_cls
            render.state_machine = self.machines.for_driver(driver_cls)
        return render.driver_cls

    def driver_factory(self, request: Request, context: RequestContext) -> Callable[[], Driver]:
        """Builds the request's driver object when a handler first needs it (so an operation that
        never calls the driver never asks for credentials)."""

        def build() -> Driver:
            driver_cls = self.load_driver(context)
            self.providers.check(driver_cls, context.provider)
            server_credentials = self.settings.server_credentials
            driver = driver_cls(credentials=lambda: request_credentials(request, server_credentials),
                                provider=context.provider)
            driver.state_machine = context.render.state_machine
            driver.allowed_providers = self.providers.allowed_for(driver_cls.driver_id)
            if self.events is not None:
                driver.change_listener = self.events.announce
            context.render.driver = driver
            return driver

        return build

    # -- rendering -----------------------------------------------------------------------------
    def render_env(self, context: RequestContext, path: str, *, collection: Collection | None = None,
                   params: list[tuple[str, Any]] | None = None, **extra: Any) -> RenderEnv:
        """What renderers need to answer this request (the page facts are made only if read)."""
        return RenderEnv(context=context.render, resources=self.resources, path=path,
                         request_params=params if params is not None else ordered_params(context, [], {}),
                         collection=collection, page_facts=lambda: self.page_facts(context), **extra)

    def page_facts(self, context: RequestContext) -> dict[str, Any]:
        """What HTML pages show around the content: drivers, supported collections, request id."""
        try:
            driver_cls: type[Driver] | None = self.load_driver(context)
        except DeltacloudError:
            driver_cls = None
        return {"drivers": self.drivers.names(), "request_id": context.request_id,
                "supported_collections": list(self.supported_collections(driver_cls))}

    def supported_collections(self, driver_cls: type[Driver] | None) -> tuple[str, ...]:
        """Names of the top-level collections ``driver_cls`` supports (facts of the class)."""
        if driver_cls is None:
            return ()
        names = self._supported.get(driver_cls)
        if names is None:
            names = self._supported[driver_cls] = tuple(
                c.name for c in self.collections if c.supported_by(driver_cls))
        return names
