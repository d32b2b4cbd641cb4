"""Retries the server does for itself: only reads (calls of ``GET`` operations), only for answers
that say "try again" (the backend throttles: ``RateLimited``, i.e. HTTP 429/503, AWS
``Throttling``/``RequestLimitExceeded``; or it failed on its side: ``ProviderError``), honouring the
backend's ``Retry-After``, and within a budget per (driver, provider) so that one flaky backend
does not multiply its load.

The budget is a token bucket: every first attempt puts ``ratio`` tokens in (at most ``reserve``),
every retry takes one out; with fewer than one token left, the error goes to the client as it came.
So retries stay below ``ratio`` of the calls (10% by default) plus a small reserve for bursts.
A ``Retry-After`` longer than ``max_delay`` is not waited for: the client gets the 503 and the
header, and decides itself.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import DeltacloudError, ProviderError, RateLimited
from .bulkheads import BulkheadFull

__all__ = ["ReadRetries", "RetryBudget", "retry_after_seconds"]


def retry_after_seconds(error: DeltacloudError) -> float | None:
    """The ``Retry-After`` an error carries, in seconds (delta-seconds only), or None."""
    value = error.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class RetryBudget:
    """Tokens for retries of one backend: ``ratio`` per call, one per retry, at most ``reserve``."""

    ratio: float = 0.1
    reserve: float = 10.0
    tokens: float = field(default=-1.0)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.reserve

    def deposit(self) -> None:
        with self._lock:
            self.tokens = min(self.reserve, self.tokens + self.ratio)

    def withdraw(self) -> bool:
        with self._lock:
            if self.tokens < 1.0:
                return False
            self.tokens -= 1.0
            return True


@dataclass(frozen=True)
class ReadRetries:
    """How reads are retried: ``attempts`` retries at most, backoff from ``backoff`` seconds."""

    attempts: int = 2
    backoff: float = 0.1
    max_delay: float = 5.0
    ratio: float = 0.1
    reserve: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReadRetries:
        env = os.environ if env is None else env
        return cls(attempts=int(env.get("DELTACLOUD_READ_RETRIES", 2)),
                   max_delay=float(env.get("DELTACLOUD_RETRY_MAX_DELAY", 5.0)),
                   ratio=float(env.get("DELTACLOUD_RETRY_BUDGET", 0.1)))

    def delay(self, error: BaseException, attempt: int, budget: RetryBudget) -> float | None:
        """Seconds to wait before retry number ``attempt + 1`` of a read that raised ``error``, or
        None when it must not be retried (not retryable, attempts or budget spent, or the backend
        asks for a longer pause than ``max_delay``)."""
        if attempt >= self.attempts or isinstance(error, BulkheadFull):
            return None
        if not isinstance(error, RateLimited | ProviderError):
            return None
        asked = retry_after_seconds(error) if isinstance(error, RateLimited) else None
        if asked is not None and asked > self.max_delay:
            return None
        if not budget.withdraw():
            return None
        if asked is not None:
            return asked
        base = min(self.backoff * (2 ** attempt), self.max_delay)
        return base * (0.5 + random.random() / 2)
