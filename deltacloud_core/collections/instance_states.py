"""``/api/instance_states``: the driver's instance state machine (XML, JSON, HTML, PNG, Graphviz)."""

from __future__ import annotations

from typing import Any

from ..drivers.base import Driver
from ..hookspecs import hookimpl
from ..state_machine import StateMachine
from .base import Answer, Collection, CollectionRegistry, Operation, OperationCall, Outcome, Resource


class _StatesJson:
    """JSON: a bare array of ``{"name", "transitions": [{"to", "action"|"auto"}]}``."""

    shape: dict[str, Any] = {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "transitions": {"type": "array", "items": {"type": "object", "properties": {
            "to": {"type": "string"}, "action": {"type": "string"}, "auto": {"type": "string"}}}}},
        "required": ["name", "transitions"]}}

    def dump(self, machine: StateMachine) -> list[dict[str, Any]]:
        out = []
        for state in machine.states:
            transitions = []
            for t in machine.transitions_from(state):
                item: dict[str, str] = {"to": t.to}
                if t.action:
                    item["action"] = t.action
                elif t.auto:
                    item["auto"] = "true"
                transitions.append(item)
            out.append({"name": state, "transitions": transitions})
        return out


class _StatesXml:
    """XML: ``<states><state name><transition action|auto to/></state></states>``."""

    def dump(self, machine: StateMachine) -> dict[str, Any]:
        states = []
        for state in machine.states:
            transitions = []
            for t in machine.transitions_from(state):
                item: dict[str, str] = {}
                if t.action:
                    item["@action"] = t.action
                elif t.auto:
                    item["@auto"] = "true"
                item["@to"] = t.to
                transitions.append(item)
            states.append({"@name": state, "transition": transitions} if transitions else {"@name": state})
        return {"state": states}


def _has_machine(driver_cls: type[Driver]) -> bool:
    return driver_cls.INSTANCE_STATES is not None


async def _show(call: OperationCall) -> Outcome:
    machine = call.state_machine
    return Outcome(kind="member", resource="instance_states", data=machine, wrap=False)


INSTANCE_STATES = Collection(
    name="instance_states",
    singular="instance_state",
    description="The possible states of an instance, and how to change between them.",
    resources=(Resource("instance_states", "instance_states", {"json": _StatesJson(), "xml": _StatesXml()},
                        xml_declaration=False, element="states"),),
    operations=(
        Operation("index", "GET", "", _show, capability="instance_states", requires=_has_machine,
                  extra_formats=frozenset({"png", "gv"}),
                  description="Show the instance state machine",
                  answer=Answer(200, "The driver's instance state machine", "bare")),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(INSTANCE_STATES, owner=__name__)
