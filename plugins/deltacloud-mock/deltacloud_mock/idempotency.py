"""The mock keeps ``Idempotency-Key`` records in its own store, beside the instances they made.

One object per key in the collection ``idempotency_keys`` (the key is already a SHA-256 of the
account and the client's key: no credential is stored), ``{"fingerprint", "answer", "expires"}``
with ``expires`` in Unix seconds. A claim is one write transaction, so every worker of a host
(they share the SQLite file) sees the same keys; expired records are dropped as claims meet them,
and every hundredth claim sweeps the collection.
"""

from __future__ import annotations

import json
import time
from typing import Any

from deltacloud_core.idempotency import Claim

from .store import MockStore, get_store

__all__ = ["COLLECTION", "MockIdempotencyStore"]

COLLECTION = "idempotency_keys"
_SWEEP_EVERY = 100


class MockIdempotencyStore:
    """:class:`deltacloud_core.idempotency.IdempotencyStore` in the mock's SQLite store (the one of
    ``$DELTACLOUD_MOCK_STORAGE`` at each call, as the driver's own)."""

    def __init__(self, store: MockStore | None = None) -> None:
        self._store = store
        self._claims = 0

    @property
    def store(self) -> MockStore:
        return self._store or get_store()

    async def claim(self, key: str, fingerprint: str, ttl: float) -> Claim | None:
        now = time.time()
        self._claims += 1
        with self.store.transaction() as tx:
            if self._claims % _SWEEP_EVERY == 0:
                tx._conn.execute("DELETE FROM objects WHERE collection = ? AND json_extract(data, '$.expires') < ?",
                                 (COLLECTION, now))
            found = tx.get(COLLECTION, key)
            if found is not None and float(found.get("expires", 0)) > now:
                return Claim.from_text(json.dumps(found))
            tx.put(COLLECTION, key, {"fingerprint": fingerprint, "answer": None, "expires": now + ttl})
        return None

    async def complete(self, key: str, claim: Claim, ttl: float) -> None:
        record: dict[str, Any] = json.loads(claim.to_text())
        record["expires"] = time.time() + ttl
        self.store.put(COLLECTION, key, record)

    async def release(self, key: str) -> None:
        self.store.delete(COLLECTION, key)
