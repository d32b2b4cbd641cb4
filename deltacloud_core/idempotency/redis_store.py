"""Idempotency records in Redis (``DELTACLOUD_REDIS_URL``): shared by every worker and host.

One string per key, ``deltacloud:idempotency:<scoped key>``, its JSON record as value and the
window as its expiry; a claim is ``SET ... NX EX`` (atomic across processes).
"""

from __future__ import annotations

from typing import Any

from .store import Claim

__all__ = ["PREFIX", "RedisStore"]

PREFIX = "deltacloud:idempotency:"


class RedisStore:
    """:class:`~.store.IdempotencyStore` over ``redis.asyncio`` (the ``redis`` package)."""

    def __init__(self, url: str, *, client: Any = None) -> None:
        self.url = url
        self._client = client

    def _redis(self) -> Any:
        if self._client is None:
            try:
                import redis.asyncio
            except ImportError as exc:  # pragma: no cover - the extra is missing
                raise RuntimeError("DELTACLOUD_REDIS_URL is set but the redis package is not installed: "
                                   "pip install 'deltacloud-core[redis]'") from exc
            self._client = redis.asyncio.Redis.from_url(self.url)
        return self._client

    async def claim(self, key: str, fingerprint: str, ttl: float) -> Claim | None:
        client = self._redis()
        for _attempt in range(3):
            if await client.set(PREFIX + key, Claim(fingerprint).to_text(), nx=True, px=max(1, int(ttl * 1000))):
                return None
            text = await client.get(PREFIX + key)
            if text is not None:
                return Claim.from_text(text)
            # expired between the two commands: claim again
        return None

    async def complete(self, key: str, claim: Claim, ttl: float) -> None:
        await self._redis().set(PREFIX + key, claim.to_text(), px=max(1, int(ttl * 1000)))

    async def release(self, key: str) -> None:
        await self._redis().delete(PREFIX + key)
