"""What one client (one driver and provider) knows: where the API is, how to talk, what it found.

A :class:`Session` holds the settings and the discovery caches (entry point, hardware profiles,
state machine) that the operations of :mod:`.operations` read and fill. ``with_driver`` makes a
new session (its own caches) over the same connection pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from .discovery import EntryPoint
from .models import HardwareProfile, StateMachine
from .protocol import RetryPolicy

__all__ = ["PollPolicy", "Session", "Settings", "api_url"]

Format = Literal["json", "xml"]
ACCEPT = {"json": "application/json", "xml": "application/xml"}


@dataclass(frozen=True)
class PollPolicy:
    """Polling with backoff for ``wait_for`` (and the interval of ``watch``)."""

    first: float = 0.5
    factor: float = 1.5
    most: float = 5.0

    def delays(self) -> list[float]:
        out, delay = [], self.first
        while delay < self.most:
            out.append(delay)
            delay *= self.factor
        return out


def api_url(url: str) -> str:
    """``http://host:3001`` or ``http://host:3001/api`` -> ``http://host:3001/api``."""
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"the server URL must start with http:// or https://, not {url!r}")
    return url if url.endswith("/api") else f"{url}/api"


@dataclass(frozen=True)
class Settings:
    url: str
    driver: str | None = None
    provider: str | None = None
    format: Format = "json"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll: PollPolicy = field(default_factory=PollPolicy)

    def headers(self) -> dict[str, str]:
        out = {"Accept": ACCEPT[self.format]}
        if self.driver:
            out["X-Deltacloud-Driver"] = self.driver
        if self.provider:
            out["X-Deltacloud-Provider"] = self.provider
        return out


@dataclass
class Session:
    settings: Settings
    entry: EntryPoint | None = None
    profiles: dict[str, HardwareProfile] = field(default_factory=dict)
    states: StateMachine | None = None

    def switched(self, driver: str | None, provider: str | None) -> Session:
        return Session(replace(self.settings, driver=driver, provider=provider))
