"""Azure's errors as Deltacloud's, through the driver and through the server (real HTTP to Azurite,
to a closed port and to a server that never answers)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from azurite_server import ACCOUNT, KEY, free_port
from deltacloud_core import (
    AuthenticationFailure,
    AuthenticationRequired,
    Credentials,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    ValidationError,
)
from deltacloud_core.web import Settings, create_app

from deltacloud_azure_storage import AzureDriver
from deltacloud_azure_storage.errors import translated

WRONG_KEY = KEY[:-8] + "AAAAAAA="
JSON = {"Accept": "application/json"}


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


@pytest.fixture
def short_timeouts(monkeypatch, client_settings):
    settings = dataclasses.replace(client_settings, connect_timeout=1.0, read_timeout=1.0, retries=0)
    monkeypatch.setattr(AzureDriver, "SETTINGS", settings)
    return settings


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/{ACCOUNT}"


# -- through the driver --------------------------------------------------------------------------

def test_wrong_key_is_401_with_azures_code(azurite):
    driver = AzureDriver(credentials=Credentials(ACCOUNT, WRONG_KEY), provider=azurite.url)
    with pytest.raises(AuthenticationFailure) as info:
        driver.list_buckets()
    assert info.value.status == 401
    assert info.value.backend_code == "AuthorizationFailure"
    assert driver.validate_credentials() is False


def test_wrong_account_is_401(azurite):
    driver = AzureDriver(credentials=Credentials("someoneelse", KEY), provider=azurite.url)
    with pytest.raises(AuthenticationFailure):
        driver.list_buckets()


def test_key_that_is_not_base64_is_401(azurite):
    driver = AzureDriver(credentials=Credentials(ACCOUNT, "not base64!"), provider=azurite.url)
    with pytest.raises(AuthenticationFailure, match="base64"):
        driver.list_buckets()
    assert driver.validate_credentials() is False


def test_empty_user_or_key_is_401(azurite):
    for user, key in (("", KEY), (ACCOUNT, "")):
        with pytest.raises(AuthenticationFailure):
            AzureDriver(credentials=Credentials(user, key), provider=azurite.url).list_buckets()


def test_no_credentials_is_the_401_challenge(azurite):
    with pytest.raises(AuthenticationRequired):
        AzureDriver(credentials=None, provider=azurite.url).list_buckets()


def test_missing_is_404_with_azures_code(driver, bucket):
    with pytest.raises(ObjectNotFound) as info:
        driver.blob_content(bucket, "nope")
    assert (info.value.status, info.value.backend_code) == (404, "BlobNotFound")
    assert info.value.message == "The specified blob does not exist."


def test_unreachable_endpoint_is_502():
    driver = AzureDriver(credentials=Credentials(ACCOUNT, KEY), provider=_closed_port_url())
    with pytest.raises(ProviderError) as info:
        driver.list_buckets()
    assert info.value.status == 502
    assert "could not be reached" in info.value.message


def test_silent_endpoint_is_504(silent_server, short_timeouts):
    driver = AzureDriver(credentials=Credentials(ACCOUNT, KEY), provider=f"http://127.0.0.1:{silent_server}/x")
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as info:
        driver.get_bucket("any")
    assert info.value.status == 504
    assert time.monotonic() - started < 10


def test_bad_provider_is_400(azurite):
    for provider in ("ftp://example.com/x", "http://", "https://host/acct?sv=2020&sig=x"):
        with pytest.raises(ValidationError):
            AzureDriver(credentials=Credentials(ACCOUNT, KEY), provider=provider).list_buckets()


def test_non_azure_exceptions_pass_through_untouched():
    with pytest.raises(KeyError), translated():
        raise KeyError("not ours")


# -- through the server ----------------------------------------------------------------------------

def _server(provider: str):
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

    return TestClient(create_app(Settings(default_driver="azure", default_provider=provider)))


def test_http_wrong_key_is_401(client):
    listing = client.get("/api/buckets", headers=JSON, auth=(ACCOUNT, WRONG_KEY))
    assert listing.status_code == 401
    assert listing.json()["error"] == "Deltacloud::Exceptions::AuthenticationFailure"
    shown = client.get("/api/buckets/anything", headers={"Accept": "application/xml"}, auth=(ACCOUNT, WRONG_KEY))
    assert shown.status_code == 401
    assert "<code>AuthorizationFailure</code>" in shown.text  # Azure's code in the error document
    assert "Authentication Failure" in shown.text
    forced = client.get("/api?force_auth=1", auth=(ACCOUNT, WRONG_KEY))
    assert (forced.status_code, forced.text) == (401, "Authentication failed")
    assert client.get("/api?force_auth=1", headers=JSON).status_code == 200


def test_http_missing_is_404(client, bucket):
    reply = client.get(f"/api/buckets/{bucket}/nope", headers=JSON)
    assert reply.status_code == 404
    content = client.get(f"/api/buckets/{bucket}/nope/content", headers=JSON)
    assert content.status_code == 404
    assert content.json()["backend_code"] == "BlobNotFound"
    assert client.get("/api/buckets/no-such-container", headers=JSON).status_code == 404
    deleted = client.delete("/api/buckets/no-such-container", headers=JSON)
    assert deleted.status_code == 404
    assert deleted.json()["backend_code"] == "ContainerNotFound"
    put = client.put("/api/buckets/no-such-container/x", content=b"x", headers=JSON)
    assert put.status_code == 404
    assert put.json()["backend_code"] == "ContainerNotFound"


def test_http_existing_container_is_409(client, bucket):
    reply = client.post("/api/buckets", data={"name": bucket}, headers=JSON)
    assert reply.status_code == 409
    assert reply.json()["error"] == "Deltacloud::Exceptions::Conflict"
    assert reply.json()["backend_code"] == "ContainerAlreadyExists"


def test_http_invalid_names_are_400(client, bucket):
    reply = client.post("/api/buckets", data={"name": "X"}, headers=JSON)
    assert reply.status_code == 400
    assert reply.json()["backend_code"] in ("OutOfRangeInput", "InvalidResourceName")
    meta = client.put(f"/api/buckets/{bucket}/b", content=b"x",
                      headers={**JSON, "X-Deltacloud-Blobmeta-Content-Language": "en"})
    assert meta.status_code == 400
    assert "C# identifiers" in meta.json()["message"]


def test_http_non_empty_bucket_is_403(client, bucket):
    assert client.put(f"/api/buckets/{bucket}/b", content=b"x", headers=JSON).status_code == 200
    assert client.delete(f"/api/buckets/{bucket}", headers=JSON).status_code == 403


def test_http_unreachable_endpoint_is_502():
    with _server(_closed_port_url()) as server:
        reply = server.get("/api/buckets", headers=JSON, auth=(ACCOUNT, KEY))
        assert reply.status_code == 502
        assert reply.json()["error"] == "Deltacloud::Exceptions::ProviderError"
        shown = server.get("/api/buckets/x", headers=JSON, auth=(ACCOUNT, KEY))
        assert shown.status_code == 502
        assert "could not be reached" in shown.json()["message"]


def test_http_silent_endpoint_is_504(silent_server, short_timeouts):
    with _server(f"http://127.0.0.1:{silent_server}/{ACCOUNT}") as server:
        reply = server.get("/api/buckets/x", headers=JSON, auth=(ACCOUNT, KEY))
        assert reply.status_code == 504
        assert reply.json()["error"] == "Deltacloud::Exceptions::ProviderTimeout"


def test_http_provider_per_request(client, azurite):
    """X-Deltacloud-Provider chooses the endpoint for one request."""
    bad = client.get("/api/buckets", headers={**JSON, "X-Deltacloud-Provider": _closed_port_url()})
    assert bad.status_code == 502
    with contextlib.closing(_server(_closed_port_url())) as server:
        good = server.get("/api/buckets", headers={**JSON, "X-Deltacloud-Provider": azurite.url}, auth=(ACCOUNT, KEY))
        assert good.status_code == 200


def test_upload_body_is_not_read_for_refused_metadata(driver, bucket):
    class Exploding(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the body must not be read")

    with pytest.raises(ValidationError):
        driver.create_blob(bucket, "x", data=Exploding(), content_type="", user_metadata={"a-b": "1"})
