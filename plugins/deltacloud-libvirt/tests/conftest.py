"""Fixtures of both suites.

* The fast suite runs against libvirt's own test driver in this process: ``test:///<tests/data/test-node.xml>``
  (no daemon). Its state lives as long as a connection to it is open, so every test starts from the
  file again: the driver's connection cache is emptied after each test.
* The real suite (``@pytest.mark.qemu``, tests/test_qemu_*.py) uses the libvirtd that tests/libvirtd.py
  starts once per session (virtlogd + libvirtd with their own configuration under a temporary
  directory, SASL on a loopback TCP port, QEMU domains). If it cannot start, those tests fail with the
  reason: they are never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from deltacloud_core import Credentials

from deltacloud_libvirt import LibvirtDriver
from deltacloud_libvirt.connection import CONNECTIONS

DATA = Path(__file__).resolve().parent / "data"
TEST_NODE = DATA / "test-node.xml"
#: The provider of the fast suite (an absolute path after ``test://``).
TEST_URI = f"test://{TEST_NODE}"
#: The test driver asks for no credentials: the operator's opt-in the driver requires for such a URI.
NO_AUTH_ENV = {"DELTACLOUD_LIBVIRT_NO_AUTH_URIS": "test:///*"}


@pytest.fixture(autouse=True)
def _fresh_test_host() -> Iterator[None]:
    """Close every cached connection after the test (the test driver forgets its state with the last)."""
    yield
    CONNECTIONS.clear()


@pytest.fixture
def no_auth_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator allows the test driver's URIs although they ask for no credentials."""
    for name, value in NO_AUTH_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def test_driver(no_auth_allowed: None) -> LibvirtDriver:
    return LibvirtDriver(credentials=Credentials("alice", "any"), provider=TEST_URI)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from importlib.metadata import version

    import libvirt

    number = libvirt.getVersion()
    return [f"libvirt {number // 1000000}.{number // 1000 % 1000}.{number % 1000}, "
            f"libvirt-python {version('libvirt-python')}"]


# -- the real suite: a libvirtd with QEMU of our own --------------------------------------------------
_REPORT: dict[str, str] = {}


@pytest.fixture(scope="session")
def qemu_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The suite's virtlogd + libvirtd (tests/libvirtd.py), started once, stopped at the end."""
    import time

    from .libvirtd import start

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "deltacloud-libvirt" / "qemu"
    started = time.monotonic()
    try:
        daemon = start(tmp_path_factory.mktemp("libvirtd"), cache)
    except Exception as exc:  # noqa: BLE001 - the reason is the test's failure message
        _REPORT["libvirtd"] = f"FAILED to start: {exc}"
        pytest.fail(f"The tests' libvirtd did not start: {exc}", pytrace=False)
    _REPORT["libvirtd"] = f"started in {time.monotonic() - started:.1f} s at {daemon.uri} ({daemon.base})"
    yield daemon
    CONNECTIONS.clear()
    daemon.stop()
    _REPORT["libvirtd"] += "; stopped"


@pytest.fixture
def qemu_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The operator's settings of the real suite: no NIC (the daemon has no networks), a short grace."""
    env = {"DELTACLOUD_LIBVIRT_NETWORK": "none", "DELTACLOUD_LIBVIRT_STOP_GRACE": "2"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DELTACLOUD_LIBVIRT_NO_AUTH_URIS", raising=False)
    return env


@pytest.fixture
def qemu_driver(qemu_daemon, qemu_env) -> LibvirtDriver:
    from .libvirtd import PASSWORD, USER

    return LibvirtDriver(credentials=Credentials(USER, PASSWORD), provider=qemu_daemon.uri)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if "libvirtd" in _REPORT:
        terminalreporter.write_sep("-", "the tests' libvirtd")
        terminalreporter.write_line(_REPORT["libvirtd"])
