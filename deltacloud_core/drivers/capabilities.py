"""What a driver supports is what it overrides: computed, never configured."""

from __future__ import annotations

from functools import lru_cache

from .base import Driver

__all__ = ["capabilities", "implements"]


def implements(driver_cls: type[Driver], method: str) -> bool:
    """True when ``driver_cls`` has ``method`` and it is not a base-class 'unsupported' stub."""
    impl = getattr(driver_cls, method, None)
    if impl is None or not callable(impl):
        return False
    return not getattr(impl, "__deltacloud_unsupported__", False)


@lru_cache(maxsize=256)
def capabilities(driver_cls: type[Driver]) -> frozenset[str]:
    """Every public method name of ``driver_cls`` that is really implemented."""
    names = {n for n in dir(driver_cls) if not n.startswith("_")}
    return frozenset(n for n in names if implements(driver_cls, n))
