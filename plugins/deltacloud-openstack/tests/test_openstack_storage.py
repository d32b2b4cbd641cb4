"""Against the test cloud: Cinder volumes and snapshots (attached through Nova), Swift buckets and blobs."""

from __future__ import annotations

import hashlib
import io
import secrets

import pytest
from deltacloud_core import Conflict, ForbiddenError, ObjectNotFound, ValidationError
from openstack_support import destroy_volume, states_until, wait_until

# -- volumes ------------------------------------------------------------------------------------------


def available(driver, volume_id):
    return wait_until(lambda: driver.get_storage_volume(volume_id), lambda v: v.state in ("AVAILABLE", "ERROR"),
                      what=f"volume {volume_id} to be available")


def test_volume_create_attach_detach_destroy(driver, server, cleanup):
    created = driver.create_storage_volume(capacity="1", name="test-volume", description="made by the tests",
                                           realm_id="nova")
    cleanup.add("volume", lambda: destroy_volume(driver, created.id))
    assert created.state == "CREATING"
    assert (created.name, created.description, created.capacity) == ("test-volume", "made by the tests", 1)
    assert available(driver, created.id).state == "AVAILABLE"
    assert driver.get_storage_volume(created.id).realm_id == "nova"
    assert created.id in {v.id for v in driver.list_storage_volumes()}

    attaching = driver.attach_storage_volume(created.id, instance_id=server.id, device="/dev/vdb")
    assert attaching.state in ("RESERVED", "ATTACHING", "IN-USE")
    seen = states_until(lambda: driver.get_storage_volume(created.id), {"IN-USE"}, what="attach")
    assert seen[-1] == "IN-USE"
    attached = driver.get_storage_volume(created.id)
    assert attached.instance_id == server.id
    assert attached.device
    assert (created.id, attached.device) in driver.get_instance(server.id).storage_volumes

    with pytest.raises(Conflict, match="status must be") as info:  # Cinder's 400 about the state: 409
        driver.destroy_storage_volume(created.id)
    assert info.value.status == 409
    with pytest.raises(Conflict):
        driver.create_storage_snapshot(volume_id=created.id)

    detaching = driver.detach_storage_volume(created.id)
    assert detaching.state in ("DETACHING", "AVAILABLE", "IN-USE")
    available(driver, created.id)
    assert driver.get_storage_volume(created.id).instance_id is None
    with pytest.raises(ForbiddenError, match="not attached"):
        driver.detach_storage_volume(created.id)

    driver.destroy_storage_volume(created.id)
    wait_until(lambda: driver.get_storage_volume(created.id), lambda v: v is None, what="volume gone")


def test_snapshot_and_a_volume_from_it(driver, cleanup):
    volume = driver.create_storage_volume(capacity="2")
    cleanup.add("volume", lambda: destroy_volume(driver, volume.id))
    assert volume.name.startswith("deltacloud-volume-")
    available(driver, volume.id)
    snapshot = driver.create_storage_snapshot(volume_id=volume.id, name="test-snapshot", description="snap")
    cleanup.add("snapshot", lambda: driver.destroy_storage_snapshot(snapshot.id))
    assert (snapshot.storage_volume_id, snapshot.name, snapshot.description) == (volume.id, "test-snapshot", "snap")
    wait_until(lambda: driver.get_storage_snapshot(snapshot.id), lambda s: s.state == "AVAILABLE", what="snapshot")
    assert snapshot.id in {s.id for s in driver.list_storage_snapshots()}

    copy = driver.create_storage_volume(snapshot_id=snapshot.id, capacity="2")
    cleanup.add("volume from snapshot", lambda: destroy_volume(driver, copy.id))
    assert available(driver, copy.id).state == "AVAILABLE"
    assert driver.get_storage_volume(copy.id).extra["snapshot_id"] == snapshot.id
    destroy_volume(driver, copy.id)

    driver.destroy_storage_snapshot(snapshot.id)
    wait_until(lambda: driver.get_storage_snapshot(snapshot.id), lambda s: s is None, what="snapshot gone")


@pytest.mark.parametrize("capacity", ["0", "-1", "1.5", "lots", "nan"])
def test_bad_capacity_is_400(driver, capacity):
    with pytest.raises(ValidationError, match="capacity"):
        driver.create_storage_volume(capacity=capacity)


def test_missing_volumes_and_snapshots(driver, server):
    missing = "00000000-0000-0000-0000-000000000000"
    assert driver.get_storage_volume(missing) is None
    assert driver.get_storage_snapshot(missing) is None
    assert driver.list_storage_volumes(id=missing) == []
    for call in (lambda: driver.destroy_storage_volume(missing), lambda: driver.destroy_storage_snapshot(missing),
                 lambda: driver.detach_storage_volume(missing),
                 lambda: driver.attach_storage_volume(missing, instance_id=server.id, device="/dev/vdc"),
                 lambda: driver.create_storage_snapshot(volume_id=missing)):
        with pytest.raises(ObjectNotFound):
            call()


# -- buckets and blobs --------------------------------------------------------------------------------


@pytest.fixture
def bucket(driver, cleanup):
    name = f"test-bucket-{secrets.token_hex(3)}"
    driver.create_bucket(name=name)

    def remove():
        found = driver.get_bucket(name)
        if found is None:
            return
        for blob_id in found.blob_ids:
            driver.destroy_blob(name, blob_id)
        driver.destroy_bucket(name)

    cleanup.add("bucket", remove)
    return name


class Chunks(io.RawIOBase):
    """A client's upload of unknown length: ``size`` pseudo-random bytes, never all in memory."""

    def __init__(self, size: int, seed: bytes = b"x") -> None:
        self.left = size
        self.block = hashlib.sha256(seed).digest() * 2048  # 64 KiB
        self.digest = hashlib.sha256()
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = min(self.left, len(self.block) if size is None or size < 0 else size)
        self.largest_read = max(self.largest_read, n)
        data = self.block[:n]
        self.left -= n
        self.digest.update(data)
        return data


def test_buckets(driver, bucket):
    shown = driver.get_bucket(bucket)
    assert (shown.id, shown.name, shown.size, shown.blob_ids) == (bucket, bucket, 0, ())
    assert bucket in {b.id for b in driver.list_buckets()}
    assert [b.id for b in driver.list_buckets(id=bucket)] == [bucket]
    with pytest.raises(Conflict, match="already exists"):
        driver.create_bucket(name=bucket)
    assert driver.get_bucket("no-such-bucket") is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_bucket("no-such-bucket")


def test_blob_round_trip_with_metadata(driver, bucket):
    blob = driver.create_blob(bucket, "dir/hello.txt", data=io.BytesIO(b"hello swift"), content_type="text/plain",
                              user_metadata={"color": "blue", "version": "1.0"}, content_length=11)
    assert (blob.id, blob.bucket, blob.content_length, blob.content_type) == ("dir/hello.txt", bucket, 11, "text/plain")
    assert blob.user_metadata == {"color": "blue", "version": "1.0"}
    assert blob.last_modified
    assert driver.get_blob(bucket, "dir/hello.txt") == blob
    assert b"".join(driver.blob_content(bucket, "dir/hello.txt")) == b"hello swift"
    assert driver.blob_metadata(bucket, "dir/hello.txt") == {"color": "blue", "version": "1.0"}
    assert driver.get_bucket(bucket).blob_ids == ("dir/hello.txt",)

    assert driver.update_blob_metadata(bucket, "dir/hello.txt", {"author": "me"}) == {"author": "me"}
    after = driver.get_blob(bucket, "dir/hello.txt")
    assert (after.user_metadata, after.content_type) == ({"author": "me"}, "text/plain")

    replaced = driver.create_blob(bucket, "dir/hello.txt", data=io.BytesIO(b"bye"), content_type="",
                                  user_metadata={}, content_length=3)
    assert (replaced.content_length, replaced.user_metadata) == (3, {})
    assert replaced.content_type  # Swift guesses one when the client sent none

    with pytest.raises(ForbiddenError, match="non-empty"):
        driver.destroy_bucket(bucket)
    driver.destroy_blob(bucket, "dir/hello.txt")
    assert driver.get_blob(bucket, "dir/hello.txt") is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_blob(bucket, "dir/hello.txt")


def test_large_blobs_stream_both_ways(driver, bucket):
    """8 MiB of unknown length go up chunked and come down in chunks; nothing reads it whole."""
    upload = Chunks(8 * 1024 * 1024)
    blob = driver.create_blob(bucket, "big", data=upload, content_type="application/octet-stream",
                              user_metadata={}, content_length=None)
    assert blob.content_length == 8 * 1024 * 1024
    assert upload.largest_read <= 64 * 1024
    stream = driver.blob_content(bucket, "big")
    assert stream.blob.content_length == 8 * 1024 * 1024
    down = hashlib.sha256()
    largest = 0
    for chunk in stream:
        largest = max(largest, len(chunk))
        down.update(chunk)
    assert down.hexdigest() == upload.digest.hexdigest()
    assert largest <= 64 * 1024

    known = Chunks(300_000, seed=b"y")
    blob = driver.create_blob(bucket, "known", data=known, content_type="image/png", user_metadata={},
                              content_length=300_000)
    assert (blob.content_length, blob.content_type) == (300_000, "image/png")
    empty = driver.create_blob(bucket, "empty", data=io.BytesIO(b""), content_type="text/plain",
                               user_metadata={}, content_length=0)
    assert empty.content_length == 0
    assert b"".join(driver.blob_content(bucket, "empty")) == b""


def test_missing_blobs_and_buckets(driver, bucket):
    assert driver.get_blob(bucket, "nothing") is None
    assert driver.blob_metadata(bucket, "nothing") is None
    with pytest.raises(ObjectNotFound):
        driver.blob_content(bucket, "nothing")
    with pytest.raises(ObjectNotFound):
        driver.update_blob_metadata(bucket, "nothing", {"a": "b"})
    with pytest.raises(ObjectNotFound, match="does not exist"):
        driver.create_blob("no-such-bucket", "x", data=io.BytesIO(b"x"), content_type="", user_metadata={})
    assert driver.get_blob("no-such-bucket", "x") is None


def test_ranged_reads_go_to_swift(driver, bucket):
    from deltacloud_core import ByteRange, RangeNotSatisfiable

    data = bytes(range(256)) * 20
    driver.create_blob(bucket, "r", data=io.BytesIO(data), content_type="", user_metadata={}, content_length=len(data))
    stream = driver.blob_content(bucket, "r", byte_range=ByteRange(start=300, end=399))
    assert stream.served_range == (300, 399)
    assert stream.blob.content_length == len(data)  # the whole object's, from Swift's Content-Range
    assert stream.blob.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert b"".join(stream) == data[300:400]
    assert b"".join(driver.blob_content(bucket, "r", byte_range=ByteRange(suffix=5))) == data[-5:]
    with pytest.raises(RangeNotSatisfiable) as err:
        driver.blob_content(bucket, "r", byte_range=ByteRange(start=len(data)))
    assert err.value.headers["Content-Range"] == f"bytes */{len(data)}"


def test_ranges_and_conditions_over_http(http, driver, bucket):
    import os

    from deltacloud_core.testing.blob_http import check_range_downloads

    data = os.urandom(20_000)
    assert http.put(f"/buckets/{bucket}/r.bin", content=data,
                    headers={"Content-Type": "application/octet-stream"}).status_code == 200
    etag = check_range_downloads(http, f"/buckets/{bucket}/r.bin/content", data)  # http: based at /api
    assert etag == f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def test_a_big_container_is_listed_in_full(cloud, demo, bucket):
    """Pages of 100 names (Swift's own hold 10,000): 1,050 objects need eleven, marker followed."""
    from concurrent.futures import ThreadPoolExecutor

    from deltacloud_openstack import OpenStackDriver

    class SmallPages(OpenStackDriver):
        LISTING_PAGE_SIZE = 100

    small = SmallPages(credentials=demo, provider=cloud.provider)
    count = 1_050

    def put(n: int) -> None:
        SmallPages(credentials=demo, provider=cloud.provider).create_blob(
            bucket, f"item-{n:05d}", data=io.BytesIO(b"x"), content_type="text/plain", user_metadata={},
            content_length=1)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, range(count)))
    found = small.get_bucket(bucket)
    assert found.size == count
    assert len(set(found.blob_ids)) == count
    assert (found.blob_ids[0], found.blob_ids[-1]) == ("item-00000", f"item-{count - 1:05d}")
