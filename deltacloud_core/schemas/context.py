"""What schemas need to know about the request while dumping (base URL, driver)."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..drivers.capabilities import implements

if TYPE_CHECKING:
    from ..drivers.base import Driver
    from ..state_machine import StateMachine

__all__ = ["RenderContext", "render_context", "rendering"]

#: What ``quote(..., safe="")`` leaves alone: ASCII letters, digits and ``_.-~``.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _quote(part: str) -> str:
    """``quote(part, safe="")``; ids made of unreserved characters (``inst0``, ``m1-small``) are
    returned as they are without the encode/quote round trip, which cost half of dumping an
    instance (py-spy, GET /api/instances). Answers are remembered: the same ids come back in
    every list."""
    quoted = _QUOTED.get(part)
    if quoted is None:
        if part.isascii() and (part.isalnum() or _UNRESERVED.fullmatch(part)):
            quoted = part
        else:
            quoted = quote(part, safe="")
        if len(_QUOTED) >= 20_000:
            _QUOTED.clear()
        _QUOTED[part] = quoted
    return quoted


_QUOTED: dict[str, str] = {}


@dataclass
class RenderContext:
    """What a request chose and what schemas, handlers and templates read about it: the absolute
    API URL, the driver and provider asked for, and (once the pipeline loaded it) the driver class
    with its state machine. One per request, made in the prelude and completed by the pipeline."""

    api_url: str
    #: The driver id the request asked for (``mock``), loaded or not.
    driver_name: str = ""
    #: The provider the request asked for; None for the driver's default.
    provider: str | None = None
    driver_cls: type[Driver] | None = None
    #: The driver object once a handler built it (an instance's actions may depend on it).
    driver: Driver | None = None
    state_machine: StateMachine | None = None
    _impl_cache: dict[str, bool] = field(default_factory=dict)

    def url(self, *parts: str) -> str:
        if len(parts) == 2:  # collection and id: nearly every link
            first, second = parts
            return f"{self.api_url}/{_quote(str(first))}/{_quote(str(second))}"
        return "/".join([self.api_url, *(_quote(str(p)) for p in parts)])

    def implements(self, method: str) -> bool:
        hit = self._impl_cache.get(method)
        if hit is None:
            hit = self.driver_cls is not None and implements(self.driver_cls, method)
            self._impl_cache[method] = hit
        return hit

    def has_feature(self, collection: str, feature: str) -> bool:
        return self.driver_cls is not None and self.driver_cls.has_feature(collection, feature)

    def instance_actions(self, instance: object) -> list[str]:
        if self.driver is not None:
            return self.driver.instance_actions_for(instance)  # type: ignore[arg-type]
        actions = getattr(instance, "actions", None)
        if actions is not None:
            return list(actions)
        if self.state_machine is not None:
            return self.state_machine.actions_for(getattr(instance, "state", None))
        return []


_CURRENT: contextvars.ContextVar[RenderContext] = contextvars.ContextVar("deltacloud_render_context")

#: The context of the dump in progress (what a schema's function reads: links, the driver).
render_context: Callable[[], RenderContext] = _CURRENT.get


class rendering:  # used as a function: with rendering(context): ...
    """Dump with ``context`` as :func:`render_context` (renderers wrap every dump in it). A
    class, not a ``@contextmanager`` generator: it runs on every answer, and the generator's
    machinery cost more than setting the variable."""

    __slots__ = ("_context", "_token")

    def __init__(self, context: RenderContext) -> None:
        self._context = context

    def __enter__(self) -> RenderContext:
        self._token = _CURRENT.set(self._context)
        return self._context

    def __exit__(self, *exc_info: object) -> None:
        _CURRENT.reset(self._token)
