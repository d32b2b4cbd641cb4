"""How instances change state: the core refuses (405) any action not drawn here."""

from deltacloud_core import StateMachine

INSTANCE_STATES = (
    StateMachine.builder()
    .on("start", "create", "pending")
    .auto("pending", "running")  # the file "boots" at once: new instances are RUNNING
    .on("running", "reboot", "running")
    .on("running", "stop", "stopped")
    .on("running", "destroy", "finish")
    .on("stopped", "start", "running")
    .on("stopped", "destroy", "finish")
    .build()
)
