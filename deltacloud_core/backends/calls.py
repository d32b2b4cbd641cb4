"""One backend call: its bulkhead slot, its worker thread (plain ``def``) or its await
(``async def``), the retries of reads, and what the metrics see.

``invoke_driver`` hands every call that is not ``@nonblocking`` to :meth:`BackendCalls.call`.
The app makes one :class:`BackendCalls` from its settings; :func:`default_calls` serves callers
without an app (configured from the environment).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..errors import DeltacloudError
from .bulkheads import Bulkhead, BulkheadConfig, BulkheadFull, Bulkheads
from .retries import ReadRetries, RetryBudget
from .threads import ElasticThreads

__all__ = ["BackendCalls", "CallObserver", "default_calls", "outcome_of", "shared_threads"]


class CallObserver(Protocol):
    """What the metrics are told (see :mod:`deltacloud_core.observability.metrics`)."""

    def call_done(self, bulkhead: Bulkhead, operation: str, outcome: str, seconds: float) -> None: ...

    def slot_taken(self, bulkhead: Bulkhead) -> None: ...

    def slot_given_back(self, bulkhead: Bulkhead) -> None: ...

    def rejected(self, bulkhead: Bulkhead, operation: str) -> None: ...

    def retried(self, bulkhead: Bulkhead, operation: str, reason: str) -> None: ...


def outcome_of(error: BaseException | None) -> str:
    """``ok``, the HTTP status of a Deltacloud error (``404``, ``503``), ``timeout`` (the request
    gave up), ``abandoned`` (given up before its thread started) or ``exception``."""
    if error is None:
        return "ok"
    if isinstance(error, DeltacloudError):
        return str(error.status)
    if isinstance(error, asyncio.CancelledError):
        return "timeout"
    return "exception"


_THREADS: ElasticThreads | None = None


def shared_threads() -> ElasticThreads:
    """The process's worker threads (one pool; the bulkheads share it out)."""
    global _THREADS
    if _THREADS is None:
        _THREADS = ElasticThreads(max_threads=int(os.environ.get("DELTACLOUD_MAX_THREADS", 4096)))
    return _THREADS


class _Abandoned(Exception):
    """A thread call whose caller stopped waiting before the thread could start it."""


class BackendCalls:
    """Calls driver methods under their bulkhead, with retries of reads."""

    def __init__(self, bulkheads: Bulkheads | None = None, retries: ReadRetries | None = None, *,
                 threads: ElasticThreads | None = None, observer: CallObserver | None = None) -> None:
        self.bulkheads = bulkheads or Bulkheads()
        self.retries = retries or ReadRetries()
        self.threads = threads or shared_threads()
        self.observer = observer
        self._budgets: dict[tuple[str, str], RetryBudget] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, observer: CallObserver | None = None) -> BackendCalls:
        return cls(Bulkheads(BulkheadConfig.from_env(env)), ReadRetries.from_env(env), observer=observer)

    @classmethod
    def configured(cls, bulkheads: BulkheadConfig, retries: ReadRetries, *,
                   observer: CallObserver | None = None) -> BackendCalls:
        return cls(Bulkheads(bulkheads), retries, observer=observer)

    async def call(self, driver_id: str, provider: str | None, operation: str, func: Callable[..., Any],
                   is_async: bool, args: tuple[Any, ...], kwargs: dict[str, Any], *, read: bool = False) -> Any:
        """``func(*args, **kwargs)`` in the bulkhead of (``driver_id``, ``provider``); a read is
        retried as :class:`~.retries.ReadRetries` allows."""
        bulkhead = self.bulkheads.get(driver_id, provider)
        if not read:
            return await self._once(bulkhead, operation, func, is_async, args, kwargs)
        budget = self._budget(bulkhead)
        budget.deposit()
        attempt = 0
        while True:
            try:
                return await self._once(bulkhead, operation, func, is_async, args, kwargs)
            except DeltacloudError as exc:
                pause = self.retries.delay(exc, attempt, budget)
                if pause is None:
                    raise
                if self.observer is not None:
                    self.observer.retried(bulkhead, operation, str(exc.status))
                attempt += 1
                await asyncio.sleep(pause)

    def _budget(self, bulkhead: Bulkhead) -> RetryBudget:
        key = (bulkhead.driver, bulkhead.provider)
        found = self._budgets.get(key)
        if found is None:
            if len(self._budgets) >= 1024:
                self._budgets.clear()
            found = self._budgets[key] = RetryBudget(self.retries.ratio, self.retries.reserve)
        return found

    async def _once(self, bulkhead: Bulkhead, operation: str, func: Callable[..., Any], is_async: bool,
                    args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        observer = self.observer
        try:
            await bulkhead.acquire()
        except BulkheadFull:
            if observer is not None:
                observer.rejected(bulkhead, operation)
            raise
        if observer is not None:
            observer.slot_taken(bulkhead)
        started = time.perf_counter()
        if is_async:
            error: BaseException | None = None
            try:
                return await func(*args, **kwargs)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._settled(bulkhead, operation, started, error)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def work() -> None:
            # In the worker thread. A caller that gave up before the thread got here (its request
            # timed out while the call was queued) is not run: it would act for nobody.
            error: BaseException | None = None
            result: Any = None
            if future.cancelled():
                error = _Abandoned()
            else:
                try:
                    result = func(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request
                    error = exc
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:  # the loop is gone (shutdown): nobody waits any more
                pass

        def settle(result: Any, error: BaseException | None) -> None:
            # On the event loop: the slot comes back as the thread finishes, never earlier.
            self._settled(bulkhead, operation, started, error)
            if not future.done():
                if error is None:
                    future.set_result(result)
                else:
                    future.set_exception(error)

        self.threads.submit(work)
        return await future

    def _settled(self, bulkhead: Bulkhead, operation: str, started: float, error: BaseException | None) -> None:
        seconds = time.perf_counter() - started
        bulkhead.release(seconds)
        observer = self.observer
        if observer is not None:
            observer.slot_given_back(bulkhead)
            observer.call_done(bulkhead, operation,
                               "abandoned" if isinstance(error, _Abandoned) else outcome_of(error), seconds)


_DEFAULT: BackendCalls | None = None


def default_calls() -> BackendCalls:
    """The calls of code that runs without an app's own (configured from the environment once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = BackendCalls.from_env()
    return _DEFAULT
