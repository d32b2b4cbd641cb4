"""A real ``deltacloudd -i google`` process (uvicorn) on a free port, with its memory figures."""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psutil

from deltacloud_core.testing.server import running_server

__all__ = ["MiB", "Payload", "download", "peak_kib", "served", "upload"]

MiB = 1024 * 1024


@contextmanager
def served(provider: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """``(url, pid)`` of ``deltacloudd -i google -P <provider>`` (stopped at the end)."""
    before = {p.pid for p in psutil.Process().children()}
    with running_server(driver="google", provider=provider, env={**os.environ, **(env or {})},
                        args=["--log-level", "warning"], timeout=30) as url:
        port = url.rsplit(":", 1)[1]
        (pid,) = [p.pid for p in psutil.Process().children()
                  if p.pid not in before and port in p.cmdline()]
        yield url, pid


def peak_kib(pid: int) -> int:
    """``VmHWM`` (peak resident set) of a process, KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


class Payload:
    """``size`` pseudo-random bytes made 1 MiB at a time (never held whole), hashed as they go."""

    def __init__(self, size: int, seed: int = 1) -> None:
        self.size = size
        self.seed = seed
        self.sha256 = hashlib.sha256()
        self._reader: Iterator[bytes] | None = None
        self._buffer = bytearray()
        self._position = 0

    def __iter__(self) -> Iterator[bytes]:
        rng = random.Random(self.seed)
        left = self.size
        while left:
            chunk = rng.randbytes(min(MiB, left))
            left -= len(chunk)
            self.sha256.update(chunk)
            yield chunk

    def read(self, size: int = -1) -> bytes:
        """The same bytes as a file object (for SDK uploads)."""
        if self._reader is None:
            self._reader = iter(self)
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._reader, b"")
            if not chunk:
                break
            self._buffer += chunk
        size = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        self._position += len(data)
        return data

    def tell(self) -> int:
        """How many bytes were read (the SDK's uploads ask)."""
        return self._position


def upload(client: httpx.Client, path: str, payload: Payload) -> float:
    """PUT ``payload`` streamed with its Content-Length; the seconds it took."""
    started = time.perf_counter()
    reply = client.put(path, content=iter(payload), headers={
        "Content-Type": "application/octet-stream", "Content-Length": str(payload.size), "Accept": "application/json"})
    elapsed = time.perf_counter() - started
    if reply.status_code != 200:
        raise AssertionError(f"PUT {path}: {reply.status_code} {reply.text[:300]}")
    return elapsed


def download(client: httpx.Client, path: str) -> tuple[int, str, float]:
    """GET ``path`` streamed: (bytes, sha256 hex, seconds)."""
    digest = hashlib.sha256()
    size = 0
    started = time.perf_counter()
    with client.stream("GET", path) as reply:
        if reply.status_code != 200:
            raise AssertionError(f"GET {path}: {reply.status_code} {reply.read()[:300]!r}")
        for chunk in reply.iter_bytes():
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest(), time.perf_counter() - started
