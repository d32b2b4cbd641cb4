"""Run a coroutine under a timeout that is only armed if the coroutine ever waits.

Every operation runs under the backend timeout (``DELTACLOUD_BACKEND_TIMEOUT``). Arming an
``asyncio.timeout`` costs a timer on the event loop (with uvloop about 8% of a small list
answer under load, py-spy), and most answers of a local driver (the mock reads SQLite on the
event loop) never wait at all, so that timer could never fire anyway: nothing else runs
while they do. :func:`run_with_timeout` takes the coroutine's first step itself; when the
coroutine finishes in that step, no timer was needed. When it suspends (a thread hop, a
network call), the rest of it runs inside ``asyncio.timeout(limit)`` exactly as before, the
awaited future handed on to the task unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

__all__ = ["run_with_timeout"]

T = TypeVar("T")


async def run_with_timeout(coro: Coroutine[Any, Any, T], limit: float | None) -> T:
    """``async with asyncio.timeout(limit): return await coro``, without the timer when
    ``coro`` completes without suspending. Raises ``TimeoutError`` like ``asyncio.timeout``."""
    try:
        pending = coro.send(None)
    except StopIteration as done:
        return done.value
    except BaseException:
        coro.close()
        raise
    async with asyncio.timeout(limit):
        return await _Resumed(coro, pending)


class _Resumed:
    """An awaitable that continues a coroutine which already yielded ``pending``: what
    ``await coro`` would do from that point on (``yield from`` by hand)."""

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, pending = self._coro, self._pending
        self._pending = None
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in by the task (a cancellation): passed on
                try:
                    pending = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as done:
                    return done.value
