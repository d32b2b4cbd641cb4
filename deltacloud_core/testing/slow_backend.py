"""A cloud endpoint the tests control: a small HTTP/1.1 server on loopback that can be made slow,
stalled or failing on command, standing in for a cloud's API (see :mod:`.http_cloud` for the
driver that calls it).

::

    with SlowBackend(latency=0.3) as backend:      # a thread of this process
        backend.url                                 # http://127.0.0.1:<port>
        backend.stall()                             # requests wait until resume()
        backend.fail(503, count=2, retry_after=1)   # the next two answers are 503 + Retry-After
        backend.resume()

    python -m deltacloud_core.testing.slow_backend --port 0 --latency 0.3   # its own process

Its own work is tiny (asyncio, no framework, keep-alive), so a benchmark measures the server in
front of it and not the backend. The API, JSON in and out:

* ``GET /instances`` -> ``[{"id", "name", "state"}, ...]``; ``GET /instances/<id>`` (404 unknown);
* ``POST /instances`` (form or JSON ``name``) -> 201 and the new instance, ids ``vm-<n>`` never reused;
* ``DELETE /instances/<id>`` -> 204;
* control: ``POST /_control/slow?latency=S``, ``/_control/stall``, ``/_control/resume``,
  ``/_control/fail?status=N&count=K&retry_after=S``, ``/_control/reset``; ``GET /_control/stats``
  -> the requests seen per ``METHOD path`` and the instances created.

A stalled request completes when the backend resumes, exactly as a cloud that was slow to answer
still carries out the work: a create that the server answered 504 for still creates its instance.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["BackendState", "SlowBackend", "serve"]

_REASONS = {200: "OK", 201: "Created", 204: "No Content", 404: "Not Found", 400: "Bad Request",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass
class BackendState:
    """What the backend holds and how it behaves now (used on its event loop only)."""

    latency: float = 0.0
    #: Set while the backend answers; cleared while it is stalled.
    running: asyncio.Event = field(default_factory=asyncio.Event)
    fail_status: int = 0
    fail_count: int = 0
    fail_retry_after: float | None = None
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    connections: set[_Connection] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.running.set()
        for n in range(1, 4):
            self._add(f"seed {n}")

    def _add(self, name: str) -> dict[str, Any]:
        self.created += 1
        instance = {"id": f"vm-{self.created}", "name": name, "state": "RUNNING"}
        self.instances[instance["id"]] = instance
        return instance

    def control(self, action: str, query: dict[str, str]) -> Any:
        if action == "slow":
            self.latency = float(query.get("latency", "0"))
        elif action == "stall":
            self.running.clear()
        elif action == "resume":
            self.running.set()
        elif action == "fail":
            self.fail_status = int(query.get("status", "503"))
            self.fail_count = int(query.get("count", "1"))
            self.fail_retry_after = float(query["retry_after"]) if "retry_after" in query else None
        elif action == "reset":
            self.latency, self.fail_count = 0.0, 0
            self.seen.clear()
            self.running.set()
        elif action == "stats":
            return {"seen": dict(self.seen), "created": self.created, "instances": len(self.instances)}
        else:
            raise KeyError(action)
        return {"ok": True}

    async def answer(self, method: str, path: str, query: dict[str, str],
                     body: bytes) -> tuple[int, Any, dict[str, str]]:
        if path.startswith("/_control/"):
            try:
                return 200, self.control(path[len("/_control/"):], query), {}
            except KeyError:
                return 404, {"error": "no such control"}, {}
        self.seen[f"{method} {path}"] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        if not self.running.is_set():
            await self.running.wait()
        if self.fail_count > 0:
            self.fail_count -= 1
            headers = {}
            if self.fail_retry_after is not None:
                headers["Retry-After"] = f"{self.fail_retry_after:g}"
            return self.fail_status, {"error": "failing on command"}, headers
        if path == "/instances":
            if method == "GET":
                return 200, list(self.instances.values()), {}
            if method == "POST":
                return 201, self._add(_name(body) or f"vm {self.created + 1}"), {}
        if path.startswith("/instances/"):
            found = self.instances.get(path[len("/instances/"):])
            if found is None:
                return 404, {"error": "not found"}, {}
            if method == "GET":
                return 200, found, {}
            if method == "DELETE":
                del self.instances[found["id"]]
                return 204, None, {}
        return 404, {"error": "no such path"}, {}


def _name(body: bytes) -> str | None:
    if not body:
        return None
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        value = json.loads(text).get("name")
        return None if value is None else str(value)
    return dict(parse_qsl(text)).get("name")


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests parsed from the bytes, answered in order."""

    def __init__(self, state: BackendState) -> None:
        self.state = state
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.queue: asyncio.Queue[tuple[str, str, bytes] | None] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport subclass
        self.worker = asyncio.get_running_loop().create_task(self._serve())
        self.state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        self.queue.put_nowait(None)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if self.worker is not None:
            self.worker.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _sep, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            method, target, _version = head[0].split(" ", 2)
            self.queue.put_nowait((method, target, body))

    async def _serve(self) -> None:
        while True:
            item = await self.queue.get()
            if item is None or self.transport is None or self.transport.is_closing():
                return
            method, target, body = item
            parts = urlsplit(target)
            status, doc, headers = await self.state.answer(method, parts.path, dict(parse_qsl(parts.query)), body)
            payload = b"" if doc is None else json.dumps(doc).encode()
            lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", f"Content-Length: {len(payload)}",
                     "Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items())]
            if not self.transport.is_closing():
                self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)


async def serve(host: str, port: int, state: BackendState | None = None) -> asyncio.Server:
    """Start the backend on ``host``/``port`` (0: any free port) in the running loop."""
    state = state or BackendState()
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Connection(state), host, port, backlog=2048, reuse_address=True)


class SlowBackend:
    """The backend on its own event loop in a daemon thread of this process."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self._latency = latency
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="slow-backend", daemon=True)
        self.state: BackendState | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SlowBackend:
        self._thread.start()
        self._server = self._run(self._start())
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _start(self) -> asyncio.Server:
        self.state = BackendState(latency=self._latency)
        return await serve("127.0.0.1", 0, self.state)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def _control(self, action: str, **query: Any) -> Any:
        async def act() -> Any:
            assert self.state is not None
            return self.state.control(action, {k: str(v) for k, v in query.items() if v is not None})
        return self._run(act())

    def slow(self, latency: float) -> None:
        self._control("slow", latency=latency)

    def stall(self) -> None:
        self._control("stall")

    def resume(self) -> None:
        self._control("resume")

    def fail(self, status: int, *, count: int = 1, retry_after: float | None = None) -> None:
        self._control("fail", status=status, count=count, retry_after=retry_after)

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._control("stats")
        return result

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            if self.state is not None:
                for connection in list(self.state.connections):
                    connection.abort()
                await asyncio.sleep(0)
        if self._thread.is_alive():
            self._run(close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> SlowBackend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback cloud endpoint: slow, stalled or failing on command.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()

    async def run() -> None:
        server = await serve(args.host, args.port, BackendState(latency=args.latency))
        sock: socket.socket = server.sockets[0]
        print(f"listening on http://{args.host}:{sock.getsockname()[1]}", flush=True)
        await server.serve_forever()

    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(run())


if __name__ == "__main__":
    main()
