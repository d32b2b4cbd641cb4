"""One watcher per (driver, provider, credentials digest) in this process.

It holds the credentials of its subscribers (in memory, and only while it has some), checks
them against the backend, and, while this process holds the key's lease, polls the driver's
list methods of the collections its subscribers want, diffs the documents against its snapshot
and commits the changes as events. Without the lease (another process polls) it only serves
its subscribers from the shared history. A driver's :meth:`~deltacloud_core.Driver.announce_change`
nudges the polling process to look at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..collections.base import invoke_driver
from ..credentials import Credentials
from ..drivers.base import Driver
from ..drivers.capabilities import implements
from ..errors import AuthenticationFailure, DeltacloudError, ObjectNotFound, ProviderTimeout, RateLimited
from .backends.base import Docs, Draft, EventBackend, Hold, Nudge
from .diff import Change, diff_documents
from .model import WATCHABLE, Watchable, WatchKey
from .policy import PollPolicy, transitional_states
from .render import DocumentRenderer, event_json
from .settings import EventSettings

if TYPE_CHECKING:
    from .subscriber import Subscriber

__all__ = ["Watcher"]

log = logging.getLogger("deltacloud.events")
#: Nudges of one collection kept for the next try after a failed look; beyond, one listing.
MAX_PENDING = 1000


def _retrieve(task: asyncio.Task[None]) -> None:
    """Marks a shared check's failure as seen (each waiter gets it; none may be left)."""
    if not task.cancelled():
        task.exception()


class Watcher:
    """The watcher of one key in this process (see the module's docstring)."""

    def __init__(self, key: WatchKey, driver_cls: type[Driver], provider: str | None, credentials: Credentials, *,
                 settings: EventSettings, backend: EventBackend, renderer: DocumentRenderer,
                 prepare: Callable[[Driver], None], backend_timeout: float) -> None:
        self.key = key
        self.driver_cls = driver_cls
        self.provider = provider
        #: Held only while there are subscribers (dropped by :meth:`stop`).
        self.credentials: Credentials | None = credentials
        self.settings = settings
        self.backend = backend
        self.renderer = renderer
        self.prepare = prepare
        self.backend_timeout = backend_timeout
        self.subscribers: set[Subscriber] = set()
        self.demand: Counter[str] = Counter()
        self.known: dict[str, Docs] = {}
        self.holding = False
        #: Whether this watcher tried for the lease once (before that, who polls is unknown).
        self.lease_known = False
        #: Collections this watcher listed since it took the lease (its snapshot is current).
        self.fresh: set[str] = set()
        self.errors: dict[str, DeltacloudError] = {}
        #: When a backend call with these credentials last succeeded (monotonic seconds).
        self.checked_at = float("-inf")
        self.polls = 0
        self._policies: dict[str, PollPolicy] = {}
        self._due: dict[str, float] = {}
        #: Nudges not acted on yet, per collection, in the order they came.
        self._nudged: dict[str, list[Nudge]] = {}
        self._progress = asyncio.Event()
        self._check: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._chores: set[asyncio.Task[Any]] = set()
        self._transitional = transitional_states(driver_cls.INSTANCE_STATES)

    # -- subscribers ---------------------------------------------------------------------------
    def add(self, subscriber: Subscriber) -> None:
        new = set(subscriber.filter.collections) - set(+self.demand)
        self.subscribers.add(subscriber)
        self.demand.update(subscriber.filter.collections)
        if new:
            self._chore(self._demand_changed(new))

    def remove(self, subscriber: Subscriber) -> None:
        if subscriber not in self.subscribers:
            return
        self.subscribers.discard(subscriber)
        self.demand.subtract(subscriber.filter.collections)
        if self.subscribers and any(n <= 0 for n in self.demand.values()):
            self.demand = +self.demand
            self._chore(self._demand_changed(set()))

    async def _demand_changed(self, new: set[str]) -> None:
        await self.backend.set_demand(self.key, frozenset(+self.demand))
        for collection in sorted(new):
            await self.backend.nudge(self.key, Nudge(collection))  # no id: list it

    def _chore(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._chores.add(task)
        task.add_done_callback(self._chore_done)

    def _chore_done(self, task: asyncio.Task[Any]) -> None:
        self._chores.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("events %s: %s", self.key.driver, task.exception())

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"watcher {self.key.name}")

    async def stop(self) -> None:
        """Stop polling, give the lease and the demand up, forget the credentials."""
        self.credentials = None
        for task in (self._task, self._check, *self._chores):
            if task is not None and not task.done():
                task.cancel()
        for task in (self._task, self._check, *list(self._chores)):
            if task is not None:
                try:
                    await task
                except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping anyway
                    pass
        self._task = None
        try:
            await self.backend.set_demand(self.key, frozenset())
            await self.backend.release(self.key)
        except Exception as exc:  # noqa: BLE001 - the lease expires by itself
            log.warning("events %s: could not release the lease: %s", self.key.driver, exc)

    # -- checks before a subscriber is attached ------------------------------------------------
    def _driver(self) -> Driver:
        if self.credentials is None:
            raise AuthenticationFailure("This watcher has stopped.")
        driver = self.driver_cls(credentials=self.credentials, provider=self.provider)
        self.prepare(driver)
        return driver

    async def _call(self, driver: Driver, method: str, *args: Any) -> Any:
        try:
            return await asyncio.wait_for(invoke_driver(driver, method, *args), self.backend_timeout)
        except TimeoutError:
            raise ProviderTimeout(f"The backend did not answer within {self.backend_timeout:g} seconds.") from None

    async def check_credentials(self) -> None:
        """The credentials against the backend (``validate_credentials``), unless a call with
        exactly these credentials succeeded within ``validation_ttl`` seconds. Subscribers that
        come while a check is under way share its outcome, success or failure: a thousand at
        once make one call."""
        if time.monotonic() - self.checked_at < self.settings.validation_ttl:
            return
        check = self._check
        if check is None or check.done():
            check = self._check = asyncio.get_running_loop().create_task(self._validate())
            check.add_done_callback(_retrieve)
        await asyncio.shield(check)  # a subscriber that goes away does not cancel the others' check

    async def _validate(self) -> None:
        try:
            valid = await self._call(self._driver(), "validate_credentials")
        except AuthenticationFailure:
            valid = False
        if not valid:
            raise AuthenticationFailure("The backend refused these credentials.")
        self.checked_at = time.monotonic()

    async def wait_ready(self, collections: frozenset[str], timeout: float) -> None:
        """Until the shared snapshot lists every one of ``collections`` (the first poll of each
        is done): from then on every change is reported. A failure of that poll is raised."""
        deadline = time.monotonic() + timeout
        while True:
            progress = self._progress
            if self.lease_known and (collections <= self.fresh if self.holding else
                                     await self.backend.has_baseline(self.key, collections)):
                return
            for collection in sorted(collections):
                if collection in self.errors:
                    raise self.errors[collection]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderTimeout(f"The backend's first listing did not come within {timeout:g} seconds.")
            try:
                # Another process may be the one polling: look at the shared snapshot now and then.
                await asyncio.wait_for(progress.wait(), min(remaining, 0.1))
            except TimeoutError:
                pass

    # -- polling -------------------------------------------------------------------------------
    async def _run(self) -> None:
        lease_pause = self.backend.lease_ttl / 3
        while self.subscribers and self.credentials is not None:
            try:
                if not await self._hold():
                    await self._wait_for_nudges(lease_pause)
                    continue
                wanted = frozenset(+self.demand) | await self.backend.demand(self.key)
                now = time.monotonic()
                for collection in [c for c in WATCHABLE if c in wanted]:
                    nudges = self._nudged.pop(collection, [])
                    listing = collection not in self.known or self._due.get(collection, 0.0) <= now
                    if listing or nudges:
                        await self._poll(collection, nudges, listing=listing)
                        if not self.holding:
                            break
                due = [self._due[c] for c in wanted if c in self._due]
                pause = (min(due) if due else now + self.settings.poll_max) - time.monotonic()
                await self._wait_for_nudges(max(0.0, min(pause, lease_pause)))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a broken store must not end the watcher
                log.warning("events %s: %s; trying again", self.key.driver, exc)
                self.holding = False
                await asyncio.sleep(lease_pause)
            finally:
                self._signal_progress()

    def _signal_progress(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    async def _hold(self) -> bool:
        hold = await self.backend.acquire(self.key)
        held = hold is not Hold.LOST
        if hold is Hold.TAKEN or (held and not self.holding):
            # Taken over, first held, or held again after another process had it (this process
            # may have been paused past the lease): start from the shared snapshot and list
            # everything at once, so that changes while this watcher did not poll are reported
            # now; nudges from before are covered by that listing.
            snapshot = await self.backend.load(self.key)
            self.known = snapshot.docs if snapshot is not None else {}
            self._due.clear()
            self.fresh.clear()
            self._nudged.clear()
        self.holding = held
        self.lease_known = True
        return held

    async def _wait_for_nudges(self, timeout: float) -> None:
        nudges = await self.backend.next_nudges(self.key, timeout)
        if not self.holding:
            return  # they are the polling process's to act on (its own reader sees them)
        for nudge in nudges:
            if nudge.collection in WATCHABLE:
                self._nudged.setdefault(nudge.collection, []).append(nudge)

    def _policy(self, collection: str) -> PollPolicy:
        policy = self._policies.get(collection)
        if policy is None:
            policy = self._policies[collection] = PollPolicy(self.settings.poll_min, self.settings.poll_max)
        return policy

    async def _poll(self, collection: str, nudges: list[Nudge], *, listing: bool) -> None:
        watchable = WATCHABLE[collection]
        policy = self._policy(collection)
        baseline = collection not in self.known
        try:
            driver = self._driver()
            changes, docs = await self._observe(driver, watchable, nudges, listing=listing)
        except AuthenticationFailure as exc:
            self.checked_at = float("-inf")
            for subscriber in list(self.subscribers):
                subscriber.close("error", {"status": exc.status, "message": exc.message})
            return
        except Exception as exc:  # noqa: BLE001 - reported to waiting subscribers, polled again later
            error = exc if isinstance(exc, DeltacloudError) else DeltacloudError(f"{type(exc).__name__}: {exc}")
            self.errors[collection] = error
            retry_after = None
            if isinstance(error, RateLimited) and error.headers.get("Retry-After", "").isdigit():
                retry_after = float(error.headers["Retry-After"])
            self._due[collection] = time.monotonic() + policy.after_failure(retry_after)
            # The nudges' documents are true past states: kept, in order, for the next try.
            pending = [*nudges, *self._nudged.get(collection, [])]
            self._nudged[collection] = pending if len(pending) <= MAX_PENDING else [Nudge(collection)]
            log.warning("events %s %s: listing failed (%s: %s)", self.key.driver, collection,
                        type(error).__name__, error.message)
            return
        self.polls += 1
        self.checked_at = time.monotonic()
        drafts = [self._draft(watchable, change) for change in changes]
        committed = await self.backend.commit(self.key, collection, docs, drafts)
        if committed is None:  # the lease went to another process meanwhile
            self.holding = False
            return
        self.known[collection] = docs
        self.fresh.add(collection)
        self.errors.pop(collection, None)
        announced = collection in self.driver_cls.ANNOUNCES_CHANGES
        if listing or baseline:
            transitional = policy.any_transitional(
                (str(d.get("state")) for d in docs.values() if d.get("state")), self._transitional)
            pause = policy.after_poll(changed=bool(changes), transitional=transitional, announced=announced)
            self._due[collection] = time.monotonic() + pause
        elif changes:  # only members read again: a changed one may move on by itself, list soon
            transitional = policy.any_transitional((c.new_state for c in changes), self._transitional)
            pause = policy.after_poll(changed=True, transitional=transitional, announced=announced)
            self._due[collection] = min(self._due.get(collection, float("inf")), time.monotonic() + pause)

    async def _observe(self, driver: Driver, watchable: Watchable, nudges: list[Nudge], *,
                       listing: bool) -> tuple[list[Change], Docs]:
        """The changes since the snapshot, in the order they happened, and the documents now.

        First the documents nudges brought (each one a state the member was in, in the order
        the changes were made: two changes in quick succession are two events), then the
        present: the list (when due, asked for, or the collection is new to this watcher), or
        else the members nudges named without a document, read again. Nothing of a collection
        new to this watcher is reported (its first listing is the baseline).
        """
        collection = watchable.collection
        known = self.known.get(collection)
        if known is None:
            models = await self._call(driver, watchable.list_method)
            return [], self.renderer.documents(watchable.singular, driver, models)
        docs = dict(known)
        changes: list[Change] = []
        reread: dict[str, None] = {}
        for nudge in nudges:
            if nudge.resource_id is None:
                listing = True
            elif nudge.doc is not None:
                changes += self._apply(docs, nudge.resource_id, json.loads(nudge.doc))
            else:
                reread[nudge.resource_id] = None
        if listing or not implements(self.driver_cls, watchable.get_method):
            models = await self._call(driver, watchable.list_method)
            now = self.renderer.documents(watchable.singular, driver, models)
            changes += diff_documents(docs, now)
            return changes, now
        for resource_id in reread:
            try:
                model = await self._call(driver, watchable.get_method, resource_id)
            except ObjectNotFound:
                model = None
            found = self.renderer.documents(watchable.singular, driver, [model]) if model is not None else {}
            changes += self._apply(docs, resource_id, found.get(resource_id))
        return changes, docs

    @staticmethod
    def _apply(docs: Docs, resource_id: str, doc: dict[str, Any] | None) -> list[Change]:
        """Make ``doc`` (None: gone) the document of ``resource_id`` in ``docs``; the change."""
        old = docs.get(resource_id)
        changes = diff_documents({} if old is None else {resource_id: old},
                                 {} if doc is None else {resource_id: doc})
        if doc is None:
            docs.pop(resource_id, None)
        else:
            docs[resource_id] = doc
        return changes

    @staticmethod
    def _draft(watchable: Watchable, change: Change) -> Draft:
        data: dict[str, Any] = {"id": change.resource_id, "collection": watchable.collection}
        if change.kind == "state":
            data["from"], data["to"] = change.old_state, change.new_state
        elif change.kind == "changed":
            data["fields"] = list(change.fields)
        data[watchable.singular] = change.doc
        return Draft(change.kind, watchable.collection, change.resource_id, event_json(data), change.old_state,
                     change.new_state)
