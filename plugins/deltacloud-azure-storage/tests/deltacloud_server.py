"""A real ``deltacloudd`` (uvicorn) process serving the azure driver, and its memory figures."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

import httpx
from azurite_server import free_port

__all__ = ["DeltacloudServer", "MiB", "Payload", "ServerError", "download", "memory_kib", "upload"]

START_TIMEOUT = 30.0
MiB = 1024 * 1024


class ServerError(RuntimeError):
    """deltacloudd could not be started."""


def memory_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak resident set) of a process, in KiB (Linux ``/proc``)."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(value.split()[0])
    return out


def _command() -> list[str]:
    script = shutil.which("deltacloudd", path=str(Path(sys.executable).parent))
    if script:
        return [script]
    return [sys.executable, "-c", "import sys; from deltacloud_core.cli import main; sys.exit(main())"]


class DeltacloudServer:
    """``deltacloudd -i azure -P <provider> -p <free port>`` on 127.0.0.1, one worker."""

    def __init__(self, provider: str, *, env: Mapping[str, str] | None = None) -> None:
        self.provider = provider
        self.env = dict(env or {})
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> DeltacloudServer:
        self.port = free_port()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        env = {**os.environ, **self.env}
        self.process = subprocess.Popen(
            [*_command(), "-i", "azure", "-P", self.provider, "-r", "127.0.0.1", "-p", str(self.port),
             "--log-level", "warning"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                output = self.output()
                self.stop()
                raise ServerError(f"deltacloudd exited with {code}: {output}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api", headers={"Accept": "application/json"}, timeout=1.0).status_code == 200:
                    return self
            time.sleep(0.05)
        output = self.output()
        self.stop()
        raise ServerError(f"deltacloudd did not answer on port {self.port} within {START_TIMEOUT:g} s: {output}")

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-4000:].decode("utf-8", "replace")

    def memory(self) -> dict[str, int]:
        return memory_kib(self.pid)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> DeltacloudServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Payload:
    """``size`` pseudo-random bytes made 1 MiB at a time (never held whole), hashed as they go out."""

    def __init__(self, size: int, seed: int = 1) -> None:
        self.size = size
        self.seed = seed
        self.sha256 = hashlib.sha256()
        self.sent = 0
        self._reader: Iterator[bytes] | None = None
        self._buffer = bytearray()

    def __iter__(self) -> Iterator[bytes]:
        rng = random.Random(self.seed)
        left = self.size
        while left:
            chunk = rng.randbytes(min(MiB, left))
            left -= len(chunk)
            self.sha256.update(chunk)
            self.sent += len(chunk)
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
        return data


def upload(client: httpx.Client, path: str, payload: Payload, content_type: str = "application/octet-stream") -> float:
    """PUT ``payload`` (streamed, with its Content-Length); returns the seconds it took."""
    started = time.perf_counter()
    reply = client.put(path, content=iter(payload), headers={
        "Content-Type": content_type, "Content-Length": str(payload.size), "Accept": "application/json"})
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
