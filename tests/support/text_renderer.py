"""An output format added by a plugin: ``text`` (``text/x-deltacloud``), indented ``key: value``
lines of the JSON tree. It serves every collection, the core's and plugins', and its errors."""

from __future__ import annotations

from typing import Any

from deltacloud_core import DeltacloudError, hookimpl
from deltacloud_core.collections.base import Outcome
from deltacloud_core.web.renderers import RenderEnv, RendererRegistry, error_tree, outcome_tree


def _lines(value: Any, depth: int = 0) -> list[str]:
    pad = "  " * depth
    if isinstance(value, dict):
        out: list[str] = []
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                out.append(f"{pad}{key}:")
                out.extend(_lines(item, depth + 1))
            else:
                out.append(f"{pad}{key}: {item}")
        return out
    if isinstance(value, list):
        out = []
        for item in value:
            out.append(f"{pad}-")
            out.extend(_lines(item, depth + 1))
        return out
    return [f"{pad}{value}"]


class TextRenderer:
    name = "text"
    media_types = ("text/x-deltacloud",)
    content_type = "text/x-deltacloud; charset=utf-8"
    documents = True

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        return ("\n".join(_lines(outcome_tree(outcome, env))) + "\n").encode()

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        return ("\n".join(_lines({"error": error_tree(error)})) + "\n").encode()


@hookimpl
def deltacloud_register_renderers(registry: RendererRegistry) -> None:
    registry.register(TextRenderer(), owner=__name__)
