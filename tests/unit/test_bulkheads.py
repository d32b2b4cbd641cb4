"""Bulkheads, worker threads, retries of reads and provider labels (deltacloud_core.backends), on
their own: no server. The HTTP tests (tests/test_bulkheads_http.py) show the same through deltacloudd."""

from __future__ import annotations

import asyncio
import threading

import pytest

from deltacloud_core.backends import (
    BackendCalls,
    Bulkhead,
    BulkheadConfig,
    BulkheadFull,
    Bulkheads,
    ElasticThreads,
    ReadRetries,
    RetryBudget,
    provider_label,
)
from deltacloud_core.backends.bulkheads import OVERFLOW, parse_rules
from deltacloud_core.errors import ObjectNotFound, ProviderError, RateLimited

WAIT = 30  # seconds any wait on a thread or event may take at most, on a loaded machine


def _run(coro):
    return asyncio.run(coro)


# -- provider labels: never a credential ----------------------------------------------------------

@pytest.mark.parametrize(("provider", "label"), [
    (None, "default"),
    ("", "default"),
    ("eu-west-1", "eu-west-1"),
    ("https://admin:s3cret@keystone.example.com:5000/v3?token=abc", "https://keystone.example.com:5000/v3"),
    ("ec2=http://key:pw@10.0.0.1:8773/services;s3=user:pw@10.0.0.2:8774", "ec2=http://10.0.0.1:8773/services;s3=10.0.0.2:8774"),
    ("qemu+ssh://root@kvm1.example.com/system", "qemu+ssh://kvm1.example.com/system"),
])
def test_provider_labels_keep_no_user_password_or_query(provider, label):
    assert provider_label(provider) == label


# -- configuration ---------------------------------------------------------------------------------

def test_rules_most_specific_wins():
    config = BulkheadConfig(limit=100, rules=parse_rules("ec2=64 ec2/eu-west-*=16, *=32"))
    assert config.limit_for("ec2", "eu-west-1") == 16
    assert config.limit_for("ec2", "us-east-1") == 64
    assert config.limit_for("openstack", "default") == 32
    assert BulkheadConfig(limit=100).limit_for("mock", "default") == 100


@pytest.mark.parametrize("text", ["ec2", "ec2=0", "=4", "ec2=many", "ec2/x=-1"])
def test_bad_rules_are_refused_naming_the_entry(text):
    with pytest.raises(ValueError, match="DRIVER"):
        parse_rules(text)


def test_config_from_env():
    config = BulkheadConfig.from_env({"DELTACLOUD_BULKHEAD_LIMIT": "8", "DELTACLOUD_BULKHEAD_QUEUE": "2",
                                      "DELTACLOUD_BULKHEAD_WAIT": "1.5", "DELTACLOUD_BULKHEADS": "ec2=3"})
    assert (config.limit, config.queue, config.max_wait) == (8, 2, 1.5)
    assert config.limit_for("ec2", "default") == 3


def test_one_bulkhead_per_driver_and_provider_label():
    bulkheads = Bulkheads(BulkheadConfig(limit=4, rules=parse_rules("ec2/eu-*=2")))
    east = bulkheads.get("ec2", "us-east-1")
    assert bulkheads.get("ec2", "us-east-1") is east
    assert bulkheads.get("ec2", "eu-west-1") is not east
    assert bulkheads.get("ec2", "eu-west-1").limit == 2
    assert bulkheads.get("mock", "us-east-1") is not east
    # Two spellings of one endpoint that differ only in the password share one bulkhead.
    assert bulkheads.get("openstack", "https://a:1@k/v3") is bulkheads.get("openstack", "https://a:2@k/v3")


def test_providers_beyond_the_maximum_share_one_overflow_bulkhead():
    async def main() -> None:
        bulkheads = Bulkheads(BulkheadConfig(limit=1, max_bulkheads=2))
        for name in ("a", "b"):
            await bulkheads.get("ec2", name).acquire()  # busy: cannot be evicted
        third, fourth = bulkheads.get("ec2", "c"), bulkheads.get("ec2", "d")
        assert third is fourth and third.provider == OVERFLOW
        bulkheads.get("ec2", "a").release()
        assert bulkheads.get("ec2", "e").provider == "e"  # an idle one made room

    _run(main())


# -- a bulkhead's slots ----------------------------------------------------------------------------

def _bulkhead(limit: int = 2, queue: int = 1, max_wait: float = WAIT) -> Bulkhead:
    return Bulkhead("httpcloud", "p", limit=limit, queue=queue, max_wait=max_wait)


def test_slots_then_a_bounded_queue_then_503_with_retry_after():
    async def main() -> None:
        bulkhead = _bulkhead(limit=2, queue=1)
        await bulkhead.acquire()
        await bulkhead.acquire()
        waiter = asyncio.ensure_future(bulkhead.acquire())
        await asyncio.sleep(0)
        assert bulkhead.waiting == 1 and not waiter.done()
        with pytest.raises(BulkheadFull) as refused:
            await bulkhead.acquire()
        assert refused.value.status == 503
        assert refused.value.headers["Retry-After"] == "1"
        assert "DELTACLOUD_BULKHEADS" in refused.value.message
        bulkhead.release()  # the slot goes straight to the waiter
        await asyncio.wait_for(waiter, WAIT)
        assert (bulkhead.in_flight, bulkhead.waiting, bulkhead.rejected) == (2, 0, 1)

    _run(main())


def test_a_wait_longer_than_max_wait_is_refused():
    async def main() -> None:
        bulkhead = _bulkhead(limit=1, queue=5, max_wait=0.01)
        await bulkhead.acquire()
        with pytest.raises(BulkheadFull):
            await bulkhead.acquire()
        assert bulkhead.waiting == 0 and bulkhead.in_flight == 1

    _run(main())


def test_retry_after_follows_how_long_calls_take():
    bulkhead = _bulkhead()
    bulkhead.in_flight = 1
    bulkhead.release(seconds=7.2)
    assert bulkhead.retry_after() == 8


def test_a_cancelled_waiter_gives_its_place_back():
    async def main() -> None:
        bulkhead = _bulkhead(limit=1, queue=1)
        await bulkhead.acquire()
        waiter = asyncio.ensure_future(bulkhead.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert bulkhead.waiting == 0
        bulkhead.release()
        assert bulkhead.in_flight == 0 and bulkhead.idle

    _run(main())


# -- worker threads --------------------------------------------------------------------------------

def test_threads_grow_with_the_calls_in_flight_and_end_when_idle():
    threads = ElasticThreads(idle_timeout=0.05)
    gate, started, finished = threading.Event(), threading.Semaphore(0), threading.Semaphore(0)

    def work() -> None:
        started.release()
        gate.wait(WAIT)
        finished.release()

    for _ in range(5):
        threads.submit(work)
    for _ in range(5):
        assert started.acquire(timeout=WAIT)  # all five run at once: none waits for another
    assert threads.threads == 5
    gate.set()
    for _ in range(5):
        assert finished.acquire(timeout=WAIT)
    for _ in range(int(WAIT / 0.01)):
        if threads.threads == 0:
            break
        threading.Event().wait(0.01)  # a bounded poll for the idle threads to leave
    assert threads.threads == 0


# -- calls: the slot is held until the thread finishes --------------------------------------------

def test_a_thread_call_holds_its_slot_after_its_caller_gave_up():
    async def main() -> None:
        bulkheads = Bulkheads(BulkheadConfig(limit=1, queue=0))
        calls = BackendCalls(bulkheads, ReadRetries(attempts=0))
        gate, entered = threading.Event(), threading.Event()

        def blocking() -> str:
            entered.set()
            gate.wait(WAIT)
            return "done"

        first = asyncio.ensure_future(calls.call("httpcloud", "p", "list_instances", blocking, False, (), {}))
        assert await asyncio.get_running_loop().run_in_executor(None, entered.wait, WAIT)
        first.cancel()  # the request timed out (504) ...
        with pytest.raises(asyncio.CancelledError):
            await first
        bulkhead = bulkheads.get("httpcloud", "p")
        assert bulkhead.in_flight == 1  # ... but its thread still runs and keeps its slot
        with pytest.raises(BulkheadFull):
            await calls.call("httpcloud", "p", "list_instances", lambda: "x", False, (), {})
        assert await calls.call("httpcloud", "other", "list_instances", lambda: "ok", False, (), {}) == "ok"
        gate.set()
        for _ in range(int(WAIT / 0.01)):
            if bulkhead.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert bulkhead.in_flight == 0

    _run(main())


def test_a_call_given_up_before_its_thread_started_is_never_run():
    async def main() -> None:
        ran: list[str] = []
        blocker = threading.Event()
        threads = ElasticThreads(max_threads=1)
        calls = BackendCalls(Bulkheads(BulkheadConfig(limit=5)), ReadRetries(attempts=0), threads=threads)
        threads.submit(lambda: blocker.wait(WAIT))  # the only thread is busy
        queued = asyncio.ensure_future(calls.call("d", "p", "create_instance", lambda: ran.append("x"), False, (), {}))
        await asyncio.sleep(0.01)
        queued.cancel()
        blocker.set()
        done = threading.Event()
        threads.submit(done.set)  # runs after the abandoned call
        assert await asyncio.get_running_loop().run_in_executor(None, done.wait, WAIT)
        await asyncio.sleep(0.01)
        assert ran == []
        assert calls.bulkheads.get("d", "p").in_flight == 0

    _run(main())


def test_async_driver_methods_take_a_slot_too():
    async def main() -> None:
        calls = BackendCalls(Bulkheads(BulkheadConfig(limit=1, queue=0)), ReadRetries(attempts=0))
        gate = asyncio.Event()

        async def slow() -> str:
            await gate.wait()
            return "slow"

        first = asyncio.ensure_future(calls.call("d", "p", "list_instances", slow, True, (), {}))
        await asyncio.sleep(0)
        with pytest.raises(BulkheadFull):
            await calls.call("d", "p", "list_instances", slow, True, (), {})
        gate.set()
        assert await first == "slow"
        assert calls.bulkheads.get("d", "p").idle

    _run(main())


# -- retries of reads ------------------------------------------------------------------------------

def _throttled(retry_after: str | None) -> RateLimited:
    error = RateLimited("slow down", status=429)
    if retry_after is not None:
        error.headers["Retry-After"] = retry_after
    return error


def test_which_errors_are_retried_and_after_how_long():
    retries = ReadRetries(attempts=2, max_delay=5.0)
    budget = RetryBudget(reserve=10)
    assert retries.delay(_throttled("2"), 0, budget) == 2.0
    assert 0 < retries.delay(ProviderError("down"), 0, budget) <= 0.1
    assert retries.delay(_throttled("30"), 0, budget) is None  # longer than max_delay: the client decides
    assert retries.delay(ObjectNotFound(), 0, budget) is None
    assert retries.delay(BulkheadFull("d", "p", 1), 0, budget) is None  # our own refusal: never
    assert retries.delay(_throttled("1"), 2, budget) is None  # attempts spent


def test_the_budget_bounds_retries_to_a_share_of_calls():
    budget = RetryBudget(ratio=0.1, reserve=2)
    assert budget.withdraw() and budget.withdraw()
    assert not budget.withdraw()
    for _ in range(11):  # ten calls earn one retry (0.1 each, in floating point: eleven to be sure)
        budget.deposit()
    assert budget.withdraw()
    assert not budget.withdraw()


def test_reads_are_retried_and_writes_are_not():
    async def main() -> None:
        calls = BackendCalls(Bulkheads(), ReadRetries(attempts=2, backoff=0.001))
        seen: list[str] = []

        def flaky() -> str:
            seen.append("call")
            if len(seen) < 2:
                raise _throttled("0")
            return "ok"

        assert await calls.call("d", "p", "list_instances", flaky, False, (), {}, read=True) == "ok"
        assert len(seen) == 2
        seen.clear()
        with pytest.raises(RateLimited):
            await calls.call("d", "p", "create_instance", flaky, False, (), {})
        assert len(seen) == 1

    _run(main())
