"""Browsable HTML pages (Jinja2). Templates live in ``deltacloud_core/web/templates``; a plugin
may add a loader in front (``HtmlRenderer.add_loader``) to extend or override them.

Template names: a collection outcome renders ``<plural>.html`` (else ``collection.html``), a
member outcome ``<resource name>.html`` (else ``member.html``), a custom outcome (HTML-only
forms) ``<outcome.resource>.html``; errors render ``error.html``. Besides the outcome's data
every template gets the values of :meth:`HtmlRenderer._common`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, TemplateNotFound, select_autoescape

from ...collections.base import Collection, Outcome
from ...errors import DeltacloudError
from ...hardware import HardwareProfile, format_value
from ...hookspecs import hookimpl
from ...schemas.context import RenderContext, rendering
from ..settings import API_VERSION
from . import RenderEnv, RendererRegistry

__all__ = ["HtmlRenderer"]

#: Collections whose support is not decided by the driver implementing ``list_<name>``.
_ALWAYS = {"drivers"}


def label(name: object) -> str:
    """``hardware_profiles`` -> ``Hardware profiles``."""
    text = str(name).replace("_", " ").strip()
    if text.lower() == "cpu":
        return "CPU"
    return text[:1].upper() + text[1:]


def urlpart(value: object) -> str:
    """A value quoted for a query string or matrix parameter (``/`` and ``;`` escaped too)."""
    return quote(str(value), safe="")


def hw_value(prop: Any) -> str:
    """A hardware property's allowed values as text: ``1740.8 MB``, ``1 \u2013 6`` (an en dash), ``850, 1024 GB``."""
    unit = f" {prop.unit}" if prop.unit and prop.unit not in ("label", "count") else ""
    if prop.kind == "range":
        return f"{format_value(prop.first)} \u2013 {format_value(prop.last)}{unit}"
    if prop.kind == "enum":
        return ", ".join(format_value(v) for v in prop.values) + unit
    return f"{format_value(prop.value)}{unit}"


def hw_summary(profile: HardwareProfile) -> str:
    """One line describing a profile: ``cpu 1 \u2013 6, memory 7680 \u2013 15360 MB, ...``."""
    return ", ".join(f"{p.name} {hw_value(p)}" for p in profile.properties)


def nav_links(ctx: RenderContext, supported: list[str] | None) -> list[tuple[str, str, str]]:
    """``(name, label, url)`` of the collections the selected driver supports (from the registry)."""
    return [(n, label(n), ctx.url(n)) for n in sorted(supported or [])]


class HtmlRenderer:
    name: str = "html"
    media_types: tuple[str, ...] = ("application/xhtml+xml", "text/html", "*/*")
    content_type: str = "text/html"
    documents: bool = True

    def __init__(self) -> None:
        #: Template loaders, first match wins: plugins' and collections' in front of the core's.
        self._loaders: list[BaseLoader] = [PackageLoader("deltacloud_core.web", "templates")]
        self._loader = ChoiceLoader(self._loaders)
        self._packages: set[str] = set()
        self.env = Environment(loader=self._loader, autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self.env.filters.update(label=label, hw_value=hw_value, hw_summary=hw_summary, value=format_value,
                                urlpart=urlpart)

    def add_loader(self, loader: Any) -> None:
        """Put a template loader in front of the core's (a plugin's own templates)."""
        self._loaders.insert(0, loader)

    def _collection_templates(self, collection: Collection | None) -> None:
        """A collection's own ``templates/`` (``Collection.templates``), looked up before the core's
        from the first page of that collection on."""
        package = collection.templates if collection is not None else None
        if package is not None and package not in self._packages:
            self._packages.add(package)
            self.add_loader(PackageLoader(package, "templates"))

    def _template(self, *names: str) -> Any:
        for name in names:
            try:
                return self.env.get_template(name)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(names[-1])

    def _common(self, env: RenderEnv) -> dict[str, Any]:
        ctx = env.context
        api_url = ctx.api_url
        origin = "/".join(api_url.split("/", 3)[:3])
        # The entry point's env.path is "/api" whatever the mount point; api_url is exact there.
        page_url = api_url if env.operation is None and env.collection is None else origin + quote(env.path)
        params = {k: v for k, v in env.request_params if isinstance(v, str)}
        values: dict[str, Any] = {
            "api_url": api_url, "url": ctx.url, "driver": env.driver_name, "provider": env.provider,
            "ctx": ctx, "collection": env.collection, "operation": env.operation,
            "api_version": API_VERSION, "static_url": api_url.rsplit("/api", 1)[0] + "/stylesheets",
            "page_url": page_url, "params": params, "path": env.path,
            "nav": nav_links(ctx, env.page.get("supported_collections")), "drivers": [], "request_id": None,
        }
        values.update(env.page)
        return values

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        self._collection_templates(env.collection)
        resource = env.resources.get(outcome.resource or "")
        values = self._common(env)
        json_schema = resource.schemas.get("json") if resource else None
        with rendering(env.context):
            if outcome.kind == "collection":
                assert resource is not None
                template = self._template(f"{resource.plural}.html", "collection.html")
                values.update(items=outcome.data, resource=resource, status=outcome.status,
                              dumps=[json_schema.dump(i) for i in outcome.data] if json_schema else [])
            elif outcome.kind == "member" and resource is not None:
                template = self._template(f"{resource.name}.html", "member.html")
                values.update(item=outcome.data, resource=resource, status=outcome.status,
                              dump=json_schema.dump(outcome.data) if json_schema else None)
            else:
                template = self._template(f"{outcome.resource}.html")
                values.update(data=outcome.data or {}, status=outcome.status)
            return template.render(**values).encode("utf-8")

    def render_page(self, template: str, env: RenderEnv, **values: Any) -> bytes:
        """A page that is no outcome (the API docs, the OpenAPI viewer): the common values, then ``values``."""
        merged = self._common(env)
        merged.update(values)
        with rendering(env.context):
            return self._template(template).render(**merged).encode("utf-8")

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        values = self._common(env)
        values.update(error=error, request_params=env.request_params, path=env.path)
        return self._template("error.html").render(**values).encode("utf-8")


@hookimpl
def deltacloud_register_renderers(registry: RendererRegistry) -> None:
    registry.register(HtmlRenderer(), owner=__name__)
