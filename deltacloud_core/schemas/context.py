"""What schemas need to know about the request while dumping (base URL, driver)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from marshmallow.experimental.context import Context

from ..drivers.capabilities import implements

if TYPE_CHECKING:
    from ..drivers.base import Driver
    from ..state_machine import StateMachine

__all__ = ["RenderContext", "render_context"]

#: What ``quote(..., safe="")`` leaves alone: ASCII letters, digits and ``_.-~``.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _quote(part: str) -> str:
    """``quote(part, safe="")``; ids made of unreserved characters (``inst0``, ``m1-small``) are
    returned as they are without the encode/quote round trip, which cost half of dumping an
    instance (py-spy, GET /api/instances)."""
    if part.isascii() and (part.isalnum() or _UNRESERVED.fullmatch(part)):
        return part
    return quote(part, safe="")


@dataclass
class RenderContext:
    """Request facts the schemas read: absolute API URL and the selected driver."""

    api_url: str
    driver_cls: type[Driver] | None = None
    driver: Driver | None = None
    state_machine: StateMachine | None = None
    _impl_cache: dict[str, bool] = field(default_factory=dict)

    def url(self, *parts: str) -> str:
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


ContextVar = Context[RenderContext]


def render_context() -> RenderContext:
    """The context of the dump in progress."""
    return ContextVar.get()
