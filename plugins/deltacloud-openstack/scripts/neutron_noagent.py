"""An ML2 mechanism driver for a Neutron without agents: it binds every port on every host.

The test cloud runs the real neutron-server (ML2, its database, its API, its notifications to
Nova) but no L2 agent: its compute host runs Nova's fake virt driver, which plugs nothing. ML2's
own drivers (openvswitch, linuxbridge ...) bind a port only on a host whose agent reports in, so
Nova's builds would fail with ``PortBindingFailed``. This driver binds the port's first segment
with VIF type ``other`` and marks the port ACTIVE, as an agent would once it had wired it.

openstack-up.sh installs it next to the cloud (``BASE_DIR/pylib``, with an entry point in
``neutron.ml2.mechanism_drivers`` named ``deltacloud_noagent``); it runs inside neutron-server,
on Debian's python.
"""

from __future__ import annotations

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class NoAgentMechanismDriver(api.MechanismDriver):
    """Binds every port: no agent will, and nothing on the fake compute host needs wiring."""

    def initialize(self) -> None:
        return None

    def bind_port(self, context: api.PortContext) -> None:
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OTHER, {portbindings.CAP_PORT_FILTER: False},
                                status=constants.PORT_STATUS_ACTIVE)
            return
