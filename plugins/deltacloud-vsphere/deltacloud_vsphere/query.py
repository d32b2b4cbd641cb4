"""Reading vSphere's inventory in few round trips, and waiting for tasks with a bound.

Everything is read with ``PropertyCollector.RetrievePropertiesEx``: the properties the driver
needs, of every object of the wanted types under a container view, in one call (and its
continuations). Accessors such as ``vm.config.hardware`` would cost a round trip each. The views
are kept for the session's life (:attr:`.session.Session.views`).

Tasks are read the same way, property by property (``info.state``, ``info.error``,
``info.result``): besides being cheaper than reading ``info`` whole, this works with servers whose
``TaskInfo.entity`` does not decode in pyVmomi 9 (govmomi's simulator names the disk managers
there, which are not managed entities).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deltacloud_core import ProviderTimeout
from pyVmomi import vim, vmodl

from .errors import translated_fault
from .session import Session

__all__ = ["Found", "await_task", "container_view", "retrieve", "retrieve_objects", "wait_for_task"]

PC = vmodl.query.PropertyCollector
#: The longest pause between two looks at a running task (the first ones are much shorter).
MAX_TASK_POLL = 1.0


@dataclass(frozen=True)
class Found:
    """One object the collector found: its reference and the properties that were set."""

    obj: Any
    props: Mapping[str, Any]

    @property
    def id(self) -> str:
        return str(self.obj._moId)

    def get(self, name: str, default: Any = None) -> Any:
        return self.props.get(name, default)

    def is_a(self, kind: type) -> bool:
        return isinstance(self.obj, kind)


def container_view(session: Session, root: Any, kinds: Sequence[type]) -> Any:
    """A recursive ``ContainerView`` of ``kinds`` under ``root``, made once per session."""
    key = (str(root._moId), *sorted(k.__name__ for k in kinds))
    view = session.views.get(key)
    if view is None:
        view = session.content.viewManager.CreateContainerView(root, list(kinds), True)
        session.views[key] = view
    return view


def _property_specs(wanted: Mapping[type, Sequence[str]]) -> list[Any]:
    return [PC.PropertySpec(type=kind, pathSet=list(paths), all=False) for kind, paths in wanted.items()]


def _collect(session: Session, spec: Any) -> list[Found]:
    collector = session.content.propertyCollector
    found: list[Found] = []
    result = collector.RetrievePropertiesEx([spec], PC.RetrieveOptions())
    while result is not None:
        for item in result.objects or ():
            found.append(Found(item.obj, {p.name: p.val for p in item.propSet or ()}))
        token = result.token
        result = collector.ContinueRetrievePropertiesEx(token) if token else None
    return found


def retrieve(session: Session, root: Any, wanted: Mapping[type, Sequence[str]]) -> list[Found]:
    """The ``wanted`` properties (``{vim.VirtualMachine: ["name", ...]}``) of every object of
    those types under ``root`` (a folder, a datacenter), in one round trip (and continuations).
    Properties a server leaves unset are missing from :attr:`Found.props`."""
    view = container_view(session, root, tuple(wanted))
    traverse = PC.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
    spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                         propSet=_property_specs(wanted))
    try:
        return _collect(session, spec)
    except vmodl.fault.ManagedObjectNotFound:  # the view went away with its session's state: once more
        for key, kept in list(session.views.items()):
            if kept is view:
                session.views.pop(key, None)
        view = container_view(session, root, tuple(wanted))
        spec.objectSet[0].obj = view
        return _collect(session, spec)


def retrieve_objects(session: Session, objects: Iterable[Any], paths: Sequence[str]) -> list[Found]:
    """``paths`` of each object of ``objects`` (all of the same type), in one round trip.
    An object that does not exist (any more) raises ``ManagedObjectNotFound``."""
    objects = list(objects)
    if not objects:
        return []
    spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=o, skip=False) for o in objects],
                         propSet=[PC.PropertySpec(type=type(objects[0]), pathSet=list(paths), all=False)])
    return _collect(session, spec)


def wait_for_task(session: Session, task: Any, *, deadline: float, what: str, action: bool = False) -> Any:
    """Wait until ``task`` ends, at most until ``deadline`` (``time.monotonic()``); its result.

    A task that fails raises the core's error for its fault, with vSphere's message after ``what``
    (``Clone of template vm-10``). One still running at the deadline raises ProviderTimeout naming
    the task: it goes on in vCenter.
    """

    def look() -> tuple[Any, Any, Any]:
        (found,) = retrieve_objects(session, [task], ["info.state", "info.error", "info.result"])
        return found.get("info.state"), found.get("info.error"), found.get("info.result")

    return await_task(look, task_id=str(task._moId), deadline=deadline, what=what, action=action)


def await_task(look: Callable[[], tuple[Any, Any, Any]], *, task_id: str, deadline: float, what: str,
               action: bool = False, clock: Callable[[], float] = time.monotonic,
               pause: Callable[[float], object] = time.sleep) -> Any:
    """The polling of :func:`wait_for_task`: ``look()`` is ``(state, fault, result)`` of the task now.
    The pause between looks doubles from 20 ms up to :data:`MAX_TASK_POLL`."""
    interval = 0.02
    while True:
        state, fault, result = look()
        if state == vim.TaskInfo.State.success:
            return result
        if state == vim.TaskInfo.State.error:
            fault = fault or vmodl.fault.SystemError(msg="the task failed without saying why")
            raise translated_fault(fault, what=what, action=action) from None
        remaining = deadline - clock()
        if remaining <= 0:
            raise ProviderTimeout(f"{what}: vSphere task {task_id} is still {state} after the time this server "
                                  "waits (DELTACLOUD_VSPHERE_TASK_TIMEOUT); it goes on in vCenter.",
                                  backend_code="TaskTimeout")
        pause(min(interval, remaining))
        interval = min(interval * 2, MAX_TASK_POLL)
