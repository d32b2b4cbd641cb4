"""The test cloud: a real OpenStack started once per session by scripts/openstack-up.sh.

* ``DELTACLOUD_OPENSTACK_BASE``: where it lives (default ``/tmp/deltacloud-openstack``). A cloud
  already running there is reused (and left running).
* ``DELTACLOUD_OPENSTACK_KEEP=1``: leave the cloud this session started running at the end.

If the cloud cannot start, every test that needs it fails with the script's reason and the tail of
its output: these tests are never skipped. The unit tests (parsing, errors, states) need no cloud.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from deltacloud_core import Credentials
from deltacloud_core.testing.server import running_server
from openstack_support import Cleanup, CloudInfo, destroy_server, wait_until

from deltacloud_openstack import OpenStackDriver
from deltacloud_openstack.session import SESSIONS

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
BASE = Path(os.environ.get("DELTACLOUD_OPENSTACK_BASE", "/tmp/deltacloud-openstack"))
KEEP = os.environ.get("DELTACLOUD_OPENSTACK_KEEP", "") == "1"
#: Seconds openstack-up.sh may take: apt on a fresh machine (~2-5 min) plus the start (~1 min).
UP_TIMEOUT = 1500
_REPORT: dict[str, str] = {}


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@pytest.fixture(scope="session")
def cloud() -> Iterator[CloudInfo]:
    """The running test cloud (started now, or found running at ``BASE``)."""
    started = time.monotonic()
    try:
        proc = subprocess.run(["bash", str(SCRIPTS / "openstack-up.sh"), str(BASE)], capture_output=True,
                              text=True, timeout=UP_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"The OpenStack test cloud did not start within {UP_TIMEOUT} s.\n"
                    f"{_tail(str(exc.stdout or ''))}\n{_tail(str(exc.stderr or ''))}", pytrace=False)
    if proc.returncode != 0:
        _REPORT["cloud"] = f"FAILED to start (exit {proc.returncode}); logs in {BASE}/logs"
        pytest.fail(f"The OpenStack test cloud did not start (openstack-up.sh exit {proc.returncode}).\n"
                    f"--- stderr ---\n{_tail(proc.stderr)}\n--- stdout ---\n{_tail(proc.stdout)}\n"
                    f"Service logs: {BASE}/logs", pytrace=False)
    started_here = "STATUS=started" in proc.stdout
    info = CloudInfo.load(BASE, started_here)
    took = time.monotonic() - started
    if started_here:
        timings = (BASE / "timings.txt").read_text() if (BASE / "timings.txt").exists() else ""
        _REPORT["cloud"] = (f"started in {info.startup_seconds or took:.1f} s (script {took:.1f} s) at {BASE}\n"
                            f"{timings.rstrip()}")
    else:
        _REPORT["cloud"] = f"reused the one running at {BASE}"
    yield info
    SESSIONS.clear()
    if started_here and not KEEP:
        down = subprocess.run(["bash", str(SCRIPTS / "openstack-down.sh"), str(BASE)], capture_output=True,
                              text=True, timeout=300, check=False)
        _REPORT["cloud"] += "; stopped" if down.returncode == 0 else f"; openstack-down.sh failed: {down.stderr}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if "cloud" in _REPORT:
        terminalreporter.write_sep("-", "OpenStack test cloud")
        terminalreporter.write_line(_REPORT["cloud"])


@pytest.fixture(scope="session")
def provider(cloud: CloudInfo) -> str:
    return cloud.provider


@pytest.fixture(scope="session")
def demo(cloud: CloudInfo) -> Credentials:
    return cloud.credentials("demo")


@pytest.fixture
def driver(cloud: CloudInfo, demo: Credentials) -> OpenStackDriver:
    """A driver for the ``demo`` user (a plain member of project ``demo``)."""
    return OpenStackDriver(credentials=demo, provider=cloud.provider)


@pytest.fixture
def admin_driver(cloud: CloudInfo) -> OpenStackDriver:
    return OpenStackDriver(credentials=cloud.credentials("admin"), provider=cloud.provider)


@pytest.fixture(scope="session")
def admin_sdk(cloud: CloudInfo):
    """openstacksdk as the cloud's admin, for what the driver does not do (quotas, pausing)."""
    import openstack

    admin = cloud.users["admin"]
    conn = openstack.connect(auth_url=cloud.auth_url, username=admin["user"], password=admin["password"],
                             project_name=admin["project"], user_domain_name="Default",
                             project_domain_name="Default", region_name=cloud.region, load_yaml_config=False,
                             load_envvars=False)
    yield conn
    conn.close()


@pytest.fixture
def cleanup() -> Iterator[Cleanup]:
    steps = Cleanup()
    yield steps
    problems = steps.run()
    assert not problems, "clean-up failed: " + "; ".join(problems)


@pytest.fixture
def server(driver: OpenStackDriver, cloud: CloudInfo, cleanup: Cleanup):
    """A running server of the demo user (destroyed at the end of the test)."""
    instance = driver.create_instance(image_id=cloud.image_id, hwp_id="m1.tiny", name="test-server")
    cleanup.add(f"server {instance.id}", lambda: destroy_server(driver, instance.id))
    running = wait_until(lambda: driver.get_instance(instance.id), lambda i: i.state in ("RUNNING", "ERROR"),
                         what=f"server {instance.id} to run")
    assert running.state == "RUNNING", f"server {instance.id} failed to boot: {running.extra.get('fault')}"
    return running


@pytest.fixture(scope="session")
def api_url(cloud: CloudInfo) -> Iterator[str]:
    """A real ``deltacloudd -i openstack -P <test cloud>`` on a free loopback port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "OS_"))}
    with running_server(driver="openstack", provider=cloud.provider, env=env,
                        ready_path="/api/instance_states?format=json", timeout=30,
                        log_path=BASE / f"deltacloudd-{os.getpid()}.log") as url:
        yield f"{url}/api"


@pytest.fixture
def http(api_url: str, demo: Credentials) -> Iterator[httpx.Client]:
    """An HTTP client of the server, as the demo user."""
    with httpx.Client(base_url=api_url, auth=(demo.user, demo.password), timeout=60) as client:
        yield client
