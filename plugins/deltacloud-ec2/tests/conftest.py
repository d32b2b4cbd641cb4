"""The test session's AWS: moto's standalone server on a free loopback port, reset before each test.

The server starts once per session (``moto_server`` as a child process) and stops at the end.
For the whole session ``AWS_ENDPOINT_URL`` points at it, so every driver call, from any test,
goes over real HTTP to moto and never to AWS. Tests that use AWS state take ``moto`` (or a
fixture built on it), which wipes the state first.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from deltacloud_ec2 import EC2Driver
from moto_process import MotoServer

from deltacloud_core import Credentials

BASE_URL = "http://127.0.0.1:3001"
#: Any key pair does for moto (one account, 123456789012); these look like real ones.
ACCESS_KEY = "AKIADELTACLOUDTEST01"
SECRET_KEY = "deltacloud/test/secret/key/000000000000000"
CREDENTIALS = Credentials(ACCESS_KEY, SECRET_KEY)
AUTH = (ACCESS_KEY, SECRET_KEY)
#: The images of ``data/amis.json`` (moto serves them as Amazon's).
IMAGE_X86_64 = "ami-dc0001"
IMAGE_I386 = "ami-dc0002"
IMAGE_INSTANCE_STORE = "ami-dc0003"
IMAGE_ARM64 = "ami-dc0004"


@contextmanager
def calls_of(client: Any, operation: str) -> Iterator[list[dict[str, Any]]]:
    """The parameters of every ``operation`` call a boto3 client makes inside the block.

    botocore's own event hook (``provide-client-params``), registered for the block only: it
    observes the requests the driver sends, it changes nothing in them.
    """
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_kwargs: Any) -> None:
        seen.append(dict(params))

    event = f"provide-client-params.ec2.{operation}"
    client.meta.events.register(event, record, unique_id=f"deltacloud-test-{id(seen)}")
    try:
        yield seen
    finally:
        client.meta.events.unregister(event, unique_id=f"deltacloud-test-{id(seen)}")


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        pytest.fail("moto's server is not installed: pip install -e 'plugins/deltacloud-ec2[test]'", pytrace=False)
    log = Path(tmp_path_factory.mktemp("moto")) / "moto_server.log"
    server = MotoServer(log).start()
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    for name in list(saved):
        del os.environ[name]
    os.environ["AWS_ENDPOINT_URL"] = server.url
    try:
        yield server
    finally:
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)
        server.stop()


@pytest.fixture(scope="session")
def moto_instance_types(moto_server: MotoServer) -> dict[str, dict[str, Any]]:
    """Every instance type moto describes, asked of it once with boto3 directly (a reset keeps them;
    moto takes seconds to describe its ~1,400 types)."""
    import boto3

    ec2 = boto3.client("ec2", endpoint_url=moto_server.url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                       aws_secret_access_key=SECRET_KEY)
    return {t["InstanceType"]: t for t in ec2.describe_instance_types()["InstanceTypes"]}


@pytest.fixture
def moto(moto_server: MotoServer) -> MotoServer:
    """The session's moto server, wiped clean for this test."""
    moto_server.reset()
    return moto_server


@pytest.fixture
def driver(moto: MotoServer) -> EC2Driver:
    return EC2Driver(credentials=CREDENTIALS)


@pytest.fixture
def app(moto: MotoServer):
    from deltacloud_core.web import Settings, create_app

    return create_app(Settings(default_driver="ec2"))


@pytest.fixture
def client(app) -> Iterator[httpx.Client]:
    """A client of the in-process server (default driver ec2), with the test's AWS credentials."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url=BASE_URL) as test_client:
        test_client.auth = AUTH
        test_client.headers["Accept"] = "application/xml"  # as Deltacloud clients send (*/* means HTML)
        yield test_client


@pytest.fixture
def anon(app) -> Iterator[httpx.Client]:
    from starlette.testclient import TestClient

    with TestClient(app, base_url=BASE_URL) as test_client:
        test_client.headers["Accept"] = "application/xml"
        yield test_client
