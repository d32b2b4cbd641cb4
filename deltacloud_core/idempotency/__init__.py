"""Creates and actions that are safe to retry: the ``Idempotency-Key`` header (IETF draft
``draft-ietf-httpapi-idempotency-key-header``).

The same key with the same request answers the first request's answer; with a different request
422; while the first is still running 409. Keys are kept in the driver's own store when it has one
(:meth:`deltacloud_core.Driver.idempotency_store`: the mock keeps them in its SQLite store), else
in Redis when the server has one (``DELTACLOUD_REDIS_URL``), else in memory per process, each for
a bounded window (``DELTACLOUD_IDEMPOTENCY_TTL``).
"""

from .keys import fingerprint, parse_key, scoped_key
from .store import Claim, IdempotencyStore, MemoryStore, StoredAnswer

__all__ = ["Claim", "IdempotencyStore", "MemoryStore", "StoredAnswer", "fingerprint", "parse_key", "scoped_key"]
