"""The ``libvirt`` driver: the hosts libvirt manages (KVM, QEMU, Xen ...) as a private cloud.

Provider: a libvirt URI (``qemu:///system``, ``qemu+tls://host/system``, ``qemu+ssh://user@host/system``,
``test:///default``); credentials, the connection cache and the refusal of URIs that ask for none:
:mod:`.connection`. Errors: :mod:`.errors`. States: :mod:`.states`. The operator's settings:
:mod:`.settings`. What each collection maps to: the modules of the mixins below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from deltacloud_core import AuthenticationFailure, AuthenticationRequired, ProviderInfo, StateMachine

from .base import boundary
from .instances import InstancesMixin
from .monitoring import MonitoringMixin
from .states import INSTANCE_STATES
from .storage import StorageMixin

__all__ = ["LibvirtDriver"]


class LibvirtDriver(InstancesMixin, StorageMixin, MonitoringMixin):
    """libvirt: realms, hardware profiles, images, instances, storage volumes and snapshots, metrics, networks."""

    DISPLAY_NAME: ClassVar[str | None] = "Libvirt"
    USERNAME_LABEL: ClassVar[str | None] = "libvirt (SASL) user"
    PASSWORD_LABEL: ClassVar[str | None] = "Password"
    INSTANCE_STATES: ClassVar[StateMachine | None] = INSTANCE_STATES
    FEATURES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "instances": ("user_name", "user_data", "authentication_key", "realm_filter"),
        "storage_volumes": ("volume_name",),
    }
    FEATURE_CONSTRAINTS: ClassVar[Mapping[tuple[str, str], Mapping[str, object]]] = {
        ("instances", "user_name"): {"max_length": 63},
    }

    def validate_credentials(self) -> bool:
        try:
            self.conn  # noqa: B018 - opens (or finds) the connection: libvirt checks the credentials
        except AuthenticationRequired:
            raise
        except AuthenticationFailure:
            return False
        return True

    @boundary
    def providers(self) -> list[ProviderInfo]:
        """The default URI, then the operator's allowed ones (patterns as they are written)."""
        uris = [self.settings.default_uri]
        for pattern in self.allowed_providers:
            if pattern not in uris:
                uris.append(pattern)
        if self.provider and self.provider not in uris:
            uris.insert(0, self.provider)
        return [ProviderInfo(id=uri, entrypoints={"libvirt": uri}) for uri in uris]
