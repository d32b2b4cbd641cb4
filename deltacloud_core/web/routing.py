"""Routing: Starlette routes as the original's router answered (404 on a method mismatch), blob ids
that hold slashes, and a router that only tries the routes of the request's collection."""

from __future__ import annotations

from typing import Any

from starlette.convertors import PathConvertor, register_url_convertor
from starlette.routing import Match, Route, Router
from starlette.types import Receive, Scope, Send

__all__ = ["IndexedRouter", "OriginalRoute"]


def _route_path(scope: Scope) -> str:
    """The request path below the mount point (``root_path``)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and (path == root or path[len(root)] == "/"):
        return path[len(root):]
    return path


class _RestConvertor(PathConvertor):
    """``{name:rest}``: one or more path segments, never empty, no trailing slash (blob ids with ``/``)."""

    regex = "[^/]+(?:/[^/]+)*"


register_url_convertor("rest", _RestConvertor())


class OriginalRoute(Route):
    """A route whose method mismatch answers like an unknown path (the original's 404)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        return (Match.NONE, {}) if match == Match.PARTIAL else (match, child)


def _route_key(path: str) -> tuple[str, ...]:
    """The first two segments of a path: ``/api/instances/inst0`` -> ``("api", "instances")``."""
    return tuple(path.split("/", 3)[1:3])


class IndexedRouter(Router):
    """Starlette's router, but a request only tries the routes that can match its first two
    path segments (``/api/instances/...``), in their original order.

    With 200 routes, trying each route's regex in turn cost 10% of a ``GET /api/instances``
    (py-spy). A route whose first two segments are literal goes in its own bucket; any
    other route (a parameter there, a mount) is tried for every path. When no candidate
    matches, the full original walk runs, so 404s, partial matches and slash redirects
    are decided exactly as before.
    """

    _index: dict[tuple[str, ...], list[Any]]
    _wildcards: list[Any]
    _indexed: tuple[int, int] = (0, -1)
    #: (method, root path, path) -> (route, endpoint, path params), or None for no direct match.
    _matches: dict[tuple[str, str, str], tuple[Any, Any, dict[str, Any]] | None]

    def _build_index(self) -> None:
        keyed: dict[tuple[str, ...], None] = {}
        for route in self.routes:
            if isinstance(route, Route) and type(route) in (Route, OriginalRoute) \
                    and "{" not in "".join(_route_key(route.path)):
                keyed[_route_key(route.path)] = None
        self._index = {key: [r for r in self.routes if self._may_match(r, key)] for key in keyed}
        self._wildcards = [r for r in self.routes if self._may_match(r, None)]
        self._indexed = (id(self.routes), len(self.routes))
        self._matches = {}

    @staticmethod
    def _may_match(route: Any, key: tuple[str, ...] | None) -> bool:
        if type(route) not in (Route, OriginalRoute) or "{" in "".join(_route_key(route.path)):
            return True  # a mount, a parameter in the first segments: try it for every path
        return key is not None and _route_key(route.path) == key

    def full_match(self, scope: Scope) -> tuple[Any, Scope] | None:
        """The route :meth:`app` would hand an HTTP request to, with its child scope; None when
        the request needs the original walk (no match among the candidates, a partial match).

        Matching depends on nothing but the method and the path, so the answer is remembered
        for the last few thousand distinct (method, root path, path): trying the routes of a
        collection in turn was 9% of a small list answer.
        """
        if self._indexed != (id(self.routes), len(self.routes)):
            self._build_index()
        if "path_params" in scope:  # set by an outer app: merged into every match, not remembered
            found = self._match(scope)
            return None if found is None else (found[0], {"endpoint": found[1], "path_params": found[2]})
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        if key in self._matches:
            known = self._matches[key]
        else:
            known = self._match(scope)
            if len(self._matches) >= 4096:
                self._matches.clear()
            self._matches[key] = known
        if known is None:
            return None
        route, endpoint, path_params = known
        return route, {"endpoint": endpoint, "path_params": dict(path_params)}

    def _match(self, scope: Scope) -> tuple[Any, Any, dict[str, Any]] | None:
        for route in self._index.get(_route_key(_route_path(scope)), self._wildcards):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                if set(child_scope) != {"endpoint", "path_params"}:
                    return None  # a route that adds more to the scope: not remembered this way
                return route, child_scope["endpoint"], child_scope["path_params"]
            if match is Match.PARTIAL:
                return None
        return None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        if self._indexed != (id(self.routes), len(self.routes)):
            self._build_index()
        if "router" not in scope:
            scope["router"] = self
        candidates = self._index.get(_route_key(_route_path(scope)), self._wildcards)
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL:
                break  # let the original walk pick the first partial match
        await super().app(scope, receive, send)
