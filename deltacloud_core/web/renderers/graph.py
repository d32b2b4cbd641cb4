"""``png`` and ``gv`` renderings of the instance state machine (``/api/instance_states``)."""

from __future__ import annotations

import shutil
import subprocess

from ...collections.base import Outcome
from ...errors import DeltacloudError, NotAcceptable
from ...hookspecs import hookimpl
from ...state_machine import StateMachine
from . import RenderEnv, RendererRegistry

__all__ = ["GraphvizRenderer", "PngRenderer"]


def _machine(outcome: Outcome) -> StateMachine:
    if not isinstance(outcome.data, StateMachine):
        raise NotAcceptable()
    return outcome.data


class GraphvizRenderer:
    name: str = "gv"
    media_types: tuple[str, ...] = ("application/ghostscript",)
    content_type: str = "application/ghostscript"
    documents: bool = False

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        return _machine(outcome).to_graphviz().encode()

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        return b""


class PngRenderer:
    name: str = "png"
    media_types: tuple[str, ...] = ("image/png",)
    content_type: str = "image/png"
    documents: bool = False

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        source = _machine(outcome).to_graphviz()
        dot = shutil.which("dot")
        if dot is None:
            return b""  # as the original without Graphviz: 200, image/png, empty body
        try:
            done = subprocess.run([dot, "-Kdot", "-Gpad=0.2,0.2", "-Gsize=5.0,8.0", "-Gdpi=180", "-Tpng"],
                                  input=source.encode(), capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return b""
        return done.stdout if done.returncode == 0 else b""

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        return b""


@hookimpl
def deltacloud_register_renderers(registry: RendererRegistry) -> None:
    registry.register(PngRenderer(), owner=__name__)
    registry.register(GraphvizRenderer(), owner=__name__)
