"""moto's standalone server (``moto_server``) as a child process on a free loopback port.

Used by the test session (``conftest.py``) and the benchmark. Start-up is a bounded poll: the
process must answer ``GET /moto-api/`` within :data:`START_TIMEOUT` seconds or the start fails
with its log. Nothing sleeps: the pause between two looks is a bounded wait on the process
itself (which also notices a server that died).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deltacloud_core.testing.server import free_port

__all__ = ["START_TIMEOUT", "MotoServer", "free_port", "moto_command"]

START_TIMEOUT = 30.0
DATA = Path(__file__).resolve().parent / "data"

#: Realistic validation (moto accepts unknown AMIs, types and keys otherwise) and our own small
#: AMI catalogue instead of moto's ~1300 images (listing those takes seconds per call).
MOTO_ENV: Mapping[str, str] = {
    "MOTO_ENABLE_AMI_VALIDATION": "true",
    "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION": "true",
    "MOTO_ENABLE_KEYPAIR_VALIDATION": "true",
    "MOTO_AMIS_PATH": str(DATA / "amis.json"),
}


def moto_command() -> list[str]:
    """The ``moto_server`` next to this interpreter (or on PATH), else ``python -m moto.server``."""
    sibling = Path(sys.executable).with_name("moto_server")
    if sibling.exists():
        return [str(sibling)]
    found = shutil.which("moto_server")
    return [found] if found else [sys.executable, "-m", "moto.server"]


@dataclass
class MotoServer:
    """A running ``moto_server``; ``stop()`` ends it (and only it)."""

    log_path: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    #: Variables of :data:`MOTO_ENV` (or of this process) the server must not see.
    unset: tuple[str, ...] = ()
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        self.port = free_port()
        env = {**os.environ, **MOTO_ENV, **self.extra_env}
        for name in list(env):
            if name.startswith("AWS_ENDPOINT_URL") or name in self.unset:
                del env[name]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([*moto_command(), "-H", "127.0.0.1", "-p", str(self.port)],
                                            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._answers():
                return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto_server did not start on port {self.port}:\n{self.log()}")
            try:
                self.process.wait(timeout=0.05)  # the bounded pause between two looks
            except subprocess.TimeoutExpired:
                pass

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1) as reply:
                return reply.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def reset(self) -> None:
        """Wipe every backend's state (``POST /moto-api/reset``)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.status == 200, reply.status

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
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
