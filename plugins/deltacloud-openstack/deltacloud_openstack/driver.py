"""The ``openstack`` driver: Nova, Glance, Cinder, Neutron and Swift behind one Deltacloud API.

Credentials and provider: see :mod:`deltacloud_openstack.session`. Errors: see
:mod:`deltacloud_openstack.errors`. States: see :mod:`deltacloud_openstack.states`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from deltacloud_core import (
    AuthenticationFailure,
    AuthenticationRequired,
    Credentials,
    Driver,
    ProviderInfo,
    StateMachine,
)

from .compute import ComputeMixin
from .errors import translated
from .images import ImagesMixin
from .neutron import NeutronMixin
from .security_groups import SecurityGroupsMixin
from .session import SESSIONS, Cloud, connect, parse_provider, parse_user
from .states import INSTANCE_STATES
from .swift import SwiftMixin
from .volumes import VolumesMixin

__all__ = ["OpenStackDriver"]

#: The catalogue service each collection needs (the others, like drivers, need none).
_SERVICE_OF_COLLECTION: Mapping[str, str] = {
    **dict.fromkeys(("images", "instances", "instance_states", "keys", "realms", "hardware_profiles"), "compute"),
    "buckets": "object-store",
    "storage_volumes": "block-storage",
    "storage_snapshots": "block-storage",
    **dict.fromkeys(("addresses", "networks", "subnets", "network_interfaces", "firewalls"), "network"),
}


class OpenStackDriver(ComputeMixin, ImagesMixin, VolumesMixin, NeutronMixin, SecurityGroupsMixin, SwiftMixin, Driver):
    """OpenStack (Keystone v3 or v2.0, Nova, Glance, Cinder, Neutron, Swift); Rackspace through its provider."""

    DISPLAY_NAME: ClassVar[str | None] = "Openstack"
    USERNAME_LABEL: ClassVar[str | None] = "User[@project]"
    PASSWORD_LABEL: ClassVar[str | None] = "Password"
    INSTANCE_STATES: ClassVar[StateMachine | None] = INSTANCE_STATES
    # As the original declared them; images' user_name is no catalogue feature (never advertised).
    FEATURES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "instances": ("user_name", "user_data", "user_files", "authentication_key", "authentication_password"),
        "images": ("user_name",),
        "keys": ("import_key",),
        "storage_volumes": ("volume_name", "volume_description"),
    }

    def __init__(self, *, credentials: Credentials | Callable[[], Credentials | None] | None = None,
                 provider: str | None = None) -> None:
        super().__init__(credentials=credentials, provider=provider)
        self._cloud: Cloud | None = None

    @property
    def cloud(self) -> Cloud:
        """The authenticated cloud of this request (a cached Keystone session while its token lives)."""
        if self._cloud is None:
            credentials = self.credentials  # 401 + WWW-Authenticate when none were sent
            account = parse_user(credentials)
            endpoint = parse_provider(self.provider)
            self._cloud = SESSIONS.get(credentials, str(endpoint), lambda: connect(account, endpoint))
        return self._cloud

    def validate_credentials(self) -> bool:
        try:
            self.cloud  # noqa: B018 - logs in (or finds the cached session)
        except AuthenticationRequired:
            raise
        except AuthenticationFailure:
            return False
        return True

    @translated
    def entry_point_collections(self, names: Sequence[str]) -> list[str]:
        """What this account's Keystone catalogue offers (API.md §7): the compute group needs a
        compute endpoint, buckets an object store, volumes and snapshots a volume service, the
        network collections (addresses, firewalls, networks, subnets, interfaces) Neutron.
        Asking the catalogue logs in, so the entry point needs credentials (API.md §5)."""
        cloud = self.cloud
        return [name for name in names
                if name not in _SERVICE_OF_COLLECTION or cloud.has_service(_SERVICE_OF_COLLECTION[name])]

    @translated
    def providers(self) -> list[ProviderInfo]:
        """The regions of the cloud's catalogue, each with its provider string and public endpoints."""
        cloud = self.cloud
        out = []
        for region in cloud.regions():
            entrypoints = {"provider": f"{cloud.endpoint.auth_url};{region}"}
            for entry in cloud.catalogue():
                if entry["region"] == region and entry["interface"] == "public" and entry["url"]:
                    entrypoints.setdefault(entry["type"], entry["url"])
            out.append(ProviderInfo(id=region, entrypoints=entrypoints))
        return out
