"""Where watchers keep their leases, snapshots and event histories: in this process
(:class:`~.memory.MemoryBackend`, the embedded default) or in Redis
(:class:`~.redis.RedisBackend`, shared by every worker and host)."""

from __future__ import annotations

from .base import Draft, EventBackend, Snapshot

__all__ = ["Draft", "EventBackend", "Snapshot"]
