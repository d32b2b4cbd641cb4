"""The test session's Azurite (a real Azure blob service, from npm) and clients of it.

One Azurite blob service runs for the whole session on a free loopback port with its data in
a temporary directory; tests isolate themselves by using containers of their own. If Azurite
cannot be installed or started, every test that needs it fails (never skips) with the reason.
"""

from __future__ import annotations

import contextlib
import secrets
import warnings
from collections.abc import Iterator

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient
from azurite_server import ACCOUNT, KEY, Azurite, AzuriteError
from deltacloud_core import Credentials
from deltacloud_core.web import Settings, create_app

from deltacloud_azure_storage import AzureDriver
from deltacloud_azure_storage.client import ClientSettings

#: Fast-failing client settings for tests (the defaults retry with back-off).
TEST_SETTINGS = ClientSettings(connect_timeout=5.0, read_timeout=30.0, retries=0, retry_backoff=0.1)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    try:
        server = Azurite().start()
    except AzuriteError as exc:
        pytest.fail(f"Azurite is needed for these tests and could not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def client_settings(monkeypatch: pytest.MonkeyPatch) -> ClientSettings:
    """Every test starts from TEST_SETTINGS (a test may replace AzureDriver.SETTINGS again)."""
    monkeypatch.setattr(AzureDriver, "SETTINGS", TEST_SETTINGS)
    return TEST_SETTINGS


@pytest.fixture
def driver(azurite: Azurite) -> AzureDriver:
    return AzureDriver(credentials=Credentials(ACCOUNT, KEY), provider=azurite.url)


@pytest.fixture(scope="session")
def sdk(azurite: Azurite) -> BlobServiceClient:
    """The SDK straight on Azurite, to set up and check what the driver did."""
    return BlobServiceClient(azurite.url, credential={"account_name": ACCOUNT, "account_key": KEY})


def new_name(prefix: str = "t") -> str:
    """A container name Azure accepts (lower case, 3-63 characters), unique in the session."""
    return f"{prefix}-{secrets.token_hex(6)}"


@pytest.fixture
def bucket(sdk: BlobServiceClient) -> Iterator[str]:
    """A fresh, empty container; removed with whatever it holds afterwards."""
    name = new_name("b")
    sdk.create_container(name)
    yield name
    with contextlib.suppress(ResourceNotFoundError):
        sdk.delete_container(name)


@pytest.fixture
def app(azurite: Azurite):
    return create_app(Settings(default_driver="azure", default_provider=azurite.url))


def _test_client(app, **kwargs):
    from starlette.exceptions import StarletteDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

        return TestClient(app, **kwargs)


@pytest.fixture
def client(app) -> Iterator:
    """Starlette's TestClient on a server whose default driver is azure on Azurite, with the dev account."""
    with _test_client(app) as test_client:
        test_client.auth = (ACCOUNT, KEY)
        yield test_client


@pytest.fixture
def anonymous(app) -> Iterator:
    with _test_client(app) as test_client:
        yield test_client
