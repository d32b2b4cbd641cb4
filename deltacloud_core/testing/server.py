"""A real ``deltacloudd`` in a subprocess on a free loopback port, for tests and benchmarks.

::

    from deltacloud_core.testing.server import running_server

    with running_server(driver="mock", workers=2) as url:
        httpx.get(f"{url}/api")

Start-up is a bounded poll of ``ready_path``: the server must answer 200 within ``timeout``
seconds, or :class:`ServerError` is raised with the tail of its output. Nothing sleeps: the pause
between two looks is a short bounded wait on the process itself (which also notices a server
that died). On exit the server is terminated, then killed if it does not stop.

Only the standard library and httpx are imported here.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

__all__ = ["ServerError", "free_port", "running_server"]

#: The pause between two looks at a starting server (a wait on the process, not a sleep).
POLL_INTERVAL = 0.05
#: How much of the server's output a start-up failure shows.
TAIL_CHARS = 4000


class ServerError(RuntimeError):
    """``deltacloudd`` exited or did not answer in time; the message ends with its output."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(log: IO[bytes]) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-TAIL_CHARS:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def running_server(*, driver: str = "mock", provider: str | None = None, workers: int = 1,
                   env: Mapping[str, str] | None = None, args: Sequence[str] = (), ready_path: str = "/api",
                   timeout: float = 30.0, log_path: Path | None = None,
                   tls_verify: str | bool | None = None) -> Iterator[str]:
    """Run ``deltacloudd -i <driver> [-P <provider>] --workers <workers> <args>`` on a free port.

    Yields the base URL (``http://127.0.0.1:<port>``) once ``GET <ready_path>`` answers 200.
    ``env`` is the server's whole environment (default: this process's). Its output (stdout and
    stderr) goes to ``log_path`` when given — readable after the block ends — else to a temporary
    file that is dropped on exit. A server given a certificate (``args``: ``--ssl-certfile ...``)
    serves HTTPS: pass ``tls_verify`` (the CA file, or False) and the URL is ``https://``.
    """
    port = free_port()
    url = f"{'http' if tls_verify is None else 'https'}://127.0.0.1:{port}"
    verify: ssl.SSLContext | bool = (ssl.create_default_context(cafile=tls_verify) if isinstance(tls_verify, str)
                                     else True if tls_verify is None else tls_verify)
    command = [sys.executable, "-m", "deltacloud_core.cli", "-i", driver]
    if provider is not None:
        command += ["-P", provider]
    command += ["-r", "127.0.0.1", "-p", str(port), "--workers", str(workers), *args]
    log: IO[bytes] = open(log_path, "w+b") if log_path is not None else tempfile.TemporaryFile()
    try:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=dict(os.environ if env is None else env))
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(f"{url}{ready_path}", timeout=1.0, verify=verify).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                try:
                    process.wait(timeout=POLL_INTERVAL)  # the bounded pause; also notices a server that died
                except subprocess.TimeoutExpired:
                    if time.monotonic() > deadline:
                        _stop(process)
                        raise ServerError(f"deltacloudd -i {driver} did not answer {ready_path} within "
                                          f"{timeout:g} s:\n{_tail(log)}") from None
                else:
                    raise ServerError(f"deltacloudd -i {driver} exited with {process.returncode}:\n{_tail(log)}")
            yield url
        finally:
            _stop(process)
    finally:
        log.close()
