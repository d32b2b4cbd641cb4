"""Credentials and providers: which API a request uses, and refusals that say why."""

from __future__ import annotations

import base64

import pytest
from deltacloud_google.credentials import HmacKey, ServiceAccountKey, parse_credentials
from deltacloud_google.driver import SCOPE, GoogleDriver, _json_storage
from deltacloud_google.provider import GOOGLE_ENDPOINT, resolve
from deltacloud_google.settings import Settings
from keys import EMAIL, PROJECT, key_base64, key_json, private_key

from deltacloud_core import AuthenticationFailure, Credentials, ValidationError


def test_service_account_key_as_json_or_base64():
    for password in (key_json(), key_base64(), key_base64().rstrip("=")):
        key = parse_credentials(Credentials(EMAIL, password))
        assert isinstance(key, ServiceAccountKey)
        assert (key.client_email, key.project_id) == (EMAIL, PROJECT)
        assert "PRIVATE KEY" not in repr(key)  # the key never shows


def test_hmac_key():
    key = parse_credentials(Credentials("GOOG1EXAMPLEACCESSID", "bGFtZS1zZWNyZXQtZm9yLXRlc3Rz+/abc"))
    assert key == HmacKey("GOOG1EXAMPLEACCESSID", "bGFtZS1zZWNyZXQtZm9yLXRlc3Rz+/abc")
    assert "bGFt" not in repr(key)


@pytest.mark.parametrize(("user", "password", "message"), [
    ("", "x", "HMAC key"),
    ("someone@else.iam.gserviceaccount.com", key_json(), "client_email"),
    (EMAIL, '{"type": "authorized_user"}', "service_account"),
    (EMAIL, '{"type": "service_account", "client_email": "x"}', "lacks"),
    (EMAIL, '{"type": "service_account"', "not valid JSON"),
    (EMAIL, base64.b64encode(b'{"type": ').decode(), "not valid JSON"),
])
def test_refused_credentials_say_why(user, password, message):
    with pytest.raises(AuthenticationFailure) as err:
        parse_credentials(Credentials(user, password))
    assert message in err.value.message
    assert "PRIVATE" not in err.value.message


def test_a_refused_key_is_a_401_over_http(client):
    client.auth = ("someone@else.iam.gserviceaccount.com", key_json())
    assert client.get("/api/buckets").status_code == 401  # lists answer the generic message
    reply = client.get("/api/buckets/any-bucket")
    assert reply.status_code == 401
    assert "client_email" in reply.json()["message"]


def test_providers(monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    assert resolve(None).endpoint == GOOGLE_ENDPOINT and resolve(None).project is None
    assert resolve("my-project").project == "my-project"
    target = resolve("my-project;endpoint=127.0.0.1:4443")
    assert (target.project, target.endpoint, target.custom) == ("my-project", "http://127.0.0.1:4443", True)
    assert resolve("endpoint=https://storage.googleapis.com/").custom is False
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9999")
    assert resolve("other-project").endpoint == "http://127.0.0.1:9999"  # honoured as Google's tools do
    assert resolve("other-project;endpoint=http://h:1").endpoint == "http://h:1"  # the provider wins
    for bad in ("Not_A_Project", "a=b", "endpoint="):
        with pytest.raises(ValidationError):
            resolve(bad)


def test_service_account_credentials_for_google_itself():
    """Against https endpoints the SDK gets real service-account credentials (google-auth fetches
    their token from the key's token_uri: no emulator serves that, so it is checked here offline:
    the credentials are the key's, with the storage scope, and sign with the key)."""
    key = parse_credentials(Credentials(EMAIL, key_json()))
    storage = _json_storage(key, GOOGLE_ENDPOINT, None, Settings())
    credentials = storage.client._credentials
    assert credentials.service_account_email == EMAIL
    assert tuple(credentials.scopes) == (SCOPE,)
    assert storage.project == PROJECT
    signature = credentials.sign_bytes(b"deltacloud")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    private_key().public_key().verify(signature, b"deltacloud", padding.PKCS1v15(), hashes.SHA256())
    plain = _json_storage(key, "http://127.0.0.1:1", None, Settings())
    from google.auth.credentials import AnonymousCredentials

    assert isinstance(plain.client._credentials, AnonymousCredentials)  # no token in clear text


def test_entry_point_offers_buckets_only(client):
    rels = {link["rel"] for link in client.get("/api/").json()["api"]["links"]}
    assert rels == {"buckets", "drivers"}
    assert GoogleDriver.has_feature("buckets", "bucket_location")


def test_provider_policy_sees_the_endpoint_host(client):
    assert GoogleDriver.provider_hosts("p-roject;endpoint=metadata.google.internal") == ["metadata.google.internal"]
    assert GoogleDriver.provider_hosts("endpoint=http://169.254.169.254:80") == ["169.254.169.254"]
    reply = client.get("/api/buckets/b", headers={"X-Deltacloud-Provider": "endpoint=169.254.169.254"})
    assert reply.status_code == 403  # a metadata address is never reached
