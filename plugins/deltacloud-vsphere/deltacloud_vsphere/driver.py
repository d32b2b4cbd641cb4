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

from deltacloud_core import ProviderInfo, StateMachine, ValidationError

from .images import ImagesMixin
from .metrics import MetricsMixin
from .provider import parse_provider
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
        "instances": ("user_name", "user_data", "user_iso", "realm_filter"),
        "storage_volumes": ("volume_name",),
    }

    def providers(self) -> list[ProviderInfo] | None:
        """``/api/drivers/vsphere``: the provider in force (the server's -P), then the operator's
        patterns (DELTACLOUD_PROVIDERS_VSPHERE) as written; the original's list when neither is set."""
        names = [self.provider] if self.provider else []
        names += [p for p in self.allowed_providers if p not in names]
        if not names:
            return None
        return [ProviderInfo(id=name, entrypoints={"sdk": _sdk_url(name)}) for name in names]


def _sdk_url(provider: str) -> str:
    try:
        return parse_provider(provider).url
    except ValidationError:
        return provider  # a pattern (https://vcenter-*.example.com/*): shown as written
