"""A real Redis (Debian's ``redis-server``) for tests, on a free loopback port, nothing on disk.

::

    from deltacloud_core.testing.redis_server import running_redis

    with running_redis() as url:          # redis://127.0.0.1:<port>/0
        ...

The server runs with ``--save '' --appendonly no`` in a temporary directory and is stopped at
the end of the block. Start-up is a bounded poll of ``PING`` (a plain socket: no client library
needed); a missing ``redis-server`` raises :class:`RedisUnavailable` naming the package.
Only the standard library is imported here.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .server import free_port

__all__ = ["RedisServer", "RedisUnavailable", "redis_server_command", "running_redis"]

START_TIMEOUT = 20.0


class RedisUnavailable(RuntimeError):
    """``redis-server`` is not installed, or did not answer in time."""


def redis_server_command() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists()
                                             else None)
    if found is None:
        raise RedisUnavailable("redis-server is not installed: apt-get install redis-server "
                               "(bash scripts/system-deps.sh installs what the tests need)")
    return found


class RedisServer:
    """One ``redis-server`` process; :meth:`stop` ends it (and only it)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.port = free_port()
        log = open(self.directory / "redis.log", "wb")
        try:
            self.process = subprocess.Popen(
                [redis_server_command(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", str(self.directory), "--protected-mode", "yes"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RedisUnavailable(f"redis-server did not answer on port {self.port}:\n{self.log()}")
            try:
                self.process.wait(timeout=0.05)  # the bounded pause between two looks
            except subprocess.TimeoutExpired:
                pass
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def log(self) -> str:
        try:
            return (self.directory / "redis.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def running_redis() -> Iterator[str]:
    """A fresh Redis for the block; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="deltacloud-redis-") as directory:
        server = RedisServer(Path(directory)).start()
        try:
            yield server.url
        finally:
            server.stop()
