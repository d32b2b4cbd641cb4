"""Server settings, from ``deltacloudd`` flags or the original's environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..backends.bulkheads import BulkheadConfig
from ..backends.retries import ReadRetries
from ..credentials import Credentials
from ..events.settings import EventSettings
from ..providers import DENY_SETTING, Network, ProviderPolicy, parse_networks

__all__ = ["API_VERSION", "Settings"]

#: The Deltacloud API version this server speaks (and puts in ``Server:``).
API_VERSION = "1.1.3"


@dataclass(frozen=True)
class Settings:
    #: Driver used when a request names none (``API_DRIVER``).
    default_driver: str = "mock"
    #: Provider used when a request names none (``API_PROVIDER``).
    default_provider: str | None = None
    #: Server-side credentials (``API_USER`` + ``API_PASSWORD``): when set, clients are never asked.
    server_credentials: Credentials | None = None
    #: Shown in ``WWW-Authenticate: Basic realm="<driver>-deltacloud@<hostname>"``.
    hostname: str = ""
    #: Largest urlencoded form body, and largest single multipart field.
    max_body_bytes: int = 10 * 1024 * 1024
    #: Largest multipart body (file parts spool to disk). Blob PUT bodies stream and are unlimited.
    max_upload_bytes: int = 5 * 1024 ** 3
    #: Seconds a driver call may take before the request answers 504.
    backend_timeout: float = 60.0
    #: Bytes of rendered list items kept for models a driver returns again unchanged (0: off).
    render_cache_bytes: int = 16 * 1024 * 1024
    #: Driver id -> the provider patterns clients may choose (``DELTACLOUD_PROVIDERS_<DRIVER>``).
    provider_patterns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Redis shared by every worker and host (``DELTACLOUD_REDIS_URL``, ``redis://host:6379/0``);
    #: None: what needs sharing (event watchers, idempotency keys) stays in each process.
    redis_url: str | None = None
    #: The event streams' knobs (``DELTACLOUD_EVENTS_*``; see docs/events.md).
    events: EventSettings = field(default_factory=EventSettings)
    #: Networks no unlisted provider may reach, besides link-local and metadata ones
    #: (``DELTACLOUD_DENY_ADDRESSES``).
    denied_addresses: tuple[Network, ...] = ()
    #: Each (driver, provider)'s share of concurrent backend calls (``DELTACLOUD_BULKHEAD*``).
    bulkheads: BulkheadConfig = field(default_factory=BulkheadConfig)
    #: How the server retries reads on its own (``DELTACLOUD_READ_RETRIES``, ...).
    read_retries: ReadRetries = field(default_factory=ReadRetries)
    #: Seconds an ``Idempotency-Key`` is remembered (``DELTACLOUD_IDEMPOTENCY_TTL``).
    idempotency_ttl: float = 24 * 3600.0
    #: Keys kept in memory per process at most, when neither the driver nor Redis keeps them.
    idempotency_max_keys: int = 10_000
    #: Record Prometheus metrics (``DELTACLOUD_METRICS=1``; ``deltacloudd --metrics-port``).
    metrics: bool = False
    #: Also answer the metrics on this path of the API's own port (``DELTACLOUD_METRICS_PATH``).
    metrics_path: str | None = None
    #: Log lines as JSON with request ids (``DELTACLOUD_LOG_FORMAT=json``; ``deltacloudd --log-format json``).
    log_json: bool = False
    #: The server's own access log, one line per request (``DELTACLOUD_ACCESS_LOG=1``; JSON mode).
    access_log: bool = False

    def provider_policy(self) -> ProviderPolicy:
        """Which providers clients may choose (see :mod:`deltacloud_core.providers`)."""
        return ProviderPolicy(patterns=self.provider_patterns, default_driver=self.default_driver,
                              default_provider=self.default_provider,
                              server_credentials=self.server_credentials is not None,
                              denied=self.denied_addresses)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        user, password = env.get("API_USER"), env.get("API_PASSWORD")
        values: dict[str, object] = {
            "default_driver": (env.get("API_DRIVER") or "mock").lower(),
            "default_provider": (env.get("API_PROVIDER") or None),
            "server_credentials": Credentials(user, password) if user and password else None,
            "hostname": env.get("HOSTNAME", ""),
            "max_body_bytes": int(env.get("DELTACLOUD_MAX_BODY_BYTES", 10 * 1024 * 1024)),
            "max_upload_bytes": int(env.get("DELTACLOUD_MAX_UPLOAD_BYTES", 5 * 1024 ** 3)),
            "backend_timeout": float(env.get("DELTACLOUD_BACKEND_TIMEOUT", 60.0)),
            "render_cache_bytes": int(float(env.get("DELTACLOUD_RENDER_CACHE_MB", 16)) * 1024 * 1024),
            "provider_patterns": ProviderPolicy.from_env(env).patterns,
            "redis_url": env.get("DELTACLOUD_REDIS_URL", "").strip() or None,
            "events": EventSettings.from_env(env),
            "denied_addresses": parse_networks(env.get(DENY_SETTING, "")),
            "bulkheads": BulkheadConfig.from_env(env),
            "read_retries": ReadRetries.from_env(env),
            "idempotency_ttl": float(env.get("DELTACLOUD_IDEMPOTENCY_TTL", 24 * 3600.0)),
            "idempotency_max_keys": int(env.get("DELTACLOUD_IDEMPOTENCY_MAX_KEYS", 10_000)),
            "metrics": env.get("DELTACLOUD_METRICS", "").strip().lower() in ("1", "true", "yes", "on"),
            "metrics_path": env.get("DELTACLOUD_METRICS_PATH") or None,
            "log_json": env.get("DELTACLOUD_LOG_FORMAT", "").strip().lower() == "json",
            "access_log": env.get("DELTACLOUD_ACCESS_LOG", "").strip().lower() in ("1", "true", "yes", "on"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
