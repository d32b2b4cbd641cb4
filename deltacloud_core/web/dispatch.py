"""Routing an API request: an operation's endpoint is called straight away; everything else takes
Starlette's full path (middleware, exception handlers, mounts)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from .routing import IndexedRouter

__all__ = ["Dispatcher"]


class Dispatcher:
    """ASGI app for ``/api`` requests whose context the prelude made.

    An endpoint marked ``direct`` (every operation endpoint and the entry point) answers every
    outcome and error itself, so Starlette's middleware and exception layers (15% of a small list
    answer) have nothing to add; anything else (404s, method mismatches, docs pages) goes through
    ``starlette`` exactly as before.
    """

    def __init__(self, starlette: Starlette, router: IndexedRouter) -> None:
        self.starlette = starlette
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.router.full_match(scope)
        if found is None or not getattr(found[0].endpoint, "direct", False):
            await self.starlette(scope, receive, send)
            return
        route, child_scope = found
        scope["app"] = self.starlette
        scope["router"] = self.router
        scope["route"] = route
        scope.update(child_scope)
        try:
            response = await route.endpoint(Request(scope, receive, send))
        except Exception:
            # What Starlette's ServerErrorMiddleware would have answered (the endpoint raised
            # before sending anything); the exception goes on to the server's log.
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise
        await response(scope, receive, send)
