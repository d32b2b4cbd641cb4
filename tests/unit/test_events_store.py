"""The events' settings, the in-process backend's bounded history and snapshot, and a slow
consumer dropped with a final event (no server, no network)."""

from __future__ import annotations

import asyncio
import re
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from deltacloud_core.events import EventFilter, EventSettings, WatchKey
from deltacloud_core.events.backends.base import Draft, Hold, Nudge
from deltacloud_core.events.backends.memory import MAX_NUDGES, MemoryBackend
from deltacloud_core.events.model import Event, compare_ids
from deltacloud_core.events.subscriber import Subscriber, Subscription

KEY = WatchKey("mock", None, "0" * 64)
OTHER = WatchKey("mock", None, "1" * 64)


# -- settings -----------------------------------------------------------------------------------

def test_settings_defaults_and_every_knob_from_the_environment() -> None:
    assert EventSettings.from_env({}) == EventSettings()
    settings = EventSettings.from_env({
        "DELTACLOUD_EVENTS": "on", "DELTACLOUD_EVENTS_POLL_MIN": "0.5", "DELTACLOUD_EVENTS_POLL_MAX": " 60 ",
        "DELTACLOUD_EVENTS_HISTORY": "10", "DELTACLOUD_EVENTS_QUEUE": "7", "DELTACLOUD_EVENTS_LEASE_TTL": "2",
        "DELTACLOUD_EVENTS_MAX_PER_CREDENTIALS": "1000", "DELTACLOUD_EVENTS_HEARTBEAT": ""})
    assert (settings.enabled, settings.poll_min, settings.poll_max) == (True, 0.5, 60.0)
    assert (settings.history, settings.queue, settings.lease_ttl) == (10, 7, 2.0)
    assert settings.max_per_credentials == 1000
    assert isinstance(settings.history, int)
    assert settings.heartbeat == EventSettings().heartbeat  # empty: the default


@pytest.mark.parametrize("switch", ["off", "0", "false", "no", "OFF"])
def test_settings_switched_off(switch: str) -> None:
    assert not EventSettings.from_env({"DELTACLOUD_EVENTS": switch}).enabled


@pytest.mark.parametrize(("env", "says"), [
    ({"DELTACLOUD_EVENTS_POLL_MIN": "fast"}, "DELTACLOUD_EVENTS_POLL_MIN must be a number, not 'fast'"),
    ({"DELTACLOUD_EVENTS_HISTORY": "1.5"}, "DELTACLOUD_EVENTS_HISTORY must be a number"),
    ({"DELTACLOUD_EVENTS_QUEUE": "0"}, "DELTACLOUD_EVENTS_QUEUE must be positive, not '0'"),
    ({"DELTACLOUD_EVENTS_POLL_MAX": "-3"}, "must be positive"),
    ({"DELTACLOUD_EVENTS_POLL_MIN": "10", "DELTACLOUD_EVENTS_POLL_MAX": "5"},
     "DELTACLOUD_EVENTS_POLL_MIN (10) is above DELTACLOUD_EVENTS_POLL_MAX (5)"),
])
def test_settings_bad_values_name_the_variable(env: dict[str, str], says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        EventSettings.from_env(env)


# -- the in-process backend ---------------------------------------------------------------------

def _draft(n: int) -> Draft:
    return Draft("state", "instances", f"i{n}", f'{{"n":{n}}}', "RUNNING", "STOPPED")


def _commit(backend: MemoryBackend, key: WatchKey, count: int, start: int = 0) -> list[Event]:
    async def go() -> list[Event]:
        out: list[Event] = []
        for n in range(start, start + count):
            events = await backend.commit(key, "instances", {f"i{n}": {"id": f"i{n}"}}, [_draft(n)])
            assert events is not None
            out += events
        return out

    return asyncio.run(go())


def test_the_history_is_bounded_and_a_resume_older_than_it_gets_none_a_reset() -> None:
    backend = MemoryBackend(history=5, retention=300, lease_ttl=5)
    origin = backend.position(KEY)
    events = _commit(backend, KEY, 12)
    ids = [e.id for e in events]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    assert len(set(ids)) == 12
    log = backend._logs[KEY]
    assert len(log.events) == 5  # bounded: only the newest five are kept

    async def since(after: str) -> list[Event] | None:
        return await backend.since(KEY, after)

    assert [e.id for e in asyncio.run(since(ids[6])) or []] == ids[7:]  # within the history
    assert asyncio.run(since(ids[-1])) == []  # up to date
    assert asyncio.run(since(ids[5])) is None  # its successor fell out of the history: reset
    assert asyncio.run(since(origin)) is None
    assert asyncio.run(since("1-0")) is None  # before this history began
    assert asyncio.run(since(f"{int(ids[-1].split('-')[0]) + 10_000}-0")) is None  # from the future
    assert asyncio.run(backend.since(OTHER, ids[8])) is None  # a key with no history
    assert backend.position(KEY) == ids[-1]


def test_the_snapshot_a_reset_is_made_of_holds_each_collection_and_the_last_event() -> None:
    backend = MemoryBackend(history=5, retention=300, lease_ttl=5)
    events = _commit(backend, KEY, 3)
    snapshot = asyncio.run(backend.load(KEY))
    assert snapshot is not None
    assert snapshot.docs == {"instances": {"i2": {"id": "i2"}}}  # the last listing of the collection
    assert snapshot.last == events[-1].id
    assert compare_ids(snapshot.origin, events[0].id) < 0
    snapshot.docs["instances"]["x"] = {}  # a copy: the store is not changed through it
    assert "x" not in asyncio.run(backend.load(KEY)).docs["instances"]  # type: ignore[union-attr]
    assert asyncio.run(backend.has_baseline(KEY, frozenset({"instances"})))
    assert not asyncio.run(backend.has_baseline(KEY, frozenset({"instances", "images"})))


def test_idle_keys_are_forgotten_past_the_retention_or_the_count_kept() -> None:
    async def go() -> None:
        backend = MemoryBackend(history=5, retention=300, lease_ttl=5, max_retained=2)
        keys = [WatchKey("mock", None, str(n) * 64) for n in range(4)]
        for key in keys:
            assert await backend.acquire(key) is Hold.TAKEN
            await backend.release(key)
        assert len(backend._logs) <= 3  # the oldest idle ones went when newer keys came
        assert keys[-1] in backend._logs
        held = WatchKey("mock", None, "h" * 64)
        assert await backend.acquire(held) is Hold.TAKEN
        assert await backend.acquire(held) is Hold.RENEWED
        expired = MemoryBackend(history=5, retention=0.0, lease_ttl=5)
        await expired.acquire(KEY)
        await expired.release(KEY)
        await expired.acquire(OTHER)  # a new key sweeps: KEY is past its retention
        assert KEY not in expired._logs

    asyncio.run(go())


def test_nudges_reach_only_a_watched_key_are_forgotten_when_it_is_taken_and_stay_bounded() -> None:
    async def go() -> None:
        backend = MemoryBackend(history=5, retention=300, lease_ttl=5)
        await backend.nudge(KEY, Nudge("instances", "a"))
        assert await backend.next_nudges(KEY, 0) == []  # nobody watched: nothing kept
        assert await backend.acquire(KEY) is Hold.TAKEN
        await backend.nudge(KEY, Nudge("instances", "a", '{"id":"a"}'))
        await backend.nudge(KEY, Nudge("instances", "b"))
        assert await backend.next_nudges(KEY, 0) == [Nudge("instances", "a", '{"id":"a"}'), Nudge("instances", "b")]
        await backend.nudge(KEY, Nudge("instances", "c"))
        await backend.release(KEY)
        assert await backend.acquire(KEY) is Hold.TAKEN  # the new holder lists everything first
        assert await backend.next_nudges(KEY, 0) == []
        for n in range(MAX_NUDGES + 5):
            await backend.nudge(KEY, Nudge("instances", str(n), '{"id":"x"}'))
        await backend.nudge(KEY, Nudge("images", "img"))
        collapsed = await backend.next_nudges(KEY, 0)
        assert len(collapsed) <= MAX_NUDGES
        assert collapsed[0] == Nudge("instances")  # past the bound: list the collection instead
        assert collapsed[-1] == Nudge("images", "img")

    asyncio.run(go())


# -- a slow consumer ----------------------------------------------------------------------------

def _events(start: int, count: int) -> list[Event]:
    padding = "x" * 200
    return [Event(f"{1000 + n}-0", "state", "instances", f"i{n}", f'{{"id":"i{n}","padding":"{padding}"}}',
                  "RUNNING", "STOPPED") for n in range(start, start + count)]


def test_a_subscriber_that_does_not_read_gets_a_final_event_and_is_dropped() -> None:
    async def go() -> None:
        subscriber = Subscriber(EventFilter(frozenset({"instances"})), limit=10)
        subscriber.attached = True
        closed: list[bool] = []
        subscription = Subscription(subscriber, backlog=[], reset=None, heartbeat=30,
                                    on_close=lambda: closed.append(True))
        frames: AsyncIterator[bytes] = subscription.frames("http://h/api")
        assert (await anext(frames)).startswith(b"retry:")
        assert b"heartbeat" in await anext(frames)
        for batch in range(50):  # the client reads nothing meanwhile
            subscriber.offer(_events(batch * 10, 10))
            assert len(subscriber.queue) <= 10
        assert subscriber.closing is not None
        assert subscriber.closing[0] == "dropped"
        rest = [frame async for frame in frames]
        assert len(rest) == 11  # what was queued before the limit, then the final event
        assert rest[-1].startswith(b"event: dropped\ndata: ")
        assert b"Last-Event-ID" in rest[-1]
        assert b"id: " not in rest[-1]  # the client resumes after the last event it really got
        assert rest[-2].startswith(b"id: 1009-0\n")
        assert closed == [True]  # the hub is told: the subscriber leaves its watcher

    asyncio.run(go())


def test_the_memory_of_a_subscriber_that_does_not_read_stays_bounded() -> None:
    subscriber = Subscriber(EventFilter(frozenset({"instances"})), limit=100)
    subscriber.attached = True
    tracemalloc.start()
    try:
        subscriber.offer(_events(0, 100))
        base, _ = tracemalloc.get_traced_memory()
        for batch in range(1, 200):  # 20,000 events offered, 100 kept
            subscriber.offer(_events(batch * 100, 100))
        grown, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(subscriber.queue) == 100
    assert grown - base < 200_000  # the 19,900 events offered later (about 5 MB) are not kept


def test_a_subscriber_skips_what_it_was_offered_already_and_what_its_filter_leaves_out() -> None:
    subscriber = Subscriber(EventFilter(frozenset({"instances"}), id="i3"), limit=10)
    subscriber.offer(_events(0, 5))
    assert not subscriber.queue  # not attached yet: the backlog covers these
    subscriber.attached = True
    subscriber.offer(_events(0, 5))
    assert [e.resource_id for e in subscriber.queue] == ["i3"]
    assert subscriber.seen == "1004-0"
    subscriber.offer(_events(3, 2))  # offered again (a second reader): not queued twice
    assert len(subscriber.queue) == 1
    subscriber.skip_to("1003-0")
    assert not subscriber.queue
