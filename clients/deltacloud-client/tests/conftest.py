"""The client's test session: real servers, started here, stopped at the end.

* ``server``: one ``deltacloudd`` (the conformance kit's ``running_server``) on a free loopback port,
  default driver mock with its store in a temporary directory, and ``AWS_ENDPOINT_URL`` pointing
  at the session's moto, so the same server also answers ``driver=ec2`` (per-request switching).
* ``moto``: moto's standalone server, started by the ec2 plugin's own helper
  (``plugins/deltacloud-ec2/tests/moto_process.py``, loaded from its file: it is not a package),
  with that plugin's small AMI catalogue.

Tests make their own instances, blobs and keys; the mock's fixture data (inst0..inst3, img1..img3,
bucket1, ...) is only read, so tests do not depend on each other's order.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from deltacloud_core.testing.server import running_server

TESTS = Path(__file__).resolve().parent
CLIENT = TESTS.parent
REPO = CLIENT.parent.parent
EC2_TESTS = REPO / "plugins" / "deltacloud-ec2" / "tests"
MOCK_AUTH = ("mockuser", "mockpassword")
#: Any key pair does for moto; the ec2 plugin's tests use the same.
AWS_AUTH = ("AKIADELTACLOUDTEST01", "deltacloud/test/secret/key/000000000000000")
EC2_IMAGE = "ami-dc0001"  # x86_64, EBS-backed (stop/start), from the ec2 plugin's amis.json
START_TIMEOUT = 60.0


def _moto_process() -> ModuleType:
    path = EC2_TESTS / "moto_process.py"
    if not path.exists():
        pytest.fail(f"the ec2 plugin's moto helper is missing ({path})", pytrace=False)
    spec = importlib.util.spec_from_file_location("deltacloud_ec2_tests_moto_process", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Server:
    url: str
    log: Path

    def env(self, **extra: str) -> dict[str, str]:
        """An environment for the ``deltacloud`` command against this server (mock credentials)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DELTACLOUD_")}
        env.update({"DELTACLOUD_URL": self.url, "DELTACLOUD_USER": MOCK_AUTH[0],
                    "DELTACLOUD_PASSWORD": MOCK_AUTH[1], "NO_COLOR": "1", "COLUMNS": "200"})
        env.update(extra)
        return env


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if importlib.util.find_spec("moto") is None:
        pytest.fail("moto is not installed: pip install -e 'clients/deltacloud-client[test]'", pytrace=False)
    helper = _moto_process()
    server = helper.MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, moto: object) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("deltacloudd")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELTACLOUD_"))}
    env.update({"DELTACLOUD_MOCK_STORAGE": str(base / "mock"), "AWS_ENDPOINT_URL": moto.url})  # type: ignore[attr-defined]
    log = base / "deltacloudd.log"
    with running_server(driver="mock", env=env, timeout=START_TIMEOUT, log_path=log) as url:
        yield Server(url, log)


@pytest.fixture
def dc(server: Server) -> Iterator[object]:
    from deltacloud_client import Client

    with Client(server.url, *MOCK_AUTH) as client:
        yield client
