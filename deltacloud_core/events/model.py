"""What the event machinery passes around: watcher keys, events, subscribers' filters.

An :class:`Event` holds its data as JSON text in which every URL starts with :data:`BASE`;
each subscriber's stream replaces it with the API URL that subscriber used (the documents are
rendered once per change, whatever the number of subscribers and the host names they use).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BASE", "KINDS", "WATCHABLE", "Event", "EventFilter", "WatchKey", "Watchable", "compare_ids", "valid_id"]

#: The API URL events are rendered with (``.invalid`` is reserved: it names no real host).
BASE = "http://deltacloud-events.invalid/api"
#: The kinds of change events, in the order a resource's life goes through them.
KINDS = ("created", "state", "changed", "destroyed")


@dataclass(frozen=True)
class Watchable:
    """A collection whose changes can be watched: how to list it and how its members are named."""

    collection: str
    #: The resource (and JSON key) of one member: ``instance``.
    singular: str
    list_method: str
    get_method: str


#: The collections events cover, instances first.
WATCHABLE: Mapping[str, Watchable] = {w.collection: w for w in (
    Watchable("instances", "instance", "list_instances", "get_instance"),
    Watchable("storage_volumes", "storage_volume", "list_storage_volumes", "get_storage_volume"),
    Watchable("storage_snapshots", "storage_snapshot", "list_storage_snapshots", "get_storage_snapshot"),
    Watchable("images", "image", "list_images", "get_image"),
)}


@dataclass(frozen=True)
class WatchKey:
    """One watcher's identity: driver, provider and a one-way digest of the credentials.

    Subscribers share a watcher only when all three are equal; :attr:`name` (what Redis sees)
    holds no credentials, only a hash over the digest.
    """

    driver: str
    provider: str | None
    digest: str

    @property
    def name(self) -> str:
        provider = hashlib.sha256((self.provider or "").encode("utf-8", "surrogateescape")).hexdigest()[:16]
        return f"{self.driver}:{provider}:{self.digest[:40]}"


def _id_parts(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


def compare_ids(a: str, b: str) -> int:
    """-1, 0 or 1 as stream id ``a`` (``<ms>-<seq>``) is before, equal to or after ``b``."""
    pa, pb = _id_parts(a), _id_parts(b)
    return (pa > pb) - (pa < pb)


def valid_id(event_id: str) -> bool:
    ms, sep, seq = event_id.partition("-")
    return ms.isdigit() and (not sep or seq.isdigit()) and len(event_id) < 48


@dataclass(frozen=True)
class Event:
    """One change of one resource, as a stream stores it."""

    id: str
    kind: str
    collection: str
    resource_id: str
    #: The event's JSON data (URLs under :data:`BASE`).
    data: str
    #: The resource's state before and after (the ``state`` filter matches either).
    old_state: str | None = None
    new_state: str | None = None


@dataclass(frozen=True)
class EventFilter:
    """What a subscriber asked for: some collections, maybe one id, maybe one state."""

    collections: frozenset[str]
    id: str | None = None
    state: str | None = None

    def matches(self, event: Event) -> bool:
        if event.collection not in self.collections:
            return False
        if self.id is not None and event.resource_id != self.id:
            return False
        if self.state is not None:
            wanted = self.state.upper()
            return wanted in ((event.old_state or "").upper(), (event.new_state or "").upper())
        return True

    def keeps(self, collection: str, doc: Mapping[str, object]) -> bool:
        """Whether a snapshot member (``reset``) belongs to this subscriber's view."""
        if collection not in self.collections:
            return False
        if self.id is not None and str(doc.get("id")) != self.id:
            return False
        if self.state is not None and str(doc.get("state") or "").upper() != self.state.upper():
            return False
        return True
