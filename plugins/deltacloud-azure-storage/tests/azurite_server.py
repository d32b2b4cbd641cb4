"""Azurite's blob service as a child process on a free loopback port (tests and benchmarks).

Azurite comes from npm, pinned in this plugin's ``package.json``/``package-lock.json`` and
installed into ``<plugin>/node_modules`` (``npm ci --prefix plugins/deltacloud-azure-storage``).
:func:`ensure_installed` runs that ``npm ci`` when ``node_modules`` is missing. Every failure
raises :class:`AzuriteError` with what went wrong; nothing is skipped quietly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from deltacloud_core.testing.server import free_port

__all__ = ["ACCOUNT", "KEY", "PLUGIN_DIR", "Azurite", "AzuriteError", "ensure_installed", "free_port"]

#: Azurite's well-known development account and key.
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
PLUGIN_DIR = Path(__file__).resolve().parent.parent
AZURITE_BLOB = PLUGIN_DIR / "node_modules" / ".bin" / "azurite-blob"
#: Seconds for ``npm ci`` (cold cache: ~30 s for Azurite's 374 packages).
NPM_TIMEOUT = 300.0
#: Seconds Azurite may take to listen (it needs ~1 s).
START_TIMEOUT = 30.0


class AzuriteError(RuntimeError):
    """Azurite could not be installed or started."""


def ensure_installed() -> Path:
    """The ``azurite-blob`` launcher, after ``npm ci`` in the plugin directory when it is missing."""
    if AZURITE_BLOB.exists():
        return AZURITE_BLOB
    npm = shutil.which("npm")
    if npm is None:
        raise AzuriteError(f"{AZURITE_BLOB} is missing and npm is not installed: install node + npm, then run "
                           f"`npm ci --prefix {PLUGIN_DIR}`")
    try:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(PLUGIN_DIR)],
                              capture_output=True, text=True, timeout=NPM_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AzuriteError(f"`npm ci --prefix {PLUGIN_DIR}` took more than {NPM_TIMEOUT:g} s") from exc
    if done.returncode != 0 or not AZURITE_BLOB.exists():
        raise AzuriteError(f"`npm ci --prefix {PLUGIN_DIR}` failed ({done.returncode}):\n"
                           f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return AZURITE_BLOB


class Azurite:
    """One Azurite blob service with its data in a temporary directory.

    ``with Azurite() as azurite: azurite.url`` -> ``http://127.0.0.1:<port>/devstoreaccount1``.
    """

    def __init__(self, *, start_timeout: float = START_TIMEOUT) -> None:
        self.start_timeout = start_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._data: tempfile.TemporaryDirectory[str] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Azurite:
        launcher = ensure_installed()
        self._data = tempfile.TemporaryDirectory(prefix="deltacloud-azurite-")
        problems = []
        for _attempt in range(3):  # the free port may be taken between the probe and Azurite's bind
            self.port = free_port()
            if self._log is not None:
                self._log.close()
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
            self.process = subprocess.Popen(
                [str(launcher), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                 "--location", self._data.name, "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
                stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            problem = self._wait_listening()
            if problem is None:
                return self
            problems.append(problem)
            self._terminate()
        self.stop()
        raise AzuriteError("Azurite did not start:\n" + "\n".join(problems))

    def _wait_listening(self) -> str | None:
        """None once the port accepts connections; else why not (bounded by ``start_timeout``)."""
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"azurite-blob exited with {self.process.returncode}: {self.output()}"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return None
            time.sleep(0.05)
        return f"azurite-blob was not listening on port {self.port} after {self.start_timeout:g} s: {self.output()}"

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-4000:].decode("utf-8", "replace")

    def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # its own session: node and nothing else
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        self._terminate()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._data is not None:
            self._data.cleanup()
            self._data = None

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
