"""Instance state machines: pure data, stdlib only.

A machine is an ordered list of states, each with an ordered list of transitions.
A transition goes to a destination state either on a client *action* (``create``,
``reboot``, ``stop``, ``start``, ``destroy``) or *automatically* (the cloud moves the
instance on its own). Order of states is order of first mention; rendering and
``actions_for`` keep that order.

Build one with the small DSL, which mirrors the original's::

    machine = (StateMachine.builder()
               .on("start", "create", "pending")
               .auto("pending", "running")
               .on("running", "reboot", "running")
               .on("running", "stop", "stopped")
               .on("stopped", "start", "running")
               .on("stopped", "destroy", "finish")
               .build())
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["ACTIONS", "STATES", "StateMachine", "StateMachineBuilder", "StateMachineError", "Transition",
           "state_name"]

#: The closed vocabulary of states.
STATES: tuple[str, ...] = ("start", "pending", "running", "stopping", "stopped", "finish", "error")
#: The closed vocabulary of client actions.
ACTIONS: tuple[str, ...] = ("create", "reboot", "stop", "start", "destroy")


class StateMachineError(ValueError):
    """A machine definition breaks a rule (unknown name, unreachable state, ...)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """``source --action--> to``; ``action`` is None for an automatic transition."""

    source: str
    to: str
    action: str | None = None
    auto: bool = False


def state_name(state: str | None) -> str:
    """An instance's state text as a machine state name (``RUNNING`` -> ``running``)."""
    return (state or "").strip().lower().replace("-", "_").replace(" ", "_")


@dataclass(frozen=True)
class StateMachine:
    """An immutable, validated instance state machine."""

    transitions: tuple[Transition, ...]
    states: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.states:
            seen: list[str] = []
            for t in self.transitions:
                for s in (t.source, t.to):
                    if s not in seen:
                        seen.append(s)
            object.__setattr__(self, "states", tuple(seen))
        self.validate()

    @staticmethod
    def builder() -> StateMachineBuilder:
        return StateMachineBuilder()

    # -- queries ---------------------------------------------------------------------------
    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        """The transitions leaving ``state``, in definition order."""
        return tuple(t for t in self.transitions if t.source == state)

    def actions_for(self, state: str | None) -> list[str]:
        """Client actions allowed in ``state`` (an instance state text or a machine name)."""
        name = state_name(state)
        return [t.action for t in self.transitions if t.source == name and t.action]

    def next_state(self, state: str | None, action: str) -> str | None:
        """Where ``action`` leads from ``state``; None when not allowed."""
        name = state_name(state)
        for t in self.transitions:
            if t.source == name and t.action == action:
                return t.to
        return None

    def allows(self, state: str | None, action: str) -> bool:
        return self.next_state(state, action) is not None

    def creates(self) -> bool:
        """True when the machine has a ``create`` transition (out of ``start``)."""
        return any(t.action == "create" for t in self.transitions)

    # -- validation ------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`StateMachineError` unless the machine is well formed.

        Rules: only known state and action names; ``start`` and ``finish`` exist; every
        state is reachable from ``start`` (``finish`` and ``error`` included); no two
        transitions leave one state on the same action; an action transition is not also
        automatic.
        """
        for s in self.states:
            if s not in STATES:
                raise StateMachineError(f"State '{s}' not in list of allowed states")
        for t in self.transitions:
            if t.action is not None and t.action not in ACTIONS:
                raise StateMachineError(f"Action '{t.action}' not in list of allowed actions")
            if t.action is not None and t.auto:
                raise StateMachineError(f"Transition {t.source}->{t.to} is both automatic and on '{t.action}'")
        for required in ("start", "finish"):
            if required not in self.states:
                raise StateMachineError(f"State machine has no '{required}' state")
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            if t.action:
                key = (t.source, t.action)
                if key in seen:
                    raise StateMachineError(f"Two transitions leave '{t.source}' on '{t.action}'")
                seen.add(key)
        reachable = {"start"}
        frontier = ["start"]
        while frontier:
            current = frontier.pop()
            for t in self.transitions_from(current):
                if t.to not in reachable:
                    reachable.add(t.to)
                    frontier.append(t.to)
        unreachable = [s for s in self.states if s not in reachable]
        if unreachable:
            raise StateMachineError(f"States not reachable from 'start': {', '.join(unreachable)}")

    # -- rendering helpers -----------------------------------------------------------------
    def to_graphviz(self) -> str:
        """Graphviz source of the machine (``?format=gv``)."""
        lines = ["digraph instance_states {", "  rankdir=LR;"]
        for s in self.states:
            if s == "start":
                lines.append(f'  {s} [label="{s.title()}", shape=doublecircle, color=green];')
            elif s == "finish":
                lines.append(f'  {s} [label="{s.title()}", shape=doublecircle, color=red];')
            else:
                lines.append(f'  {s} [label="{s.title()}", shape=rect, style=filled, color=grey];')
        for t in self.transitions:
            label = t.action or ("auto" if t.auto else "")
            lines.append(f'  {t.source} -> {t.to} [label="{label}"];')
        lines.append("}")
        return "\n".join(lines) + "\n"


class StateMachineBuilder:
    """The original's DSL, in Python: states appear in order of first mention."""

    def __init__(self) -> None:
        self._states: list[str] = []
        self._transitions: list[Transition] = []

    def _mention(self, *states: str) -> None:
        for s in states:
            if s not in STATES:
                raise StateMachineError(f"State '{s}' not in list of allowed states")
            if s not in self._states:
                self._states.append(s)

    def on(self, source: str, action: str, to: str) -> StateMachineBuilder:
        """``source --action--> to``."""
        if action not in ACTIONS:
            raise StateMachineError(f"Action '{action}' not in list of allowed actions")
        self._mention(source, to)
        self._transitions.append(Transition(source, to, action=action))
        return self

    def auto(self, source: str, to: str) -> StateMachineBuilder:
        """``source --automatically--> to``."""
        self._mention(source, to)
        self._transitions.append(Transition(source, to, auto=True))
        return self

    def error_from(self, *sources: str, to: str = "error") -> StateMachineBuilder:
        """The original's ``error.from(:a, :b)``: automatic ``a -> error`` for each source."""
        self._mention(to)
        for s in sources:
            self.auto(s, to)
        return self

    def build(self) -> StateMachine:
        return StateMachine(transitions=tuple(self._transitions), states=tuple(self._states))


def machine_from_rows(rows: Iterable[tuple[str, str | None, str]]) -> StateMachine:
    """Build from ``(source, action_or_None, to)`` rows; None means automatic."""
    b = StateMachineBuilder()
    for source, action, to in rows:
        if action is None:
            b.auto(source, to)
        else:
            b.on(source, action, to)
    return b.build()
