"""Hypothesis state machines of the instance and the bucket/blob life cycles.

Rules cannot take pytest fixtures, so each machine is built by a factory that closes over
a :class:`~.transport.Transport` (in-process or HTTP), the settings and what the driver
supports. The machines speak the API's JSON documents, so the same machine runs at the
driver level and over HTTP.

Instances: create, then random actions, legal and illegal, on the instances it created
(never on others). After every step: every state is one the machine knows, the actions
an instance advertises are the machine's for its state, an illegal action was refused
(405, or 412 when the driver lacks it) and left the state as it was, a destroyed instance
is gone. Teardown destroys whatever is left, along the machine's own transitions.

Buckets and blobs: the server must hold exactly what an in-memory model says was
stored: bucket list, blob list per bucket, every blob's bytes and length. Refused
operations (deleting a missing blob, a non-empty bucket) change nothing.
"""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypothesis.stateful import RuleBasedStateMachine

    from ..state_machine import StateMachine
    from .settings import ConformanceSettings
    from .transport import Reply, Transport

__all__ = ["MISSING_ID", "Supports", "auto_closure", "bucket_lifecycle", "instance_lifecycle", "path_to_finish",
           "run_machine", "transient"]

#: An id no backend has; used for not-found checks.
MISSING_ID = "deltacloud-kit-missing"
#: Client actions on an existing instance, and the request each one is.
INSTANCE_ACTIONS: tuple[str, ...] = ("reboot", "start", "stop", "destroy")
#: Predicate ``supports(method, path)``: the driver implements the operation serving it.
Supports = Callable[[str, str], bool]


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
    from urllib.parse import quote

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

def instance_lifecycle(transport: Transport, machine: StateMachine, settings: ConformanceSettings,
                       create_params: Mapping[str, str], supports: Supports) -> type[RuleBasedStateMachine]:
    """The instance life cycle as a ``RuleBasedStateMachine`` class bound to ``transport``."""
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

    from ..state_machine import state_name

    def implemented(action: str) -> bool:
        return supports(*_action_request(action, MISSING_ID))

    start_states = auto_closure(machine, machine.next_state("start", "create") or "start")

    class InstanceLifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            #: Instances this example created and that still exist: id -> last seen state.
            self.live: dict[str, str] = {}
            self.probed_missing = False

        # -- helpers -------------------------------------------------------------------
        def look(self, instance_id: str) -> str | None:
            reply = transport.request("GET", f"/instances/{instance_id}")
            if reply.status == 404:
                return None
            assert reply.status == 200, f"GET /instances/{instance_id}: {reply.describe()}"
            return state_name(reply.member("instance").get("state"))

        def settle(self, instance_id: str) -> str | None:
            """The instance's state once it left transient states (None: it is gone)."""
            deadline = time.monotonic() + settings.settle_timeout
            state = self.look(instance_id)
            while state is not None and transient(machine, state):
                assert time.monotonic() < deadline, (
                    f"instance {instance_id} stayed '{state}' for {settings.settle_timeout:g} s "
                    "(ConformanceSettings.settle_timeout)")
                time.sleep(settings.poll_interval)
                state = self.look(instance_id)
            return state

        def send(self, action: str, instance_id: str) -> Reply:
            method, path = _action_request(action, instance_id)
            return transport.request(method, path)

        # -- rules ---------------------------------------------------------------------
        @precondition(lambda self: len(self.live) < settings.max_instances)
        @rule()
        def create(self) -> None:
            reply = transport.request("POST", "/instances", params=create_params)
            assert reply.status == 201, f"POST /instances {dict(create_params)}: {reply.describe()}"
            doc = reply.document
            members = doc["instances"] if isinstance(doc, dict) and "instances" in doc else [reply.member("instance")]
            for member in members:
                state = state_name(member.get("state"))
                assert state in start_states, (
                    f"new instance {member.get('id')} is '{member.get('state')}'; the state machine allows "
                    f"{sorted(start_states)} right after create")
                self.live[str(member["id"])] = state

        @precondition(lambda self: bool(self.live))
        @rule(data=st.data(), action=st.sampled_from(INSTANCE_ACTIONS))
        def act(self, data: Any, action: str) -> None:
            instance_id = data.draw(st.sampled_from(sorted(self.live)), label="instance")
            before = self.settle(instance_id)
            assert before is not None, f"instance {instance_id} disappeared without being destroyed"
            reply = self.send(action, instance_id)
            allowed = machine.actions_for(before)
            if not implemented(action):
                assert reply.status == 412, f"{action} is not implemented: expected 412, got {reply.describe()}"
            elif action not in allowed:
                assert reply.status == 405, (
                    f"{action} on a '{before}' instance is illegal (allowed: {allowed}): expected 405, "
                    f"got {reply.describe()}")
            else:
                assert reply.status in (200, 202, 204, 303), f"{action} on '{before}': {reply.describe()}"
                target = machine.next_state(before, action) or before
                after = self.settle(instance_id)
                expected = auto_closure(machine, target)
                if after is None:
                    assert "finish" in expected, f"{action} on '{before}' removed instance {instance_id}"
                    del self.live[instance_id]
                    return
                assert after in expected, (
                    f"{action} on '{before}' left instance {instance_id} '{after}'; the machine says "
                    f"{sorted(expected)}")
                if after == "finish":
                    del self.live[instance_id]
                else:
                    self.live[instance_id] = after
                return
            after = self.look(instance_id)
            assert after in auto_closure(machine, before), (
                f"refused {action} changed instance {instance_id} from '{before}' to '{after}'")

        @precondition(lambda self: not self.probed_missing)  # a stateless check: once per example
        @rule(action=st.sampled_from(INSTANCE_ACTIONS))
        def act_on_missing(self, action: str) -> None:
            self.probed_missing = True
            reply = self.send(action, MISSING_ID)
            expected = 403 if implemented(action) else 412
            assert reply.status == expected, (
                f"{action} on an unknown instance: expected {expected}, got {reply.describe()} "
                "(get_instance must return None for an unknown id)")

        # -- invariants ----------------------------------------------------------------
        @invariant()
        def documents_agree_with_machine(self) -> None:
            if not self.live:
                return
            listing = transport.request("GET", "/instances")
            assert listing.status == 200, f"GET /instances: {listing.describe()}"
            listed = {str(i["id"]) for i in listing.document["instances"]}
            for instance_id in self.live:
                assert instance_id in listed, f"instance {instance_id} is missing from GET /instances"
                reply = transport.request("GET", f"/instances/{instance_id}")
                assert reply.status == 200, f"GET /instances/{instance_id}: {reply.describe()}"
                doc = reply.member("instance")
                state = state_name(doc.get("state"))
                assert state in machine.states, (
                    f"instance {instance_id} is '{doc.get('state')}', not a state of the machine "
                    f"{list(machine.states)}")
                advertised = [a["rel"] for a in doc.get("actions") or () if a.get("rel") in INSTANCE_ACTIONS]
                expected = [a for a in machine.actions_for(state) if a != "create"]
                assert advertised == expected, (
                    f"instance {instance_id} ('{state}') advertises {advertised}; the machine allows {expected}")

        def teardown(self) -> None:
            for instance_id in list(self.live):
                self.dispose(instance_id)

        def dispose(self, instance_id: str) -> None:
            """Destroy along the machine's transitions; warn (never fail) when that does not work."""
            for _ in range(2 * len(machine.states)):
                state = self.settle(instance_id)
                if state is None or state == "finish":
                    return
                actions = path_to_finish(machine, state, implemented)
                if not actions:
                    break
                reply = self.send(actions[0], instance_id)
                if not reply.ok:
                    break
            _leftover(f"instance {instance_id} ('{self.look(instance_id)}')")

    return InstanceLifecycle


# -- buckets and blobs ----------------------------------------------------------------------------

_NAME = "abcdefghijklmnopqrstuvwxyz0123456789"
_CONTENT_TYPES = ("application/octet-stream", "text/plain", "image/png")


def bucket_lifecycle(transport: Transport, settings: ConformanceSettings,
                     supports: Supports) -> type[RuleBasedStateMachine]:
    """Buckets and blobs against an in-memory model, as a ``RuleBasedStateMachine`` class."""
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

    blobs_supported = all(supports(m, p) for m, p in (
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
            assert not doc.get("blob_list"), f"new bucket {name} already holds blobs: {doc.get('blob_list')}"
            self.model[str(doc["id"])] = {}

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
            doc = reply.member("blob")
            assert str(doc.get("id")) == name, f"PUT {bucket}/{name} answered blob {doc.get('id')}"
            metadata = {str(k).lower(): v for k, v in (doc.get("user_metadata") or {}).items()}
            assert metadata.get("kit") == "yes", f"PUT {bucket}/{name} lost the metadata header: {metadata}"
            self.model[bucket][name] = (content, content_type)

        @precondition(lambda self: blobs_supported and self.has_blobs())
        @rule(data=st.data())
        def read_blob(self, data: Any) -> None:
            bucket, name = self.pick_blob(data)
            reply = transport.request("GET", self.blob_path(bucket, name, "/content"))
            assert reply.status == 200, f"GET {bucket}/{name}/content: {reply.describe()}"
            content, _type = self.model[bucket][name]
            assert reply.body == content, (
                f"{bucket}/{name} holds {len(reply.body)} bytes that differ from the {len(content)} stored")

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
                    length = doc.get("content_length")
                    assert int(length) == len(content), f"{bucket}/{name}: content_length {length} != {len(content)}"
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
