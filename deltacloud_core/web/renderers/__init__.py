"""Output formats. Each renderer turns an :class:`~deltacloud_core.collections.Outcome` (or an
error) into bytes; the core's xml, json, html, png and gv renderers are registered through
the ``deltacloud_register_renderers`` hook exactly as a plugin's would be."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ...collections.base import Collection, Operation, Outcome, Resource
from ...errors import DeltacloudError
from ...schemas.context import RenderContext, rendering
from .fragments import FragmentCache

__all__ = ["RenderEnv", "Renderer", "RendererRegistry", "error_tree", "outcome_tree"]


class _LazyPage:
    """The ``page`` field of :class:`RenderEnv`: a dict given to the constructor, or the result
    of its ``page_facts`` made when first read (a descriptor-typed dataclass field)."""

    def __get__(self, env: Any, owner: type | None = None) -> Any:
        if env is None:
            return None  # the field's default
        page = env.__dict__.get("_page")
        if page is None:
            page = env.page_facts() if env.page_facts is not None else {}
            env.__dict__["_page"] = page
        return page

    def __set__(self, env: Any, value: dict[str, Any] | None) -> None:
        env.__dict__["_page"] = value


@dataclass
class RenderEnv:
    """Everything a renderer may need about the request being answered: its context (API URL,
    driver, provider), how resources are dumped, and what this answer is about."""

    #: What the schemas read while dumping (API URL, driver, provider, driver class, state machine).
    context: RenderContext
    resources: Mapping[str, Resource]
    #: Request path without matrix params or query (the error document's ``url``).
    path: str = "/api"
    #: Request parameters as the original listed them in error documents.
    request_params: Sequence[tuple[str, Any]] = ()
    collection: Collection | None = None
    operation: Operation | None = None
    #: Extra facts for HTML pages (entry-point links, features, driver list, request id ...);
    #: when not given, made by ``page_facts`` the first time they are read.
    page: _LazyPage = _LazyPage()
    #: Makes :attr:`page` on first use, so data answers never pay for HTML's extras.
    page_facts: Callable[[], dict[str, Any]] | None = None
    #: Rendered list items of unchanged models (None: render every item).
    fragments: FragmentCache | None = None

    @property
    def driver_name(self) -> str:
        return self.context.driver_name

    @property
    def provider(self) -> str | None:
        return self.context.provider

    def fragment_scope(self, fmt: str, resource: str) -> tuple[Any, ...]:
        """What a list item's rendering depends on besides the item itself."""
        context = self.context
        return (fmt, resource, context.api_url, context.driver_cls, context.provider)


def outcome_tree(outcome: Outcome, env: RenderEnv) -> Any:
    """An outcome as plain data, as the JSON document has it: ``{"<plural>": [...]}`` for a
    collection, ``{"<tag>": {...}}`` for a member (the member itself when not wrapped), dumped by
    the resource's JSON schema. What a plugin's renderer of another format starts from."""
    from ...schemas.fastdump import dumper

    resource = env.resources[outcome.resource or ""]
    dump = dumper(resource.schemas["json"])
    with rendering(env.context):
        if outcome.kind == "collection":
            return {resource.plural: [dump(item) for item in outcome.data]}
        tree = dump(outcome.data)
    return {resource.tag: tree} if outcome.wrap else tree


def error_tree(error: DeltacloudError) -> dict[str, Any]:
    """An error as plain data, as the JSON error document has it."""
    doc: dict[str, Any] = {"code": error.status, "message": error.message, "error": error.error_class}
    if error.backend_code:
        doc["backend_code"] = error.backend_code
    return doc


class Renderer(Protocol):
    """One output format."""

    #: Format name used by ``?format=`` (``xml``).
    name: str
    #: Accept media types that select this format, in preference order.
    media_types: tuple[str, ...]
    #: Content-Type of rendered documents.
    content_type: str
    #: True (the usual case) when it renders every outcome and error document, so every operation
    #: without a format list of its own answers in it; False for special renderings (``png``).
    documents: bool

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        """Render a successful outcome (collection or member)."""

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        """Render an error document."""


class RendererRegistry:
    """Renderers by format name, in registration order (which is negotiation's table order)."""

    def __init__(self) -> None:
        self._renderers: dict[str, Renderer] = {}
        self._owners: dict[str, str] = {}

    def register(self, renderer: Renderer, *, owner: str = "core") -> None:
        if renderer.name in self._renderers:
            raise ValueError(f"Renderer '{renderer.name}' registered twice: by {self._owners[renderer.name]} "
                             f"and by {owner}")
        self._renderers[renderer.name] = renderer
        self._owners[renderer.name] = owner

    def __iter__(self) -> Iterator[Renderer]:
        return iter(self._renderers.values())

    def __contains__(self, name: object) -> bool:
        return name in self._renderers

    def __getitem__(self, name: str) -> Renderer:
        return self._renderers[name]

    def get(self, name: str) -> Renderer | None:
        return self._renderers.get(name)

    def document_formats(self) -> frozenset[str]:
        """The formats of renderers that render every document (``documents``, True by default)."""
        return frozenset(r.name for r in self._renderers.values() if getattr(r, "documents", True))

    def media_types(self) -> dict[str, tuple[str, ...]]:
        """Format -> Accept types, in the fixed order xml, json, html, then the others."""
        fixed = ["xml", "json", "html", "png", "gv"]
        ordered = [n for n in fixed if n in self._renderers] + [n for n in self._renderers if n not in fixed]
        return {n: self._renderers[n].media_types for n in ordered}
