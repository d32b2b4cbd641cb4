"""What changed between two listings, and when a watcher lists next (no server, no network)."""

from __future__ import annotations

import pytest

from deltacloud_core.events.diff import Change, diff_documents
from deltacloud_core.events.policy import PollPolicy, transitional_states
from deltacloud_core.state_machine import StateMachine


def _doc(rid: str, state: str | None = "RUNNING", **fields: object) -> dict[str, object]:
    return {"id": rid, **({"state": state} if state is not None else {}), **fields}


def _kinds(changes: list[Change]) -> list[tuple[str, str]]:
    return [(c.kind, c.resource_id) for c in changes]


def test_the_four_kinds_in_the_order_of_the_new_listing_then_the_destroyed() -> None:
    before = {"a": _doc("a"), "b": _doc("b"), "c": _doc("c", name="x"), "d": _doc("d")}
    now = {"e": _doc("e", "PENDING"), "c": _doc("c", name="y"), "b": _doc("b", "STOPPED"), "a": _doc("a")}
    changes = diff_documents(before, now)
    assert _kinds(changes) == [("created", "e"), ("changed", "c"), ("state", "b"), ("destroyed", "d")]
    created, changed, state, destroyed = changes
    assert (created.old_state, created.new_state, created.doc) == (None, "PENDING", now["e"])
    assert (changed.fields, changed.old_state, changed.new_state) == (("name",), "RUNNING", "RUNNING")
    assert (state.old_state, state.new_state, state.doc) == ("RUNNING", "STOPPED", now["b"])
    assert (destroyed.old_state, destroyed.new_state, destroyed.doc) == ("RUNNING", None, before["d"])


def test_a_new_state_is_a_state_event_even_when_other_fields_changed_with_it() -> None:
    before = {"a": _doc("a", actions=["stop"])}
    now = {"a": _doc("a", "STOPPED", actions=["start", "destroy"])}
    (change,) = diff_documents(before, now)
    assert (change.kind, change.old_state, change.new_state, change.fields) == ("state", "RUNNING", "STOPPED", ())


def test_changed_names_added_and_removed_fields_and_members_without_state() -> None:
    before = {"v": _doc("v", None, capacity="1", device="/dev/sdb")}
    now = {"v": _doc("v", None, capacity="2", name="data")}
    (change,) = diff_documents(before, now)
    assert change.kind == "changed"
    assert set(change.fields) == {"capacity", "name", "device"}
    assert change.new_state is None


def test_equal_listings_and_empty_ones_change_nothing() -> None:
    docs = {"a": _doc("a", nested={"x": [1, 2]})}
    assert diff_documents(docs, {"a": _doc("a", nested={"x": [1, 2]})}) == []
    assert diff_documents({}, {}) == []
    assert _kinds(diff_documents({}, docs)) == [("created", "a")]
    assert _kinds(diff_documents(docs, {})) == [("destroyed", "a")]


def test_states_are_compared_as_text() -> None:
    (change,) = diff_documents({"a": _doc("a", "RUNNING")}, {"a": _doc("a", "running")})
    assert (change.kind, change.old_state, change.new_state) == ("state", "RUNNING", "running")


# -- the adaptive poll policy -------------------------------------------------------------------

def test_fast_while_transitional_or_just_changed_then_doubling_up_to_the_maximum() -> None:
    policy = PollPolicy(2.0, 30.0)
    assert policy.after_poll(changed=False, transitional=True, announced=False) == 2.0
    assert policy.after_poll(changed=True, transitional=False, announced=False) == 2.0
    quiet = [policy.after_poll(changed=False, transitional=False, announced=False) for _ in range(6)]
    assert quiet == [4.0, 8.0, 16.0, 30.0, 30.0, 30.0]  # slower when settled, never past the maximum
    assert policy.after_poll(changed=False, transitional=True, announced=False) == 2.0  # fast again


def test_announced_collections_are_listed_at_the_maximum_unless_something_moves_by_itself() -> None:
    policy = PollPolicy(2.0, 30.0)
    assert policy.after_poll(changed=True, transitional=False, announced=True) == 30.0
    assert policy.after_poll(changed=False, transitional=True, announced=True) == 2.0


def test_failures_back_off_within_the_bounds() -> None:
    policy = PollPolicy(2.0, 30.0)
    assert [policy.after_failure(None) for _ in range(6)] == [4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    policy = PollPolicy(2.0, 30.0)
    policy.current = 0.5  # never below the minimum
    assert policy.after_failure(None) == 2.0


@pytest.mark.parametrize(("retry_after", "expected"), [
    (45.0, 45.0),     # the throttling backend's word, above the maximum
    (1.0, 4.0),       # never sooner than the back-off
    (10_000.0, 300.0),  # bounded: ten times the maximum at most
])
def test_retry_after_of_a_throttling_backend_is_honoured(retry_after: float, expected: float) -> None:
    policy = PollPolicy(2.0, 30.0)
    assert policy.after_failure(retry_after) == expected


def test_transitional_states_are_the_clouds_in_between_ones_and_the_machines_automatic_ones() -> None:
    machine = (StateMachine.builder().on("start", "create", "pending").auto("pending", "running")
               .on("running", "stop", "stopped").auto("stopped", "finish").build())
    states = transitional_states(machine)
    assert {"PENDING", "STOPPING", "SHUTTING_DOWN", "REBOOTING"} <= states
    assert "STOPPED" in states  # left automatically in this machine
    assert "RUNNING" not in states
    assert "STOPPED" not in transitional_states(None)
    assert PollPolicy.any_transitional(["running", "stopped"], states)
    assert not PollPolicy.any_transitional(["RUNNING", None, "FINISH"], states)
