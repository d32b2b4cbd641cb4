"""What ``/api/drivers`` shows about an installed driver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DriverInfo", "ProviderInfo"]


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """A provider and its entrypoints (``kind -> URL``)."""

    id: str
    entrypoints: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DriverInfo:
    id: str
    name: str
    #: The original's configuration map: ``kind -> provider -> URL``.
    entrypoints: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    username_label: str | None = None
    password_label: str | None = None
    #: Set when the driver is installed but cannot be loaded.
    error: str | None = None

    def providers(self) -> list[ProviderInfo]:
        """Entrypoints regrouped per provider, providers in first-seen order."""
        order: list[str] = []
        grouped: dict[str, dict[str, str]] = {}
        for kind, per_provider in self.entrypoints.items():
            for provider, url in per_provider.items():
                if provider not in grouped:
                    order.append(provider)
                    grouped[provider] = {}
                grouped[provider][kind] = url
        return [ProviderInfo(p, grouped[p]) for p in order]

    def config(self) -> dict[str, object]:
        """The JSON form: the original's raw configuration hash."""
        out: dict[str, object] = {}
        entrypoints = {k: dict(v) for k, v in self.entrypoints.items()}
        labelled = bool(self.username_label or self.password_label)
        if entrypoints and not labelled:  # the original's order: ec2's entrypoints come first ...
            out["entrypoints"] = entrypoints
        out["name"] = self.name
        if self.username_label:
            out["username"] = self.username_label
        if self.password_label:
            out["password"] = self.password_label
        if entrypoints and labelled:  # ... and after the labels of drivers that have them (vsphere)
            out["entrypoints"] = entrypoints
        return out
