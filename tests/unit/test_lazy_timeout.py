"""run_with_timeout behaves as ``asyncio.timeout`` around the coroutine, arming no timer when it never waits."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from deltacloud_core.web.lazy_timeout import run_with_timeout

_var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


def _run(coro):
    return asyncio.run(coro)


def test_a_coroutine_that_never_waits_arms_no_timer() -> None:
    async def inline() -> int:
        return 42

    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        before = len(loop._scheduled)  # type: ignore[attr-defined]
        result = await run_with_timeout(inline(), 60)
        return result, len(loop._scheduled) - before  # type: ignore[attr-defined]

    assert _run(main()) == (42, 0)


def test_an_error_before_any_wait_propagates() -> None:
    async def failing() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        _run(run_with_timeout(failing(), 60))


def test_a_coroutine_that_waits_gets_every_result_back() -> None:
    async def waits() -> list[object]:
        seen: list[object] = [await asyncio.sleep(0, result="a")]
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, "b")
        seen.append(await future)
        seen.append(await asyncio.to_thread(lambda: "c"))
        seen.append(_var.get())
        return seen

    async def main() -> list[object]:
        _var.set("task context")
        return await run_with_timeout(waits(), 5)

    assert _run(main()) == ["a", "b", "c", "task context"]


def test_an_error_after_a_wait_propagates() -> None:
    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise KeyError("later")

    with pytest.raises(KeyError, match="later"):
        _run(run_with_timeout(fails_later(), 5))


def test_a_slow_coroutine_times_out_and_is_cancelled() -> None:
    cleaned: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            cleaned.append("finally ran")

    async def main() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimeoutError):
            await run_with_timeout(slow(), 0.05)
        return loop.time() - started

    elapsed = _run(main())
    assert elapsed < 5
    assert cleaned == ["finally ran"]


def test_the_coroutine_may_handle_the_timeout_itself() -> None:
    async def stubborn() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "handled"
        return "slept"

    async def main() -> str:
        return await run_with_timeout(stubborn(), 0.05)

    assert _run(main()) == "handled"


def test_a_cancellation_from_outside_is_not_a_timeout() -> None:
    async def slow() -> None:
        await asyncio.sleep(30)

    async def main() -> None:
        task = asyncio.ensure_future(run_with_timeout(slow(), 60))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    _run(main())


def test_no_limit_means_no_timeout() -> None:
    async def waits() -> str:
        await asyncio.sleep(0.01)
        return "done"

    assert _run(run_with_timeout(waits(), None)) == "done"
