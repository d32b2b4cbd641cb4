"""A stalled EC2 endpoint fills only its own bulkhead (issue 21): ``deltacloudd`` in front of two
moto servers, one of them stopped (SIGSTOP: it accepts connections and never answers), the mock
beside them. While the stopped endpoint's requests hang, the other endpoint's and the mock's
answer; when it resumes, the hung ones answer too. Nothing asserts on speed.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import AUTH
from moto_process import MotoServer
from prometheus_client.parser import text_string_to_metric_families

from deltacloud_core.testing.server import running_server

BOUND = 90.0
SHARE = 3


@pytest.fixture
def stalled_moto(tmp_path: Path) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path / "stalled-moto.log").start()
    try:
        yield server
    finally:
        assert server.process is not None
        server.process.send_signal(signal.SIGCONT)
        server.stop()


@pytest.fixture
def server(moto_server: MotoServer, tmp_path: Path) -> Iterator[str]:
    moto_server.reset()
    env = {**os.environ, "DELTACLOUD_MOCK_STORAGE": str(tmp_path / "mock"), "DELTACLOUD_BULKHEADS": f"ec2={SHARE}",
           "DELTACLOUD_BULKHEAD_QUEUE": "0", "DELTACLOUD_EC2_READ_TIMEOUT": "120", "AWS_MAX_ATTEMPTS": "1",
           "DELTACLOUD_BACKEND_TIMEOUT": "120"}
    with running_server(driver="mock", env=env, args=["--metrics-path", "/metrics"], timeout=60,
                        log_path=tmp_path / "deltacloudd.log") as url:
        yield url


def in_flight(server: str, provider: str) -> float:
    text = httpx.get(f"{server}/metrics", timeout=BOUND).text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == "deltacloud_bulkhead_in_flight" and s.labels == {"driver": "ec2", "provider": provider})


def ec2_instances(server: str, provider: str | None = None) -> httpx.Response:
    headers = {"Accept": "application/json", "X-Deltacloud-Driver": "ec2"}
    if provider:
        headers["X-Deltacloud-Provider"] = provider
    return httpx.get(f"{server}/api/instances", headers=headers, auth=AUTH, timeout=BOUND)


def test_a_stopped_endpoint_delays_neither_another_endpoint_nor_the_mock(server, stalled_moto):
    assert stalled_moto.process is not None
    provider = stalled_moto.url
    assert ec2_instances(server, provider).status_code == 200  # the client is built, the endpoint works
    stalled_moto.process.send_signal(signal.SIGSTOP)
    with ThreadPoolExecutor(SHARE) as pool:
        hung = [pool.submit(ec2_instances, server, provider) for _ in range(SHARE)]
        deadline = time.monotonic() + BOUND
        while in_flight(server, provider) < SHARE:
            assert time.monotonic() < deadline, "the stopped endpoint's share never filled"
        refused = ec2_instances(server, provider)
        assert refused.status_code == 503 and "Retry-After" in refused.headers
        assert ec2_instances(server).status_code == 200  # the session's moto, through the same driver
        mock = httpx.get(f"{server}/api/instances", headers={"Accept": "application/json"},
                         auth=("mockuser", "mockpassword"), timeout=BOUND)
        assert mock.status_code == 200
        assert not any(f.done() for f in hung), "the stopped endpoint answered"
        stalled_moto.process.send_signal(signal.SIGCONT)
        assert [f.result(timeout=BOUND).status_code for f in hung] == [200] * SHARE
