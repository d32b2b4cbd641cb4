"""The OpenStack instance state machine, and Nova's server status mapped onto it.

What Nova really does (measured against Nova 26 with its fake virt driver; the times are that cloud's):

* create: ``BUILD`` (task ``scheduling``, ``block_device_mapping``, ``spawning``) for about a second,
  then ``ACTIVE``, or ``ERROR`` (e.g. no valid host).
* stop (``os-stop``): ``ACTIVE`` with task ``powering-off``, then ``SHUTOFF``.
* start (``os-start``): ``SHUTOFF`` with task ``powering-on``, then ``ACTIVE``.
* reboot: ``REBOOT`` (tasks ``rebooting``, ``reboot_pending``...), then ``ACTIVE``.
* delete: allowed in every state; task ``deleting``, then ``DELETED`` or gone (404).
* stop/reboot on a stopped server, start on a running one: 409 ``conflictingRequest``.

The machine (``GET /api/instance_states``)::

    start    --create-->  pending
    pending  --auto-->    running      pending  --auto--> error
    running  --reboot-->  pending      (REBOOT is a transitional state: nothing may be done until ACTIVE)
    running  --stop-->    stopping     running  --auto--> error
    running  --destroy--> finish       (Nova deletes running servers)
    stopping --auto-->    stopped      stopping --auto--> error
    stopped  --start-->   pending      (powering on, then ACTIVE)
    stopped  --destroy--> finish
    error    --destroy--> finish       (a failed server can still be deleted)

``pending`` and ``stopping`` are transitional: they offer no action and the cloud leaves them on its
own, so clients poll (with a bound) until the state settles.

Status mapping (Nova status, with the task state where it matters):

=========================================================  ==========
``BUILD``; ``REBOOT``/``HARD_REBOOT``; ``SHUTOFF`` with    ``PENDING``
task ``powering-on``; ``ACTIVE``/``PAUSED``/``SUSPENDED``
with task ``resuming``/``unpausing``/``unshelving``/
``spawning``; ``REBUILD``, ``RESIZE``, ``REVERT_RESIZE``,
``MIGRATING``, ``PASSWORD``
``ACTIVE``, ``VERIFY_RESIZE``, ``RESCUE``                 ``RUNNING``
``ACTIVE`` with task ``powering-off``/``pausing``/         ``STOPPING``
``suspending``/``shelving*``
``SHUTOFF``, ``PAUSED``, ``SUSPENDED``, ``SHELVED``,       ``STOPPED``
``SHELVED_OFFLOADED``
task ``deleting``; ``DELETED``, ``SOFT_DELETED``           ``FINISH``
``ERROR``                                                  ``ERROR``
anything else                                              ``UNKNOWN`` (no actions)
=========================================================  ==========

A paused, suspended or shelved server is "stopped": ``start`` resumes it the way its status needs
(``unpause``, ``resume``, ``unshelve``, or ``os-start``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deltacloud_core import StateMachine

__all__ = ["INSTANCE_STATES", "instance_state", "start_action"]

INSTANCE_STATES = (
    StateMachine.builder()
    .on("start", "create", "pending")
    .auto("pending", "running")
    .on("running", "reboot", "pending")
    .on("running", "stop", "stopping")
    .auto("stopping", "stopped")
    .on("running", "destroy", "finish")
    .on("stopped", "start", "pending")
    .on("stopped", "destroy", "finish")
    .auto("pending", "error")
    .auto("running", "error")
    .auto("stopping", "error")
    .on("error", "destroy", "finish")
    .build()
)

_PENDING_STATUS = frozenset({"BUILD", "REBOOT", "HARD_REBOOT", "REBUILD", "RESIZE", "REVERT_RESIZE", "MIGRATING",
                             "PASSWORD"})
_RUNNING_STATUS = frozenset({"ACTIVE", "VERIFY_RESIZE", "RESCUE"})
_STOPPED_STATUS = frozenset({"SHUTOFF", "PAUSED", "SUSPENDED", "SHELVED", "SHELVED_OFFLOADED"})
_GONE_STATUS = frozenset({"DELETED", "SOFT_DELETED"})
#: Tasks that are on the way to running / away from it (whatever the status says now).
_STARTING_TASKS = frozenset({"powering-on", "resuming", "unpausing", "unshelving", "spawning", "rebooting",
                             "reboot_pending", "reboot_started", "rebooting_hard", "reboot_pending_hard",
                             "reboot_started_hard", "rebuilding", "rebuild_spawning"})
_STOPPING_TASKS = frozenset({"powering-off", "pausing", "suspending", "shelving", "shelving_image_pending_upload",
                             "shelving_image_uploading", "shelving_offloading"})


def instance_state(server: Mapping[str, Any]) -> str:
    """The Deltacloud state (``RUNNING`` ...) of a Nova server document."""
    status = str(server.get("status") or "").upper()
    task = str(server.get("OS-EXT-STS:task_state") or "").lower()
    if task == "deleting" or status in _GONE_STATUS:
        return "FINISH"
    if status == "ERROR":
        return "ERROR"
    if task in _STOPPING_TASKS:
        return "STOPPING"
    if task in _STARTING_TASKS or status in _PENDING_STATUS:
        return "PENDING"
    if status in _RUNNING_STATUS:
        return "RUNNING"
    if status in _STOPPED_STATUS:
        return "STOPPED"
    return "UNKNOWN"


def start_action(server: Mapping[str, Any]) -> dict[str, Any]:
    """The Nova server action that makes a stopped server run again, by its status."""
    status = str(server.get("status") or "").upper()
    if status == "PAUSED":
        return {"unpause": None}
    if status == "SUSPENDED":
        return {"resume": None}
    if status in ("SHELVED", "SHELVED_OFFLOADED"):
        return {"unshelve": None}
    return {"os-start": None}
