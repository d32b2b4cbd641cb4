"""The blob service client: endpoint from the provider, SharedKey credentials, tunables.

Credentials are the request's HTTP Basic pair: user = storage account name, password =
account key. The provider is the blob service endpoint: by default
``https://<account>.blob.core.windows.net``; any ``http(s)`` URL otherwise (Azurite's
``http://127.0.0.1:10000/devstoreaccount1``, a sovereign cloud, a private endpoint), or a bare
host name (``https://`` is assumed).

One client per (endpoint, credentials, settings) is built and kept by the core's client cache
(:meth:`deltacloud_core.Driver.cached_client`): it holds a connection pool, so requests of the
same account reuse connections.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from azure.storage.blob import BlobServiceClient, ExponentialRetry
from deltacloud_core import AuthenticationFailure, ValidationError

__all__ = ["DEFAULT_ENDPOINT", "ClientSettings", "build_service_client", "service_url"]

#: The public cloud's blob endpoint of an account.
DEFAULT_ENDPOINT = "https://{account}.blob.core.windows.net"
MiB = 1024 * 1024


@dataclass(frozen=True)
class ClientSettings:
    """How the driver talks to Azure. Each field has an environment variable of the server.

    ``DELTACLOUD_AZURE_CONNECT_TIMEOUT`` / ``_READ_TIMEOUT`` (seconds; past them: 504),
    ``_RETRIES`` (retries of a failed request, exponential back-off from ``_RETRY_BACKOFF``
    seconds), ``_BLOCK_SIZE`` (bytes per uploaded block and per downloaded chunk: what one
    transfer holds in memory), ``_UPLOAD_CONCURRENCY`` (blocks staged at once).
    """

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 2
    retry_backoff: float = 0.5
    block_size: int = 4 * MiB
    upload_concurrency: int = 4

    _ENV: ClassVar[Mapping[str, tuple[str, type[float] | type[int]]]] = {
        "connect_timeout": ("DELTACLOUD_AZURE_CONNECT_TIMEOUT", float),
        "read_timeout": ("DELTACLOUD_AZURE_READ_TIMEOUT", float),
        "retries": ("DELTACLOUD_AZURE_RETRIES", int),
        "retry_backoff": ("DELTACLOUD_AZURE_RETRY_BACKOFF", float),
        "block_size": ("DELTACLOUD_AZURE_BLOCK_SIZE", int),
        "upload_concurrency": ("DELTACLOUD_AZURE_UPLOAD_CONCURRENCY", int),
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientSettings:
        """The defaults, with the ``DELTACLOUD_AZURE_*`` variables that are set on top."""
        env = os.environ if env is None else env
        values: dict[str, float | int] = {}
        for field_name, (variable, kind) in cls._ENV.items():
            raw = env.get(variable)
            if raw not in (None, ""):
                try:
                    values[field_name] = kind(raw)
                except ValueError:
                    raise ValueError(f"{variable}={raw!r} is not a number") from None
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("Azure timeouts must be positive")
        if self.retries < 0 or self.retry_backoff < 0:
            raise ValueError("Azure retries and back-off must not be negative")
        # Azure: at most 4000 MiB per block; 64 KiB keeps the request count sane.
        if not 64 * 1024 <= self.block_size <= 4000 * MiB:
            raise ValueError("DELTACLOUD_AZURE_BLOCK_SIZE must be between 64 KiB and 4000 MiB")
        if not 1 <= self.upload_concurrency <= 64:
            raise ValueError("DELTACLOUD_AZURE_UPLOAD_CONCURRENCY must be between 1 and 64")


def service_url(provider: str | None, account: str) -> str:
    """The blob service endpoint for ``provider`` (None: the public cloud's, of ``account``)."""
    if not provider or not provider.strip():
        return DEFAULT_ENDPOINT.format(account=account)
    url = provider.strip()
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"Provider {provider!r} is not a blob service URL "
                              "(https://<account>.blob.core.windows.net, or http(s)://host[:port]/<account>)")
    if parts.query or parts.fragment:
        raise ValidationError(f"Provider {provider!r} must not carry a query or a fragment (no SAS tokens here)")
    return url.rstrip("/")


def build_service_client(url: str, account: str, key: str, settings: ClientSettings) -> BlobServiceClient:
    """A ``BlobServiceClient`` signing with the account key (SharedKey), with bounded transfers.

    Uploads and downloads never hold more than ``block_size`` per request: the SDK's single
    PUT / first GET thresholds (64 MiB / 32 MiB by default) are lowered to it.
    """
    if not account:
        raise AuthenticationFailure("Authentication Failure: the user name must be the storage account name")
    if not key:
        raise AuthenticationFailure("Authentication Failure: the password must be the storage account key")
    retry = ExponentialRetry(initial_backoff=settings.retry_backoff, increment_base=2,
                             retry_total=settings.retries, random_jitter_range=settings.retry_backoff / 2)
    return BlobServiceClient(
        url,
        credential={"account_name": account, "account_key": key},
        retry_policy=retry,
        connection_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_single_put_size=settings.block_size,
        max_block_size=settings.block_size,
        max_single_get_size=settings.block_size,
        max_chunk_get_size=settings.block_size,
    )
