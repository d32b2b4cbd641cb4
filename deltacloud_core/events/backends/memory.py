"""The embedded default: leases, snapshots and histories in this process only.

Every lease is granted (one process, one watcher per key). A key's snapshot and history outlive
its last subscriber by ``retention`` seconds (never its credentials), so a client that comes
back with ``Last-Event-ID`` after a gap still gets every change: the next watcher starts from
the snapshot and reports what changed meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

from ..model import Event, WatchKey, compare_ids
from .base import Docs, Draft, EventBackend, Hold, Nudge, Snapshot

__all__ = ["MAX_NUDGES", "MemoryBackend"]

#: Nudges waiting for a key's watcher at most; past that they collapse into one listing per
#: collection (a watcher stuck in a slow listing never makes this grow without bound).
MAX_NUDGES = 10_000


@dataclass
class _Log:
    snapshot: Snapshot
    events: deque[Event]
    #: The newest id that fell out of the history (``0-0``: none did).
    trimmed: str = "0-0"
    nudges: list[Nudge] = field(default_factory=list)
    nudged: asyncio.Event = field(default_factory=asyncio.Event)
    demand: frozenset[str] = frozenset()
    watched: bool = False
    #: When the last watcher let go (monotonic seconds), for the retention.
    idle_since: float = 0.0


class MemoryBackend(EventBackend):
    def __init__(self, history: int, retention: float, lease_ttl: float, *, max_retained: int = 1000) -> None:
        super().__init__(history, retention, lease_ttl)
        self.max_retained = max_retained
        self._logs: dict[WatchKey, _Log] = {}
        self._clock = (0, 0)

    def _next_id(self) -> str:
        now = int(time.time() * 1000)
        ms, seq = self._clock
        self._clock = (now, 0) if now > ms else (ms, seq + 1)
        return f"{self._clock[0]}-{self._clock[1]}"

    def _log(self, key: WatchKey) -> _Log:
        log = self._logs.get(key)
        if log is None:
            self._sweep()
            origin = self._next_id()
            log = self._logs[key] = _Log(Snapshot(origin=origin, last=origin), deque(maxlen=self.history))
        return log

    def _sweep(self) -> None:
        """Forget idle keys past their retention, and the oldest idle ones past ``max_retained``."""
        now = time.monotonic()
        idle = [(log.idle_since, key) for key, log in self._logs.items() if not log.watched]
        for since, key in idle:
            if now - since > self.retention:
                del self._logs[key]
        idle = sorted((log.idle_since, key) for key, log in self._logs.items() if not log.watched)
        for _since, key in idle[:max(0, len(self._logs) - self.max_retained)]:
            del self._logs[key]

    async def acquire(self, key: WatchKey) -> Hold:
        log = self._log(key)
        if log.watched:
            return Hold.RENEWED
        log.watched = True
        log.nudges.clear()  # sent to a watcher that stopped: the new one lists everything first
        return Hold.TAKEN

    async def release(self, key: WatchKey) -> None:
        log = self._logs.get(key)
        if log is not None:
            log.watched = False
            log.idle_since = time.monotonic()

    async def load(self, key: WatchKey) -> Snapshot | None:
        log = self._log(key)
        snap = log.snapshot
        return Snapshot({c: dict(d) for c, d in snap.docs.items()}, snap.origin, snap.last)

    async def has_baseline(self, key: WatchKey, collections: frozenset[str]) -> bool:
        docs = self._log(key).snapshot.docs
        return all(c in docs for c in collections)

    async def commit(self, key: WatchKey, collection: str, docs: Docs, drafts: list[Draft]) -> list[Event] | None:
        log = self._log(key)
        events = [d.with_id(self._next_id()) for d in drafts]
        for event in events:
            if len(log.events) == log.events.maxlen:
                log.trimmed = log.events[0].id
            log.events.append(event)
        log.snapshot.docs[collection] = dict(docs)
        if events:
            log.snapshot.last = events[-1].id
            if self.deliver is not None:
                self.deliver(key, events)
        return events

    async def since(self, key: WatchKey, after: str) -> list[Event] | None:
        log = self._logs.get(key)
        if log is None:
            return None
        snap = log.snapshot
        if compare_ids(after, snap.origin) < 0 or compare_ids(after, snap.last) > 0 \
                or compare_ids(after, log.trimmed) < 0:
            return None
        return [e for e in log.events if compare_ids(e.id, after) > 0]

    async def set_demand(self, key: WatchKey, collections: frozenset[str]) -> None:
        self._log(key).demand = collections

    async def demand(self, key: WatchKey) -> frozenset[str]:
        log = self._logs.get(key)
        return log.demand if log is not None else frozenset()

    async def nudge(self, key: WatchKey, nudge: Nudge) -> None:
        log = self._logs.get(key)
        if log is None or not log.watched:
            return
        if len(log.nudges) >= MAX_NUDGES:
            log.nudges = [Nudge(c) for c in dict.fromkeys(n.collection for n in [*log.nudges, nudge])]
        else:
            log.nudges.append(nudge)
        log.nudged.set()

    async def next_nudges(self, key: WatchKey, timeout: float) -> list[Nudge]:
        log = self._log(key)
        if not log.nudges and timeout > 0:
            log.nudged.clear()
            try:
                await asyncio.wait_for(log.nudged.wait(), timeout)
            except TimeoutError:
                pass
        nudges, log.nudges = log.nudges, []
        return nudges

    async def follow(self, key: WatchKey) -> None:
        self._log(key)

    async def unfollow(self, key: WatchKey) -> None:
        return None

    def position(self, key: WatchKey) -> str:
        return self._log(key).snapshot.last
