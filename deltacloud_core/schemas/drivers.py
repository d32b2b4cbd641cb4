"""Dumpers of ``/api/drivers`` (the original's raw configuration map in JSON)."""

from __future__ import annotations

from typing import Any

from ..models import DriverInfo, ProviderInfo
from .context import render_context

__all__ = ["DriverJson", "DriverListJson", "DriverListXml", "DriverXml"]


class DriverListJson:
    shape: dict[str, Any] = {"type": "object", "description": "Driver configuration by driver id",
                             "additionalProperties": {"type": "object"}}

    def dump(self, drivers: list[DriverInfo]) -> dict[str, Any]:
        return {d.id: d.config() for d in drivers}


class DriverListXml:
    def dump(self, drivers: list[DriverInfo]) -> dict[str, Any]:
        ctx = render_context()
        items = []
        for d in drivers:
            item: dict[str, Any] = {"@href": ctx.url("drivers", d.id), "@id": d.id, "name": d.name}
            providers = d.providers()
            if providers:
                item["provider"] = [{"@id": p.id} for p in providers]
            items.append(item)
        return {"driver": items} if items else {}


class DriverJson:
    """The original's configuration entry and the id; plus ``providers`` when the driver listed its
    providers live (the original's JSON showed the configuration only, so a driver without
    ``ENTRYPOINTS`` showed none of the providers its XML lists)."""

    shape: dict[str, Any] = {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "providers": {"type": "array", "items": {"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"}, "entrypoints": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
        "required": ["id"]}

    def dump(self, shown: tuple[DriverInfo, list[ProviderInfo]]) -> dict[str, Any]:
        info, providers = shown
        out: dict[str, Any] = {**info.config(), "id": info.id}
        if providers and providers != info.providers():
            out["providers"] = [{"id": p.id, **({"entrypoints": dict(p.entrypoints)} if p.entrypoints else {})}
                                for p in providers]
        return out


class DriverXml:
    def dump(self, shown: tuple[DriverInfo, list[ProviderInfo]]) -> dict[str, Any]:
        info, providers = shown
        out: dict[str, Any] = {"@href": render_context().url("drivers", info.id), "@id": info.id, "name": info.name}
        if providers:
            out["provider"] = [
                {"@id": p.id, **({"entrypoint": [{"@kind": k, "#text": v} for k, v in p.entrypoints.items()]}
                                 if p.entrypoints else {})}
                for p in providers]
        return out
