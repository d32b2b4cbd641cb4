"""Compact JSON documents, keys in the original's order (FORMATS.md)."""

from __future__ import annotations

import json
from typing import Any

from ...collections.base import Outcome
from ...errors import DeltacloudError
from ...hookspecs import hookimpl
from ...schemas.context import ContextVar
from . import RenderEnv, RendererRegistry

__all__ = ["JsonRenderer"]

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> bytes:
    return _encoder.encode(value).encode("utf-8")


class JsonRenderer:
    name = "json"
    media_types = ("application/json",)
    content_type = "application/json"

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        resource = env.resources[outcome.resource or ""]
        schema = resource.schemas["json"]
        with ContextVar(env.context):
            if outcome.kind == "collection":
                return dumps({resource.plural: [schema.dump(i) for i in outcome.data]})
            tree = schema.dump(outcome.data)
        return dumps({resource.tag: tree} if outcome.wrap else tree)

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        doc: dict[str, Any] = {"code": error.status, "message": error.message, "error": error.error_class}
        if error.backend_code:
            doc["backend_code"] = error.backend_code
        return dumps(doc)


@hookimpl
def deltacloud_register_renderers(registry: RendererRegistry) -> None:
    registry.register(JsonRenderer(), owner=__name__)
