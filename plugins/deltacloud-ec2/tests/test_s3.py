"""S3 buckets and blobs, driver level, against moto over HTTP."""

from __future__ import annotations

import hashlib
import io
import os

import boto3
import pytest
from conftest import ACCESS_KEY, CREDENTIALS, SECRET_KEY
from deltacloud_ec2 import EC2Driver

from deltacloud_core import Conflict, ForbiddenError, ObjectNotFound

MiB = 1024 * 1024


class Generated(io.RawIOBase):
    """``size`` pseudo-random bytes made on demand; remembers the largest read asked of it."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.largest_read = 0
        self.digest = hashlib.md5(usedforsecurity=False)
        self.counter = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the driver must read the body in bounded pieces, not all at once")
        self.largest_read = max(self.largest_read, size)
        size = min(size, self.remaining, 256 * 1024)  # a socket hands over pieces, not the whole part
        out = bytearray()
        while len(out) < size:
            self.counter += 1
            out += hashlib.sha256(self.counter.to_bytes(8, "big")).digest()
        data = bytes(out[:size])
        self.remaining -= len(data)
        self.digest.update(data)
        return data


def s3_client(moto) -> object:
    return boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY)


def test_buckets(driver: EC2Driver):
    assert driver.list_buckets() == []
    bucket = driver.create_bucket(name="dc-bucket-one")
    assert (bucket.id, bucket.size, bucket.blob_ids) == ("dc-bucket-one", 0, ())
    assert [b.id for b in driver.list_buckets()] == ["dc-bucket-one"]
    assert [b.id for b in driver.list_buckets(id="dc-bucket-one")] == ["dc-bucket-one"]
    assert driver.get_bucket("dc-bucket-one").size == 0
    assert driver.get_bucket("dc-no-such-bucket") is None
    # us-east-1 answers 200 to re-creating one's own bucket (AWS's legacy rule); elsewhere it is a conflict.
    driver.create_bucket(name="dc-bucket-two", location="eu-west-1")
    with pytest.raises(Conflict) as err:
        driver.create_bucket(name="dc-bucket-two", location="eu-west-1")
    assert err.value.backend_code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
    driver.destroy_bucket("dc-bucket-two")
    driver.destroy_bucket("dc-bucket-one")
    assert driver.get_bucket("dc-bucket-one") is None
    with pytest.raises(ObjectNotFound) as err:
        driver.destroy_bucket("dc-bucket-one")
    assert err.value.backend_code == "NoSuchBucket"


def test_bucket_location(driver: EC2Driver, moto):
    driver.create_bucket(name="dc-in-europe", location="eu-west-1")
    driver.create_bucket(name="dc-in-virginia", location="us-east-1")
    s3 = s3_client(moto)
    assert s3.get_bucket_location(Bucket="dc-in-europe")["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_location(Bucket="dc-in-virginia")["LocationConstraint"] in (None, "")
    # A provider in another region puts new buckets there.
    tokyo = EC2Driver(credentials=CREDENTIALS, provider="ap-northeast-1")
    tokyo.create_bucket(name="dc-in-tokyo")
    assert s3.get_bucket_location(Bucket="dc-in-tokyo")["LocationConstraint"] == "ap-northeast-1"


def test_blob_round_trip_with_metadata(driver: EC2Driver):
    driver.create_bucket(name="dc-blobs")
    blob = driver.create_blob("dc-blobs", "dir/hello.txt", data=io.BytesIO(b"This is the test blob content"),
                              content_type="text/plain", user_metadata={"version": "1.0", "author": "herpyderp"},
                              content_length=29)
    assert (blob.id, blob.bucket, blob.content_length, blob.content_type) == ("dir/hello.txt", "dc-blobs", 29,
                                                                             "text/plain")
    assert dict(blob.user_metadata) == {"version": "1.0", "author": "herpyderp"}
    assert blob.last_modified.endswith("+0000")
    assert driver.get_bucket("dc-blobs").blob_ids == ("dir/hello.txt",)
    assert b"".join(driver.blob_content("dc-blobs", "dir/hello.txt")) == b"This is the test blob content"
    assert driver.blob_metadata("dc-blobs", "dir/hello.txt") == {"version": "1.0", "author": "herpyderp"}
    updated = driver.update_blob_metadata("dc-blobs", "dir/hello.txt", {"version": "2.5", "updated": "true"})
    assert updated == {"version": "2.5", "updated": "true"}
    again = driver.get_blob("dc-blobs", "dir/hello.txt")
    assert (again.content_type, again.content_length) == ("text/plain", 29)  # kept through the copy
    with pytest.raises(ForbiddenError) as err:
        driver.destroy_bucket("dc-blobs")
    assert err.value.backend_code == "BucketNotEmpty"
    driver.destroy_blob("dc-blobs", "dir/hello.txt")
    assert driver.get_blob("dc-blobs", "dir/hello.txt") is None
    driver.destroy_bucket("dc-blobs")


def test_blob_without_content_type_and_overwrite(driver: EC2Driver):
    driver.create_bucket(name="dc-plain")
    driver.create_blob("dc-plain", "b", data=io.BytesIO(b"one"), content_type="", user_metadata={})
    blob = driver.create_blob("dc-plain", "b", data=io.BytesIO(b"second"), content_type="", user_metadata={})
    assert blob.content_length == 6
    assert blob.content_type in ("", "binary/octet-stream")  # S3's default type
    assert dict(blob.user_metadata) == {}
    assert driver.get_bucket("dc-plain").size == 1


def test_unknown_blobs_and_buckets(driver: EC2Driver):
    driver.create_bucket(name="dc-empty")
    assert driver.get_blob("dc-empty", "nope") is None
    assert driver.get_blob("dc-no-such-bucket", "nope") is None
    assert driver.blob_metadata("dc-empty", "nope") is None
    assert driver.update_blob_metadata("dc-empty", "nope", {"a": "b"}) is None
    with pytest.raises(ObjectNotFound):
        driver.blob_content("dc-empty", "nope")
    with pytest.raises(ObjectNotFound):
        driver.destroy_blob("dc-empty", "nope")
    with pytest.raises(ObjectNotFound) as err:
        driver.create_blob("dc-no-such-bucket", "x", data=io.BytesIO(b"x"), content_type="text/plain",
                           user_metadata={})
    assert err.value.backend_code == "NoSuchBucket"


class SmallParts(EC2Driver):
    PART_SIZE = 5 * MiB  # S3's smallest part


def test_large_blob_streams_in_parts_both_ways(moto):
    driver = SmallParts(credentials=CREDENTIALS)
    driver.create_bucket(name="dc-large")
    body = Generated(11 * MiB + 123)
    blob = driver.create_blob("dc-large", "big.bin", data=body, content_type="application/octet-stream",
                              user_metadata={"kind": "large"}, content_length=None)
    assert body.largest_read <= SmallParts.PART_SIZE  # never more than one part in memory
    assert blob.content_length == 11 * MiB + 123
    assert blob.extra["etag"].endswith("-3")  # a three-part multipart upload
    assert dict(blob.user_metadata) == {"kind": "large"}
    stream = driver.blob_content("dc-large", "big.bin")
    assert stream.blob.content_length == 11 * MiB + 123
    seen = hashlib.md5(usedforsecurity=False)
    largest = 0
    for chunk in stream:
        largest = max(largest, len(chunk))
        seen.update(chunk)
    assert seen.hexdigest() == body.digest.hexdigest()
    assert largest <= 64 * 1024


def test_failed_multipart_upload_is_aborted(moto):
    driver = SmallParts(credentials=CREDENTIALS)
    driver.create_bucket(name="dc-aborted")

    class Broken(Generated):
        def read(self, size: int = -1) -> bytes:
            if self.remaining < 2 * MiB:
                raise OSError("client went away")
            return super().read(size)

    with pytest.raises(OSError, match="client went away"):
        driver.create_blob("dc-aborted", "half.bin", data=Broken(8 * MiB), content_type="", user_metadata={})
    assert s3_client(moto).list_multipart_uploads(Bucket="dc-aborted").get("Uploads", []) == []
    assert driver.get_blob("dc-aborted", "half.bin") is None


def test_ranged_reads_go_to_s3(driver: EC2Driver):
    from deltacloud_core import ByteRange, RangeNotSatisfiable

    driver.create_bucket(name="dc-ranges")
    data = bytes(range(256)) * 40
    driver.create_blob("dc-ranges", "r", data=io.BytesIO(data), content_type="", user_metadata={})
    stream = driver.blob_content("dc-ranges", "r", byte_range=ByteRange(start=300, end=399))
    assert stream.served_range == (300, 399)
    assert stream.blob.content_length == len(data)  # the whole blob's, from S3's Content-Range
    assert stream.blob.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert b"".join(stream) == data[300:400]
    assert b"".join(driver.blob_content("dc-ranges", "r", byte_range=ByteRange(suffix=5))) == data[-5:]
    with pytest.raises(RangeNotSatisfiable) as err:
        driver.blob_content("dc-ranges", "r", byte_range=ByteRange(start=len(data)))
    assert err.value.headers["Content-Range"] == f"bytes */{len(data)}"


def test_ranges_and_conditions_over_http(client):
    from deltacloud_core.testing.blob_http import check_range_downloads

    assert client.post("/api/buckets", data={"name": "dc-http-ranges"}).status_code == 201
    data = os.urandom(30_000)
    assert client.put("/api/buckets/dc-http-ranges/r.bin", content=data,
                      headers={"Content-Type": "application/octet-stream"}).status_code == 200
    etag = check_range_downloads(client, "/api/buckets/dc-http-ranges/r.bin/content", data)
    assert etag == f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def test_a_big_bucket_is_listed_in_full(driver: EC2Driver, moto):
    """Three pages of S3's 1000 keys, continuation tokens followed to the end (3,000 blobs: moto
    stores some 190 a second here, 20,000 took 107 s)."""
    from concurrent.futures import ThreadPoolExecutor

    driver.create_bucket(name="dc-many")
    s3 = s3_client(moto)
    count = 3_000
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: s3.put_object(Bucket="dc-many", Key=f"item-{n:05d}", Body=b"x"), range(count)))
    bucket = driver.get_bucket("dc-many")
    assert bucket.size == count and len(set(bucket.blob_ids)) == count
    assert bucket.blob_ids[0] == "item-00000" and bucket.blob_ids[-1] == f"item-{count - 1:05d}"
