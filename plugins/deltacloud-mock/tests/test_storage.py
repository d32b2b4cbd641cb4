"""The mock's storage at driver level: volumes, snapshots, buckets, blobs and the blob files."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest
from deltacloud_core.errors import (
    AuthenticationFailure,
    ForbiddenError,
    ObjectNotFound,
    RangeNotSatisfiable,
    ValidationError,
)
from deltacloud_core.models import Blob, Bucket, ByteRange, StorageSnapshot, StorageVolume

from deltacloud_mock.storage import BLOB_DIR, CHUNK_SIZE, BlobStream, blob_file_stem


def _blob_files(storage: Path) -> list[str]:
    directory = storage / BLOB_DIR
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


def _read(stream: BlobStream) -> bytes:
    return b"".join(stream)


class _CountingReader(io.RawIOBase):
    """A file that yields ``total`` bytes and records the largest read size asked for."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.largest = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the driver must read in bounded chunks"
        self.largest = max(self.largest, size)
        n = min(size, self.left)
        self.left -= n
        return b"x" * n


# -- volumes ------------------------------------------------------------------------------------

def test_fixture_volumes(driver):
    volumes = driver.list_storage_volumes()
    assert [v.id for v in volumes] == ["vol1", "vol2", "vol3"]
    vol3 = driver.get_storage_volume("vol3")
    assert vol3 == StorageVolume(id="vol3", state="IN-USE", created="Thu Jul 30 14:35:11 UTC 2009", capacity=1,
                                 realm_id="us", instance_id="inst1", device="/dev/sda1")
    assert driver.list_storage_volumes(id="vol2")[0].id == "vol2"
    assert driver.list_storage_volumes(id="nope") == []
    assert driver.get_storage_volume("nope") is None


def test_credentials_are_checked(intruder, anonymous):
    for call in (lambda d: d.list_storage_volumes(), lambda d: d.list_storage_snapshots(),
                 lambda d: d.list_buckets(), lambda d: d.get_blob("bucket1", "blob1"),
                 lambda d: d.blob_metadata("bucket1", "blob1")):
        with pytest.raises(AuthenticationFailure):
            call(intruder)
        with pytest.raises(AuthenticationFailure):
            call(anonymous)


def test_create_volume_keeps_name_and_capacity(driver):
    volume = driver.create_storage_volume(name="Test Volume", capacity="100")
    assert (volume.name, volume.capacity) == ("Test Volume", "100")
    assert volume.id.startswith("volume_")
    assert volume.state == "AVAILABLE"
    assert (volume.realm_id, volume.instance_id) == (None, None)
    default = driver.create_storage_volume()
    assert (default.capacity, default.name) == ("1", f"Volume{default.id}")
    assert driver.get_storage_volume(volume.id) == volume


def test_volume_ids_are_unique_within_one_second(driver, monkeypatch):
    monkeypatch.setattr("deltacloud_mock.storage.time.time", lambda: 1795337725.5)
    ids = [driver.create_storage_volume().id for _ in range(3)]
    assert ids == ["volume_1795337725", "volume_1795337725_1", "volume_1795337725_2"]
    snaps = [driver.create_storage_snapshot(volume_id="vol1").id for _ in range(2)]
    assert snaps == ["store_snapshot_1795337725", "store_snapshot_1795337725_1"]


def test_volume_ids_are_unique_across_threads(driver):
    ids: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        for _ in range(10):
            vid = driver.create_storage_volume().id
            with lock:
                ids.append(vid)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(ids) == 80
    assert len(set(ids)) == 80
    assert len(driver.list_storage_volumes()) == 83


def test_attach_and_detach_update_the_instance(driver):
    volume = driver.create_storage_volume(capacity="2")
    attached = driver.attach_storage_volume(volume.id, instance_id="inst1", device="/dev/sda")
    assert (attached.instance_id, attached.device, attached.state) == ("inst1", "/dev/sda", "IN-USE")
    assert driver.get_instance("inst1").storage_volumes == ((volume.id, "/dev/sda"),)
    detached = driver.detach_storage_volume(volume.id)
    assert (detached.instance_id, detached.device, detached.state) == (None, None, "AVAILABLE")
    assert driver.get_instance("inst1").storage_volumes == ()


def test_reattach_moves_the_volume(driver):
    volume = driver.create_storage_volume()
    driver.attach_storage_volume(volume.id, instance_id="inst1", device="/dev/sdb")
    driver.attach_storage_volume(volume.id, instance_id="inst2", device="/dev/sdc")
    assert driver.get_instance("inst1").storage_volumes == ()
    assert driver.get_instance("inst2").storage_volumes == ((volume.id, "/dev/sdc"),)


def test_attach_errors(driver):
    with pytest.raises(ObjectNotFound, match="Instance 'nope'"):
        driver.attach_storage_volume("vol1", instance_id="nope", device="/dev/sdh")
    with pytest.raises(ObjectNotFound, match="Storage volume 'nope'"):
        driver.attach_storage_volume("nope", instance_id="inst1", device="/dev/sdh")
    assert driver.get_storage_volume("vol1").instance_id is None  # nothing changed


def test_detach_errors(driver):
    with pytest.raises(ObjectNotFound):
        driver.detach_storage_volume("nope")
    with pytest.raises(ForbiddenError, match="not attached"):
        driver.detach_storage_volume("vol1")


def test_destroy_volume(driver):
    volume = driver.create_storage_volume()
    driver.attach_storage_volume(volume.id, instance_id="inst2", device="/dev/sdh")
    driver.destroy_storage_volume(volume.id)
    assert driver.get_storage_volume(volume.id) is None
    assert driver.get_instance("inst2").storage_volumes == ()
    driver.destroy_storage_volume("nope")  # as the original: no error


# -- snapshots ----------------------------------------------------------------------------------

def test_snapshots(driver):
    assert [s.id for s in driver.list_storage_snapshots()] == ["snap1", "snap2", "snap3"]
    assert driver.get_storage_snapshot("snap1") == StorageSnapshot(
        id="snap1", storage_volume_id="vol1", state="COMPLETED", created="Wed Jul 29 18:15:24 UTC 2009")
    assert driver.get_storage_snapshot("nope") is None
    snap = driver.create_storage_snapshot(volume_id="vol2", name="mine", description="d")
    assert snap.id.startswith("store_snapshot_")
    assert snap.state == "COMPLETED"
    assert (snap.storage_volume_id, snap.name, snap.description) == ("vol2", "mine", "d")
    driver.destroy_storage_snapshot(snap.id)
    assert driver.get_storage_snapshot(snap.id) is None


# -- buckets ------------------------------------------------------------------------------------

def test_fixture_buckets(driver):
    assert driver.list_buckets() == [
        Bucket(id="bucket1", name="bucket1", size=3, blob_ids=("blob1", "blob2", "blob3")),
        Bucket(id="bucket2", name="bucket2", size=2, blob_ids=("blob4", "blob5"))]
    assert driver.list_buckets(id="bucket2")[0].id == "bucket2"
    assert driver.get_bucket("nope") is None


def test_create_and_destroy_bucket(driver):
    bucket = driver.create_bucket(name="fresh")
    assert bucket == Bucket(id="fresh", name="fresh", size="0", blob_ids=())
    assert driver.get_bucket("fresh") == bucket
    driver.destroy_bucket("fresh")
    assert driver.get_bucket("fresh") is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_bucket("fresh")


def test_non_empty_bucket_is_not_deleted(driver):
    with pytest.raises(ForbiddenError, match="Delete operation not valid for non-empty bucket"):
        driver.destroy_bucket("bucket1")
    assert driver.get_bucket("bucket1") is not None


@pytest.mark.parametrize("name", ["a/b", "a\x00b", "tab\there", ""])
def test_bucket_names_must_be_usable_in_a_path(driver, name):
    with pytest.raises(ValidationError):
        driver.create_bucket(name=name)


# -- blobs --------------------------------------------------------------------------------------

def test_fixture_blob(driver):
    blob = driver.get_blob("bucket1", "blob1")
    assert blob == Blob(id="blob1", bucket="bucket1", content_length=17, content_type="text/plain",
                        last_modified="2010-09-23 16:44:54 +0100", user_metadata={"SOMENEWKEY": "NEWVALUE"},
                        content="content of blob 1",
                        etag=hashlib.md5(b"content of blob 1", usedforsecurity=False).hexdigest())
    assert driver.get_blob("bucket1", "blob3").user_metadata is None  # the original's JSON shows ""
    assert driver.get_blob("bucket2", "blob1") is None  # show checks the bucket
    stream = driver.blob_content("bucket1", "blob2")
    assert _read(stream) == b"<html><head></head><body>content of blob 2</body></html>"
    assert stream.blob.content_length == 56
    with pytest.raises(ObjectNotFound):
        driver.blob_content("bucket2", "blob1")


def test_create_blob_streams_into_a_file(driver, storage):
    data = os.urandom(3 * CHUNK_SIZE + 123)
    blob = driver.create_blob("bucket1", "big", data=io.BytesIO(data), content_type="application/x-test",
                              user_metadata={"Mixed-Case": "v"})
    assert (blob.content_length, blob.content_type, blob.user_metadata) == (len(data), "application/x-test",
                                                                             {"mixed-case": "v"})
    assert blob.content is None  # too large to show inline
    files = _blob_files(storage)
    assert len(files) == 1
    assert files[0].startswith(blob_file_stem("big") + ".")
    assert (storage / BLOB_DIR / files[0]).read_bytes() == data
    assert _read(driver.blob_content("bucket1", "big")) == data
    assert driver.get_bucket("bucket1").size == 4


def test_create_blob_reads_in_bounded_chunks(driver):
    reader = _CountingReader(5 * CHUNK_SIZE)
    blob = driver.create_blob("bucket1", "counted", data=reader, content_type="", user_metadata={})
    assert blob.content_length == 5 * CHUNK_SIZE
    assert reader.largest == CHUNK_SIZE


def test_small_text_blob_shows_its_content(driver):
    blob = driver.create_blob("bucket2", "small", data=io.BytesIO(b"second blob"),
                              content_type="application/octet-stream", user_metadata={})
    assert (blob.content, blob.user_metadata) == ("second blob", {})
    binary = driver.create_blob("bucket2", "bin", data=io.BytesIO(b"\xff\xfe\x00"), content_type="", user_metadata={})
    assert binary.content is None


def test_empty_blob(driver, storage):
    blob = driver.create_blob("bucket1", "empty", data=io.BytesIO(b""), content_type="", user_metadata={})
    assert (blob.content_length, blob.content_type) == (0, "")
    assert _read(driver.blob_content("bucket1", "empty")) == b""


def test_overwrite_replaces_the_file_and_counts(driver, storage):
    driver.create_bucket(name="b")
    driver.create_blob("b", "x", data=io.BytesIO(b"one"), content_type="text/plain", user_metadata={})
    driver.create_blob("b", "x", data=io.BytesIO(b"two!"), content_type="text/plain", user_metadata={})
    assert _read(driver.blob_content("b", "x")) == b"two!"
    assert len(_blob_files(storage)) == 1  # the old file is gone
    assert driver.get_bucket("b").size == 2  # +1 per create, also on overwrite


def test_blob_ids_are_global(driver):
    driver.create_bucket(name="b1")
    driver.create_bucket(name="b2")
    driver.create_blob("b1", "x", data=io.BytesIO(b"1"), content_type="", user_metadata={})
    driver.create_blob("b2", "x", data=io.BytesIO(b"2"), content_type="", user_metadata={})
    b1, b2 = driver.get_bucket("b1"), driver.get_bucket("b2")
    assert (b1.blob_ids, b1.size) == ((), 1)  # lost the blob, kept its counter
    assert (b2.blob_ids, b2.size) == (("x",), 1)
    driver.destroy_bucket("b1")  # "empty" means no blob record names it


def test_destroy_blob(driver, storage):
    driver.create_blob("bucket1", "gone", data=io.BytesIO(b"data"), content_type="", user_metadata={})
    driver.destroy_blob("bucket1", "gone")
    assert driver.get_blob("bucket1", "gone") is None
    assert _blob_files(storage) == []
    assert driver.get_bucket("bucket1").size == 3
    with pytest.raises(ObjectNotFound, match="Could not delete a non existent blob"):
        driver.destroy_blob("bucket1", "gone")
    with pytest.raises(ObjectNotFound):
        driver.destroy_blob("bucket2", "blob1")  # not in that bucket
    driver.destroy_blob("bucket1", "blob1")  # inline fixture data: nothing to unlink
    assert driver.get_bucket("bucket1").blob_ids == ("blob2", "blob3")


def test_create_blob_in_unknown_bucket_stores_nothing(driver, storage):
    with pytest.raises(ObjectNotFound):
        driver.create_blob("nope", "x", data=io.BytesIO(b"data"), content_type="", user_metadata={})
    assert _blob_files(storage) == []
    assert driver.get_blob("nope", "x") is None


def test_failed_upload_leaves_no_file(driver, storage):
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        driver.create_blob("bucket1", "broken", data=Broken(), content_type="", user_metadata={})
    assert _blob_files(storage) == []
    assert driver.get_blob("bucket1", "broken") is None


def test_metadata_ignores_the_bucket_as_the_original(driver):
    assert driver.blob_metadata("bucket2", "blob2") == {"VERSION": "1.2"}  # MOCK.md quirk 11
    assert driver.blob_metadata("bucket1", "nope") is None
    assert driver.update_blob_metadata("bucket1", "blob1", {"Version": "2.5", "updated": "true"}) == {
        "version": "2.5", "updated": "true"}
    blob = driver.get_blob("bucket1", "blob1")
    assert blob.user_metadata == {"version": "2.5", "updated": "true"}
    assert blob.last_modified == "2010-09-23 16:44:54 +0100"  # unchanged
    with pytest.raises(ObjectNotFound):
        driver.update_blob_metadata("bucket1", "nope", {})


@pytest.mark.parametrize("blob_id", ["..", "../..", ".", "x/../../../escape", "a\x00b", "a/b", "\n"])
def test_unsafe_blob_ids_never_leave_the_blob_directory(driver, storage, blob_id):
    before = {p for p in storage.parent.rglob("*")}
    try:
        driver.create_blob("bucket1", blob_id, data=io.BytesIO(b"payload"), content_type="", user_metadata={})
    except ValidationError:
        assert "/" in blob_id or any(ord(c) < 32 for c in blob_id)
        assert driver.get_blob("bucket1", blob_id) is None
    else:
        assert _read(driver.blob_content("bucket1", blob_id)) == b"payload"
    created = {p for p in storage.parent.rglob("*")} - before
    for path in created:
        assert path.resolve().is_relative_to(storage.resolve()), path
        if path.is_file() and path.parent.name == BLOB_DIR:
            assert path.name.startswith(hashlib.sha256(blob_id.encode()).hexdigest())


def test_data_file_names_from_the_store_are_not_trusted(driver, store):
    store.put("blobs", "evil", {"bucket": "bucket1", "content_length": 3, "file": "../../etc/passwd"})
    with pytest.raises(ValueError, match="invalid data file"):
        driver.blob_content("bucket1", "evil")


def test_stream_is_of_the_version_it_opened(driver):
    driver.create_blob("bucket1", "v", data=io.BytesIO(b"old data"), content_type="text/plain", user_metadata={})
    stream = driver.blob_content("bucket1", "v")
    driver.create_blob("bucket1", "v", data=io.BytesIO(b"new, longer data"), content_type="text/x",
                       user_metadata={})
    assert stream.blob.content_length == 8
    assert _read(stream) == b"old data"  # opened before the replacement: still readable whole
    assert _read(driver.blob_content("bucket1", "v")) == b"new, longer data"


def test_blob_ranges_read_only_the_range(driver):
    """``byte_range``: a seek and a bounded read of the data file; the blob describes it whole."""
    data = bytes(range(256)) * 4096  # 1 MiB
    driver.create_blob("bucket1", "ranged", data=io.BytesIO(data), content_type="", user_metadata={})
    stream = driver.blob_content("bucket1", "ranged", byte_range=ByteRange(start=1000, end=1999))
    assert stream.served_range == (1000, 1999)
    assert stream.blob.content_length == len(data)
    assert stream.blob.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert _read(stream) == data[1000:2000]
    tail = driver.blob_content("bucket1", "ranged", byte_range=ByteRange(suffix=10))
    assert tail.served_range == (len(data) - 10, len(data) - 1)
    assert _read(tail) == data[-10:]
    with pytest.raises(RangeNotSatisfiable) as err:
        driver.blob_content("bucket1", "ranged", byte_range=ByteRange(start=len(data)))
    assert err.value.headers["Content-Range"] == f"bytes */{len(data)}"
    inline = driver.blob_content("bucket1", "blob1", byte_range=ByteRange(start=3, end=5))
    assert inline.served_range == (3, 5)
    assert _read(inline) == b"ten"
