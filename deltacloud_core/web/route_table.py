"""The routes of the API, generated from the collection registry: one place to add a collection."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from ..collections.base import Collection
from .api_root import ApiRoot
from .docs import DocsPages
from .pipeline import operation_endpoint
from .routing import OriginalRoute
from .services import Services

__all__ = ["STANDARD_OPERATIONS", "build_routes", "collection_base"]

#: The original's standard operations (their OPTIONS routes are ``/api/<c>/<name>``).
STANDARD_OPERATIONS = ("index", "show", "create", "destroy", "update")
_STATIC = Path(__file__).parent / "static"


def collection_base(collection: Collection) -> str:
    """A collection's URL: ``/api/instances``; a sub-collection lives below a member of its
    parent: ``/api/buckets/{id}`` (blobs)."""
    return f"/api/{collection.parent}/{{id}}" if collection.parent else f"/api/{collection.name}"


def build_routes(services: Services, root: ApiRoot, docs: DocsPages) -> list[BaseRoute]:
    """Every route, in matching order: the entry point, the docs, the collections, the rest."""
    methods = ["GET", "POST", "OPTIONS"]
    routes: list[BaseRoute] = [OriginalRoute("/api", root.entry_point, methods=methods),
                               OriginalRoute("/api/", root.entry_point, methods=methods)]
    # /api/docs... and /api/openapi(.json): before the collections, never shadowed by them.
    routes.extend(OriginalRoute(path, endpoint, methods=verbs) for path, endpoint, verbs in docs.routes())
    # Sub-collections (blobs below /api/buckets/{id}) after every top-level collection, so
    # their {id} routes never shadow a parent's fixed paths (OPTIONS /api/buckets/show).
    for collection in sorted(services.collections, key=lambda c: c.parent is not None):
        routes.extend(collection_routes(services, root, collection))
    routes.append(OriginalRoute("/", root.root_index, methods=["GET"]))
    routes.append(OriginalRoute("/robots.txt", root.robots, methods=["GET"]))
    if _STATIC.is_dir():
        routes.append(Mount("/stylesheets", app=StaticFiles(directory=_STATIC), name="static"))
    return routes


def collection_routes(services: Services, root: ApiRoot, collection: Collection) -> list[BaseRoute]:
    """A collection's forms, operations, implied ``HEAD`` answers and ``OPTIONS`` answers."""
    base = collection_base(collection)
    routes: list[BaseRoute] = [OriginalRoute(base + form.path, operation_endpoint(services, collection, form),
                                             methods=["GET"]) for form in collection.forms]
    get_paths = {op.path for op in collection.operations if op.http_method == "GET"}
    # Paths with a fixed tail (.../content) before those ending in a parameter (a blob id may
    # hold slashes); explicit HEAD operations (blob metadata) before the GETs that imply HEAD.
    ordered = sorted(collection.operations, key=lambda o: (o.path.endswith("}"), o.http_method != "HEAD"))
    for op in ordered:
        routes.append(OriginalRoute(base + op.path, operation_endpoint(services, collection, op),
                                    methods=[op.http_method]))
        if op.http_method != "GET" and op.path not in get_paths and op.path != "":
            routes.append(OriginalRoute(base + op.path, root.empty_head, methods=["HEAD"]))
    routes.append(OriginalRoute(base, root.options_collection(collection), methods=["OPTIONS"]))
    for name in STANDARD_OPERATIONS:
        standard = collection.operation(name)
        if standard is not None:
            routes.append(OriginalRoute(f"{base}/{name}", root.options_operation(collection, standard),
                                        methods=["OPTIONS"]))
    for op in collection.operations:
        if op.name not in STANDARD_OPERATIONS and op.member:
            routes.append(OriginalRoute(base + op.path, root.options_operation(collection, op), methods=["OPTIONS"]))
    return routes
