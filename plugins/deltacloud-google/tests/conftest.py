"""The test session's Google Cloud Storage: fake-gcs-server on a free loopback port.

The driver talks to it as to Google (provider ``PROJECT;endpoint=http://127.0.0.1:PORT``), with a
service-account key made for the session; tests isolate themselves by bucket names of their
own. If the emulator cannot start, every test that needs it fails with the reason.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator

import pytest
from deltacloud_google import GoogleDriver
from deltacloud_google.settings import Settings
from fake_gcs import FakeGcs, FakeGcsError
from keys import EMAIL, PROJECT, key_json

from deltacloud_core import Credentials

#: Small chunks so that a few MiB already take the resumable, many-chunk path.
TEST_SETTINGS = Settings(connect_timeout=5.0, read_timeout=30.0, retry_seconds=0, chunk_size=256 * 1024)
CREDENTIALS = Credentials(EMAIL, key_json())


@pytest.fixture(scope="session")
def gcs() -> Iterator[FakeGcs]:
    try:
        server = FakeGcs().start()
    except FakeGcsError as exc:
        pytest.fail(f"fake-gcs-server is needed for these tests and could not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(GoogleDriver, "SETTINGS", TEST_SETTINGS)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    return TEST_SETTINGS


@pytest.fixture
def provider(gcs: FakeGcs) -> str:
    return f"{PROJECT};endpoint={gcs.url}"


@pytest.fixture
def driver(provider: str) -> GoogleDriver:
    return GoogleDriver(credentials=CREDENTIALS, provider=provider)


@pytest.fixture(scope="session")
def sdk(gcs: FakeGcs):
    """google-cloud-storage straight on the emulator, to set up and check what the driver did."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": gcs.url})


def new_name(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


@pytest.fixture
def bucket(sdk) -> Iterator[str]:
    """A fresh, empty bucket; removed with what it holds afterwards."""
    name = new_name("b")
    sdk.create_bucket(name)
    yield name
    found = sdk.lookup_bucket(name)
    if found is not None:
        for blob in sdk.list_blobs(name):
            blob.delete()
        found.delete()


@pytest.fixture
def app(provider: str):
    from deltacloud_core.web import Settings as WebSettings
    from deltacloud_core.web import create_app

    return create_app(WebSettings(default_driver="google", default_provider=provider))


def test_client(app, **kwargs):
    from starlette.exceptions import StarletteDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

        return TestClient(app, **kwargs)


test_client.__test__ = False  # a helper, not a test


@pytest.fixture
def client(app) -> Iterator:
    with test_client(app, base_url="http://127.0.0.1:3001") as http:
        http.auth = (EMAIL, key_json())
        http.headers["Accept"] = "application/json"
        yield http
