"""The instance state machine, and a VM's state as vSphere reports it.

::

    start    --create-->  pending     (the clone, reconfigure and power-on tasks run)
    pending  --auto-->    running     (they ended: the VM is powered on)
    pending  --auto-->    stopped     (cloned, but not powered on)
    running  --reboot-->  running     (RebootGuest with VMware Tools, else ResetVM_Task)
    running  --stop-->    stopping    (ShutdownGuest with VMware Tools; PowerOffVM_Task without)
    stopping --auto-->    stopped
    stopped  --start-->   running     (PowerOnVM_Task; also resumes a suspended VM)
    stopped  --destroy--> finish      (Destroy_Task; vSphere refuses it while the VM is on)

The original driver's machine, with what vSphere really does after ``create``: the clone is
powered on, so ``pending`` leads to ``running`` (to ``stopped`` only when it could not start).
The driver waits for the tasks (bounded) before it answers a create, so a new instance is seen
``RUNNING``; a guest shutdown takes the guest's time, so ``STOPPING`` is seen.
"""

from __future__ import annotations

from deltacloud_core import StateMachine

__all__ = ["INSTANCE_STATES", "instance_state"]

INSTANCE_STATES = (
    StateMachine.builder()
    .on("start", "create", "pending")
    .auto("pending", "running")
    .auto("pending", "stopped")
    .on("running", "reboot", "running")
    .on("running", "stop", "stopping")
    .auto("stopping", "stopped")
    .on("stopped", "start", "running")
    .on("stopped", "destroy", "finish")
    .build()
)


def instance_state(power_state: str | None, connection_state: str | None = "connected",
                   guest_state: str | None = None) -> str:
    """The Deltacloud state of a VM from ``runtime.powerState``, ``runtime.connectionState`` and
    ``guest.guestState``.

    ``poweredOn`` is RUNNING, or STOPPING while the guest shuts down; ``poweredOff`` and
    ``suspended`` are STOPPED (``start`` resumes a suspended VM). A VM vCenter cannot manage now
    (its host disconnected, its files inaccessible, orphaned) is UNKNOWN: it offers no action.
    """
    if connection_state not in (None, "connected"):
        return "UNKNOWN"
    if power_state == "poweredOn":
        return "STOPPING" if guest_state == "shuttingDown" else "RUNNING"
    if power_state in ("poweredOff", "suspended"):
        return "STOPPED"
    return "UNKNOWN"
