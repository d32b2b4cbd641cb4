"""One open event stream: its filter, its bounded queue, and the frames it sends."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from . import sse
from .model import BASE, Event, EventFilter, compare_ids
from .render import event_json

__all__ = ["Subscriber", "Subscription"]

#: Milliseconds a client waits before it reconnects (the stream's ``retry:``).
RECONNECT_MS = 2000


class Subscriber:
    """A subscriber's queue. :meth:`offer` runs on the event loop with every new event of its
    watcher; past ``limit`` queued events the subscriber is closed as too slow (its client
    resumes from the history with ``Last-Event-ID``), so nothing is buffered without bound."""

    def __init__(self, event_filter: EventFilter, limit: int) -> None:
        self.filter = event_filter
        self.limit = limit
        self.queue: deque[Event] = deque()
        #: The newest event id this subscriber has been offered (delivered or filtered out).
        self.seen = "0-0"
        self.attached = False
        self.closing: tuple[str, Mapping[str, Any]] | None = None
        self.wake = asyncio.Event()

    def offer(self, events: list[Event]) -> None:
        if not self.attached or self.closing is not None:
            return
        for event in events:
            if compare_ids(event.id, self.seen) <= 0:
                continue
            self.seen = event.id
            if not self.filter.matches(event):
                continue
            if len(self.queue) >= self.limit:
                self.close("dropped", {"reason": f"more than {self.limit} events waited for this client; "
                                                 "reconnect with Last-Event-ID to resume"})
                return
            self.queue.append(event)
        self.wake.set()

    def skip_to(self, event_id: str) -> None:
        """Nothing up to ``event_id`` is sent any more (the client has it already)."""
        if compare_ids(event_id, self.seen) > 0:
            self.seen = event_id
        while self.queue and compare_ids(self.queue[0].id, event_id) <= 0:
            self.queue.popleft()

    def close(self, kind: str, data: Mapping[str, Any]) -> None:
        """End the stream after a last event ``kind`` (``dropped``, ``error``)."""
        if self.closing is None:
            self.closing = (kind, data)
        self.wake.set()


class Subscription:
    """What :meth:`~.hub.EventHub.subscribe` gives the web layer: the frames of one stream."""

    def __init__(self, subscriber: Subscriber, *, backlog: list[Event], reset: tuple[str, str] | None,
                 heartbeat: float, on_close: Callable[[], None]) -> None:
        self.subscriber = subscriber
        self.backlog = backlog
        #: (event id, data) of a ``reset`` event to send first.
        self.reset = reset
        self.heartbeat = heartbeat
        self._on_close = on_close
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._on_close()

    async def frames(self, api_url: str) -> AsyncIterator[bytes]:
        """The stream's bytes; ends when the subscriber is closed (the caller stops early when
        the client goes away). URLs in the data name ``api_url``, the API as the client sees it."""
        sub = self.subscriber
        sent = sub.seen

        def render(event: Event) -> bytes:
            return sse.frame(event.id, event.kind, event.data.replace(BASE, api_url))

        try:
            yield sse.retry(RECONNECT_MS)
            if self.reset is not None:
                reset_id, data = self.reset
                yield sse.frame(reset_id, "reset", data.replace(BASE, api_url))
            for event in self.backlog:
                sent = event.id
                yield render(event)
            self.backlog = []
            if not sub.queue and sub.closing is None:
                sent = sub.seen
                yield sse.position(sent)
            while True:
                while sub.queue:
                    event = sub.queue.popleft()
                    sent = event.id
                    yield render(event)
                if sub.closing is not None:
                    closing_kind, closing_data = sub.closing
                    yield sse.frame(None, closing_kind, event_json(closing_data))
                    return
                sub.wake.clear()
                try:
                    await asyncio.wait_for(sub.wake.wait(), self.heartbeat)
                except TimeoutError:
                    if not sub.queue and compare_ids(sub.seen, sent) > 0:
                        sent = sub.seen
                        yield sse.position(sent)
                    else:
                        yield sse.comment("heartbeat")
        finally:
            self.close()
