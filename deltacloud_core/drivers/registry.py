"""Drivers found through the ``deltacloud.drivers`` entry-point group, loaded lazily by name.

Listing names reads entry-point metadata only (``importlib.metadata``); a driver module is
imported the first time a request (or ``/api/drivers``) needs it. A driver that fails to import
is logged by name with the reason and left out; the rest keep working.

(stevedore did this before; its process-wide cache of entry-point scans could only be refreshed
through its private internals, and it writes cache files under the user's home. The standard
library's public API does the same listing and loading, always from the environment as it is.)
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import threading
from collections.abc import Iterable

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
            importlib.invalidate_caches()  # the import system's directory listings
            self._names = None
            self._failed.clear()

    def _entry_points(self) -> importlib.metadata.EntryPoints:
        return importlib.metadata.entry_points(group=self.group)

    def names(self) -> list[str]:
        """Installed driver ids, sorted, without importing any driver."""
        with self._lock:
            if self._names is None:
                found = {ep.name for ep in self._entry_points()}
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
            cls = self._load_entry_point(name)
        if cls.__dict__.get("driver_id") != name:
            # One class may serve several ids (ec2 / eucalyptus): give each id its own subclass.
            cls = type(cls.__name__, (cls,), {"driver_id": name, "__module__": cls.__module__,
                                             "__qualname__": cls.__qualname__})
        with self._lock:
            self._loaded[name] = cls
        return cls

    def _load_entry_point(self, name: str) -> type[Driver]:
        """Import the first entry point called ``name``; a failure is remembered and logged."""
        found = [ep for ep in self._entry_points() if ep.name == name]
        try:
            if not found:
                raise LookupError("entry point could not be loaded")
            loaded = found[0].load()
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}" if found else str(exc)
            log.warning("driver %r skipped: %s", name, reason)
            self._failed[name] = reason
            raise UnknownDriver(name, reason) from exc
        if not (isinstance(loaded, type) and issubclass(loaded, Driver)):
            reason = f"entry point does not name a Driver subclass ({loaded!r})"
            log.warning("driver %r skipped: %s", name, reason)
            self._failed[name] = reason
            raise UnknownDriver(name, reason)
        return loaded

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
