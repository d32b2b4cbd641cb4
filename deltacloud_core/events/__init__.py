"""Events instead of polling: a stream of changes per (driver, provider, credentials).

The parts, each with one job (docs/events.md tells the whole story):

* :mod:`.model`: watcher keys, events, filters, the watchable collections;
* :mod:`.diff` and :mod:`.policy`: what changed between two listings; when to poll next;
* :mod:`.render`: models as the JSON documents ``GET`` answers;
* :mod:`.watcher`: one watcher per key and process, polling while it holds the key's lease;
* :mod:`.subscriber`: one stream's bounded queue and its ``text/event-stream`` frames;
* :mod:`.hub`: a process's watchers and subscribers, the limits, drivers' announcements;
* :mod:`.backends`: leases, snapshots and histories in this process or in Redis.

The web layer serves the hub's streams at ``GET /api/events`` (:mod:`deltacloud_core.web.events`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..collections.base import Resource
from .backends.base import EventBackend
from .backends.memory import MemoryBackend
from .hub import EventHub
from .model import BASE, KINDS, WATCHABLE, Event, EventFilter, WatchKey
from .render import DocumentRenderer
from .settings import EventSettings

__all__ = ["BASE", "KINDS", "WATCHABLE", "Event", "EventFilter", "EventHub", "EventSettings", "WatchKey",
           "make_backend", "make_hub"]


def make_backend(settings: EventSettings, redis_url: str | None) -> EventBackend:
    """Redis when a URL is configured (every worker and host shares it), else this process alone."""
    if redis_url:
        from .backends.redis import RedisBackend

        return RedisBackend(redis_url, settings.history, settings.retention, settings.lease_ttl)
    return MemoryBackend(settings.history, settings.retention, settings.lease_ttl)


def make_hub(settings: EventSettings, redis_url: str | None, resources: Mapping[str, Resource], *,
             backend_timeout: float) -> EventHub:
    return EventHub(settings, make_backend(settings, redis_url), DocumentRenderer(resources),
                    backend_timeout=backend_timeout)
