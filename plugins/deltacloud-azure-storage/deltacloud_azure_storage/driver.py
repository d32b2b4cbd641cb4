"""``AzureDriver``: the Deltacloud ``azure`` driver, storage only (Azure Blob Storage).

It overrides only the bucket and blob methods of :class:`deltacloud_core.Driver`, so the
entry point offers ``buckets`` (and ``drivers``); every compute collection answers 412, and
``/api/instance_states`` too (no state machine).

HTTP Basic user = storage account name, password = account key; provider = the blob service
endpoint (see :mod:`.client`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from deltacloud_core import AuthenticationFailure, Driver

from .blobs import BlobsMixin
from .client import ClientSettings, build_service_client, service_url
from .containers import ContainersMixin
from .errors import translated

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient

__all__ = ["AzureDriver"]


class AzureDriver(ContainersMixin, BlobsMixin, Driver):
    """Azure Blob Storage: containers are buckets, block blobs are blobs."""

    driver_id: ClassVar[str] = "azure"
    DISPLAY_NAME: ClassVar[str | None] = "Azure"
    USERNAME_LABEL: ClassVar[str | None] = "Storage account name"
    PASSWORD_LABEL: ClassVar[str | None] = "Storage account key"
    #: Timeouts, retries, block size; None: read from the environment on first use.
    SETTINGS: ClassVar[ClientSettings | None] = None

    @classmethod
    def client_settings(cls) -> ClientSettings:
        if cls.SETTINGS is None:
            cls.SETTINGS = ClientSettings.from_env()
        return cls.SETTINGS

    def endpoint(self) -> str:
        """The blob service URL this request talks to."""
        return service_url(self.provider, self.credentials.user)

    def service(self) -> BlobServiceClient:
        """The account's client (cached per endpoint, credentials and settings)."""
        credentials = self.credentials
        settings = self.client_settings()
        url = service_url(self.provider, credentials.user)
        return self.cached_client(
            f"blob {url} {settings!r}",
            lambda: build_service_client(url, credentials.user, credentials.password, settings))

    def validate_credentials(self) -> bool:
        """One cheap authenticated request (the first page of one container name)."""
        try:
            with translated():
                pages = self.service().list_containers(results_per_page=1).by_page()
                list(next(pages, []))
        except AuthenticationFailure:
            return False
        return True
