"""Live API documentation: ``/api/docs[/<collection>[/<operation>]]`` and the OpenAPI document.

The pages are generated from the collection registry and the feature catalogue, for the
request's driver (matrix parameter, ``X-Deltacloud-Driver`` header or the server default): a
collection page says whether the driver supports it and which catalogue features it declares;
an operation page lists the path, query and form parameters including those the driver's
features add and, for ``hwp_*`` overrides, the bounds of each of its hardware profiles.

Formats (a deliberate change, API.md §11): the original answered HTML whatever was asked. We
answer HTML by default (no ``Accept`` header, ``*/*``, browsers), and XML or JSON when the
client asks for them explicitly with ``?format=xml|json`` or an ``Accept`` header that prefers
them. The pages are public (no credentials), like the original's.

``/api/openapi.json`` serves :func:`.openapi.build_openapi` for the request's driver (always
JSON); ``/api/openapi`` renders the same document as a browsable page with no asset from
elsewhere. Unknown collections or operations are the framework's 404, as in the original.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import xmltodict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..collections.base import Collection, Operation
from ..drivers.base import Driver
from ..errors import DeltacloudError, RuntimeFailure
from .context import RequestContext, request_context
from .negotiation import choose
from .openapi import (
    ParamDoc,
    build_openapi,
    collection_path,
    component_name,
    describe_operation,
)
from .renderers.json import dumps
from .services import Services
from .settings import API_VERSION

__all__ = ["DocsPages"]

DOCS_FORMATS = frozenset({"html", "xml", "json"})
Endpoint = Callable[[Request], Awaitable[Response]]


def display_name(name: str) -> str:
    """``hardware_profiles`` -> ``Hardware Profiles`` (the original's docs index)."""
    return " ".join(part.capitalize() for part in name.split("_"))


class DocsPages:
    """The documentation endpoints of one app."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._openapi: OrderedDict[tuple[str, str | None, str], bytes] = OrderedDict()

    def routes(self) -> list[tuple[str, Endpoint, list[str]]]:
        """``(path, endpoint, methods)``; the app registers them before the collection routes."""
        return [
            ("/api/docs", self.index, ["GET"]),
            ("/api/docs/{collection}", self.collection, ["GET"]),
            ("/api/docs/{collection}/{operation}", self.operation, ["GET"]),
            ("/api/openapi.json", self.openapi_json, ["GET"]),
            ("/api/openapi", self.openapi_page, ["GET"]),
        ]

    # -- helpers ------------------------------------------------------------------------------
    def _driver(self, info: RequestContext) -> tuple[type[Driver] | None, DeltacloudError | None]:
        try:
            return self.services.load_driver(info), None
        except DeltacloudError as exc:
            return None, exc

    @staticmethod
    def _format(request: Request, info: RequestContext) -> str | None:
        """HTML unless XML or JSON was asked for explicitly; None means 406."""
        explicit = any(k == "format" for k, _ in info.query) or request.headers.get("accept", "").strip()
        if not explicit:
            return "html"
        return choose(info.ranked, DOCS_FORMATS)

    def _docs_url(self, info: RequestContext, *parts: str) -> str:
        return "/".join([info.api_url, "docs", *parts])

    def _supported(self, collection: Collection, driver_cls: type[Driver] | None) -> bool | None:
        if driver_cls is None:
            return None
        if collection.parent is not None:
            parent = self.services.collections.get(collection.parent)
            return bool(parent and parent.supported_by(driver_cls))
        return collection.supported_by(driver_cls)

    def _respond(self, request: Request, info: RequestContext, fmt: str | None, *, template: str,
                 data: dict[str, Any], root: str, values: dict[str, Any]) -> Response:
        if fmt is None:
            return self.services.responses.plain(406, "", driver=info.driver_name, provider=info.provider)
        if fmt == "json":
            body, content_type = dumps({root: data}), "application/json"
        elif fmt == "xml":
            body = xmltodict.unparse({root: _xml_tree(data)}, pretty=True, indent="  ").encode("utf-8")
            content_type = "application/xml"
        else:
            env = self.services.render_env(info, request.url.path)
            html = self.services.renderers["html"]
            page_url = info.api_url.rsplit("/api", 1)[0] + request.url.path
            body = html.render_page(template, env, page_url=page_url, docs=data, **values)  # type: ignore[attr-defined]
            content_type = "text/html;charset=utf-8"
        return self.services.responses.finish(status=200, body=body, content_type=content_type, driver=info.driver_name,
                                         provider=info.provider, method=request.method)

    # -- /api/docs ----------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        info = request_context(request)
        fmt = self._format(request, info)
        driver_cls, problem = self._driver(info)
        items = []
        for c in sorted(self.services.collections, key=lambda c: display_name(c.name)):
            items.append({"name": c.name, "title": display_name(c.name), "href": self._docs_url(info, c.name),
                          "url": f"{info.api_url}/{c.name}" if c.parent is None else None,
                          "parent": c.parent, "description": c.description,
                          "supported": self._supported(c, driver_cls)})
        data = {"version": API_VERSION, "driver": info.driver_name, "provider": info.provider or "default",
                "openapi": f"{info.api_url}/openapi.json", "collections": items}
        return self._respond(request, info, fmt, template="docs.html", data=data, root="docs",
                             values={"driver_problem": problem and problem.message})

    async def collection(self, request: Request) -> Response:
        info = request_context(request)
        collection = self.services.collections.get(request.path_params["collection"])
        if collection is None:
            raise HTTPException(404)
        return self._collection_page(request, info, collection)

    def _collection_page(self, request: Request, info: RequestContext, collection: Collection) -> Response:
        fmt = self._format(request, info)
        driver_cls, problem = self._driver(info)
        supported = self._supported(collection, driver_cls)
        features = []
        for f in self.services.features.for_collection(collection.name):
            constraints = dict(driver_cls.FEATURE_CONSTRAINTS.get((collection.name, f.name), {})) if driver_cls else {}
            features.append({"name": f.name, "operation": f.operation, "description": f.description,
                             "params": [p.name for p in f.params],
                             "declared": bool(driver_cls and driver_cls.has_feature(collection.name, f.name)),
                             "constraints": {k: str(v) for k, v in constraints.items()}})
        base = collection_path(collection)
        operations = []
        for op in collection.operations:
            operations.append({
                "name": op.name, "method": op.http_method, "path": base + op.path,
                "href": self._docs_url(info, collection.name, op.name), "description": op.description,
                "capability": op.capability,
                "supported": None if driver_cls is None else bool(supported and op.supported_by(driver_cls))})
        forms = [{"name": f.name, "path": base + f.path, "description": f.description,
                  "href": self._docs_url(info, collection.name, f.name)} for f in collection.forms]
        subs = [c.name for c in self.services.collections if c.parent == collection.name]
        data = {"name": collection.name, "title": display_name(collection.name),
                "description": collection.description, "parent": collection.parent,
                "url": f"{info.api_url}/{collection.name}" if collection.parent is None else None,
                "driver": info.driver_name, "supported": supported, "features": features,
                "operations": operations, "forms": forms,
                "subcollections": [{"name": s, "href": self._docs_url(info, s)} for s in subs]}
        return self._respond(request, info, fmt, template="docs_collection.html", data=data, root="collection",
                             values={"driver_problem": problem and problem.message, "docs_home": self._docs_url(info)})

    async def operation(self, request: Request) -> Response:
        info = request_context(request)
        collection = self.services.collections.get(request.path_params["collection"])
        if collection is None:
            raise HTTPException(404)
        name = request.path_params["operation"]
        op = collection.operation(name) or next((f for f in collection.forms if f.name == name), None)
        if op is None:
            # The original documents a sub-collection below a member: /api/docs/buckets/:id (blobs).
            sub = next((c for c in self.services.collections if c.parent == collection.name), None)
            if sub is None:
                raise HTTPException(404)
            return self._collection_page(request, info, sub)
        return self._operation_page(request, info, collection, op)

    def _operation_page(self, request: Request, info: RequestContext, collection: Collection,
                        op: Operation) -> Response:
        fmt = self._format(request, info)
        driver_cls, problem = self._driver(info)
        params = describe_operation(self.services.features, collection, op, driver_cls)
        is_form = op in collection.forms
        supported = None if driver_cls is None else bool(
            self._supported(collection, driver_cls) and (is_form or op.supported_by(driver_cls)))
        declared = {p.feature for p in params if p.feature}
        other_features = [{"name": f.name, "params": [p.name for p in f.params], "description": f.description}
                          for f in self.services.features.for_collection(collection.name)
                          if f.operation == op.name and f.name not in declared]
        path = collection_path(collection) + op.path
        data = {"collection": collection.name, "name": op.name, "method": op.http_method, "path": path,
                "url": info.api_url.rsplit("/api", 1)[0] + path, "description": op.description,
                "capability": op.capability, "html_form": is_form, "supported": supported,
                "driver": info.driver_name,
                "formats": _shown_formats(self.services.formats_of(op), self.services.document_formats),
                "params": [_param_data(p) for p in params], "other_features": other_features}
        return self._respond(request, info, fmt, template="docs_operation.html", data=data, root="operation",
                             values={"driver_problem": problem and problem.message, "docs_home": self._docs_url(info),
                                     "collection_docs": self._docs_url(info, collection.name),
                                     "curl": _curl(op, path, params, info)})

    # -- OpenAPI ------------------------------------------------------------------------------
    def _openapi_document(self, info: RequestContext, driver_cls: type[Driver]) -> bytes:
        server = info.api_url.rsplit("/api", 1)[0]
        key = (info.driver_name, info.provider, server)
        body = self._openapi.get(key)
        if body is None:
            doc = build_openapi(self.services, driver_cls, server_url=server, driver_name=info.driver_name,
                                provider=info.provider)
            body = dumps(doc)
            self._openapi[key] = body
            while len(self._openapi) > 32:
                self._openapi.popitem(last=False)
        return body

    async def openapi_json(self, request: Request) -> Response:
        info = request_context(request)
        driver_cls, _problem = self._driver(info)
        if driver_cls is None:
            env = self.services.render_env(info, request.url.path)
            return self.services.responses.error(_problem or RuntimeFailure("unknown driver"), "json", env,
                                            method=request.method)
        body = self._openapi_document(info, driver_cls)
        return self.services.responses.finish(status=200, body=body, content_type="application/json",
                                         driver=info.driver_name, provider=info.provider, method=request.method)

    async def openapi_page(self, request: Request) -> Response:
        import orjson

        info = request_context(request)
        driver_cls, problem = self._driver(info)
        env = self.services.render_env(info, request.url.path)
        if driver_cls is None:
            return self.services.responses.error(problem or RuntimeFailure("unknown driver"), "html", env,
                                            method=request.method)
        doc = orjson.loads(self._openapi_document(info, driver_cls))
        html = self.services.renderers["html"]
        body = html.render_page("openapi.html", env, page_url=f"{info.api_url}/openapi", spec=doc,  # type: ignore[attr-defined]
                                operations=_operations_by_tag(doc), json_url=f"{info.api_url}/openapi.json",
                                docs_home=self._docs_url(info), component_name=component_name)
        return self.services.responses.finish(status=200, body=body, content_type="text/html;charset=utf-8",
                                         driver=info.driver_name, provider=info.provider, method=request.method)


def _shown_formats(formats: frozenset[str], documents: frozenset[str]) -> list[str]:
    """The formats an operation page lists: its document formats (an HTML-only form: html);
    special renderings (``png``) only when it has nothing else."""
    return sorted(formats & (documents | DOCS_FORMATS)) or sorted(formats)


def _param_data(p: ParamDoc) -> dict[str, Any]:
    return {"name": p.name, "type": p.type, "required": p.required, "location": p.location, "source": p.source,
            "feature": p.feature, "description": p.description, "values": list(p.values),
            "profiles": [{"id": pid, "allowed": text} for pid, text in p.profiles]}


def _curl(op: Operation, path: str, params: list[ParamDoc], info: RequestContext) -> str:
    """A copy-and-paste example call (required parameters only)."""
    url = info.api_url.rsplit("/api", 1)[0] + path
    parts = ["curl", "-u USER:PASSWORD", "-H 'Accept: application/json'"]
    if op.http_method not in ("GET", "POST"):
        parts.append(f"-X {op.http_method}")
    for p in params:
        if p.location == "path":
            url = url.replace("{" + p.name + "}", p.name.upper())
    for p in params:
        if p.required and p.location == "body":
            parts.append(f"-d {p.name}={p.name.upper()}")
        elif p.required and p.location == "file":
            parts.append(f"-F {p.name}=@FILE")
    if op.http_method == "POST" and not any(p.required and p.location in ("body", "file") for p in params):
        parts.append("-X POST")
    if op.streams_body:
        parts.append("--data-binary @FILE")
    parts.append(f"'{url}'")
    return " ".join(parts)


def _operations_by_tag(doc: dict[str, Any]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """``(tag, [{"method", "path", "op"}])`` in the document's tag order, for the viewer."""
    grouped: dict[str, list[dict[str, Any]]] = {t["name"]: [] for t in doc.get("tags", [])}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            tag = (op.get("tags") or ["api"])[0]
            grouped.setdefault(tag, []).append({"method": method.upper(), "path": path, "op": op})
    tags = {t["name"]: t for t in doc.get("tags", [])}
    return [(tags.get(name, {"name": name}), ops) for name, ops in grouped.items() if ops]


def _xml_tree(value: Any, name: str | None = None) -> Any:
    """The JSON data as an xmltodict tree: scalars of a mapping become attributes, lists repeat
    the element named by the singular of their key (``collections`` -> ``collection``)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            if isinstance(item, bool):
                out[f"@{key}"] = "true" if item else "false"
            elif isinstance(item, (str, int, float)):
                if key == "description" and item:
                    out["description"] = item
                else:
                    out[f"@{key}"] = str(item)
            elif isinstance(item, list):
                if not item:
                    continue
                singular = key[:-1] if key.endswith("s") else key
                if all(isinstance(i, str) for i in item):
                    out[key] = {singular: list(item)}
                else:
                    out[key] = {singular: [_xml_tree(i) for i in item]}
            else:
                out[key] = _xml_tree(item)
        return out
    return value
