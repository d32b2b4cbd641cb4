"""Drivers of a cloud reached over HTTP: the :mod:`.slow_backend`'s API, for tests and benchmarks.

The provider is the backend's URL (``http://127.0.0.1:<port>``), so two backends are two
providers: two bulkheads. Two drivers with the same methods:

* :class:`HttpCloudDriver`: plain ``def`` methods over ``http.client``: the common case, a sync
  SDK, run in worker threads.
* :class:`AsyncHttpCloudDriver`: ``async def`` methods over asyncio streams (or ``httpx.AsyncClient``):
  a driver whose SDK allows async I/O.

They are not installed as drivers by the core: tests and benchmarks install them with an entry
point of their own (``httpcloud = deltacloud_core.testing.http_cloud:HttpCloudDriver``). Any
credentials are accepted; answers the backend fails with become the core's errors (429/503 ->
``RateLimited`` with the backend's ``Retry-After``, other 5xx -> ``ProviderError``, 404 ->
not found), and an unreachable backend a 502.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import threading
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from ..drivers.base import Driver
from ..errors import DeltacloudError, ObjectNotFound, ProviderError, RateLimited, ValidationError
from ..models import Instance
from ..state_machine import StateMachine

__all__ = ["AsyncHttpCloudDriver", "HttpCloudDriver"]

#: Per worker thread: backend URL -> its keep-alive connection.
_LOCAL = threading.local()

_STATES = (StateMachine.builder().on("start", "create", "running").on("running", "destroy", "finish").build())


def _instance(doc: Mapping[str, Any]) -> Instance:
    return Instance(id=str(doc["id"]), state=str(doc.get("state") or "UNKNOWN"), name=doc.get("name"))


def _error(status: int, headers: Mapping[str, str]) -> DeltacloudError:
    if status in (429, 503):
        retry_after = headers.get("retry-after")
        error = RateLimited(f"The cloud throttles (HTTP {status}).", status=status)
        if retry_after is not None:
            error.headers["Retry-After"] = retry_after
        return error
    if status == 404:
        return ObjectNotFound()
    return ProviderError(f"The cloud answered HTTP {status}.")


class _HttpCloud(Driver):
    DISPLAY_NAME: ClassVar[str | None] = "HTTP cloud"
    INSTANCE_STATES: ClassVar[StateMachine | None] = _STATES

    def _base(self) -> str:
        if not self.provider or not self.provider.startswith("http://"):
            raise ValidationError("Name the cloud's URL as the provider: http://127.0.0.1:<port>.")
        self.credentials  # noqa: B018 - any credentials, but some
        return self.provider.rstrip("/")


class HttpCloudDriver(_HttpCloud):
    """Plain ``def`` methods: a sync client (the standard library's ``http.client``, one keep-alive
    connection per worker thread and backend), called in worker threads."""

    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        base = self._base()
        connections: dict[str, http.client.HTTPConnection] = _LOCAL.__dict__.setdefault("connections", {})
        connection = connections.get(base)
        if connection is None or fresh:
            if connection is not None:
                connection.close()
            parts = urlsplit(base)
            connection = connections[base] = http.client.HTTPConnection(parts.hostname or "127.0.0.1",
                                                                        parts.port or 80, timeout=120)
        return connection

    def _request(self, method: str, path: str, fields: Mapping[str, str] | None = None) -> Any:
        body = urlencode(fields).encode() if fields else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        for attempt in (0, 1):
            connection = self._connection(fresh=attempt == 1)
            try:
                connection.request(method, path, body=body, headers=headers)
                reply = connection.getresponse()
                data = reply.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                if attempt == 1 or method != "GET":  # a kept-alive connection the backend closed: once more
                    raise ProviderError(f"The cloud could not be reached: {exc}") from exc
            except OSError as exc:
                raise ProviderError(f"The cloud could not be reached: {exc}") from exc
        if reply.status >= 400:
            raise _error(reply.status, {k.lower(): v for k, v in reply.getheaders()})
        return json.loads(data) if data else None

    def list_instances(self, **filters: str) -> list[Instance]:
        docs = self._request("GET", "/instances")
        return [_instance(d) for d in docs if not filters.get("id") or d["id"] == filters["id"]]

    def get_instance(self, id: str) -> Instance | None:
        try:
            return _instance(self._request("GET", f"/instances/{id}"))
        except ObjectNotFound:
            return None

    def create_instance(self, *, image_id: str, name: str | None = None, **extra: Any) -> Instance:
        return _instance(self._request("POST", "/instances", {"name": name or image_id}))

    def destroy_instance(self, id: str) -> None:
        self._request("DELETE", f"/instances/{id}")


class _StreamPool:
    """Keep-alive connections to one backend on one event loop: a small asyncio HTTP/1.1 client
    (``Content-Length`` bodies only, which is all the backend sends)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(self, method: str, path: str, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        reader, writer = self.idle.pop() if self.idle else await asyncio.open_connection(self.host, self.port)
        try:
            head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            if body:
                head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode("latin-1") + b"\r\n" + (body or b""))
            lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _sep, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            data = await reader.readexactly(int(headers.get("content-length", "0")))
        except BaseException:
            writer.close()
            raise
        self.idle.append((reader, writer))
        return int(lines[0].split()[1]), headers, data


#: (event loop, backend URL) -> its connections.
_POOLS: dict[tuple[int, str], _StreamPool] = {}


class AsyncHttpCloudDriver(_HttpCloud):
    """``async def`` methods over asyncio streams: no worker thread at all (set ``HTTPCLOUD_CLIENT=httpx``
    in the server's environment for ``httpx.AsyncClient`` instead)."""

    async def _request(self, method: str, path: str, data: Mapping[str, str] | None = None) -> Any:
        base = self._base()
        body = urlencode(data).encode() if data else None
        try:
            if os.environ.get("HTTPCLOUD_CLIENT") == "httpx":
                status, headers, content = await self._httpx(method, base + path, data)
            else:
                key = (id(asyncio.get_running_loop()), base)
                pool = _POOLS.get(key)
                if pool is None:
                    parts = urlsplit(base)
                    pool = _POOLS[key] = _StreamPool(parts.hostname or "127.0.0.1", parts.port or 80)
                status, headers, content = await pool.request(method, path, body)
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise ProviderError(f"The cloud could not be reached: {exc}") from exc
        if status >= 400:
            raise _error(status, headers)
        return json.loads(content) if content else None

    async def _httpx(self, method: str, url: str, data: Mapping[str, str] | None) -> tuple[int, Any, bytes]:
        import httpx

        client = self.cached_client("httpx", lambda: httpx.AsyncClient(
            timeout=httpx.Timeout(120.0, connect=5.0),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=1024)))
        try:
            reply = await client.request(method, url, data=data)
        except httpx.HTTPError as exc:
            raise OSError(str(exc)) from exc
        return reply.status_code, reply.headers, reply.content

    async def list_instances(self, **filters: str) -> list[Instance]:  # type: ignore[override]  # the contract allows async def
        docs = await self._request("GET", "/instances")
        return [_instance(d) for d in docs if not filters.get("id") or d["id"] == filters["id"]]

    async def get_instance(self, id: str) -> Instance | None:  # type: ignore[override]  # the contract allows async def
        try:
            return _instance(await self._request("GET", f"/instances/{id}"))
        except ObjectNotFound:
            return None

    async def create_instance(self, *, image_id: str, name: str | None = None, **extra: Any) -> Instance:  # type: ignore[override]  # the contract allows async def
        return _instance(await self._request("POST", "/instances", {"name": name or image_id}))

    async def destroy_instance(self, id: str) -> None:  # type: ignore[override]  # the contract allows async def
        await self._request("DELETE", f"/instances/{id}")
