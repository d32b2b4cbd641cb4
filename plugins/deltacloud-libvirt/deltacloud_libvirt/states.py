"""The libvirt instance state machine, and libvirt's domain states mapped onto it.

What libvirt reports (``virDomainGetState``: state and reason) and what a client sees:

=========================================================  ==========  ===================================
libvirt state (reason)                                     Deltacloud  note
=========================================================  ==========  ===================================
``NOSTATE``; ``PAUSED`` (``STARTING_UP``)                  PENDING     on the way up
``RUNNING``, ``BLOCKED`` (waiting on a resource: still     RUNNING
running)
``RUNNING`` while a ``stop`` of ours waits for the guest   STOPPING    the guest was asked (ACPI) and has
(live metadata, see below); ``SHUTDOWN``; ``PAUSED``                   until the grace period ends
(``SHUTTING_DOWN``)
``SHUTOFF`` (any reason, ``CRASHED`` included),            STOPPED     ``start`` boots, resumes or wakes it
``PAUSED`` (user, I/O error, ...), ``PMSUSPENDED``
``CRASHED`` (the guest crashed and ``on_crash`` kept it)   ERROR       only ``destroy`` helps
anything else                                              UNKNOWN     no actions
=========================================================  ==========  ===================================

The machine (``GET /api/instance_states``)::

    start    --create-->  pending
    pending  --auto-->    running        pending  --auto-->  error
    running  --reboot-->  running        (ACPI or reset: DELTACLOUD_LIBVIRT_REBOOT)
    running  --stop-->    stopping       (ACPI power button, powered off after the grace period)
    running  --destroy--> finish         (powered off, undefined, its disks removed)
    running  --auto-->    stopped        (the guest powered itself off)
    running  --auto-->    error          (the guest crashed)
    stopping --auto-->    stopped
    stopped  --start-->   pending
    stopped  --destroy--> finish
    error    --destroy--> finish

``pending`` and ``stopping`` offer no action: the host leaves them on its own (``stopping`` at the
latest when the grace period ends), so clients poll with a bound.

A ``stop`` is remembered in the running domain's *live* metadata (``<dc:stop deadline='...'/>``): every
server process and worker sees it, and it disappears by itself once the domain is off.
"""

from __future__ import annotations

import libvirt
from deltacloud_core import StateMachine

__all__ = ["INSTANCE_STATES", "instance_state"]

INSTANCE_STATES = (
    StateMachine.builder()
    .on("start", "create", "pending")
    .auto("pending", "running")
    .on("running", "reboot", "running")
    .on("running", "stop", "stopping")
    .auto("stopping", "stopped")
    .on("stopped", "start", "pending")
    .on("stopped", "destroy", "finish")
    .on("running", "destroy", "finish")
    .auto("running", "stopped")
    .auto("pending", "error")
    .auto("running", "error")
    .on("error", "destroy", "finish")
    .build()
)


def instance_state(state: int, reason: int, *, stop_requested: bool = False) -> str:
    """The Deltacloud state (``RUNNING`` ...) of a domain in libvirt ``state`` for ``reason``."""
    if state == libvirt.VIR_DOMAIN_NOSTATE:
        return "PENDING"
    if state in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED):
        return "STOPPING" if stop_requested else "RUNNING"
    if state == libvirt.VIR_DOMAIN_SHUTDOWN:
        return "STOPPING"
    if state == libvirt.VIR_DOMAIN_PAUSED:
        if reason == libvirt.VIR_DOMAIN_PAUSED_STARTING_UP:
            return "PENDING"
        if reason == libvirt.VIR_DOMAIN_PAUSED_SHUTTING_DOWN or stop_requested:
            return "STOPPING"
        return "STOPPED"
    if state in (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_PMSUSPENDED):
        return "STOPPED"
    if state == libvirt.VIR_DOMAIN_CRASHED:
        return "ERROR"
    return "UNKNOWN"
