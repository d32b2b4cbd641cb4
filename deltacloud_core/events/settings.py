"""The event watchers' knobs, from ``DELTACLOUD_EVENTS_*`` environment variables (docs/events.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

__all__ = ["EventSettings"]


@dataclass(frozen=True)
class EventSettings:
    """How often watchers poll, how much history they keep, and how many streams one server serves."""

    #: ``GET /api/events`` is served and linked from the entry point (``DELTACLOUD_EVENTS=off``: not).
    enabled: bool = True
    #: Seconds between two polls while some resource is in a transitional state or just changed.
    poll_min: float = 2.0
    #: Seconds between two polls once everything is settled (the interval doubles up to this).
    poll_max: float = 30.0
    #: Seconds between two heartbeat comments on an idle stream.
    heartbeat: float = 15.0
    #: Events kept per watcher for ``Last-Event-ID`` (older ones: a ``reset``).
    history: int = 1000
    #: Seconds a watcher's snapshot and history outlive its last subscriber (resume across a gap).
    retention: float = 300.0
    #: Events queued for one subscriber before it is dropped as too slow.
    queue: int = 1000
    #: Streams open at once with the same credentials on one driver and provider (429 beyond).
    max_per_credentials: int = 200
    #: Streams one server process serves at once (503 beyond).
    max_subscribers: int = 5000
    #: Watchers (distinct credentials, driver and provider) one process runs at once (503 beyond).
    max_watchers: int = 500
    #: Seconds a watcher's lease in Redis lasts without renewal (takeover after a crash).
    lease_ttl: float = 5.0
    #: Seconds a successful backend call with the same credentials counts as their check.
    validation_ttl: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EventSettings:
        """Settings from ``DELTACLOUD_EVENTS`` and ``DELTACLOUD_EVENTS_<FIELD>`` (``_POLL_MIN`` ...)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        switch = env.get("DELTACLOUD_EVENTS", "").strip().lower()
        if switch:
            values["enabled"] = switch not in ("0", "off", "false", "no")
        for f in fields(cls):
            if f.name == "enabled":
                continue
            raw = env.get(f"DELTACLOUD_EVENTS_{f.name.upper()}")
            if raw is None or not raw.strip():
                continue
            kind = int if f.type in ("int", int) else float
            try:
                value = kind(raw.strip())
            except ValueError:
                raise ValueError(f"DELTACLOUD_EVENTS_{f.name.upper()} must be a number, not {raw!r}") from None
            if value <= 0:
                raise ValueError(f"DELTACLOUD_EVENTS_{f.name.upper()} must be positive, not {raw!r}")
            values[f.name] = value
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.poll_min > settings.poll_max:
            raise ValueError(f"DELTACLOUD_EVENTS_POLL_MIN ({settings.poll_min:g}) is above "
                             f"DELTACLOUD_EVENTS_POLL_MAX ({settings.poll_max:g})")
        return settings
