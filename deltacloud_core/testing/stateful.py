"""Hypothesis state machines of the instance and the bucket/blob life cycles.

Rules cannot take pytest fixtures, so each machine is built by a factory that closes over
a :class:`~.transport.Transport` (in-process or HTTP), the settings and what the driver
supports. The machines speak the API's JSON documents, so the same machine runs at the
driver level and over HTTP.

Instances: create, then random actions, legal and illegal, on the instances it created
(never on others). After every step: every state is one the machine knows, the actions
an instance advertises are the machine's for its state, an illegal action was refused
(405, or 412 when the driver lacks it) and left the state as it was, ``GET /instances/X``
shows instance X, and what a new instance refers to (image, realm, hardware profile, key)
exists. A destroyed instance is gone: it leaves ``GET /instances`` (within
``settle_timeout``) and ``GET /instances/X`` answers 404 or, as clouds that keep terminated
instances visible for a while do (EC2), shows it ``FINISH`` without actions; STATES.md:
``finish`` is the state after the instance is gone. Teardown destroys whatever is left,
along the machine's own transitions.

A bounded wait that runs out (an instance stuck in ``PENDING``, a destroyed one still listed)
fails with the instance and its state, and every later wait for the same driver fails at once
with that message instead of waiting again: hypothesis replays examples while it shrinks, and
every test that makes an instance would wait ``settle_timeout`` once more.

Buckets and blobs: the server must hold exactly what an in-memory model says was
stored: bucket list, blob list per bucket, every blob's bytes and length. Refused
operations (deleting a missing blob, a non-empty bucket) change nothing.

What the machines did is counted in a :class:`collections.Counter` (``instances created``,
``instance actions``, ``blob round trips`` ...), which the kit's summary line reports.
"""

from __future__ import annotations

import secrets
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..state_machine import state_name

if TYPE_CHECKING:
    from hypothesis.stateful import RuleBasedStateMachine

    from ..state_machine import StateMachine
    from .settings import ConformanceSettings
    from .transport import Reply, Transport

__all__ = ["MISSING_ID", "InstanceProbe", "Supports", "auto_closure", "bucket_lifecycle", "instance_lifecycle",
           "path_to_finish", "run_machine", "transient"]

#: An id no backend has; used for not-found checks.
MISSING_ID = "deltacloud-kit-missing"
#: Client actions on an existing instance, and the request each one is.
INSTANCE_ACTIONS: tuple[str, ...] = ("reboot", "start", "stop", "destroy")
#: Predicate ``supports(method, path)``: the driver implements the operation serving it.
Supports = Callable[[str, str], bool]
#: ``check(collection, document) -> problems``: the references of one member document.
References = Callable[[str, Mapping[str, Any]], list[str]]


def auto_closure(machine: StateMachine, state: str) -> set[str]:
    """``state`` and every state the cloud may move it to on its own."""
    seen = {state}
    frontier = [state]
    while frontier:
        for t in machine.transitions_from(frontier.pop()):
            if t.auto and t.to not in seen:
                seen.add(t.to)
                frontier.append(t.to)
    return seen


def transient(machine: StateMachine, state: str) -> bool:
    """A state the cloud leaves on its own and the client cannot act in (``pending``)."""
    out = machine.transitions_from(state)
    return any(t.auto for t in out) and not any(t.action for t in out)


def path_to_finish(machine: StateMachine, state: str, usable: Callable[[str], bool]) -> list[str]:
    """Actions (in order) that lead from ``state`` to ``finish``; [] when none is needed or possible."""
    routes: dict[str, list[str]] = {state: []}
    frontier = [state]
    while frontier:
        current = frontier.pop(0)
        if current == "finish":
            return routes[current]
        for t in machine.transitions_from(current):
            if t.action is not None and not usable(t.action):
                continue
            if t.to not in routes:
                routes[t.to] = routes[current] + ([t.action] if t.action else [])
                frontier.append(t.to)
    return []


def _action_request(action: str, instance_id: str) -> tuple[str, str]:
    base = f"/instances/{quote(instance_id, safe='')}"
    return ("DELETE", base) if action == "destroy" else ("POST", f"{base}/{action}")


def _leftover(what: str) -> None:
    warnings.warn(f"conformance kit: could not remove {what} it created; remove it by hand", stacklevel=2)


def run_machine(machine_cls: type[RuleBasedStateMachine], settings: ConformanceSettings) -> None:
    """Run a state machine with the kit's example and step counts, without a deadline."""
    from hypothesis import HealthCheck
    from hypothesis import settings as hsettings
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(machine_cls, settings=hsettings(
        max_examples=settings.max_examples, stateful_step_count=settings.stateful_steps, deadline=None,
        suppress_health_check=list(HealthCheck)))


# -- instances ------------------------------------------------------------------------------------

def _advertised(doc: Mapping[str, Any]) -> list[str]:
    return [a["rel"] for a in doc.get("actions") or () if a.get("rel") in INSTANCE_ACTIONS]


class InstanceProbe:
    """Looks at, waits for, creates and destroys instances over a transport, for every instance
    check of the kit (the life-cycle machine, the first-instance check, the samples).

    Remembers a bounded wait that ran out (``timed_out``, in ``memory``, which the kit shares
    between the probes of one driver class): every later wait fails at once with the same
    message, so a stuck instance costs ``settle_timeout`` once, not once per example or test.
    """

    def __init__(self, transport: Transport, machine: StateMachine, settings: ConformanceSettings,
                 supports: Supports, *, tally: Counter[str] | None = None,
                 references: References | None = None, made: set[str] | None = None,
                 memory: dict[str, str] | None = None) -> None:
        self.transport = transport
        self.machine = machine
        self.settings = settings
        self.supports = supports
        self.tally: Counter[str] = Counter() if tally is None else tally
        self.references = references
        #: Ids of the instances this probe created.
        self.made: set[str] = set() if made is None else made
        #: Where a wait that ran out is remembered (shared by the probes of one driver class).
        self.memory: dict[str, str] = {} if memory is None else memory
        self.start_states = auto_closure(machine, machine.next_state("start", "create") or "start")

    def implemented(self, action: str) -> bool:
        return self.supports(*_action_request(action, MISSING_ID))

    # -- looking ---------------------------------------------------------------------------
    def show(self, instance_id: str) -> dict[str, Any] | None:
        """``GET /instances/<id>`` as a document; None for a 404. It must show that instance."""
        reply = self.transport.request("GET", f"/instances/{quote(instance_id, safe='')}")
        if reply.status == 404:
            return None
        assert reply.status == 200, f"GET /api/instances/{instance_id}: {reply.describe()}"
        doc = reply.member("instance")
        assert str(doc.get("id")) == instance_id, (
            f"GET /api/instances/{instance_id} shows instance {doc.get('id')}: list_instances must honour the "
            "id filter (the default get_instance returns the first of list_instances(id=...))")
        return doc

    def look(self, instance_id: str) -> str | None:
        doc = self.show(instance_id)
        return None if doc is None else state_name_of(doc)

    def listed(self) -> dict[str, dict[str, Any]]:
        reply = self.transport.request("GET", "/instances")
        assert reply.status == 200, f"GET /api/instances: {reply.describe()}"
        return {str(i["id"]): i for i in reply.document["instances"]}

    def send(self, action: str, instance_id: str) -> Reply:
        method, path = _action_request(action, instance_id)
        return self.transport.request(method, path)

    # -- waiting ---------------------------------------------------------------------------
    @property
    def timed_out(self) -> str | None:
        """The failure of a wait that ran out, if one did."""
        return self.memory.get("timed_out")

    def _give_up(self, message: str) -> None:
        raise AssertionError(message)

    def poll(self, pending: Callable[[], str | None]) -> None:
        """Call ``pending()`` until it returns None (it returns what is still wrong), at most
        ``settle_timeout`` seconds; then fail with what was still wrong."""
        why = pending()
        if why is None:
            return
        if self.timed_out is not None:
            self._give_up(self.timed_out)
        timeout = self.settings.settle_timeout
        deadline = time.monotonic() + timeout
        while why is not None:
            if time.monotonic() >= deadline:
                self.memory["timed_out"] = (f"{why} (waited {timeout:g} s: ConformanceSettings.settle_timeout; "
                                            "later waits for this driver fail at once)")
                self._give_up(self.memory["timed_out"])
            time.sleep(self.settings.poll_interval)
            why = pending()

    def settle(self, instance_id: str, when: str = "") -> str | None:
        """The instance's state once it left transient states (None: it is gone)."""
        seen: list[str | None] = []

        def pending() -> str | None:
            state = self.look(instance_id)
            seen.append(state)
            if state is None or not transient(self.machine, state):
                return None
            leaves = ", ".join(t.to for t in self.machine.transitions_from(state) if t.auto)
            return (f"instance {instance_id} is still '{state.upper()}'{when}: the cloud leaves '{state}' on its "
                    f"own (to {leaves}), so the driver must report the backend's current state")

        self.poll(pending)
        return seen[-1]

    def wait_gone(self, instance_id: str) -> None:
        """After a destroy: the instance leaves ``GET /instances``; ``GET /instances/<id>`` answers
        404 or shows it FINISH without actions (STATES.md: ``finish`` is the state after it is gone)."""

        def pending() -> str | None:
            doc = self.show(instance_id)
            state = "gone" if doc is None else str(doc.get("state"))
            if doc is not None:
                assert state_name(state) == "finish", (
                    f"destroyed instance {instance_id} is '{state}' again (a destroyed instance is 404 or FINISH)")
                actions = _advertised(doc)
                assert not actions, f"destroyed instance {instance_id} is FINISH but advertises {actions}"
            if instance_id not in self.listed():
                return None
            return (f"instance {instance_id} was destroyed, but GET /api/instances still lists it ('{state}'): "
                    "a destroyed instance leaves the listing (STATES.md: 'finish' is the state after the instance "
                    f"is gone); GET /api/instances/{instance_id} may go on showing it as FINISH for a while")

        self.poll(pending)

    # -- creating and destroying -----------------------------------------------------------
    def create(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``POST /instances``: the documents of what it created (one, or several)."""
        reply = self.transport.request("POST", "/instances", params=params)
        assert reply.status == 201, f"POST /api/instances {dict(params)}: {reply.describe()}"
        doc = reply.document
        members = doc["instances"] if isinstance(doc, dict) and "instances" in doc else [reply.member("instance")]
        self.tally["instances created"] += len(members)
        self.made.update(str(m["id"]) for m in members)
        return members

    def creation_problems(self, doc: Mapping[str, Any], params: Mapping[str, str]) -> list[str]:
        """A new instance's state is one the machine allows after create; it is what was asked
        for (image, hardware profile, realm) and everything it refers to exists."""
        problems = []
        instance_id = doc.get("id")
        state = state_name_of(doc)
        if state not in self.start_states:
            problems.append(f"new instance {instance_id} is '{doc.get('state')}'; the state machine allows "
                            f"{sorted(self.start_states)} right after create")
        for param, key in (("image_id", "image"), ("hwp_id", "hardware_profile"), ("realm_id", "realm")):
            wanted = params.get(param)
            named = (doc.get(key) or {}).get("id") if isinstance(doc.get(key), Mapping) else None
            if wanted and str(named) != wanted:
                problems.append(f"new instance {instance_id} names {key} '{named}'; it was created with "
                                f"{param}={wanted}")
        if self.references is not None:
            problems += self.references("instances", doc)
        return problems

    def destroy(self, instance_id: str) -> bool:
        """Destroy along the machine's transitions, checking each step and that it is then gone;
        False when the machine offers no way to ``finish`` with what the driver implements."""
        for _ in range(2 * len(self.machine.states)):
            state = self.settle(instance_id, " before it could be destroyed")
            if state is None or state == "finish":
                self.wait_gone(instance_id)
                return True
            actions = path_to_finish(self.machine, state, self.implemented)
            if not actions:
                return False
            reply = self.send(actions[0], instance_id)
            assert reply.status in (200, 202, 204, 303), (
                f"{actions[0]} on '{state}' instance {instance_id} (on its way to finish): {reply.describe()}")
            self.tally["instance actions"] += 1
        raise AssertionError(f"instance {instance_id} did not reach 'finish' along the state machine's transitions")

    def dispose(self, instance_id: str) -> None:
        """Destroy if it can be done (never waits again after a wait ran out); warn, never fail."""
        if self.timed_out is None:
            try:
                if self.destroy(instance_id):
                    return
            except AssertionError:
                pass
        state = "?"
        if self.timed_out is None:
            try:
                state = str(self.look(instance_id))
            except AssertionError:
                pass
        _leftover(f"instance {instance_id} ('{state}')")


def state_name_of(doc: Mapping[str, Any]) -> str:
    """A document's ``state`` as a machine state name (``RUNNING`` -> ``running``)."""
    return state_name(doc.get("state"))


def instance_lifecycle(transport: Transport, machine: StateMachine, settings: ConformanceSettings,
                       create_params: Mapping[str, str], supports: Supports, *,
                       probe: InstanceProbe | None = None) -> type[RuleBasedStateMachine]:
    """The instance life cycle as a ``RuleBasedStateMachine`` class bound to ``transport``
    (through ``probe``, which counts what it does and remembers a wait that ran out)."""
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

    instance_probe: InstanceProbe = probe or InstanceProbe(transport, machine, settings, supports)
    implemented = instance_probe.implemented

    class InstanceLifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            #: Instances this example created and that still exist: id -> last seen state.
            self.live: dict[str, str] = {}
            #: Instances this example destroyed: listed again only when an id is given anew.
            self.destroyed: set[str] = set()
            self.probed_missing = False

        # -- rules ---------------------------------------------------------------------
        @precondition(lambda self: len(self.live) < settings.max_instances)
        @rule()
        def create(self) -> None:
            members = instance_probe.create(create_params)
            for member in members:
                self.live[str(member["id"])] = state_name_of(member)
                self.destroyed.discard(str(member["id"]))  # clouds may give a destroyed instance's id again
            problems = [p for m in members for p in instance_probe.creation_problems(m, create_params)]
            assert not problems, "\n".join(problems)

        @precondition(lambda self: bool(self.live))
        @rule(data=st.data(), action=st.sampled_from(INSTANCE_ACTIONS))
        def act(self, data: Any, action: str) -> None:
            instance_id = data.draw(st.sampled_from(sorted(self.live)), label="instance")
            before = instance_probe.settle(instance_id, f" before {action}")
            assert before is not None, f"instance {instance_id} disappeared without being destroyed"
            reply = instance_probe.send(action, instance_id)
            allowed = machine.actions_for(before)
            if not implemented(action):
                assert reply.status == 412, f"{action} is not implemented: expected 412, got {reply.describe()}"
            elif action not in allowed:
                assert reply.status == 405, (
                    f"{action} on a '{before}' instance is illegal (allowed: {allowed}): expected 405, "
                    f"got {reply.describe()}")
            else:
                assert reply.status in (200, 202, 204, 303), f"{action} on '{before}': {reply.describe()}"
                instance_probe.tally["instance actions"] += 1
                target = machine.next_state(before, action) or before
                after = instance_probe.settle(instance_id, f" after {action}")
                expected = auto_closure(machine, target)
                if after is None or after == "finish":
                    assert "finish" in expected, f"{action} on '{before}' removed instance {instance_id}"
                    del self.live[instance_id]
                    self.destroyed.add(instance_id)
                    instance_probe.wait_gone(instance_id)
                    return
                assert after in expected, (
                    f"{action} on '{before}' left instance {instance_id} '{after}'; the machine says "
                    f"{sorted(expected)}")
                self.live[instance_id] = after
                return
            after = instance_probe.look(instance_id)
            assert after in auto_closure(machine, before), (
                f"refused {action} changed instance {instance_id} from '{before}' to '{after}'")

        @precondition(lambda self: not self.probed_missing)  # a stateless check: once per example
        @rule(action=st.sampled_from(INSTANCE_ACTIONS))
        def act_on_missing(self, action: str) -> None:
            self.probed_missing = True
            reply = instance_probe.send(action, MISSING_ID)
            expected = 403 if implemented(action) else 412
            assert reply.status == expected, (
                f"{action} on an unknown instance: expected {expected}, got {reply.describe()} "
                "(get_instance must return None for an unknown id)")

        # -- invariants ----------------------------------------------------------------
        @invariant()
        def documents_agree_with_machine(self) -> None:
            if not self.live and not self.destroyed:
                return
            listed = instance_probe.listed()
            back = sorted(self.destroyed & set(listed))
            assert not back, f"destroyed instance(s) {back} are listed again by GET /api/instances"
            for instance_id in self.live:
                assert instance_id in listed, f"instance {instance_id} is missing from GET /api/instances"
                doc = instance_probe.show(instance_id)
                assert doc is not None, f"GET /api/instances/{instance_id}: 404 for a listed instance"
                state = state_name_of(doc)
                assert state in machine.states, (
                    f"instance {instance_id} is '{doc.get('state')}', not a state of the machine "
                    f"{list(machine.states)}")
                advertised = _advertised(doc)
                expected = [a for a in machine.actions_for(state) if a != "create"]
                assert advertised == expected, (
                    f"instance {instance_id} ('{state}') advertises {advertised}; the machine allows {expected}")

        def teardown(self) -> None:
            for instance_id in list(self.live):
                instance_probe.dispose(instance_id)

    return InstanceLifecycle


# -- buckets and blobs ----------------------------------------------------------------------------

_NAME = "abcdefghijklmnopqrstuvwxyz0123456789"
_CONTENT_TYPES = ("application/octet-stream", "text/plain", "image/png")


def blob_bucket(doc: Mapping[str, Any]) -> str | None:
    """The bucket a blob document names (``{"bucket": {"id": ...}}``)."""
    bucket = doc.get("bucket")
    value = bucket.get("id") if isinstance(bucket, Mapping) else bucket
    return None if value is None else str(value)


def bucket_lifecycle(transport: Transport, settings: ConformanceSettings, supports: Supports, *,
                     blobs: bool | None = None, tally: Counter[str] | None = None) -> type[RuleBasedStateMachine]:
    """Buckets and blobs against an in-memory model, as a ``RuleBasedStateMachine`` class.

    ``blobs``: whether the driver stores blobs (default: it serves PUT, GET .../content and
    DELETE on a blob); without them only buckets are created and destroyed.
    """
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

    counts: Counter[str] = Counter() if tally is None else tally
    blobs_supported = blobs if blobs is not None else all(supports(m, p) for m, p in (
        ("PUT", "/buckets/b/x"), ("GET", "/buckets/b/x/content"), ("DELETE", "/buckets/b/x")))
    deletes_buckets = supports("DELETE", "/buckets/b")

    class BucketLifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            #: bucket id -> blob id -> (bytes, content type): what the backend must hold.
            self.model: dict[str, dict[str, tuple[bytes, str]]] = {}
            self.tag = secrets.token_hex(3)
            self.names: set[str] = set()
            self.probed_missing = False

        def blob_path(self, bucket: str, blob: str, suffix: str = "") -> str:
            return f"/buckets/{bucket}/{blob}{suffix}"

        def pick_blob(self, data: Any) -> tuple[str, str]:
            pairs = sorted((b, x) for b, blobs in self.model.items() for x in blobs)
            return data.draw(st.sampled_from(pairs), label="blob")

        def has_blobs(self) -> bool:
            return any(self.model.values())

        # -- rules ---------------------------------------------------------------------
        @precondition(lambda self: len(self.model) < settings.max_buckets)
        @rule(suffix=st.text(_NAME, min_size=1, max_size=6))
        def create_bucket(self, suffix: str) -> None:
            name = f"dckit-{self.tag}-{suffix}"
            if name in self.names:
                return
            self.names.add(name)
            reply = transport.request("POST", "/buckets", params={"name": name})
            assert reply.status == 201, f"POST /buckets name={name}: {reply.describe()}"
            doc = reply.member("bucket")
            self.model[str(doc["id"])] = {}
            counts["buckets created"] += 1
            assert not doc.get("blob_list"), f"new bucket {name} already holds blobs: {doc.get('blob_list')}"

        @precondition(lambda self: blobs_supported and bool(self.model))
        @rule(data=st.data(), content=st.binary(max_size=settings.max_blob_size),
              content_type=st.sampled_from(_CONTENT_TYPES))
        def put_blob(self, data: Any, content: bytes, content_type: str) -> None:
            bucket = data.draw(st.sampled_from(sorted(self.model)), label="bucket")
            # Blob names carry their bucket's: some backends (the mock) keep blob ids global.
            fresh = st.text(_NAME, min_size=1, max_size=6).map(lambda s: f"{bucket}-{s}")
            existing = sorted(self.model[bucket])
            name = data.draw(st.one_of(fresh, st.sampled_from(existing)) if existing else fresh, label="name")
            reply = transport.request("PUT", self.blob_path(bucket, name), body=content,
                                      headers={"Content-Type": content_type, "X-Deltacloud-Blobmeta-Kit": "yes"})
            assert reply.status in (200, 201), f"PUT {bucket}/{name}: {reply.describe()}"
            self.model[bucket][name] = (content, content_type)
            doc = reply.member("blob")
            assert str(doc.get("id")) == name, f"PUT {bucket}/{name} answered blob {doc.get('id')}"
            assert blob_bucket(doc) == bucket, f"PUT {bucket}/{name} answered a blob of bucket {blob_bucket(doc)}"
            counts["references checked"] += 1
            metadata = {str(k).lower(): v for k, v in (doc.get("user_metadata") or {}).items()}
            assert metadata.get("kit") == "yes", f"PUT {bucket}/{name} lost the metadata header: {metadata}"

        @precondition(lambda self: blobs_supported and self.has_blobs())
        @rule(data=st.data())
        def read_blob(self, data: Any) -> None:
            bucket, name = self.pick_blob(data)
            reply = transport.request("GET", self.blob_path(bucket, name, "/content"))
            assert reply.status == 200, f"GET {bucket}/{name}/content: {reply.describe()}"
            content, _type = self.model[bucket][name]
            assert reply.body == content, (
                f"{bucket}/{name} holds {len(reply.body)} bytes that differ from the {len(content)} stored "
                f"(stored {content[:16]!r}..., read back {reply.body[:16]!r}...)")
            counts["blob round trips"] += 1

        @precondition(lambda self: blobs_supported and self.has_blobs())
        @rule(data=st.data())
        def delete_blob(self, data: Any) -> None:
            bucket, name = self.pick_blob(data)
            reply = transport.request("DELETE", self.blob_path(bucket, name))
            assert reply.status in (200, 204), f"DELETE {bucket}/{name}: {reply.describe()}"
            del self.model[bucket][name]

        @precondition(lambda self: blobs_supported and bool(self.model) and not self.probed_missing)
        @rule(data=st.data())
        def missing_blob(self, data: Any) -> None:
            self.probed_missing = True  # a stateless check: once per example
            bucket = data.draw(st.sampled_from(sorted(self.model)), label="bucket")
            shown = transport.request("GET", self.blob_path(bucket, MISSING_ID))
            assert shown.status == 404, f"GET of a missing blob: expected 404, got {shown.describe()}"
            deleted = transport.request("DELETE", self.blob_path(bucket, MISSING_ID))
            assert deleted.status >= 400, f"DELETE of a missing blob must be refused, got {deleted.describe()}"

        @precondition(lambda self: deletes_buckets and bool(self.model))
        @rule(data=st.data())
        def delete_bucket(self, data: Any) -> None:
            bucket = data.draw(st.sampled_from(sorted(self.model)), label="bucket")
            reply = transport.request("DELETE", f"/buckets/{bucket}")
            if self.model[bucket]:
                assert reply.status >= 400, f"DELETE of non-empty bucket {bucket} must be refused, got {reply.status}"
                return
            assert reply.status in (200, 204), f"DELETE empty bucket {bucket}: {reply.describe()}"
            del self.model[bucket]

        # -- invariants ----------------------------------------------------------------
        @invariant()
        def backend_holds_the_model(self) -> None:
            if not self.model:
                return
            listing = transport.request("GET", "/buckets")
            assert listing.status == 200, f"GET /buckets: {listing.describe()}"
            listed = {str(b["id"]) for b in listing.document["buckets"]}
            for bucket, blobs in self.model.items():
                assert bucket in listed, f"bucket {bucket} is missing from GET /buckets"
                reply = transport.request("GET", f"/buckets/{bucket}")
                assert reply.status == 200, f"GET /buckets/{bucket}: {reply.describe()}"
                held = {str(b["id"]) for b in reply.member("bucket").get("blob_list") or ()}
                assert held == set(blobs), f"bucket {bucket} lists {sorted(held)}; stored were {sorted(blobs)}"
                for name, (content, content_type) in blobs.items():
                    shown = transport.request("GET", self.blob_path(bucket, name))
                    assert shown.status == 200, f"GET {bucket}/{name}: {shown.describe()}"
                    doc = shown.member("blob")
                    assert blob_bucket(doc) == bucket, f"GET {bucket}/{name} shows a blob of bucket {blob_bucket(doc)}"
                    length = doc.get("content_length")
                    assert length is not None and int(length) == len(content), (
                        f"{bucket}/{name}: content_length {length} != {len(content)}")
                    sent = doc.get("content_type")
                    assert sent in (None, content_type), (
                        f"{bucket}/{name}: content_type {sent!r}, stored {content_type!r}")

        def teardown(self) -> None:
            for bucket, blobs in self.model.items():
                for name in blobs:
                    transport.request("DELETE", self.blob_path(bucket, name))
                if not deletes_buckets or not transport.request("DELETE", f"/buckets/{bucket}").ok:
                    _leftover(f"bucket {bucket}")

    return BucketLifecycle
