"""Rendered list items kept while the driver describes them the same way.

A list answer is mostly the rendering of its items (``GET /api/instances`` with 4 instances:
60% of the request in JSON, 70% in XML). Models are frozen dataclasses that compare by value, so
an item the driver describes as before (a new object or the same one) is *equal* to the one the
cache rendered last time, and its rendering cannot have changed either, as long as everything
else it depends on is the same: the format, the resource, the API URL the links start with, the
driver class (actions, features) and the provider. :class:`FragmentCache` keeps those bytes by
``(scope, type, id)`` and hands them out only for an equal model: the driver contract asks nothing
of drivers for it.

Only frozen dataclasses with an ``id`` are kept: the entry holds the model itself and a hit is
checked with ``==`` (``is`` first, which is cheaper). A mutable object (a dict) is never kept. The
cache is bounded by the bytes it holds and forgets the oldest entries first;
``DELTACLOUD_RENDER_CACHE_MB=0`` turns it off.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from operator import is_
from typing import Any

__all__ = ["FragmentCache"]

#: Bytes held per entry beyond the fragment itself (key tuple, dict slot, entry tuple).
_ENTRY_OVERHEAD = 200
#: Largest list document kept whole. Small lists are the frequent ones, and joining and hashing
#: them is a good part of their cost; a big list costs the same per item whether its
#: document was kept or not (joining and hashing grow with it), so lists grow linearly.
_MAX_DOCUMENT = 64 * 1024


def _frozen_dataclass(kind: type) -> bool:
    params = getattr(kind, "__dataclass_params__", None)
    return bool(params is not None and params.frozen and dataclasses.is_dataclass(kind))


class FragmentCache:
    """Rendered bytes of list items by ``(scope, type, id)``, for equal models; bounded by size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple[Hashable, type, Any], tuple[Any, bytes]] = OrderedDict()
        self._kinds: dict[type, bool] = {}
        #: scope -> [fragments, document, etag or None]: the last list document (up to 64 KiB)
        #: of each scope, kept within a quarter of ``max_bytes`` (oldest first out).
        self._documents: OrderedDict[Hashable, list[Any]] = OrderedDict()
        self._by_body: dict[int, list[Any]] = {}
        self.document_size = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def _key(self, scope: Hashable, item: object) -> tuple[Hashable, type, Any] | None:
        """Where ``item`` is kept in ``scope``: None for anything but a frozen model with an id."""
        kind = type(item)
        cacheable = self._kinds.get(kind)
        if cacheable is None:
            cacheable = self._kinds[kind] = _frozen_dataclass(kind)
        if not cacheable:
            return None
        ident = getattr(item, "id", None)
        if ident is None:
            return None
        if type(ident) is not str and not isinstance(ident, (int, tuple, frozenset)):
            return None  # only ids that can be dict keys (a list id would not be)
        return (scope, kind, ident)

    def get(self, scope: Hashable, item: object) -> bytes | None:
        """The bytes stored in ``scope`` for a model equal to ``item``, or None."""
        key = self._key(scope, item)
        if key is None:
            return None
        entry = self._entries.get(key)
        return entry[1] if entry is not None and (entry[0] is item or entry[0] == item) else None

    def put(self, scope: Hashable, item: object, fragment: bytes) -> None:
        """Keep ``fragment`` for ``item`` if it is an immutable model with an id and fits."""
        key = self._key(scope, item)
        if key is not None:
            self._store(key, item, fragment)

    def _store(self, key: tuple[Hashable, type, Any], item: object, fragment: bytes) -> None:
        cost = len(fragment) + _ENTRY_OVERHEAD
        if cost > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= len(old[1]) + _ENTRY_OVERHEAD
        self._entries[key] = (item, fragment)
        self.size += cost
        while self.size > self.max_bytes:
            _key, (_item, dropped) = self._entries.popitem(last=False)
            self.size -= len(dropped) + _ENTRY_OVERHEAD

    def list_document(self, scope: Hashable, items: Iterable[Any], render_item: Callable[[Any], bytes],
                      join: Callable[[list[bytes]], bytes]) -> bytes:
        """``join`` of every item's bytes: kept ones reused, the others made by ``render_item``
        and kept; the very same document as last time when nothing changed (:meth:`document`)."""
        parts: list[bytes] = []
        entries = self._entries
        for item in items:
            key = self._key(scope, item)
            entry = entries.get(key) if key is not None else None
            if entry is not None and (entry[0] is item or entry[0] == item):
                part = entry[1]
            else:
                part = render_item(item)
                if key is not None:
                    self._store(key, item, part)
            parts.append(part)
        return self.document(scope, parts, join)

    # -- whole documents ---------------------------------------------------------------------
    def document(self, scope: Hashable, parts: list[bytes], join: Callable[[list[bytes]], bytes]) -> bytes:
        """``join(parts)``; the very bytes object of the last document of ``scope`` when it was
        joined from the very same fragments (every item a hit, in the same order). That object
        keeps its :meth:`etag`, so an unchanged list is neither joined nor hashed again."""
        last = self._documents.get(scope)
        if last is not None:
            old_parts = last[0]
            if len(old_parts) == len(parts) and all(map(is_, old_parts, parts)):
                return last[1]
            self._drop_document(scope)
        body = join(parts)
        if len(body) <= min(_MAX_DOCUMENT, self.max_bytes // 4):
            entry = [parts, body, None]
            self._documents[scope] = entry
            self._by_body[id(body)] = entry
            self.document_size += len(body)
            while self.document_size > self.max_bytes // 4:
                self._drop_document(next(iter(self._documents)))
        return body

    def etag(self, body: bytes) -> str:
        """The MD5 hex digest of ``body`` (the original's ETag), computed once per kept document."""
        entry = self._by_body.get(id(body))
        if entry is not None and entry[1] is body:
            if entry[2] is None:
                entry[2] = hashlib.md5(body, usedforsecurity=False).hexdigest()
            return entry[2]
        return hashlib.md5(body, usedforsecurity=False).hexdigest()

    def _drop_document(self, scope: Hashable) -> None:
        entry = self._documents.pop(scope)
        del self._by_body[id(entry[1])]
        self.document_size -= len(entry[1])

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0
        self._documents.clear()
        self._by_body.clear()
        self.document_size = 0
