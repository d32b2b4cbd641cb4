"""The HMAC-key path (the XML API, which speaks S3 with SigV4 signatures) on SeaweedFS.

No GCS emulator serves the XML API with HMAC signatures (fake-gcs-server refuses object PUTs
there, gcp-storage-emulator has no bucket calls): SeaweedFS, an S3 server that checks every
signature, stands in for Google's XML endpoint. What it proves: HMAC credentials select the XML
API, requests are signed with the secret (a wrong one is refused, 401), buckets and blobs with
metadata, multipart uploads and ranged reads work over it. What it cannot: Google's own XML
dialect (``x-goog-*`` headers, its error bodies); the driver sends only the S3 forms Google's
XML API documents as interoperable.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Iterator

import pytest
from deltacloud_google import GoogleDriver
from deltacloud_google.xml_api import XmlStorage

from deltacloud_core import AuthenticationFailure, ByteRange, Credentials, ForbiddenError
from deltacloud_core.testing.blob_http import check_range_downloads
from deltacloud_core.testing.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS, SeaweedFSError

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def seaweedfs() -> Iterator[SeaweedFS]:
    try:
        store = SeaweedFS().start()
    except SeaweedFSError as exc:
        pytest.fail(f"SeaweedFS is needed for the HMAC tests and could not start: {exc}", pytrace=False)
    try:
        yield store
    finally:
        store.stop()


@pytest.fixture
def xml_provider(seaweedfs: SeaweedFS) -> str:
    return f"endpoint={seaweedfs.url}"


@pytest.fixture
def hmac_driver(xml_provider: str) -> GoogleDriver:
    return GoogleDriver(credentials=Credentials(ACCESS_KEY, SECRET_KEY), provider=xml_provider)


def test_hmac_credentials_use_the_xml_api(hmac_driver: GoogleDriver, seaweedfs: SeaweedFS):
    assert isinstance(hmac_driver.storage(), XmlStorage)
    assert hmac_driver.validate_credentials()
    name = f"hmac-{secrets.token_hex(4)}"
    hmac_driver.create_bucket(name=name)
    blob = hmac_driver.create_blob(name, "a/b.txt", data=io.BytesIO(b"hello xml"), content_type="text/plain",
                                   user_metadata={"owner": "kit"})
    assert (blob.content_length, blob.content_type, dict(blob.user_metadata)) == (9, "text/plain", {"owner": "kit"})
    assert seaweedfs.client().head_object(Bucket=name, Key="a/b.txt")["Metadata"] == {"owner": "kit"}
    assert hmac_driver.get_bucket(name).blob_ids == ("a/b.txt",)
    assert b"".join(hmac_driver.blob_content(name, "a/b.txt", byte_range=ByteRange(start=6))) == b"xml"
    assert hmac_driver.update_blob_metadata(name, "a/b.txt", {"owner": "other"}) == {"owner": "other"}
    with pytest.raises(ForbiddenError):
        hmac_driver.destroy_bucket(name)
    hmac_driver.destroy_blob(name, "a/b.txt")
    hmac_driver.destroy_bucket(name)
    assert hmac_driver.get_bucket(name) is None


def test_a_wrong_hmac_secret_is_refused(xml_provider: str):
    wrong = GoogleDriver(credentials=Credentials(ACCESS_KEY, "not-the-secret"), provider=xml_provider)
    assert not wrong.validate_credentials()
    with pytest.raises(AuthenticationFailure) as err:
        wrong.list_buckets()
    assert err.value.backend_code == "SignatureDoesNotMatch"


def test_big_bodies_are_multipart_uploads(xml_provider: str, seaweedfs: SeaweedFS):
    class SmallParts(GoogleDriver):
        def storage(self):
            storage = super().storage()
            storage.PART_SIZE = 5 * MiB  # S3's smallest part, on this request's engine only
            return storage

    driver = SmallParts(credentials=Credentials(ACCESS_KEY, SECRET_KEY), provider=xml_provider)
    name = f"hmac-{secrets.token_hex(4)}"
    driver.create_bucket(name=name)
    data = os.urandom(11 * MiB)
    blob = driver.create_blob(name, "big.bin", data=io.BytesIO(data), content_type="", user_metadata={})
    assert blob.etag.endswith("-3")
    assert hashlib.sha256(b"".join(driver.blob_content(name, "big.bin"))).digest() == hashlib.sha256(data).digest()
    driver.destroy_blob(name, "big.bin")
    driver.destroy_bucket(name)


def test_ranges_over_http_with_an_hmac_key(xml_provider: str):
    from conftest import test_client

    from deltacloud_core.web import Settings, create_app

    app = create_app(Settings(default_driver="google", default_provider=xml_provider))
    name = f"hmac-{secrets.token_hex(4)}"
    data = os.urandom(20_000)
    with test_client(app) as http:
        http.auth = (ACCESS_KEY, SECRET_KEY)
        http.headers["Accept"] = "application/json"
        assert http.post("/api/buckets", data={"name": name}).status_code == 201
        assert http.put(f"/api/buckets/{name}/r", content=data,
                        headers={"Content-Type": "application/octet-stream"}).status_code == 200
        check_range_downloads(http, f"/api/buckets/{name}/r/content", data)
        assert http.delete(f"/api/buckets/{name}/r").status_code == 204
        assert http.delete(f"/api/buckets/{name}").status_code == 204
