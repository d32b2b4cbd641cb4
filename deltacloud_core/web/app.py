"""The ASGI application, composed: services, routes, the prelude and the dispatcher.

A request's way (see ``docs/architecture.md``): :class:`~.prelude.Prelude` makes its context,
:class:`~.dispatch.Dispatcher` routes it, an operation's endpoint runs :mod:`.pipeline`, and the
answer is rendered by :mod:`.outcomes`. Plugins' ``deltacloud_asgi_wrapper`` results wrap it all.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import pluggy
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from ..collections.base import CollectionRegistry
from ..drivers.base import Driver
from ..drivers.registry import DriverRegistry
from ..features import FeatureRegistry
from ..plugins import blocked_names, get_plugin_manager
from ..state_machine import StateMachine
from .api_root import ApiRoot
from .dispatch import Dispatcher
from .docs import DocsPages
from .gc_tuning import tuned_gc
from .prelude import Prelude
from .renderers import RendererRegistry
from .route_table import build_routes
from .routing import IndexedRouter
from .services import Services
from .settings import Settings

__all__ = ["DeltacloudApp", "create_app"]


class DeltacloudApp:
    """The Deltacloud API as an ASGI application.

    ``services`` holds what the registration hooks built; ``settings``, ``collections``,
    ``features``, ``renderers`` and ``drivers`` are its registries, for ``deltacloud_startup``
    hooks and tests.
    """

    def __init__(self, settings: Settings | None = None, *, plugin_manager: pluggy.PluginManager | None = None,
                 drivers: DriverRegistry | None = None) -> None:
        self.services = Services.build(settings or Settings.from_env(), plugin_manager or get_plugin_manager(),
                                       drivers or DriverRegistry(blocked=blocked_names()))
        root = ApiRoot(self.services)
        self.starlette = Starlette(lifespan=self._lifespan)
        # Routes tried by path prefix; /api/instances/ is a 404 (no slash redirect), as in the original.
        router = IndexedRouter(routes=build_routes(self.services, root, DocsPages(self.services)),
                               lifespan=self._lifespan, redirect_slashes=False)
        self.starlette.router = router
        self.starlette.add_exception_handler(404, root.not_found)
        self.asgi: ASGIApp = Prelude(self.services, inner=self.starlette, api_inner=Dispatcher(self.starlette, router))
        # Each wrapper goes around the result of the previous one (hook-call order).
        for impl in reversed(self.services.plugins.hook.deltacloud_asgi_wrapper.get_hookimpls()):
            wrapped = cast("ASGIApp | None", impl.function(app=self.asgi))
            if wrapped is not None:
                self.asgi = wrapped
        settings = self.services.settings
        if settings.metrics or settings.metrics_path or settings.log_json or settings.access_log:
            from ..observability.requests import RequestObserver

            self.asgi = RequestObserver(self.asgi, metrics=settings.metrics or bool(settings.metrics_path),
                                        metrics_path=settings.metrics_path, access_log=settings.access_log,
                                        request_id_header=settings.log_json)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.services.plugins.hook.deltacloud_startup(app=self)
        try:
            with tuned_gc():
                yield
        finally:
            if self.services.events is not None:
                await self.services.events.close()
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                from prometheus_client import multiprocess

                multiprocess.mark_process_dead(os.getpid())  # its live gauges leave the sum

    # -- the registries, for hooks and tests ---------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def pm(self) -> pluggy.PluginManager:
        return self.services.plugins

    @property
    def collections(self) -> CollectionRegistry:
        return self.services.collections

    @property
    def features(self) -> FeatureRegistry:
        return self.services.features

    @property
    def renderers(self) -> RendererRegistry:
        return self.services.renderers

    @property
    def drivers(self) -> DriverRegistry:
        return self.services.drivers

    def state_machine_for(self, driver_cls: type[Driver]) -> StateMachine | None:
        """The instance state machine in force for ``driver_cls`` (the hook's answer)."""
        return self.services.machines.for_driver(driver_cls)


def create_app(settings: Settings | None = None, **kwargs: Any) -> DeltacloudApp:
    """The ASGI application (``uvicorn deltacloud_core.web.app:create_app --factory``)."""
    return DeltacloudApp(settings, **kwargs)
