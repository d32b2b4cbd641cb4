"""Drivers found through the ``deltacloud.drivers`` entry-point group, loaded lazily by name.

Listing names reads entry-point metadata only; a driver module is imported the first time
a request (or ``/api/drivers``) needs it. A driver that fails to import is logged by name
with the reason and left out; the rest keep working.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from stevedore import ExtensionManager, NamedExtensionManager
from stevedore import _cache as stevedore_cache

from ..models import DriverInfo
from .base import Driver

__all__ = ["DRIVER_GROUP", "DriverRegistry", "UnknownDriver"]

DRIVER_GROUP = "deltacloud.drivers"
log = logging.getLogger("deltacloud.drivers")


class UnknownDriver(LookupError):
    """No installed driver has that name, or it failed to load."""

    def __init__(self, name: str, reason: str | None = None) -> None:
        self.name = name
        self.reason = reason
        if reason:
            message = f"Driver '{name}' is not available ({reason})."
        else:
            message = (f"Driver '{name}' is not available (no installed distribution provides it; "
                       f"try: pip install deltacloud-{name}).")
        super().__init__(message)
        self.message = message


class DriverRegistry:
    """Installed drivers by name. Thread-safe; classes are cached once loaded."""

    def __init__(self, group: str = DRIVER_GROUP, extra: dict[str, type[Driver]] | None = None,
                 blocked: Iterable[str] = ()) -> None:
        self.group = group
        self._extra = dict(extra or {})
        self._blocked = set(blocked)
        self._loaded: dict[str, type[Driver]] = {}
        self._failed: dict[str, str] = {}
        self._names: list[str] | None = None
        self._lock = threading.Lock()

    def rescan(self) -> None:
        """Forget the entry-point list (e.g. after installing a distribution in-process)."""
        with self._lock:
            ExtensionManager.ENTRY_POINT_CACHE.pop(self.group, None)
            # stevedore also memoises the scan per sys.path in memory; forget it too.
            internal = getattr(getattr(stevedore_cache, "_c", None), "_internal", None)
            if isinstance(internal, dict):
                internal.clear()
            self._names = None
            self._failed.clear()

    def names(self) -> list[str]:
        """Installed driver ids, sorted, without importing any driver."""
        with self._lock:
            if self._names is None:
                mgr = NamedExtensionManager(self.group, names=[], name_order=True)
                found = {ep.name for ep in mgr.list_entry_points()}
                self._names = sorted((found | set(self._extra)) - self._blocked)
            return list(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def register(self, name: str, driver_cls: type[Driver]) -> None:
        """Add a driver class without an entry point (tests, embedding)."""
        with self._lock:
            self._extra[name] = driver_cls
            self._names = None
            self._loaded.pop(name, None)

    def load(self, name: str) -> type[Driver]:
        """The driver class called ``name``; raises UnknownDriver with an install hint."""
        cls = self._loaded.get(name)
        if cls is not None:
            return cls
        if name in self._blocked:
            raise UnknownDriver(name, "blocked by DELTACLOUD_BLOCK_PLUGINS")
        if name in self._extra:
            cls = self._extra[name]
        else:
            if name in self._failed:
                raise UnknownDriver(name, self._failed[name])
            if name not in self.names():
                raise UnknownDriver(name)
            errors: list[str] = []

            def on_failure(_manager: object, entrypoint: object, exc: BaseException) -> None:
                errors.append(f"{type(exc).__name__}: {exc}")

            mgr = NamedExtensionManager(self.group, names=[name], on_load_failure_callback=on_failure)
            exts = [e for e in mgr.extensions if e.name == name]
            if not exts:
                reason = errors[0] if errors else "entry point could not be loaded"
                log.warning("driver %r skipped: %s", name, reason)
                self._failed[name] = reason
                raise UnknownDriver(name, reason)
            cls = exts[0].plugin
            if not (isinstance(cls, type) and issubclass(cls, Driver)):
                reason = f"entry point does not name a Driver subclass ({cls!r})"
                log.warning("driver %r skipped: %s", name, reason)
                self._failed[name] = reason
                raise UnknownDriver(name, reason)
        if cls.__dict__.get("driver_id") != name:
            # One class may serve several ids (ec2 / eucalyptus): give each id its own subclass.
            cls = type(cls.__name__, (cls,), {"driver_id": name, "__module__": cls.__module__,
                                             "__qualname__": cls.__qualname__})
        with self._lock:
            self._loaded[name] = cls
        return cls

    def available(self) -> dict[str, type[Driver]]:
        """Every loadable driver; broken ones are logged and left out."""
        out: dict[str, type[Driver]] = {}
        for name in self.names():
            try:
                out[name] = self.load(name)
            except UnknownDriver:
                continue
        return out

    def infos(self) -> list[DriverInfo]:
        return [cls.info() for cls in self.available().values()]
