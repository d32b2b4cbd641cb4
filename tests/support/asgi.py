"""Calling the ASGI app directly, for requests an HTTP client will not make (no ``Host``, HTTP/1.0)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import anyio
import httpx

__all__ = ["Reply", "asgi_request"]


@dataclass
class Reply:
    """Status, headers (case-insensitive) and body of one answer."""

    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def asgi_request(app: Any, method: str, target: str, *, headers: list[tuple[str, str]] | None = None,
                 body: bytes = b"", http_version: str = "1.1") -> Reply:
    """Run one HTTP request through ``app`` with exactly the given headers (nothing added)."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": http_version,
        "method": method,
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode("latin-1"),
        "root_path": "",
        "query_string": query.encode("latin-1"),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers or []],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 3001),
        "state": {},
    }
    status = 0
    raw_headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def run() -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await anyio.sleep_forever()
            return {"type": "http.disconnect"}  # pragma: no cover

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, raw_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                raw_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)

    anyio.run(run)
    return Reply(status=status, headers=httpx.Headers(raw_headers), body=b"".join(chunks))
