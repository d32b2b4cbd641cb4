"""``deltacloudd -i libvirt`` against the tests' libvirtd with QEMU: the kit's HTTP checks (life cycle of
real QEMU domains included), and the credentials passed through the server to SASL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from deltacloud_core import Credentials
from deltacloud_core.testing import ApiConformance, ConformanceSettings
from deltacloud_core.testing.server import running_server

from deltacloud_libvirt import LibvirtDriver

from .libvirtd import IMAGE, PASSWORD, USER

pytestmark = pytest.mark.qemu
SERVER_ENV = {"DELTACLOUD_LIBVIRT_NETWORK": "none", "DELTACLOUD_LIBVIRT_STOP_GRACE": "2"}


@pytest.fixture(scope="module")
def qemu_server(qemu_daemon) -> Iterator[str]:
    env = {**os.environ, **SERVER_ENV}
    env.pop("DELTACLOUD_LIBVIRT_NO_AUTH_URIS", None)
    with running_server(driver="libvirt", provider=qemu_daemon.uri, env=env) as url:
        yield url


class TestQemuOverHttp(ApiConformance):
    """The kit's HTTP-level suite, aimed at a real deltacloudd in front of real QEMU domains."""

    settings = ConformanceSettings(max_examples=2, stateful_steps=5, max_instances=1, poll_interval=0.2,
                                   settle_timeout=30.0, step_timeout=60.0, sample_size=3,
                                   instance_params={"image_id": IMAGE, "hwp_id": "default", "hwp_memory": "256"})

    @pytest.fixture
    def driver(self, qemu_daemon, qemu_env) -> LibvirtDriver:
        return LibvirtDriver(credentials=Credentials(USER, PASSWORD), provider=qemu_daemon.uri)

    @pytest.fixture
    def http_client(self, qemu_server) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=qemu_server, auth=(USER, PASSWORD), timeout=60) as client:
            yield client


def test_wrong_password_through_the_server_is_401_with_libvirts_message(qemu_server):
    reply = httpx.get(f"{qemu_server}/api/images/{IMAGE}", auth=(USER, "wrong"), headers={"Accept": "application/json"},
                      timeout=30)
    assert reply.status_code == 401, reply.text
    assert "authentication failed" in reply.json()["message"]
    good = httpx.get(f"{qemu_server}/api/images/{IMAGE}", auth=(USER, PASSWORD), headers={"Accept": "application/json"},
                     timeout=30)
    assert good.status_code == 200, good.text
