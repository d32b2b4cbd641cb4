"""Browsable HTML pages (Jinja2). Templates live in ``deltacloud_core/web/templates``; a plugin
may add a loader in front (``HtmlRenderer.add_loader``) to extend or override them."""

from __future__ import annotations

from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, TemplateNotFound, select_autoescape

from ...collections.base import Outcome
from ...errors import DeltacloudError
from ...hookspecs import hookimpl
from ...schemas.context import ContextVar
from . import RenderEnv, RendererRegistry

__all__ = ["HtmlRenderer"]


class HtmlRenderer:
    name = "html"
    media_types = ("application/xhtml+xml", "text/html", "*/*")
    content_type = "text/html"

    def __init__(self) -> None:
        self._loader = ChoiceLoader([PackageLoader("deltacloud_core.web", "templates")])
        self.env = Environment(loader=self._loader, autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)

    def add_loader(self, loader: Any) -> None:
        """Put a template loader in front of the core's (a plugin's own templates)."""
        self._loader.loaders.insert(0, loader)

    def _template(self, *names: str) -> Any:
        for name in names:
            try:
                return self.env.get_template(name)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(names[-1])

    def _common(self, env: RenderEnv) -> dict[str, Any]:
        ctx = env.context
        return {"api_url": ctx.api_url, "url": ctx.url, "driver": env.driver_name, "provider": env.provider,
                "ctx": ctx, "collection": env.collection, "operation": env.operation, **env.page}

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        resource = env.resources.get(outcome.resource or "")
        values = self._common(env)
        json_schema = resource.schemas.get("json") if resource else None
        with ContextVar(env.context):
            if outcome.kind == "collection":
                assert resource is not None
                template = self._template(f"{resource.plural}.html", "collection.html")
                values.update(items=outcome.data, resource=resource,
                              dumps=[json_schema.dump(i) for i in outcome.data] if json_schema else [])
            elif outcome.kind == "member" and resource is not None:
                template = self._template(f"{resource.name}.html", "member.html")
                values.update(item=outcome.data, resource=resource, status=outcome.status,
                              dump=json_schema.dump(outcome.data) if json_schema else None)
            else:
                template = self._template(f"{outcome.resource}.html")
                values.update(data=outcome.data or {})
            return template.render(**values).encode("utf-8")

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        values = self._common(env)
        values.update(error=error, request_params=env.request_params, path=env.path)
        return self._template("error.html").render(**values).encode("utf-8")


@hookimpl
def deltacloud_register_renderers(registry: RendererRegistry) -> None:
    registry.register(HtmlRenderer(), owner=__name__)
