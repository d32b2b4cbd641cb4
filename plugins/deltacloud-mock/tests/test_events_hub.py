"""The event hub in process, on the real mock driver, with the moments of a race made exact.

No server and no sleeps: the changes are made on the event loop's own thread between two steps
of the watcher (or inside a step of its stop, through a backend that makes the change at that
point), so what used to depend on which thread ran first now happens the same way every run.

* Two announced changes in a row, before the watcher looks (a client's ``stop`` then
  ``destroy``): both are events, in order. Before the announcements carried the resource,
  the watcher read the member once, saw it gone and reported only ``destroyed`` (the flaky
  ``test_resume_after_the_watcher_stopped_reports_what_changed_meanwhile``).
* A change made while the last subscriber's watcher stops, at every step of that stop: a
  resume with ``Last-Event-ID`` gets it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from deltacloud_core.credentials import Credentials
from deltacloud_core.drivers.base import Driver
from deltacloud_core.events import BASE, EventFilter, EventHub, EventSettings, WatchKey
from deltacloud_core.events.backends.memory import MemoryBackend
from deltacloud_core.events.model import Event
from deltacloud_core.events.render import DocumentRenderer
from deltacloud_core.events.subscriber import Subscription
from deltacloud_core.web import Settings, create_app
from deltacloud_core.web.services import Services

CREDS = Credentials("mockuser", "mockpassword")
INSTANCES = EventFilter(frozenset({"instances"}))
#: Polling so rare that every event of these tests comes from the driver's announcements.
PUSH_ONLY = EventSettings(poll_min=300, poll_max=300)


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("DELTACLOUD_MOCK_STORAGE", str(tmp_path / "mock"))
    return create_app(Settings(default_driver="mock", events=PUSH_ONLY)).services


class World:
    """A hub over ``backend`` and drivers whose announcements reach it (as the server wires them)."""

    def __init__(self, services: Services, backend: MemoryBackend) -> None:
        self.driver_cls = services.drivers.load("mock")
        self.machine = services.machines.for_driver(self.driver_cls)
        self.hub = EventHub(PUSH_ONLY, backend, DocumentRenderer(services.resources), backend_timeout=30)

    def prepare(self, driver: Driver) -> None:
        driver.state_machine = self.machine

    def driver(self) -> Any:
        driver = self.driver_cls(credentials=CREDS)
        self.prepare(driver)
        driver.change_listener = self.hub.announce
        return driver

    async def subscribe(self, last_event_id: str | None = None, event_filter: EventFilter = INSTANCES) -> Subscription:
        return await self.hub.subscribe(self.driver_cls, None, CREDS, event_filter, last_event_id, self.prepare)


async def _events(subscription: Subscription, count: int, timeout: float = 20.0) -> list[Event]:
    """The first ``count`` events of a subscription (its backlog, then its queue), waited for
    with a bound: the watcher runs on this loop meanwhile."""
    out = list(subscription.backlog)
    subscription.backlog = []
    sub = subscription.subscriber
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(out) < count:
        while sub.queue and len(out) < count:
            out.append(sub.queue.popleft())
        if len(out) >= count:
            break
        remaining = deadline - loop.time()
        assert remaining > 0, f"{len(out)} of {count} events within {timeout:g} s: {out}"
        sub.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sub.wake.wait(), remaining)
    return out


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coroutine)


def _summary(event: Event) -> tuple[str, str | None, str | None]:
    return event.kind, event.old_state, event.new_state


def test_two_announced_changes_before_the_watcher_looks_are_two_events(services: Services) -> None:
    async def scenario() -> None:
        world = World(services, MemoryBackend(100, 300, 5))
        subscription = await world.subscribe()
        driver = world.driver()
        iid = driver.create_instance(image_id="img1", hwp_id="m1-small").id
        (created,) = await _events(subscription, 1)
        assert (created.kind, created.resource_id) == ("created", iid)
        # Both on this thread, one after the other: the watcher has not run in between.
        driver.stop_instance(iid)
        driver.destroy_instance(iid)
        stopped, destroyed = await _events(subscription, 2)
        assert _summary(stopped) == ("state", "RUNNING", "STOPPED")
        assert '"to":"STOPPED"' in stopped.data
        assert (destroyed.kind, destroyed.resource_id) == ("destroyed", iid)
        # And the other way round: a start and a stop that end where they began are two events.
        again = driver.create_instance(image_id="img1", hwp_id="m1-small").id
        await _events(subscription, 1)
        driver.stop_instance(again)
        driver.start_instance(again)
        driver.stop_instance(again)
        assert [_summary(e) for e in await _events(subscription, 3)] == [
            ("state", "RUNNING", "STOPPED"), ("state", "STOPPED", "RUNNING"), ("state", "RUNNING", "STOPPED")]
        subscription.close()
        await world.hub.close()

    _run(scenario())


class ChangingBackend(MemoryBackend):
    """The in-process backend, making a change at one named step of a watcher's stop (the
    moment a race would have to hit), once."""

    def __init__(self, moment: str, change: Callable[[], None]) -> None:
        super().__init__(100, 300, 5)
        self.moment = moment
        self.change: Callable[[], None] | None = change

    def _maybe(self, moment: str) -> None:
        if self.moment == moment and self.change is not None:
            change, self.change = self.change, None
            change()

    async def set_demand(self, key: WatchKey, collections: frozenset[str]) -> None:
        if not collections:
            self._maybe("poll task cancelled, demand not yet given up")
        await super().set_demand(key, collections)

    async def release(self, key: WatchKey) -> None:
        self._maybe("demand given up, lease not yet released")
        await super().release(key)
        self._maybe("lease released")

    async def unfollow(self, key: WatchKey) -> None:
        self._maybe("stopped, not yet unfollowed")
        await super().unfollow(key)


MOMENTS = ["when the last subscriber leaves", "poll task cancelled, demand not yet given up",
           "demand given up, lease not yet released", "lease released", "stopped, not yet unfollowed"]


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_change_while_the_watcher_stops_reaches_a_resume(services: Services, moment: str) -> None:
    async def scenario() -> None:
        changes: list[str] = []
        backend = ChangingBackend(moment, lambda: changes.append(world.driver().start_instance(iid).state))
        world = World(services, backend)
        first = await world.subscribe()
        driver = world.driver()
        iid = driver.create_instance(image_id="img1", hwp_id="m1-small").id
        await _events(first, 1)
        driver.stop_instance(iid)
        (stopped,) = await _events(first, 1)
        assert _summary(stopped) == ("state", "RUNNING", "STOPPED")
        first.close()  # the last subscriber: the watcher stops (its stop runs as a task)
        if moment == MOMENTS[0]:
            backend._maybe(moment)
        resumed = await world.subscribe(last_event_id=stopped.id)
        assert changes == ["RUNNING"]  # the change was made, at that moment
        (change,) = await _events(resumed, 1)
        assert _summary(change) == ("state", "STOPPED", "RUNNING")
        assert change.resource_id == iid
        driver.destroy_instance(iid)
        (destroyed,) = await _events(resumed, 1)
        assert destroyed.kind == "destroyed"
        resumed.close()
        await world.hub.close()
        stats = world.hub.stats()
        assert (stats["watchers"], stats["subscribers"]) == (0, 0)

    _run(scenario())


def test_documents_of_announcements_are_rendered_under_the_placeholder_base(services: Services) -> None:
    async def scenario() -> None:
        world = World(services, MemoryBackend(100, 300, 5))
        subscription = await world.subscribe()
        iid = world.driver().create_instance(image_id="img1", hwp_id="m1-small").id
        (created,) = await _events(subscription, 1)
        assert f'"href":"{BASE}/instances/{iid}"' in created.data
        subscription.close()
        await world.hub.close()

    _run(scenario())


@pytest.mark.parametrize(("password", "accepted"), [("mockpassword", True), ("wrong", False)])
def test_many_subscribers_at_once_share_one_credentials_check(services: Services, password: str,
                                                               accepted: bool) -> None:
    """200 subscribers with the same credentials at once: one ``validate_credentials`` (counted
    by the driver class that answers it), whether the backend accepts them or not."""
    base = services.drivers.load("mock")
    calls: list[str] = []

    class CountingMock(base):  # type: ignore[misc, valid-type]
        def validate_credentials(self) -> bool:
            calls.append(self.credentials.user)
            return bool(super().validate_credentials())

    async def scenario() -> None:
        world = World(services, MemoryBackend(100, 300, 5))
        credentials = Credentials("mockuser", password)
        attempts = await asyncio.gather(*(
            world.hub.subscribe(CountingMock, None, credentials, INSTANCES, None, world.prepare)
            for _ in range(200)), return_exceptions=True)
        assert len(calls) == 1
        if accepted:
            assert all(isinstance(a, Subscription) for a in attempts)
            assert world.hub.stats()["watchers"] == 1
            for attempt in attempts:
                attempt.close()  # type: ignore[union-attr]
        else:
            assert all(getattr(a, "status", None) == 401 for a in attempts), attempts[:3]
            assert world.hub.stats() == {"watchers": 0, "subscribers": 0, "polling": 0, "polls": 0}
        await world.hub.close()

    _run(scenario())
