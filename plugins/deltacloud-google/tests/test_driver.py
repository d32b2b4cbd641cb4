"""The google driver against fake-gcs-server through the JSON API (service-account key)."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from conftest import CREDENTIALS, new_name
from deltacloud_google import GoogleDriver
from deltacloud_google.json_api import JsonStorage

from deltacloud_core import ByteRange, Conflict, ForbiddenError, ObjectNotFound, RangeNotSatisfiable


def test_the_json_api_is_used_for_a_service_account(driver: GoogleDriver):
    assert isinstance(driver.storage(), JsonStorage)
    assert driver.validate_credentials()


def test_buckets(driver: GoogleDriver, sdk):
    name = new_name("dc")
    bucket = driver.create_bucket(name=name, location="EUROPE-WEST1")
    assert (bucket.id, bucket.size, bucket.blob_ids) == (name, 0, ())
    # fake-gcs-server puts every bucket in its own -location (US-CENTRAL1) whatever the request
    # says: the driver reports what the store answered.
    assert bucket.extra["location"] == sdk.get_bucket(name).location
    assert name in [b.id for b in driver.list_buckets()]
    assert [b.id for b in driver.list_buckets(id=name)] == [name]
    assert driver.get_bucket(name).size == 0
    assert driver.get_bucket(new_name("none")) is None
    with pytest.raises(Conflict) as err:
        driver.create_bucket(name=name)
    assert "already exists" in err.value.message  # Google's message, kept
    driver.destroy_bucket(name)
    assert driver.get_bucket(name) is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_bucket(name)


def test_blob_round_trip_with_metadata(driver: GoogleDriver, bucket: str, sdk):
    blob = driver.create_blob(bucket, "dir/hello.txt", data=io.BytesIO(b"This is the test blob content"),
                              content_type="text/plain", user_metadata={"version": "1.0", "author": "herpyderp"},
                              content_length=29)
    assert (blob.id, blob.bucket, blob.content_length, blob.content_type) == ("dir/hello.txt", bucket, 29,
                                                                             "text/plain")
    assert dict(blob.user_metadata) == {"version": "1.0", "author": "herpyderp"}
    assert blob.etag and blob.last_modified.endswith("+0000")
    stored = sdk.bucket(bucket).get_blob("dir/hello.txt")
    assert (stored.metadata, stored.content_type) == ({"version": "1.0", "author": "herpyderp"}, "text/plain")
    assert driver.get_bucket(bucket).blob_ids == ("dir/hello.txt",)
    assert b"".join(driver.blob_content(bucket, "dir/hello.txt")) == b"This is the test blob content"
    assert driver.blob_metadata(bucket, "dir/hello.txt") == {"version": "1.0", "author": "herpyderp"}
    updated = driver.update_blob_metadata(bucket, "dir/hello.txt", {"version": "2.5", "updated": "true"})
    assert updated == {"version": "2.5", "updated": "true"}  # replaced, not merged
    assert sdk.bucket(bucket).get_blob("dir/hello.txt").metadata == {"version": "2.5", "updated": "true"}
    with pytest.raises(ForbiddenError):
        driver.destroy_bucket(bucket)
    driver.destroy_blob(bucket, "dir/hello.txt")
    assert driver.get_blob(bucket, "dir/hello.txt") is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_blob(bucket, "dir/hello.txt")


def test_unknown_blobs_and_buckets(driver: GoogleDriver, bucket: str):
    assert driver.get_blob(bucket, "nope") is None
    assert driver.get_blob(new_name("none"), "nope") is None
    assert driver.blob_metadata(bucket, "nope") is None
    assert driver.update_blob_metadata(bucket, "nope", {"a": "b"}) is None
    with pytest.raises(ObjectNotFound):
        driver.blob_content(bucket, "nope")
    with pytest.raises(ObjectNotFound):
        driver.create_blob(new_name("none"), "x", data=io.BytesIO(b"x"), content_type="text/plain", user_metadata={})


def test_blob_without_content_type(driver: GoogleDriver, bucket: str):
    blob = driver.create_blob(bucket, "untyped", data=io.BytesIO(b"abc"), content_type="", user_metadata={})
    assert blob.content_type in ("", "application/octet-stream")
    assert dict(blob.user_metadata) == {}


class Generated(io.RawIOBase):
    """``size`` random bytes made on demand; remembers the largest read asked of it."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.largest_read = 0
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the driver must read the body in bounded pieces")
        self.largest_read = max(self.largest_read, size)
        data = os.urandom(min(size, self.remaining, 64 * 1024))
        self.remaining -= len(data)
        self.sha.update(data)
        return data


def test_large_blob_goes_up_in_chunks_and_comes_down_streamed(driver: GoogleDriver, bucket: str, settings):
    size = 10 * settings.chunk_size + 12345  # eleven resumable chunks
    body = Generated(size)
    blob = driver.create_blob(bucket, "big.bin", data=body, content_type="application/x-big",
                              user_metadata={"kind": "large"})
    assert body.largest_read <= settings.chunk_size  # never more than one chunk in memory
    assert (blob.content_length, blob.content_type, dict(blob.user_metadata)) == (size, "application/x-big",
                                                                                 {"kind": "large"})
    stream = driver.blob_content(bucket, "big.bin")
    seen = hashlib.sha256()
    largest = 0
    for chunk in stream:
        largest = max(largest, len(chunk))
        seen.update(chunk)
    assert seen.hexdigest() == body.sha.hexdigest()
    assert largest <= settings.download_chunk


def test_failed_upload_stores_nothing(driver: GoogleDriver, bucket: str, settings):
    class Broken(Generated):
        def read(self, size: int = -1) -> bytes:
            if self.remaining < settings.chunk_size:
                raise OSError("client went away")
            return super().read(size)

    with pytest.raises(OSError, match="client went away"):
        driver.create_blob(bucket, "half.bin", data=Broken(4 * settings.chunk_size), content_type="",
                           user_metadata={})
    assert driver.get_blob(bucket, "half.bin") is None


def test_ranged_reads_go_to_google(driver: GoogleDriver, bucket: str):
    data = os.urandom(1000)
    driver.create_blob(bucket, "r", data=io.BytesIO(data), content_type="", user_metadata={})
    stream = driver.blob_content(bucket, "r", byte_range=ByteRange(start=100, end=199))
    assert stream.served_range == (100, 199) and stream.blob.content_length == 1000
    assert stream._response.status_code == 206  # the emulator answered the range itself
    assert b"".join(stream) == data[100:200]
    tail = driver.blob_content(bucket, "r", byte_range=ByteRange(suffix=10))
    assert b"".join(tail) == data[-10:]
    with pytest.raises(RangeNotSatisfiable) as err:
        driver.blob_content(bucket, "r", byte_range=ByteRange(start=1000))
    assert err.value.headers["Content-Range"] == "bytes */1000"


def test_wrong_endpoint_is_502(settings):
    from deltacloud_core import ProviderError
    from deltacloud_core.testing.server import free_port

    dead = GoogleDriver(credentials=CREDENTIALS, provider=f"deltacloud-test;endpoint=http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderError):
        dead.list_buckets()
