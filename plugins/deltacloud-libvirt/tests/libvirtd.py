"""A libvirtd with QEMU of the tests' own: virtlogd + libvirtd, SASL on a loopback TCP port.

Nothing of the system's libvirt is used or changed. The daemons run as root (QEMU needs no more than
that, see /work/shared/backends/README.md §7a) in a mount namespace of their own (``unshare -m``) in
which the directories a privileged libvirtd insists on are the tests' (under ``base``):

==========================  ====================================================================
inside the namespace        outside
==========================  ====================================================================
``/etc/libvirt``            ``base/etc``: libvirtd.conf (listen_tcp, auth_tcp = "sasl"), qemu.conf
                            (user/group root, no dynamic ownership, no security driver)
``/var``                    ``base/var``: lib/libvirt, log/libvirt (QEMU's logs), tmp
``/var/cache/libvirt``      ``cache``: QEMU's capabilities, kept between runs (saves ~2 s)
``/run``                    a tmpfs: the daemons' sockets and pid files
==========================  ====================================================================

Clients reach libvirtd only on ``qemu+tcp://127.0.0.1:<free port>/system``; SASL (DIGEST-MD5, which
gives the connection a security layer, as libvirtd requires on plain TCP) checks the users that
``saslpasswd2`` wrote into ``base/sasl/passwd.db``. :func:`start` also defines the driver's three
storage pools (directories under ``base/pools``) and an image made with ``qemu-img``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import libvirt

__all__ = ["PASSWORD", "USER", "Daemon", "start"]

USER = "deltacloud"
PASSWORD = "libvirt-test-secret"
IMAGE = "tiny.qcow2"
POOLS = {"deltacloud-images": "images", "deltacloud-volumes": "volumes", "deltacloud-instances": "instances"}
#: Seconds libvirtd may take to answer on its TCP port (a cold QEMU capabilities probe included).
START_TIMEOUT = 60.0


def _free_port() -> int:
    from deltacloud_core.testing import free_port

    return free_port()


@dataclass
class Daemon:
    base: Path
    cache: Path
    port: int
    virtlogd: subprocess.Popen[bytes]
    libvirtd: subprocess.Popen[bytes] | None = None
    log: list[str] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"qemu+tcp://127.0.0.1:{self.port}/system"

    @property
    def pools(self) -> Path:
        return self.base / "pools"

    def env(self) -> dict[str, str]:
        return {**os.environ, "SASL_CONF_PATH": str(self.base / "sasl")}

    def start_libvirtd(self) -> None:
        """(Re)start libvirtd in virtlogd's namespace and wait (bounded) until SASL logins work."""
        logfile = open(self.base / "libvirtd.stdout", "ab")  # noqa: SIM115 - owned by the process
        self.libvirtd = subprocess.Popen(
            ["nsenter", f"--target={self.virtlogd.pid}", "--mount", "--", "libvirtd", "--listen",
             "-f", "/etc/libvirt/libvirtd.conf"],
            stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env())
        logfile.close()
        deadline = time.monotonic() + START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if self.libvirtd.poll() is not None:
                raise RuntimeError(f"libvirtd exited with {self.libvirtd.returncode}:\n{self.tail()}")
            try:
                self.open().close()
                return
            except libvirt.libvirtError as exc:
                last = exc.get_error_message()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.libvirtd.wait(timeout=0.1)  # the bounded pause; also notices a daemon that died
        raise RuntimeError(f"libvirtd did not answer on {self.uri} within {START_TIMEOUT:g} s ({last}):\n"
                           f"{self.tail()}")

    def stop_libvirtd(self) -> None:
        if self.libvirtd is not None and self.libvirtd.poll() is None:
            self.libvirtd.terminate()
            try:
                self.libvirtd.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.libvirtd.kill()
                self.libvirtd.wait(timeout=10)
        self.libvirtd = None

    def restart_libvirtd(self) -> None:
        self.stop_libvirtd()
        self.start_libvirtd()

    def open(self, user: str = USER, password: str = PASSWORD) -> libvirt.virConnect:
        """A connection of the tests' own (not the driver's cache), logged in with SASL."""

        def answer(questions: list[list[object]], _opaque: object) -> int:
            for question in questions:
                if question[0] == libvirt.VIR_CRED_AUTHNAME:
                    question[4] = user
                elif question[0] == libvirt.VIR_CRED_PASSPHRASE:
                    question[4] = password
                else:
                    return -1
            return 0

        return libvirt.openAuth(self.uri, [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], answer, None], 0)

    def tail(self, lines: int = 40) -> str:
        out = []
        for name in ("libvirtd.log", "libvirtd.stdout", "virtlogd.stdout"):
            path = self.base / name
            if path.exists():
                text = path.read_text(errors="replace").strip().splitlines()[-lines:]
                out.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self) -> None:
        """Stop libvirtd (its QEMU processes are killed with it: none may outlive the tests), then virtlogd."""
        if self.libvirtd is not None and self.libvirtd.poll() is None:
            try:
                conn = self.open()
                for domain in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                    domain.destroy()
                conn.close()
            except libvirt.libvirtError:
                pass
        self.stop_libvirtd()
        if self.virtlogd.poll() is None:
            self.virtlogd.terminate()
            try:
                self.virtlogd.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.virtlogd.kill()
                self.virtlogd.wait(timeout=10)


def _write_config(base: Path, port: int) -> None:
    etc = base / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "libvirtd.conf").write_text(
        "# The tests' libvirtd (tests/libvirtd.py): SASL on a loopback TCP port, nothing else.\n"
        "listen_tls = 0\nlisten_tcp = 1\n"
        f'listen_addr = "127.0.0.1"\ntcp_port = "{port}"\n'
        'auth_tcp = "sasl"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n'
        f'log_outputs = "3:file:{base}/libvirtd.log"\n'
        "keepalive_interval = 5\nkeepalive_count = 5\n")
    (etc / "qemu.conf").write_text(
        "# As root in a container (shared/backends §7a): no ownership games, no security driver.\n"
        'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nremember_owner = 0\nsecurity_driver = "none"\n'
        "namespaces = []\n")
    (etc / "virtlogd.conf").write_text(f'log_outputs = "3:file:{base}/virtlogd.log"\n')
    sasl = base / "sasl"
    sasl.mkdir(exist_ok=True)
    (sasl / "libvirt.conf").write_text(f"mech_list: digest-md5\nsasldb_path: {sasl}/passwd.db\n")
    subprocess.run(["saslpasswd2", "-f", str(sasl / "passwd.db"), "-a", "libvirt", "-p", "-c", USER],
                   input=PASSWORD.encode(), check=True, capture_output=True)
    for name in ("lib/libvirt", "log/libvirt", "tmp"):
        (base / "var" / name).mkdir(parents=True, exist_ok=True)
    (base / "var" / "cache" / "libvirt").mkdir(parents=True, exist_ok=True)
    run = base / "var" / "run"
    if not run.exists():
        run.symlink_to("/run")


def ensure_qemu_user() -> None:
    """A privileged libvirtd resolves its built-in QEMU user and group (Debian: ``libvirt-qemu``) before it
    reads qemu.conf; Debian's libvirt-daemon-system would create them, libvirt-daemon does not. Made once,
    idempotently (the domains run as root all the same: qemu.conf says so)."""
    if subprocess.run(["getent", "group", "libvirt-qemu"], capture_output=True, check=False).returncode != 0:
        subprocess.run(["groupadd", "--system", "libvirt-qemu"], check=True, capture_output=True)
    if subprocess.run(["getent", "passwd", "libvirt-qemu"], capture_output=True, check=False).returncode != 0:
        subprocess.run(["useradd", "--system", "--gid", "libvirt-qemu", "--no-create-home", "--home-dir",
                        "/nonexistent", "--shell", "/usr/sbin/nologin", "libvirt-qemu"], check=True,
                       capture_output=True)


def start(base: Path, cache: Path) -> Daemon:
    """Start virtlogd and libvirtd under ``base`` and prepare the pools and the image."""
    for tool in ("unshare", "nsenter", "libvirtd", "virtlogd", "saslpasswd2", "qemu-img", "qemu-system-x86_64"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: install the Debian packages of debian-packages.txt "
                               "(bash scripts/system-deps.sh, as root)")
    if os.geteuid() != 0:
        raise RuntimeError("the real suite starts a privileged libvirtd: run it as root (as CI does)")
    ensure_qemu_user()
    base.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    _write_config(base, port)
    mounts = (f"mount --bind {base}/var /var && mount --bind {cache} /var/cache/libvirt && "
              f"mount --bind {base}/etc /etc/libvirt && mount -t tmpfs -o mode=0755 deltacloud-run /run && "
              "mkdir -p /run/libvirt")
    logfile = open(base / "virtlogd.stdout", "ab")  # noqa: SIM115 - owned by the process
    virtlogd = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
         f"set -e; {mounts}; exec virtlogd -f /etc/libvirt/virtlogd.conf"],
        stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    logfile.close()
    daemon = Daemon(base=base, cache=cache, port=port, virtlogd=virtlogd)
    try:
        _wait_for_socket(daemon)
        daemon.start_libvirtd()
        _prepare_storage(daemon)
    except BaseException:
        daemon.stop()
        raise
    return daemon


def _wait_for_socket(daemon: Daemon) -> None:
    """virtlogd is up once its socket exists in the namespace (bounded)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if daemon.virtlogd.poll() is not None:
            raise RuntimeError(f"virtlogd exited with {daemon.virtlogd.returncode}:\n{daemon.tail()}")
        probe = subprocess.run(["nsenter", f"--target={daemon.virtlogd.pid}", "--mount", "--", "test", "-S",
                                "/run/libvirt/virtlogd-sock"], check=False)
        if probe.returncode == 0:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            daemon.virtlogd.wait(timeout=0.1)
    raise RuntimeError(f"virtlogd did not create its socket within 20 s:\n{daemon.tail()}")


def _prepare_storage(daemon: Daemon) -> None:
    conn = daemon.open()
    try:
        for pool_name, directory in POOLS.items():
            path = daemon.pools / directory
            path.mkdir(parents=True, exist_ok=True)
            pool = conn.storagePoolDefineXML(
                f"<pool type='dir'><name>{pool_name}</name><target><path>{path}</path></target></pool>", 0)
            pool.create(0)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(daemon.pools / "images" / IMAGE), "64M"],
                       check=True, capture_output=True)
        conn.storagePoolLookupByName("deltacloud-images").refresh(0)
    finally:
        conn.close()
