"""One observer around the whole app: each request's id, its metrics and its access-log line.

Installed by :class:`~deltacloud_core.web.DeltacloudApp` only when metrics or JSON logs are asked
for (so the plain server pays nothing). It also answers the metrics on the API's own port when
the operator chose that (``DELTACLOUD_METRICS_PATH``).
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..backends.labels import provider_label
from .json_logs import current_request_id

__all__ = ["RequestObserver"]

access_log = logging.getLogger("deltacloud.access")


class RequestObserver:
    """ASGI middleware: request id (``X-Request-Id`` in JSON-log mode), metrics, access log."""

    def __init__(self, app: ASGIApp, *, metrics: bool, metrics_path: str | None, access_log: bool,
                 request_id_header: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.metrics_path = metrics_path
        self.access_log = access_log
        self.request_id_header = request_id_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.metrics_path is not None and scope["path"] == self.metrics_path:
            await self._metrics(send)
            return
        request_id = f"{random.getrandbits(64):016x}"
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        add_header = self.request_id_header

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                if add_header and not any(k == b"x-request-id" for k, _v in headers):
                    message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            seconds = time.perf_counter() - started
            self._done(scope, status, seconds)
            current_request_id.reset(token)

    def _done(self, scope: Scope, status: int, seconds: float) -> None:
        route_obj: Any = scope.get("route")
        route = getattr(route_obj, "path", None) or ("unmatched" if scope["path"].startswith("/api") else "other")
        context = scope.get("state", {}).get("deltacloud")
        driver = getattr(context, "driver_name", "") or "-"
        if self.metrics:
            from .metrics import observe_request

            observe_request(route, scope["method"], status, driver, seconds)
        if self.access_log:
            # The path without matrix parameters (the prelude took them out) and no query string:
            # a provider or a parameter may carry a secret.
            access_log.info("%s %s %s", scope["method"], scope["path"], status, extra={
                "method": scope["method"], "path": scope["path"], "route": route, "status": status,
                "duration_ms": round(seconds * 1000, 3), "driver": driver,
                "provider": provider_label(getattr(context, "provider", None))})

    async def _metrics(self, send: Send) -> None:
        from .metrics import CONTENT_TYPE_LATEST, exposition

        body = exposition()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
