"""govmomi's vCenter simulator for the tests: built from ``vcsim/main.go`` at test time, started on
a free loopback port, stopped afterwards.

Debian's ``golang-github-vmware-govmomi-dev`` has the simulator library but no ``vcsim`` command,
so :func:`build` compiles the small ``main`` next to this file with Debian's Go
(``GOPATH=/usr/share/gocode GO111MODULE=off go build``) into a cache directory
(``$DELTACLOUD_VSPHERE_CACHE``, default ``~/.cache/deltacloud-vsphere``), under a name made of the
hashes of the source, of ``go version`` and of the govmomi package's version: it is built again only
when one of them changes. Go's own build cache lives in the same directory. A lock file makes
test processes that start at once build it only once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BuildError", "Vcsim", "build", "cache_dir", "running_vcsim"]

SOURCE = Path(__file__).resolve().parent / "vcsim" / "main.go"
GOPATH = "/usr/share/gocode"
GOVMOMI_PACKAGE = "golang-github-vmware-govmomi-dev"
#: Seconds the build may take (about 20 s on an idle machine, much more on a loaded one).
BUILD_TIMEOUT = 600
#: Seconds the simulator may take to print its URL.
START_TIMEOUT = 30


class BuildError(RuntimeError):
    """The simulator could not be built; the message says why and what to install."""


def cache_dir() -> Path:
    root = os.environ.get("DELTACLOUD_VSPHERE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "deltacloud-vsphere")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _go() -> str:
    go = shutil.which("go") or ("/usr/lib/go/bin/go" if Path("/usr/lib/go/bin/go").exists() else None)
    if go is None or not (Path(GOPATH) / "src/github.com/vmware/govmomi/simulator").is_dir():
        raise BuildError(f"Building the vCenter simulator needs Debian's golang-go and {GOVMOMI_PACKAGE} "
                         "(plugins/deltacloud-vsphere/debian-packages.txt): run `bash scripts/system-deps.sh` as root.")
    return go


def _fingerprint(go: str) -> str:
    digest = hashlib.sha256(SOURCE.read_bytes())
    version = subprocess.run([go, "version"], capture_output=True, text=True, check=True, timeout=60).stdout
    digest.update(version.encode())
    package = subprocess.run(["dpkg-query", "-W", "-f=${Version}", GOVMOMI_PACKAGE], capture_output=True, text=True,
                             check=False, timeout=60).stdout
    digest.update(package.encode())
    return digest.hexdigest()[:16]


@dataclass
class BuildReport:
    binary: Path
    built: bool
    seconds: float


def build() -> BuildReport:
    """The simulator's binary: the cached one, or one built now (see the module)."""
    go = _go()
    cache = cache_dir()
    binary = cache / f"vcsim-{_fingerprint(go)}"
    started = time.monotonic()
    with open(cache / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.is_file() and os.access(binary, os.X_OK):
            return BuildReport(binary, False, time.monotonic() - started)
        work = Path(tempfile.mkdtemp(prefix="vcsim-build-", dir=cache))
        try:
            shutil.copy(SOURCE, work / "main.go")
            env = {**os.environ, "GOPATH": GOPATH, "GO111MODULE": "off", "GOFLAGS": "",
                   "GOCACHE": str(cache / "go-build")}
            if shutil.which(env.get("CC") or "gcc") is None:
                # Debian's golang-go only recommends gcc; without one, a pure Go build (it compiles
                # the standard library once more: ~30 % more CPU on a cold cache).
                env["CGO_ENABLED"] = "0"
            proc = subprocess.run([go, "build", "-o", str(work / "vcsim"), "main.go"], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
            if proc.returncode != 0:
                raise BuildError(f"go build of {SOURCE} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
            os.replace(work / "vcsim", binary)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for old in cache.glob("vcsim-*"):  # earlier builds of another source
            if old != binary and old.is_file():
                old.unlink(missing_ok=True)
    return BuildReport(binary, True, time.monotonic() - started)


@dataclass
class Vcsim:
    """A running simulator."""

    url: str
    user: str
    password: str
    process: subprocess.Popen[bytes]
    certificate: Path | None
    datastores: Path

    @property
    def provider(self) -> str:
        return self.url


def _read_url(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    while b"\n" not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(f"the vCenter simulator printed no URL within {timeout:g} s")
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the vCenter simulator exited ({process.wait()}) before it served")
            buffer += chunk
    line = buffer.split(b"\n", 1)[0].decode()
    if not line.startswith("VCSIM_URL="):
        raise RuntimeError(f"unexpected first line from the vCenter simulator: {line!r}")
    return line.split("=", 1)[1]


@contextlib.contextmanager
def running_vcsim(binary: Path, *, user: str = "dcuser", password: str = "dc-secret", model: str = "vpx",
                  tls: bool = False, delays: Sequence[str] = (), datacenters: int = 1) -> Iterator[Vcsim]:
    """A simulator on a free loopback port with one user, for the length of the block."""
    workdir = Path(tempfile.mkdtemp(prefix="vcsim-"))
    cert = workdir / "cert.pem" if tls else None
    args = [str(binary), "-listen", "127.0.0.1:0", "-model", model, "-datacenters", str(datacenters)]
    if cert is not None:
        args += ["-tls", "-cert-out", str(cert)]
    for delay in delays:
        args += ["-delay", delay]
    # TMPDIR: the model's datastores are directories the simulator makes (and removes) there.
    env = {"PATH": os.environ.get("PATH", ""), "VCSIM_USER": user, "VCSIM_PASSWORD": password,
           "TMPDIR": str(workdir)}
    stderr = open(workdir / "vcsim.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
    try:
        url = _read_url(process, START_TIMEOUT)
        yield Vcsim(url=url, user=user, password=password, process=process, certificate=cert, datastores=workdir)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        stderr.close()
        shutil.rmtree(workdir, ignore_errors=True)
