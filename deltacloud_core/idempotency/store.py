"""Where idempotency keys are kept: the protocol, and the in-memory store of one process.

A record is either *running* (claimed by the request that does the work) or *complete* (it holds
the answer). Every method is ``async`` so that a store may talk to a server (Redis); the keys a
store sees are already scoped and hashed (:func:`~.keys.scoped_key`): never a credential.
"""

from __future__ import annotations

import base64
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Claim", "IdempotencyStore", "MemoryStore", "StoredAnswer"]


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer to a key: status, headers (name, value) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "headers": [list(h) for h in self.headers],
                "body": base64.b64encode(self.body).decode("ascii")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredAnswer:
        return cls(int(data["status"]), tuple((str(k), str(v)) for k, v in data["headers"]),
                   base64.b64decode(data["body"]))


@dataclass(frozen=True)
class Claim:
    """What a store already holds for a key: the request's fingerprint and, once done, the answer."""

    fingerprint: str
    answer: StoredAnswer | None = None

    @property
    def running(self) -> bool:
        return self.answer is None

    def to_text(self) -> str:
        return json.dumps({"fingerprint": self.fingerprint,
                           "answer": self.answer.to_json() if self.answer is not None else None})

    @classmethod
    def from_text(cls, text: str | bytes) -> Claim:
        data = json.loads(text)
        answer = data.get("answer")
        return cls(str(data["fingerprint"]), StoredAnswer.from_json(answer) if answer else None)


@runtime_checkable
class IdempotencyStore(Protocol):
    """Keeps idempotency records for a bounded time."""

    async def claim(self, key: str, fingerprint: str, ttl: float) -> Claim | None:
        """Record ``key`` as running for ``fingerprint`` unless a record exists (atomically):
        None when this call claimed it, else the record that was there."""

    async def complete(self, key: str, claim: Claim, ttl: float) -> None:
        """Replace the record of ``key`` with the finished ``claim`` (it carries the answer)."""

    async def release(self, key: str) -> None:
        """Forget ``key`` (the work did not happen, or failed so that a retry should run it again)."""


class MemoryStore:
    """Records in this process's memory: at most ``max_keys`` (the oldest go first), each until it expires."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self._records: OrderedDict[str, tuple[float, Claim]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def _live(self, key: str, now: float) -> Claim | None:
        found = self._records.get(key)
        if found is None:
            return None
        if found[0] <= now:
            del self._records[key]
            return None
        return found[1]

    async def claim(self, key: str, fingerprint: str, ttl: float) -> Claim | None:
        now = time.monotonic()
        existing = self._live(key, now)
        if existing is not None:
            return existing
        self._records[key] = (now + ttl, Claim(fingerprint))
        while len(self._records) > self.max_keys:
            self._records.popitem(last=False)
        return None

    async def complete(self, key: str, claim: Claim, ttl: float) -> None:
        self._records[key] = (time.monotonic() + ttl, claim)
        self._records.move_to_end(key)
        while len(self._records) > self.max_keys:
            self._records.popitem(last=False)

    async def release(self, key: str) -> None:
        self._records.pop(key, None)
