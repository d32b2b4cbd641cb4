"""Debian's ``redis-server`` on a free loopback port, for the idempotency tests (nothing saved to
disk; stopped at the end). The events work (issue 15) brings ``deltacloud_core.testing.redis_server``
for the same; the two are to become one."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deltacloud_core.testing.server import free_port

__all__ = ["running_redis"]


@contextmanager
def running_redis(workdir: Path, timeout: float = 30.0) -> Iterator[str]:
    """Yields ``redis://127.0.0.1:<port>/0`` once the server answers PING."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("redis-server is not installed (Debian package redis-server; debian-packages.txt)")
    import redis

    port = free_port()
    log = open(workdir / "redis.log", "wb")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--daemonize", "no", "--dir", str(workdir)], stdout=log, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                pass
            try:
                process.wait(timeout=0.05)  # the bounded pause; also notices a server that died
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not answer within {timeout:g} s") from None
            else:
                raise RuntimeError(f"redis-server exited: {(workdir / 'redis.log').read_text()[-2000:]}")
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()
