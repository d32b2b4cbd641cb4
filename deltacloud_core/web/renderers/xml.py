"""XML documents via xmltodict, shaped exactly as the original's Haml views (FORMATS.md)."""

from __future__ import annotations

import json
import re
from typing import Any

import xmltodict

from ...collections.base import Outcome, Resource
from ...errors import DeltacloudError
from ...hookspecs import hookimpl
from ...schemas.context import rendering
from ...schemas.fastdump import dumper
from . import RenderEnv, RendererRegistry, xmlwriter

__all__ = ["XmlRenderer", "ruby_inspect"]

DECLARATION = "<?xml version='1.0' encoding='utf-8' ?>\n"


def ruby_inspect(value: Any) -> str:
    """A parameter value as Ruby's ``inspect`` printed it in error documents."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{ruby_inspect(k)}=>{ruby_inspect(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "nil"
    return json.dumps(str(value), ensure_ascii=False)


#: Characters XML 1.0 cannot carry at all, not even escaped (a NUL from ``%00`` in a request path).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def to_xml(doc: dict[str, Any], declaration: bool) -> bytes:
    try:
        body = xmlwriter.unparse(doc)  # xmltodict's output, written several times faster
    except xmlwriter.Unsupported:
        body = xmltodict.unparse(doc, full_document=False, pretty=True, indent="  ", short_empty_elements=False)
    body = _NOT_XML.sub("\ufffd", body)  # keep the document well-formed whatever a client sent
    return ((DECLARATION if declaration else "") + body + "\n").encode("utf-8")


def _element(tag: str, tree: Any) -> bytes:
    """One list item's element, indented one level, as UTF-8 (raises ``xmlwriter.Unsupported``)."""
    return _NOT_XML.sub("\ufffd", xmlwriter.unparse_element(tag, [tree], 1)).encode("utf-8")


class XmlRenderer:
    name: str = "xml"
    media_types: tuple[str, ...] = ("application/xml", "text/xml")
    content_type: str = "application/xml"
    documents: bool = True

    def dump_member(self, resource: Resource, item: Any, env: RenderEnv) -> Any:
        with rendering(env.context):
            return resource.schemas["xml"].dump(item)

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        resource = env.resources[outcome.resource or ""]
        schema = resource.schemas["xml"]
        with rendering(env.context):
            if outcome.kind == "collection":
                items = list(outcome.data)
                if resource.xml_sort is not None:
                    items.sort(key=resource.xml_sort)
                return self._render_list(resource, dumper(schema), items, env)
            tree = dumper(schema)(outcome.data)
        return to_xml({resource.tag: tree or None}, resource.xml_declaration)

    @staticmethod
    def _render_list(resource: Resource, dump: Any, items: list[Any], env: RenderEnv) -> bytes:
        """The list document, each item's element from the fragment cache when it has it.

        ``<plural>`` with one ``<tag>`` element per item at depth 1 is exactly what the whole
        document written at once gives (:func:`to_xml` of ``{plural: {tag: [trees]}}``).
        """
        if not items:
            return to_xml({resource.plural: None}, True)
        cache = env.fragments
        if cache is None or not cache.enabled:
            return to_xml({resource.plural: {resource.tag: [dump(i) for i in items]}}, True)
        plural, tag = resource.plural, resource.tag
        try:
            return cache.list_document(env.fragment_scope("xml", plural), items, lambda item: _element(tag, dump(item)),
                                       lambda parts: b"".join((f"{DECLARATION}<{plural}>\n".encode(), *parts,
                                                               f"</{plural}>\n".encode())))
        except xmlwriter.Unsupported:  # only xmltodict writes such an item: the whole document then
            return to_xml({plural: {tag: [dump(i) for i in items]}}, True)

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        params = [{"@name": name, "#text": ruby_inspect(value)} for name, value in env.request_params]
        doc: dict[str, Any] = {
            "error": {
                "@status": str(error.status),
                "@url": env.path,
                "backend": {"@driver": env.driver_name, "@provider": env.provider or "default"},
                "code": str(error.status),
                "message": error.message,
            }
        }
        if error.backend_code:
            doc["error"]["backend"]["code"] = error.backend_code
        doc["error"]["backtrace"] = None
        doc["error"]["request"] = {"param": params} if params else None
        return to_xml(doc, True)


@hookimpl
def deltacloud_register_renderers(registry: RendererRegistry) -> None:
    registry.register(XmlRenderer(), owner=__name__)
