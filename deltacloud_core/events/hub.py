"""The events of one server process: its watchers, their subscribers, the limits, the nudges.

:meth:`EventHub.subscribe` is the whole way of a new stream: limits, the watcher of its key
(made or joined), the credentials checked against the backend, the first listing waited for,
then the history replayed after ``Last-Event-ID`` (or a ``reset`` with a snapshot when the
history does not reach back that far). :meth:`EventHub.announce` is what a driver's
:meth:`~deltacloud_core.Driver.announce_change` reaches, from any thread; :meth:`EventHub.written`
is told of every successful write through the server (polled drivers' watchers wake at once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..collections.base import Outcome
from ..credentials import Credentials
from ..drivers.base import Driver
from ..errors import AuthenticationFailure, RateLimited
from .backends.base import EventBackend, Nudge
from .model import WATCHABLE, Event, EventFilter, WatchKey, compare_ids, valid_id
from .render import DocumentRenderer, event_json
from .settings import EventSettings
from .subscriber import Subscriber, Subscription
from .watcher import Watcher

__all__ = ["EventHub"]

log = logging.getLogger("deltacloud.events")


class EventHub:
    """Watchers by key and their subscribers, in this process, over one :class:`EventBackend`."""

    def __init__(self, settings: EventSettings, backend: EventBackend, renderer: DocumentRenderer, *,
                 backend_timeout: float) -> None:
        self.settings = settings
        self.backend = backend
        self.renderer = renderer
        self.backend_timeout = backend_timeout
        self.watchers: dict[WatchKey, Watcher] = {}
        self.subscribers = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._start_lock = asyncio.Lock()
        self._chores: set[asyncio.Task[Any]] = set()
        #: Watchers still stopping, by key: a new watcher of the key waits for its predecessor.
        self._stopping: dict[WatchKey, asyncio.Task[None]] = {}
        #: Nudges go out one at a time, in the order they were made (a Redis pool would reorder).
        self._nudge_lock = asyncio.Lock()

    # -- life ----------------------------------------------------------------------------------
    async def start(self) -> None:
        async with self._start_lock:
            if not self._started:
                self._loop = asyncio.get_running_loop()
                await self.backend.start(self._deliver)
                self._started = True

    async def close(self) -> None:
        for watcher in list(self.watchers.values()):
            for subscriber in list(watcher.subscribers):
                subscriber.close("dropped", {"reason": "the server is shutting down; reconnect with Last-Event-ID"})
            await self._stop(watcher)
        if self._started:
            await self.backend.close()
            self._started = False

    def _deliver(self, key: WatchKey, events: list[Event]) -> None:
        watcher = self.watchers.get(key)
        if watcher is not None:
            for subscriber in list(watcher.subscribers):
                subscriber.offer(events)

    # -- subscribing ---------------------------------------------------------------------------
    async def subscribe(self, driver_cls: type[Driver], provider: str | None, credentials: Credentials,
                        event_filter: EventFilter, last_event_id: str | None,
                        prepare: Callable[[Driver], None]) -> Subscription:
        """A new stream (see the module's docstring). Raises 429/503 past the limits, 401 for
        credentials the backend refuses, 502/504 when its first listing fails or does not come."""
        await self.start()
        key = WatchKey(driver_cls.driver_id, provider, credentials.digest())
        settings = self.settings
        stopping = self._stopping.get(key)
        if stopping is not None and key not in self.watchers:
            await asyncio.shield(stopping)
        if self.subscribers >= settings.max_subscribers:
            raise RateLimited(f"This server serves {settings.max_subscribers} event streams at most; "
                              "try again later or another server.", retry_after=5, status=503)
        watcher = self.watchers.get(key)
        if watcher is None:
            if len(self.watchers) >= settings.max_watchers:
                raise RateLimited(f"This server watches {settings.max_watchers} accounts at most; "
                                  "try again later or another server.", retry_after=5, status=503)
            watcher = self.watchers[key] = Watcher(
                key, driver_cls, provider, credentials, settings=settings, backend=self.backend,
                renderer=self.renderer, prepare=prepare, backend_timeout=self.backend_timeout)
        elif len(watcher.subscribers) >= settings.max_per_credentials:
            raise RateLimited(f"{settings.max_per_credentials} event streams are open with these credentials "
                              "already; close one, or share one stream.", retry_after=5, status=429)
        subscriber = Subscriber(event_filter, settings.queue)
        watcher.add(subscriber)
        self.subscribers += 1
        try:
            await self.backend.follow(key)
            await watcher.check_credentials()
            watcher.start()
            await watcher.wait_ready(event_filter.collections, self.backend_timeout)
            return await self._attach(watcher, subscriber, last_event_id)
        except BaseException:
            self._leave(watcher, subscriber)
            raise

    async def _attach(self, watcher: Watcher, subscriber: Subscriber, last_event_id: str | None) -> Subscription:
        key = watcher.key
        position = self.backend.position(key)
        subscriber.seen = position
        subscriber.attached = True  # from here on, every new event reaches its queue
        backlog: list[Event] = []
        reset: tuple[str, str] | None = None
        if last_event_id is not None:
            history = await self.backend.since(key, last_event_id) if valid_id(last_event_id) else None
            if history is None:
                reset = await self._reset(key, subscriber)
            else:
                backlog = [e for e in history if compare_ids(e.id, position) <= 0 and subscriber.filter.matches(e)]
                subscriber.skip_to(last_event_id)
        return Subscription(subscriber, backlog=backlog, reset=reset, heartbeat=self.settings.heartbeat,
                            on_close=lambda: self._leave(watcher, subscriber))

    async def _reset(self, key: WatchKey, subscriber: Subscriber) -> tuple[str, str]:
        """The ``reset`` event: every member the subscriber's filter keeps, under each collection's
        name as in a list document, and the id the snapshot is current at."""
        snapshot = await self.backend.load(key)
        docs = snapshot.docs if snapshot is not None else {}
        last = snapshot.last if snapshot is not None else self.backend.position(key)
        data: dict[str, Any] = {"collections": sorted(subscriber.filter.collections)}
        for collection in sorted(subscriber.filter.collections):
            data[collection] = [d for d in docs.get(collection, {}).values()
                                if subscriber.filter.keeps(collection, d)]
        subscriber.skip_to(last)
        return last, event_json(data)

    def _leave(self, watcher: Watcher, subscriber: Subscriber) -> None:
        if subscriber not in watcher.subscribers:
            return
        watcher.remove(subscriber)
        self.subscribers -= 1
        if not watcher.subscribers and self.watchers.get(watcher.key) is watcher:
            del self.watchers[watcher.key]
            loop = self._loop or asyncio.get_running_loop()
            task = self._stopping[watcher.key] = loop.create_task(self._stop(watcher))
            key = watcher.key
            task.add_done_callback(lambda _done: self._stopped(key, task))

    def _stopped(self, key: WatchKey, task: asyncio.Task[None]) -> None:
        if self._stopping.get(key) is task:
            del self._stopping[key]

    async def _stop(self, watcher: Watcher) -> None:
        if self.watchers.get(watcher.key) is watcher:
            del self.watchers[watcher.key]
        await watcher.stop()
        if watcher.key not in self.watchers:
            await self.backend.unfollow(watcher.key)

    def _chore(self, coroutine: Any) -> None:
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(coroutine)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    # -- drivers that push, writes through the server ------------------------------------------
    def announce(self, driver: Driver, collection: str, resource_id: str | None, model: Any = None) -> None:
        """A driver changed a member of ``collection`` (``resource_id``, or unknown: None; ``model``:
        the resource right after the change, if the driver has it): wake the watcher of its key,
        wherever it polls. Safe to call from any thread; the document is rendered here, at once,
        so that it shows this change even when another one follows before the watcher looks."""
        loop = self._loop
        watchable = WATCHABLE.get(collection)
        if watchable is None or loop is None or loop.is_closed():
            return
        try:
            credentials = driver.credentials
        except AuthenticationFailure:
            return
        key = WatchKey(type(driver).driver_id, driver.provider, credentials.digest())
        if not self.backend.shared and key not in self.watchers:
            return  # nobody watches these credentials here, and there is no other process
        doc = None
        if model is not None:
            try:
                docs = self.renderer.documents(watchable.singular, driver, [model])
            except Exception as exc:  # noqa: BLE001 - the watcher reads the member itself then
                log.warning("events %s: could not render an announced %s: %s", key.driver, watchable.singular, exc)
            else:
                for rid, rendered in docs.items():
                    resource_id, doc = resource_id or rid, event_json(rendered)
        nudge = Nudge(collection, resource_id, doc)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._chore(self._send(key, nudge))
        else:
            loop.call_soon_threadsafe(lambda: self._chore(self._send(key, nudge)))

    async def _send(self, key: WatchKey, nudge: Nudge) -> None:
        async with self._nudge_lock:  # tasks take it in the order they were made
            await self.backend.nudge(key, nudge)

    def written(self, driver: Driver | None, collection: str, resource_id: str | None, outcome: Outcome) -> None:
        """A write (create, action, destroy) through the server succeeded: the watcher of its
        credentials reads the member (or the list) at once instead of at its next poll. Nothing
        for collections the driver announces itself (it sends their documents)."""
        if driver is None or collection not in WATCHABLE or collection in type(driver).ANNOUNCES_CHANGES:
            return
        if not 200 <= outcome.status < 300:
            return
        if resource_id is None and outcome.kind == "member":
            found = getattr(outcome.data, "id", None)
            resource_id = None if found is None else str(found)
        self.announce(driver, collection, resource_id)

    # -- for tests and metrics -----------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        return {"watchers": len(self.watchers), "subscribers": self.subscribers,
                "polling": sum(1 for w in self.watchers.values() if w.holding),
                "polls": sum(w.polls for w in self.watchers.values())}
