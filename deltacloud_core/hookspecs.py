"""Every pluggy hook of Deltacloud, in one module, prefixed ``deltacloud_``.

The core registers its own collections, features and renderers through these very hooks
(``deltacloud_core.plugins.DEFAULT_PLUGINS``); a third-party plugin (entry-point group
``deltacloud.plugins``) does exactly the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .collections.base import CollectionRegistry
    from .drivers.base import Driver
    from .features import FeatureRegistry
    from .state_machine import StateMachine

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("deltacloud")
hookimpl = pluggy.HookimplMarker("deltacloud")


@hookspec
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    """Add collections (``registry.register(collection)``).

    Called once per application (``create_app``). A name registered twice raises an
    error that names both contributors. Return nothing.
    """


@hookspec
def deltacloud_register_features(registry: FeatureRegistry) -> None:
    """Add catalogue features (``registry.register(feature)``). Return nothing."""


@hookspec
def deltacloud_register_renderers(registry: Any) -> None:
    """Add output formats (``registry.register(renderer)``); ``registry`` is the web layer's
    ``RendererRegistry``. Return nothing."""


@hookspec(firstresult=True)
def deltacloud_instance_state_machine(driver_name: str, driver_class: type[Driver]) -> StateMachine | None:
    """Return the instance state machine to use for ``driver_class``.

    Stops at the first non-None result. The core's default returns the driver's declared
    ``INSTANCE_STATES``; a plugin may return a different machine for a driver.
    """


@hookspec
def deltacloud_startup(app: Any) -> None:
    """Called once when the ASGI application starts (inside its lifespan). Return nothing."""


@hookspec
def deltacloud_asgi_wrapper(app: Any) -> Any:
    """Return an ASGI application wrapping ``app`` (middleware), or None to leave it alone.

    Wrappers are applied in hook-call order, each around the result of the previous one.
    """


@hookspec(firstresult=True)
def deltacloud_handle_exception(request: Any, exception: BaseException) -> Any:
    """Return a response for an unexpected ``exception`` raised while serving ``request``.

    Stops at the first non-None result. Return None to let the core answer 500 with a
    request id.
    """
