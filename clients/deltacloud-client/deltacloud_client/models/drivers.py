"""Drivers (``/api/drivers``) and the instance state machine (``/api/instance_states``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import Resource, keys, text_of

__all__ = ["Driver", "Provider", "State", "StateMachine", "Transition"]


@dataclass(frozen=True)
class Provider:
    id: str
    #: Endpoint URL per kind (``{"ec2": "ec2.eu-west-1.amazonaws.com", ...}``), when the server tells.
    entrypoints: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, kw_only=True)
class Driver(Resource):
    COLLECTION = "drivers"
    SINGULAR = "driver"
    JSON_KEYS = keys("name", "entrypoints")
    XML_KEYS = keys("name", "provider")

    name: str | None = None
    providers: tuple[Provider, ...] = ()

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        grouped: dict[str, dict[str, str]] = {}
        for kind, by_provider in (doc.get("entrypoints") or {}).items():
            for provider, url in (by_provider or {}).items():
                grouped.setdefault(str(provider), {})[str(kind)] = str(url)
        return {**super().json_fields(doc), "name": doc.get("name"),
                "providers": tuple(Provider(p, kinds) for p, kinds in grouped.items())}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        providers = tuple(Provider(p.get("id", ""), {e.get("kind", ""): (e.text or "").strip()
                                                     for e in p.findall("entrypoint")})
                          for p in element.findall("provider"))
        return {**super().xml_fields(element), "name": text_of(element, "name"), "providers": providers}


@dataclass(frozen=True)
class Transition:
    to: str
    action: str | None = None
    auto: bool = False


@dataclass(frozen=True)
class State:
    name: str
    transitions: tuple[Transition, ...] = ()


@dataclass(frozen=True)
class StateMachine:
    """The driver's instance life cycle, as ``/api/instance_states`` tells it (lower-case names)."""

    states: tuple[State, ...] = ()

    @classmethod
    def from_json(cls, doc: Any) -> StateMachine:
        states = []
        for state in doc if isinstance(doc, list) else ():
            transitions = tuple(Transition(str(t.get("to", "")), t.get("action"), str(t.get("auto")) == "true")
                                for t in state.get("transitions") or ())
            states.append(State(str(state.get("name", "")), transitions))
        return cls(tuple(states))

    @classmethod
    def from_xml(cls, element: ET.Element) -> StateMachine:
        return cls(tuple(State(s.get("name", ""), tuple(Transition(t.get("to", ""), t.get("action"),
                                                                   t.get("auto") == "true")
                                                        for t in s.findall("transition")))
                         for s in element.findall("state")))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    def state(self, name: str) -> State | None:
        wanted = name.lower()
        return next((s for s in self.states if s.name == wanted), None)

    def actions_for(self, name: str) -> tuple[str, ...]:
        state = self.state(name)
        return tuple(t.action for t in state.transitions if t.action) if state else ()

    def path_to(self, current: str, target: str) -> tuple[str, ...] | None:
        """The shortest list of actions that takes ``current`` to ``target`` (automatic moves are free),
        or None when the machine has no way there."""
        start, goal = current.lower(), target.lower()
        frontier: list[tuple[str, tuple[str, ...]]] = [(start, ())]
        seen = {start}
        while frontier:
            name, actions = frontier.pop(0)
            if name == goal:
                return actions
            state = self.state(name)
            for t in state.transitions if state else ():
                if t.to not in seen:
                    seen.add(t.to)
                    frontier.append((t.to, actions + ((t.action,) if t.action else ())))
        return None
