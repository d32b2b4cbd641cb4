"""Bulkheads: every (driver, provider) gets its own bounded share of concurrent backend calls.

A call takes a slot of its bulkhead for as long as it runs: a plain ``def`` driver method until
its worker thread returns, even when the request stopped waiting (504), so a stalled backend
fills its own share and nothing else. When every slot is taken, up to ``queue`` calls wait for one,
each at most ``max_wait`` seconds; beyond that the call is refused at once with
:class:`BulkheadFull`: a 503 with ``Retry-After``, never an unbounded queue.

The operator sizes the shares (``DELTACLOUD_BULKHEAD_LIMIT``, per driver or provider with
``DELTACLOUD_BULKHEADS``, see :class:`BulkheadConfig`). Calls that run on the event loop
(``@nonblocking`` methods of local stores) never wait and take no slot.

Bulkheads live in the event loop's thread: :meth:`Bulkhead.release` is called there (a worker
thread's call hands its result and the release back in one ``call_soon_threadsafe``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import math
import os
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..errors import RateLimited
from .labels import provider_label

__all__ = ["Bulkhead", "BulkheadConfig", "BulkheadFull", "BulkheadRule", "Bulkheads", "parse_rules"]

#: Slots of one (driver, provider) when the operator says nothing: enough for 500 clients in front
#: of a 300 ms cloud (benchmarks/slow_backend.py), few enough to bound the threads a stalled one holds.
DEFAULT_LIMIT = 512
DEFAULT_QUEUE = 512
DEFAULT_MAX_WAIT = 10.0
#: Distinct (driver, provider) bulkheads per process; providers beyond share one per driver.
DEFAULT_MAX_BULKHEADS = 256
OVERFLOW = "*other*"


class BulkheadFull(RateLimited):
    """Every slot of a backend's share is taken and its queue is full (or the wait was too long)."""

    def __init__(self, driver: str, provider: str, retry_after: int) -> None:
        super().__init__(
            f"Too many calls in flight to {driver} ({provider}): the backend's share of this server is "
            f"full. Try again in {retry_after} s; the operator sizes the share with DELTACLOUD_BULKHEADS "
            f"or DELTACLOUD_BULKHEAD_LIMIT.", retry_after=retry_after, status=503)

    def generic(self) -> BulkheadFull:
        """The server's own refusal keeps its message where a backend's error gets the generic one."""
        return self


@dataclass(frozen=True)
class BulkheadRule:
    """``driver[/provider-glob]=limit``: the share of matching (driver, provider) pairs."""

    driver: str
    provider: str | None
    limit: int

    def matches(self, driver: str, provider: str) -> bool:
        return self.driver in (driver, "*") and (self.provider is None or fnmatch.fnmatchcase(provider, self.provider))


def parse_rules(text: str) -> tuple[BulkheadRule, ...]:
    """``"ec2=64 ec2/eu-west-*=16 mock=1024"`` -> rules; the most specific match wins (a provider
    pattern over none). Raises ValueError naming the bad entry."""
    rules: list[BulkheadRule] = []
    for entry in text.replace(",", " ").split():
        target, sep, number = entry.rpartition("=")
        driver, _slash, provider = target.partition("/")
        if not sep or not driver or not number.isdigit() or int(number) < 1:
            raise ValueError(f"bulkhead rule {entry!r}: expected DRIVER[/PROVIDER]=N with N >= 1, "
                             "e.g. ec2/eu-west-*=32")
        rules.append(BulkheadRule(driver.lower(), provider or None, int(number)))
    return tuple(rules)


@dataclass(frozen=True)
class BulkheadConfig:
    """How large each share is and how long a call may wait for a slot."""

    limit: int = DEFAULT_LIMIT
    queue: int = DEFAULT_QUEUE
    max_wait: float = DEFAULT_MAX_WAIT
    rules: tuple[BulkheadRule, ...] = ()
    max_bulkheads: int = DEFAULT_MAX_BULKHEADS

    def limit_for(self, driver: str, provider: str) -> int:
        best: BulkheadRule | None = None
        for rule in self.rules:
            if rule.matches(driver, provider) and (best is None or _specificity(rule) >= _specificity(best)):
                best = rule
        return best.limit if best is not None else self.limit

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BulkheadConfig:
        env = os.environ if env is None else env
        return cls(limit=int(env.get("DELTACLOUD_BULKHEAD_LIMIT", DEFAULT_LIMIT)),
                   queue=int(env.get("DELTACLOUD_BULKHEAD_QUEUE", DEFAULT_QUEUE)),
                   max_wait=float(env.get("DELTACLOUD_BULKHEAD_WAIT", DEFAULT_MAX_WAIT)),
                   rules=parse_rules(env.get("DELTACLOUD_BULKHEADS", "")),
                   max_bulkheads=int(env.get("DELTACLOUD_MAX_BULKHEADS", DEFAULT_MAX_BULKHEADS)))


def _specificity(rule: BulkheadRule) -> int:
    return (rule.driver != "*") + 2 * (rule.provider is not None)


@dataclass(eq=False)
class Bulkhead:
    """The share of one (driver, provider): ``limit`` calls in flight, ``queue`` more waiting."""

    driver: str
    provider: str
    limit: int
    queue: int
    max_wait: float
    in_flight: int = 0
    rejected: int = 0
    _waiters: deque[asyncio.Future[None]] = field(default_factory=deque)
    #: Seconds a call took, smoothed: what ``Retry-After`` of a refusal says (at least 1).
    _latency: float = 0.0

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def idle(self) -> bool:
        return self.in_flight == 0 and not self._waiters

    async def acquire(self) -> None:
        """Take a slot, waiting at most ``max_wait`` seconds behind at most ``queue`` others."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        if len(self._waiters) >= self.queue:
            raise self._refuse()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, self.max_wait)
        except TimeoutError:
            self._forget(waiter)
            raise self._refuse() from None
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as the caller gave up: pass it on
            else:
                self._forget(waiter)
            raise

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def release(self, seconds: float | None = None) -> None:
        """Give a slot back (to the first waiter, if any); ``seconds`` the call took."""
        if seconds is not None:
            self._latency = seconds if self._latency == 0.0 else 0.8 * self._latency + 0.2 * seconds
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes straight to the waiter
                return
        self.in_flight -= 1

    def retry_after(self) -> int:
        return max(1, min(60, math.ceil(self._latency)))

    def _refuse(self) -> BulkheadFull:
        self.rejected += 1
        return BulkheadFull(self.driver, self.provider, self.retry_after())


class Bulkheads:
    """The bulkheads of one process, made on first use per (driver id, provider label)."""

    def __init__(self, config: BulkheadConfig | None = None) -> None:
        self.config = config or BulkheadConfig()
        self._by_key: dict[tuple[str, str], Bulkhead] = {}

    def __iter__(self) -> Iterator[Bulkhead]:
        return iter(list(self._by_key.values()))

    def get(self, driver: str, provider: str | None) -> Bulkhead:
        """The bulkhead of ``driver`` and ``provider`` (keyed by the provider's label)."""
        label = provider_label(provider)
        found = self._by_key.get((driver, label))
        if found is not None:
            return found
        if len(self._by_key) >= self.config.max_bulkheads and not self._evict_idle():
            label = OVERFLOW
            found = self._by_key.get((driver, label))
            if found is not None:
                return found
        config = self.config
        bulkhead = Bulkhead(driver, label, config.limit_for(driver, label), config.queue, config.max_wait)
        self._by_key[(driver, label)] = bulkhead
        return bulkhead

    def _evict_idle(self) -> bool:
        idle = [key for key, bulkhead in self._by_key.items() if bulkhead.idle and bulkhead.provider != OVERFLOW]
        for key in idle:
            del self._by_key[key]
        return bool(idle)
