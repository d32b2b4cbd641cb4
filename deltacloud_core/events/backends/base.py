"""The contract between the watchers of one process and the store they share with other processes."""

from __future__ import annotations

import os
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from ..model import Event, WatchKey

__all__ = ["Deliver", "Draft", "EventBackend", "Hold", "Nudge", "Snapshot", "process_identity"]

Docs = dict[str, dict[str, Any]]
#: Hands new events of one key to this process's subscribers (called on the event loop).
Deliver = Callable[[WatchKey, list[Event]], None]


def process_identity() -> str:
    """``host:pid:random``: names this process's lease and demand (the random part tells a
    restarted process with a recycled pid from the one before)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Hold(Enum):
    """What :meth:`EventBackend.acquire` found: the lease is another process's (``LOST``), was this
    process's already (``RENEWED``), or is this process's from now on (``TAKEN``: whatever this
    process knew of the key may be stale, another process may have written meanwhile)."""

    LOST = 0
    RENEWED = 1
    TAKEN = 2


@dataclass(frozen=True)
class Nudge:
    """A member of ``collection`` changed (``resource_id``; None: unknown which), as a driver
    announced it or a write through the server made it. ``doc`` is its JSON document (URLs
    under :data:`~deltacloud_core.events.BASE`) right after the change, when the announcer had
    the resource: the watcher then reports exactly that change, even when another one follows
    before it looks. Without ``doc`` the watcher reads the member (or the list) when it wakes."""

    collection: str
    resource_id: str | None = None
    doc: str | None = None


@dataclass(frozen=True)
class Draft:
    """An event before the store gave it its id."""

    kind: str
    collection: str
    resource_id: str
    data: str
    old_state: str | None = None
    new_state: str | None = None

    def with_id(self, event_id: str) -> Event:
        return Event(event_id, self.kind, self.collection, self.resource_id, self.data, self.old_state,
                     self.new_state)


@dataclass
class Snapshot:
    """What a watcher knows: the documents of each collection it lists (by id, in listing order),
    the id this history begins at, and the id of the latest event it covers."""

    docs: dict[str, Docs] = field(default_factory=dict)
    origin: str = "0-0"
    last: str = "0-0"


class EventBackend(ABC):
    """Leases (which process polls a key), snapshots, histories, demand and nudges."""

    #: Whether other processes share this store (False: a key's watcher can only be in this process).
    shared: ClassVar[bool] = False

    def __init__(self, history: int, retention: float, lease_ttl: float) -> None:
        self.history = history
        self.retention = retention
        self.lease_ttl = lease_ttl
        self.identity = process_identity()
        self.deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        """Begin; ``deliver`` receives every new event of the keys this process follows."""
        self.deliver = deliver

    async def close(self) -> None:  # noqa: B027 - nothing to let go of by default
        """Let go of everything (leases, demand, connections)."""

    # -- the lease -----------------------------------------------------------------------------
    @abstractmethod
    async def acquire(self, key: WatchKey) -> Hold:
        """Take the key's lease, or renew it when this process holds it. On ``TAKEN``, nudges
        sent before are forgotten (the new holder lists everything first, which covers them)."""

    @abstractmethod
    async def release(self, key: WatchKey) -> None:
        """Give the lease up (only if this process holds it)."""

    # -- state and history ---------------------------------------------------------------------
    @abstractmethod
    async def load(self, key: WatchKey) -> Snapshot | None:
        """The key's snapshot (None: nothing known, a history starts afresh)."""

    @abstractmethod
    async def has_baseline(self, key: WatchKey, collections: frozenset[str]) -> bool:
        """Whether the snapshot lists every one of ``collections``."""

    @abstractmethod
    async def commit(self, key: WatchKey, collection: str, docs: Docs, drafts: list[Draft]) -> list[Event] | None:
        """Append ``drafts`` to the history and make ``docs`` the snapshot of ``collection``, at
        once and only while this process holds the lease (None when it does not any more)."""

    @abstractmethod
    async def since(self, key: WatchKey, after: str) -> list[Event] | None:
        """Every event after ``after``, or None when the history does not reach back to it."""

    # -- who wants what ------------------------------------------------------------------------
    @abstractmethod
    async def set_demand(self, key: WatchKey, collections: frozenset[str]) -> None:
        """The collections this process's subscribers of ``key`` want (empty: none any more)."""

    @abstractmethod
    async def demand(self, key: WatchKey) -> frozenset[str]:
        """The collections any process's subscribers of ``key`` want."""

    # -- nudges: a driver announced a change ---------------------------------------------------
    @abstractmethod
    async def nudge(self, key: WatchKey, nudge: Nudge) -> None:
        """Wake whichever process polls ``key`` (nothing when no process watches it). Nudges
        sent one after the other from one process are read in that order."""

    @abstractmethod
    async def next_nudges(self, key: WatchKey, timeout: float) -> list[Nudge]:
        """The nudges since the last call (or since the lease was taken), in order, waiting up
        to ``timeout`` seconds for one."""

    # -- this process's view of the history ----------------------------------------------------
    @abstractmethod
    async def follow(self, key: WatchKey) -> None:
        """Begin handing ``key``'s new events to ``deliver``."""

    @abstractmethod
    async def unfollow(self, key: WatchKey) -> None:
        """Stop handing ``key``'s events to this process."""

    @abstractmethod
    def position(self, key: WatchKey) -> str:
        """The id of the last event of ``key`` handed to ``deliver`` (or where following began)."""
