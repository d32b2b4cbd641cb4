"""The ``vsphere`` driver: a vCenter (or an ESXi host) behind the Deltacloud API.

============== ===================================================================
Collection     vSphere
============== ===================================================================
realms         compute resources: clusters and standalone hosts (:mod:`.inventory`)
hardware       one profile, ``default``: 1..N CPUs, 128..M MiB, from the hosts
images         VM templates (:mod:`.images`)
instances      VMs (:mod:`.compute`), machine in :mod:`.states`
storage        first-class disks, attached by reconfiguring the VM (:mod:`.volumes`)
metrics        the PerformanceManager's real-time counters (:mod:`.metrics`)
============== ===================================================================

Provider: :mod:`.provider`; credentials and sessions: :mod:`.session`; the operator's settings:
:mod:`.settings`; errors: :mod:`.errors`.
"""

from __future__ import annotations

from typing import ClassVar

from deltacloud_core import StateMachine

from .images import ImagesMixin
from .metrics import MetricsMixin
from .states import INSTANCE_STATES
from .volumes import VolumesMixin

__all__ = ["VSphereDriver"]


class VSphereDriver(VolumesMixin, ImagesMixin, MetricsMixin):
    """VMware vSphere through pyVmomi."""

    DISPLAY_NAME = "VSphere"
    #: A provider is a host the server logs in to with the client's password: only the default
    #: provider (-P) and those the operator lists (DELTACLOUD_PROVIDERS_VSPHERE) are used.
    OPEN_PROVIDERS: ClassVar[bool] = False
    USERNAME_LABEL = "Login Name"
    PASSWORD_LABEL = "Password"
    #: As the original listed it (``/api/drivers/vsphere``); a request without a provider is refused.
    ENTRYPOINTS: ClassVar = {"default": {"default": "https://vsphere.provider.com/sdk"}}
    INSTANCE_STATES: ClassVar[StateMachine | None] = INSTANCE_STATES
    FEATURES: ClassVar = {
        "instances": ("user_name", "user_data", "user_iso"),
        "storage_volumes": ("volume_name",),
    }
