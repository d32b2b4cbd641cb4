"""The instance state machine: builder order, validation rules, and queries as properties."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from deltacloud_core.state_machine import (
    ACTIONS,
    STATES,
    StateMachine,
    StateMachineError,
    Transition,
    machine_from_rows,
    state_name,
)

Row = tuple[str, str | None, str]  # (source, action or None for automatic, destination)


def mock_machine() -> StateMachine:
    return (StateMachine.builder()
            .on("start", "create", "pending")
            .auto("pending", "running")
            .on("running", "reboot", "running")
            .on("running", "stop", "stopped")
            .on("stopped", "start", "running")
            .on("stopped", "destroy", "finish")
            .build())


def first_mentions(rows: list[Row]) -> list[str]:
    seen: list[str] = []
    for source, _action, to in rows:
        for s in (source, to):
            if s not in seen:
                seen.append(s)
    return seen


# -- a strategy for valid machines -------------------------------------------------------------

@st.composite
def valid_rows(draw: st.DrawFn) -> list[Row]:
    """Rows of a well-formed machine: every state reachable, no action twice out of one state."""
    others = [s for s in STATES if s not in ("start", "finish")]
    chosen = draw(st.lists(st.sampled_from(others), unique=True))
    non_start = draw(st.permutations([*chosen, "finish"]))
    used: dict[str, set[str]] = {}
    rows: list[Row] = []

    def pick_action(source: str) -> str | None:
        free = [a for a in ACTIONS if a not in used.setdefault(source, set())]
        action = draw(st.sampled_from([None, *free]))
        if action is not None:
            used[source].add(action)
        return action

    reached = ["start"]
    for state in non_start:  # a spanning tree rooted at start: everything reachable
        parent = draw(st.sampled_from(reached))
        rows.append((parent, pick_action(parent), state))
        reached.append(state)
    extra = draw(st.integers(min_value=0, max_value=8))
    for _ in range(extra):
        source = draw(st.sampled_from(reached))
        to = draw(st.sampled_from(reached))
        rows.append((source, pick_action(source), to))
    return draw(st.permutations(rows))


def build(rows: list[Row]) -> StateMachine:
    b = StateMachine.builder()
    for source, action, to in rows:
        if action is None:
            b.auto(source, to)
        else:
            b.on(source, action, to)
    return b.build()


# -- builder ------------------------------------------------------------------------------------

def test_mock_machine_matches_the_spec_table():
    m = mock_machine()
    assert m.states == ("start", "pending", "running", "stopped", "finish")
    assert m.actions_for("start") == ["create"]
    assert m.actions_for("pending") == []
    assert m.actions_for("running") == ["reboot", "stop"]
    assert m.actions_for("stopped") == ["start", "destroy"]
    assert m.actions_for("finish") == []
    assert m.next_state("pending", "create") is None
    assert m.creates()


def test_builder_keeps_first_mention_order_not_vocabulary_order():
    # openstack: error is mentioned last, after finish, although STATES lists it after finish too;
    # here finish is mentioned before stopped, unlike the vocabulary order.
    m = (StateMachine.builder()
         .on("start", "create", "pending")
         .auto("pending", "running")
         .on("running", "destroy", "finish")
         .on("running", "stop", "stopped")
         .auto("stopped", "finish")
         .build())
    assert m.states == ("start", "pending", "running", "finish", "stopped")


def test_error_from_mentions_error_before_its_sources_and_adds_auto_transitions():
    m = (StateMachine.builder()
         .on("start", "create", "pending")
         .auto("pending", "running")
         .on("running", "stop", "stopping")
         .auto("stopping", "stopped")
         .auto("stopped", "finish")
         .error_from("running", "pending", "stopping")
         .build())
    assert m.states == ("start", "pending", "running", "stopping", "stopped", "finish", "error")
    errors = [t for t in m.transitions if t.to == "error"]
    assert [t.source for t in errors] == ["running", "pending", "stopping"]
    assert all(t.auto and t.action is None for t in errors)
    assert m.actions_for("error") == []


def test_transitions_keep_definition_order_per_state():
    m = mock_machine()
    assert [(t.to, t.action) for t in m.transitions_from("stopped")] == [("running", "start"),
                                                                         ("finish", "destroy")]


@given(valid_rows())
def test_builder_state_order_is_first_mention_order(rows):
    m = build(rows)
    assert list(m.states) == first_mentions(rows)
    assert [(t.source, t.action, t.to) for t in m.transitions] == rows


@given(valid_rows())
def test_machine_from_rows_equals_builder(rows):
    assert machine_from_rows(rows) == build(rows)


# -- validation ---------------------------------------------------------------------------------

def test_builder_rejects_unknown_state_name():
    with pytest.raises(StateMachineError, match="State 'shutting_down' not in list of allowed states"):
        StateMachine.builder().on("start", "create", "shutting_down")
    with pytest.raises(StateMachineError, match="State 'bogus' not in list of allowed states"):
        StateMachine.builder().auto("bogus", "finish")


def test_builder_rejects_unknown_action_name():
    with pytest.raises(StateMachineError, match="Action 'explode' not in list of allowed actions"):
        StateMachine.builder().on("start", "explode", "finish")


def test_constructor_rejects_unknown_names_too():
    with pytest.raises(StateMachineError, match="State 'bogus'"):
        StateMachine(transitions=(Transition("start", "bogus", action="create"),))
    with pytest.raises(StateMachineError, match="Action 'explode'"):
        StateMachine(transitions=(Transition("start", "finish", action="explode"),))


def test_rejects_action_transition_that_is_also_automatic():
    with pytest.raises(StateMachineError, match="both automatic"):
        StateMachine(transitions=(Transition("start", "finish", action="create", auto=True),))


@pytest.mark.parametrize(("rows", "missing"), [
    ([("pending", "create", "running"), ("running", "destroy", "finish")], "start"),
    ([("start", "create", "running"), ("running", "stop", "stopped")], "finish"),
])
def test_rejects_missing_start_or_finish(rows, missing):
    with pytest.raises(StateMachineError, match=f"no '{missing}' state"):
        machine_from_rows(rows)


def test_rejects_unreachable_state_and_names_it():
    with pytest.raises(StateMachineError, match=r"not reachable.*stopped"):
        machine_from_rows([("start", "create", "running"), ("running", "destroy", "finish"),
                           ("stopped", "start", "running")])


def test_rejects_unreachable_finish():
    with pytest.raises(StateMachineError, match=r"not reachable.*finish"):
        machine_from_rows([("start", "create", "running"), ("finish", None, "start")])


def test_rejects_two_transitions_on_one_action_out_of_one_state():
    with pytest.raises(StateMachineError, match="Two transitions leave 'running' on 'stop'"):
        machine_from_rows([("start", "create", "running"), ("running", "stop", "stopped"),
                           ("running", "stop", "finish"), ("stopped", None, "finish")])


def test_same_action_out_of_different_states_is_fine():
    m = machine_from_rows([("start", "create", "running"), ("running", "destroy", "stopped"),
                           ("stopped", "destroy", "finish")])
    assert m.next_state("running", "destroy") == "stopped"
    assert m.next_state("stopped", "destroy") == "finish"


def test_two_automatic_transitions_out_of_one_state_are_fine():
    m = machine_from_rows([("start", None, "pending"), ("pending", None, "running"),
                           ("pending", None, "finish")])
    assert m.actions_for("pending") == []


@given(valid_rows())
def test_generated_machines_validate(rows):
    m = build(rows)
    m.validate()  # does not raise
    assert m.states[0] == first_mentions(rows)[0]
    assert {"start", "finish"} <= set(m.states)


@given(valid_rows(), st.data())
def test_adding_a_duplicate_action_is_rejected(rows, data):
    with_action = [r for r in rows if r[1] is not None]
    assume(with_action)
    source, action, _to = data.draw(st.sampled_from(with_action))
    other = data.draw(st.sampled_from(first_mentions(rows)))
    with pytest.raises(StateMachineError, match="Two transitions"):
        build([*rows, (source, action, other)])


@given(valid_rows(), st.data())
def test_adding_a_state_nothing_reaches_is_rejected(rows, data):
    unused = [s for s in STATES if s not in first_mentions(rows)]
    assume(unused)
    orphan = data.draw(st.sampled_from(unused))
    target = data.draw(st.sampled_from(first_mentions(rows)))
    with pytest.raises(StateMachineError, match=f"not reachable.*{orphan}"):
        build([*rows, (orphan, None, target)])


@given(valid_rows())
def test_dropping_finish_is_rejected(rows):
    kept = [r for r in rows if "finish" not in (r[0], r[2])]
    assume("start" in first_mentions(kept))
    with pytest.raises(StateMachineError, match="no 'finish' state"):
        build(kept)


# -- queries ------------------------------------------------------------------------------------

@given(valid_rows())
def test_actions_for_and_next_state_agree_with_transitions(rows):
    m = build(rows)
    for state in m.states:
        expected_actions = [a for s, a, _t in rows if s == state and a is not None]
        assert m.actions_for(state) == expected_actions
        assert m.actions_for(state.upper()) == expected_actions  # instance texts are upper case
        for action in ACTIONS:
            targets = [t for s, a, t in rows if s == state and a == action]
            assert len(targets) <= 1
            expected = targets[0] if targets else None
            assert m.next_state(state, action) == expected
            assert m.allows(state, action) is (expected is not None)
            assert (action in m.actions_for(state)) is m.allows(state, action)
    assert m.creates() is any(a == "create" for _s, a, _t in rows)


@given(valid_rows(), st.text(max_size=20))
def test_unknown_states_have_no_actions(rows, text):
    m = build(rows)
    assume(state_name(text) not in m.states)
    assert m.actions_for(text) == []
    assert all(m.next_state(text, a) is None for a in ACTIONS)


@given(valid_rows())
def test_graphviz_has_one_node_per_state_and_one_edge_per_transition(rows):
    m = build(rows)
    gv = m.to_graphviz()
    assert gv.startswith("digraph instance_states {")
    edges = [line for line in gv.splitlines() if " -> " in line]
    assert len(edges) == len(rows)
    for (source, action, to), line in zip(rows, edges, strict=True):
        assert line.strip().startswith(f"{source} -> {to} ")
        assert f'label="{action or "auto"}"' in line


@pytest.mark.parametrize(("text", "name"), [
    ("RUNNING", "running"), ("Stopped", "stopped"), (" PENDING ", "pending"),
    ("shutting-down", "shutting_down"), ("SHUTTING DOWN", "shutting_down"), (None, ""), ("", ""),
])
def test_state_name(text, name):
    assert state_name(text) == name


def test_machine_is_immutable():
    m = mock_machine()
    with pytest.raises(AttributeError):
        m.states = ()  # type: ignore[misc]
