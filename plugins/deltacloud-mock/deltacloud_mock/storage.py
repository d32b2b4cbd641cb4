"""The mock cloud's storage: volumes, snapshots, buckets and blobs (MOCK.md §4-§5).

:class:`MockStorageMixin` is a base of :class:`~deltacloud_mock.driver.MockDriver`; it uses
the driver's ``store`` and ``_user()``.

Blob *descriptions* (bucket, type, length, metadata) are records of the ``blobs``
collection in the SQLite store; blob *data* are files in ``<store root>/blobs/``. A data
file is named ``<sha256 of the blob id>.<random token>`` — never anything derived
verbatim from a client's id, so no id (``..``, ``%2F``...) can name a path outside that
directory — and its name is kept in the record. An upload streams into a temporary file
in 1 MiB chunks, is ``fsync``-ed and renamed into place (``os.replace``, atomic), and only
then is the record committed; the file of a replaced blob is removed after the commit.
Concurrent uploads of one id therefore never mix data: every record names a complete
file of its own. The fixture blobs keep their (small) data inline in the record.

As in the original, blob ids are global across buckets: creating ``b2/x`` when ``b1/x``
exists moves the record to ``b2`` (``b1`` lists it no more; its ``size`` counter stays).
The bucket ``size`` is a counter: +1 per blob created (also when replacing), -1 per blob
deleted. A blob's ETag is the MD5 of its data (as S3's for single-part objects), worked out
while it is written. Ids of new volumes and snapshots are ``volume_<unix seconds>`` /
``store_snapshot_<unix seconds>`` as in the original, plus ``_<n>`` (the smallest free n,
allocated inside the store transaction) when that id is taken — the original let a
second creation in the same second overwrite the first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from deltacloud_core import nonblocking
from deltacloud_core.errors import ForbiddenError, ObjectNotFound, RangeNotSatisfiable, ValidationError
from deltacloud_core.models import Blob, Bucket, ByteRange, StorageSnapshot, StorageVolume

from .store import Record, Transaction

if TYPE_CHECKING:
    from .store import MockStore

__all__ = ["BLOB_DIR", "CHUNK_SIZE", "BlobStream", "MockStorageMixin", "blob_file_stem"]

#: Directory (inside the store's root) holding blob data files.
BLOB_DIR = "blobs"
#: Blob data is read and written in chunks of this size.
CHUNK_SIZE = 1024 * 1024
#: Blobs up to this size whose data is UTF-8 text show it in the ``content`` field.
INLINE_CONTENT_LIMIT = 64 * 1024

_DATA_FILE = re.compile(r"^[0-9a-f]{64}\.[0-9a-f]{32}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _now() -> str:
    """The current local time as the original printed a Ruby ``Time``: ``2026-11-22 08:55:25 +0000``."""
    return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime())


def blob_file_stem(blob_id: str) -> str:
    """The hex sha256 of a blob id: the first part of its data file names."""
    return hashlib.sha256(blob_id.encode("utf-8", "surrogatepass")).hexdigest()


def _check_name(kind: str, value: str) -> None:
    """Ids must be addressable in a URL path segment: no ``/``, no control characters (NUL ...)."""
    if not value:
        raise ValidationError(f"{kind} id must not be empty.")
    if "/" in value or _CONTROL.search(value):
        raise ValidationError(f"{kind} id {value!r} is not valid: it must not contain '/' or control characters.")


def _counter(value: Any) -> int:
    """A stored bucket size as a number (fixtures: 3; created buckets: "0")."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _free_id(tx: Transaction, collection: str, base: str) -> str:
    """``base`` if unused, else ``base_<n>`` with the smallest free n >= 1."""
    if not tx.exists(collection, base):
        return base
    return tx.next_free_id(collection, base + "_", 1)


def _entry_id(entry: Any) -> str | None:
    """The volume id of an instance's ``storage_volumes`` entry (``{"id", "device"}`` or a pair)."""
    if isinstance(entry, Mapping):
        return str(entry["id"]) if "id" in entry else next(iter(entry), None)
    if isinstance(entry, list | tuple) and entry:
        return str(entry[0])
    return None


def _without_volume(instance: Record, volume_id: str) -> Record:
    instance["storage_volumes"] = [e for e in instance.get("storage_volumes") or [] if _entry_id(e) != volume_id]
    return instance


def _served(byte_range: ByteRange | None, size: int) -> tuple[int, int] | None:
    """The bytes of ``byte_range`` in ``size`` bytes (None: the whole blob; an empty blob has no range)."""
    if byte_range is None or size == 0:
        return None
    served = byte_range.resolve(size)
    if served is None:
        raise RangeNotSatisfiable(f"The blob has {size} bytes: no byte of {byte_range.header()} exists.", size=size)
    return served


def _md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class BlobStream:
    """A blob's data as an iterator of chunks, with the :class:`Blob` it belongs to.

    The data file is opened when the stream is made, so the bytes streamed are exactly
    those ``blob`` describes even if the blob is replaced meanwhile.
    """

    def __init__(self, blob: Blob, *, file: BinaryIO | None = None, data: bytes = b"",
                 served_range: tuple[int, int] | None = None) -> None:
        self.blob = blob
        self._file = file
        self._data = data
        #: ``(first, last)`` when only those bytes are streamed (a ``Range`` download).
        self.served_range = served_range

    def __iter__(self) -> Iterator[bytes]:
        first, last = self.served_range or (0, (self.blob.content_length or 0) - 1)
        if self._file is None:
            data = self._data[first:last + 1] if self.served_range else self._data
            if data:
                yield data
            return
        with self._file:
            if not self.served_range:
                while chunk := self._file.read(CHUNK_SIZE):
                    yield chunk
                return
            self._file.seek(first)
            left = last - first + 1
            while left > 0 and (chunk := self._file.read(min(CHUNK_SIZE, left))):
                left -= len(chunk)
                yield chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class MockStorageMixin:
    """Storage volumes, snapshots, buckets and blobs of the mock cloud."""

    if TYPE_CHECKING:
        @property
        def store(self) -> MockStore: ...

        def _user(self) -> str: ...

    # -- storage volumes -------------------------------------------------------------------
    @staticmethod
    def _volume(rec: Record) -> StorageVolume:
        return StorageVolume(
            id=rec["id"], name=rec.get("name"), description=rec.get("description"), state=rec.get("state"),
            created=rec.get("created"), capacity=rec.get("capacity"), realm_id=rec.get("realm_id"),
            instance_id=rec.get("instance_id"), device=rec.get("device"), kind=rec.get("kind"), actions=None)

    @nonblocking
    def list_storage_volumes(self, **filters: str) -> list[StorageVolume]:
        self._user()
        records = self.store.list("storage_volumes")
        if filters.get("id"):
            records = [r for r in records if r["id"] == filters["id"]]
        return [self._volume(r) for r in records]

    @nonblocking
    def get_storage_volume(self, id: str) -> StorageVolume | None:
        self._user()
        rec = self.store.get("storage_volumes", id)
        return self._volume(rec) if rec else None

    def create_storage_volume(self, *, capacity: str | None = None, realm_id: str | None = None,
                              snapshot_id: str | None = None, name: str | None = None,
                              description: str | None = None, **extra: str) -> StorageVolume:
        # As the original: realm_id, snapshot_id and description are accepted but not used.
        self._user()
        with self.store.transaction() as tx:
            new_id = _free_id(tx, "storage_volumes", f"volume_{int(time.time())}")
            rec = tx.put("storage_volumes", new_id, {
                "name": name or f"Volume{new_id}", "created": _now(), "state": "AVAILABLE",
                "capacity": capacity or "1", "instance_id": None, "device": None})
        created = self._volume(rec)
        self.announce_change("storage_volumes", new_id, created)
        return created

    def attach_storage_volume(self, id: str, *, instance_id: str, device: str) -> StorageVolume:
        self._user()
        with self.store.transaction() as tx:
            volume = tx.get("storage_volumes", id)
            if volume is None:
                raise ObjectNotFound(f"Storage volume '{id}' not found")
            instance = tx.get("instances", instance_id)
            if instance is None:
                raise ObjectNotFound(f"Instance '{instance_id}' not found")
            previous = volume.get("instance_id")
            if previous and previous != instance_id:  # re-attached: the old instance lists it no more
                old = tx.get("instances", previous)
                if old is not None:
                    tx.put("instances", previous, _without_volume(old, id))
            volume.update(instance_id=instance_id, device=device, state="IN-USE")
            tx.put("storage_volumes", id, volume)
            instance = _without_volume(instance, id)
            instance["storage_volumes"].append({"id": id, "device": device})
            tx.put("instances", instance_id, instance)
        attached = self._volume(volume)
        self.announce_change("storage_volumes", id, attached)
        self.announce_change("instances", instance_id)
        if previous and previous != instance_id:
            self.announce_change("instances", previous)
        return attached

    def detach_storage_volume(self, id: str) -> StorageVolume:
        self._user()
        with self.store.transaction() as tx:
            volume = tx.get("storage_volumes", id)
            if volume is None:
                raise ObjectNotFound(f"Storage volume '{id}' not found")
            instance_id = volume.get("instance_id")
            if not instance_id:
                raise ForbiddenError(f"Storage volume '{id}' is not attached to an instance")
            instance = tx.get("instances", instance_id)
            if instance is not None:
                tx.put("instances", instance_id, _without_volume(instance, id))
            volume.update(instance_id=None, device=None, state="AVAILABLE")
            tx.put("storage_volumes", id, volume)
        detached = self._volume(volume)
        self.announce_change("storage_volumes", id, detached)
        self.announce_change("instances", instance_id)
        return detached

    def destroy_storage_volume(self, id: str) -> None:
        # As the original: an unknown volume is not an error.
        self._user()
        with self.store.transaction() as tx:
            volume = tx.get("storage_volumes", id)
            if volume is None:
                return
            instance_id = volume.get("instance_id")
            if instance_id:
                instance = tx.get("instances", instance_id)
                if instance is not None:
                    tx.put("instances", instance_id, _without_volume(instance, id))
            tx.delete("storage_volumes", id)
        self.announce_change("storage_volumes", id)
        if instance_id:
            self.announce_change("instances", instance_id)

    # -- storage snapshots -----------------------------------------------------------------
    @staticmethod
    def _snapshot(rec: Record) -> StorageSnapshot:
        return StorageSnapshot(id=rec["id"], storage_volume_id=rec.get("storage_volume_id"), name=rec.get("name"),
                               description=rec.get("description"), state=rec.get("state"),
                               created=rec.get("created"))

    @nonblocking
    def list_storage_snapshots(self, **filters: str) -> list[StorageSnapshot]:
        self._user()
        records = self.store.list("storage_snapshots")
        if filters.get("id"):
            records = [r for r in records if r["id"] == filters["id"]]
        return [self._snapshot(r) for r in records]

    @nonblocking
    def get_storage_snapshot(self, id: str) -> StorageSnapshot | None:
        self._user()
        rec = self.store.get("storage_snapshots", id)
        return self._snapshot(rec) if rec else None

    def create_storage_snapshot(self, *, volume_id: str, name: str | None = None,
                                description: str | None = None, **extra: str) -> StorageSnapshot:
        # As the original: the volume is not checked.
        self._user()
        record: Record = {"storage_volume_id": volume_id, "created": _now(), "state": "COMPLETED"}
        if name:
            record["name"] = name
        if description:
            record["description"] = description
        with self.store.transaction() as tx:
            new_id = _free_id(tx, "storage_snapshots", f"store_snapshot_{int(time.time())}")
            rec = tx.put("storage_snapshots", new_id, record)
        created = self._snapshot(rec)
        self.announce_change("storage_snapshots", new_id, created)
        return created

    def destroy_storage_snapshot(self, id: str) -> None:
        self._user()
        self.store.delete("storage_snapshots", id)
        self.announce_change("storage_snapshots", id)

    # -- buckets ---------------------------------------------------------------------------
    @nonblocking
    def list_buckets(self, **filters: str) -> list[Bucket]:
        self._user()
        records = self.store.list("buckets")
        if filters.get("id"):
            records = [r for r in records if r["id"] == filters["id"]]
        blobs: dict[str, list[str]] = {}
        for blob in self.store.list("blobs"):
            blobs.setdefault(str(blob.get("bucket")), []).append(blob["id"])
        return [Bucket(id=r["id"], name=r.get("name") or r["id"], size=r.get("size"),
                       blob_ids=tuple(blobs.get(r["id"], ()))) for r in records]

    @nonblocking
    def get_bucket(self, id: str) -> Bucket | None:
        self._user()
        rec = self.store.get("buckets", id)
        if rec is None:
            return None
        blob_ids = tuple(b["id"] for b in self.store.find("blobs", bucket=id))
        return Bucket(id=rec["id"], name=rec.get("name") or rec["id"], size=rec.get("size"), blob_ids=blob_ids)

    def create_bucket(self, *, name: str, location: str | None = None, **extra: str) -> Bucket:
        self._user()
        _check_name("Bucket", name)
        rec = self.store.put("buckets", name, {"name": name, "size": "0"})
        return Bucket(id=rec["id"], name=name, size=rec["size"], blob_ids=())

    def destroy_bucket(self, id: str) -> None:
        self._user()
        with self.store.transaction() as tx:
            if not tx.exists("buckets", id):
                raise ObjectNotFound(f"Bucket '{id}' does not exist")
            # "Empty" means: no blob record names this bucket (the size counter is not consulted).
            if tx.find("blobs", bucket=id):
                raise ForbiddenError("Delete operation not valid for non-empty bucket")
            tx.delete("buckets", id)

    # -- blobs -----------------------------------------------------------------------------
    def _blob_dir(self) -> Path:
        path = self.store.root / BLOB_DIR
        path.mkdir(mode=0o750, parents=True, exist_ok=True)
        return path

    def _data_path(self, rec: Record) -> Path | None:
        """The data file of a record, or None for inline (fixture) data."""
        name = rec.get("file")
        if name is None:
            return None
        if not isinstance(name, str) or not _DATA_FILE.match(name):  # never trust a path from storage
            raise ValueError(f"blob record {rec['id']!r} names an invalid data file")
        return self.store.root / BLOB_DIR / name

    def _remove_data(self, name: str | None) -> None:
        if isinstance(name, str) and _DATA_FILE.match(name):
            with contextlib.suppress(FileNotFoundError):
                (self.store.root / BLOB_DIR / name).unlink()

    def _blob(self, rec: Record, *, with_content: bool = True) -> Blob:
        metadata = rec.get("user_metadata")
        inline = "content" in rec
        if inline and not metadata:
            metadata = None  # a fixture blob without metadata: the original's JSON shows ""
        content: str | None = rec.get("content") if inline else None
        length = rec.get("content_length")
        if with_content and not inline and isinstance(length, int) and length <= INLINE_CONTENT_LIMIT:
            path = self._data_path(rec)
            try:
                content = path.read_bytes().decode("utf-8") if path else None
            except (OSError, UnicodeDecodeError):
                content = None
        etag = rec.get("etag")
        if inline and etag is None:  # fixture data: the MD5 of the inline text, as S3 would say
            etag = _md5_hex(str(rec.get("content") or "").encode("utf-8"))
        return Blob(id=rec["id"], bucket=str(rec.get("bucket")), content_length=length,
                    content_type=rec.get("content_type"), last_modified=rec.get("last_modified"),
                    user_metadata=None if metadata is None else {str(k): str(v) for k, v in dict(metadata).items()},
                    content=content, etag=etag if isinstance(etag, str) else None)

    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        self._user()
        rec = self.store.get("blobs", blob_id)
        if rec is None or rec.get("bucket") != bucket_id:
            return None
        return self._blob(rec)

    def blob_content(self, bucket_id: str, blob_id: str, *, byte_range: ByteRange | None = None) -> BlobStream:
        """The data file opened once (the version described is the version streamed); with
        ``byte_range``, only those bytes are read (a seek, then a bounded read)."""
        self._user()
        for _attempt in range(5):
            rec = self.store.get("blobs", blob_id)
            if rec is None or rec.get("bucket") != bucket_id:
                break
            path = self._data_path(rec)
            blob = self._blob(rec, with_content=False)
            if path is None:
                data = str(rec.get("content") or "").encode("utf-8")
                blob = dataclasses.replace(blob, content_length=len(data))
                return BlobStream(blob, data=data, served_range=_served(byte_range, len(data)))
            try:
                handle = path.open("rb")
            except FileNotFoundError:
                continue  # replaced or deleted meanwhile: look at the record again
            size = os.fstat(handle.fileno()).st_size
            try:
                served = _served(byte_range, size)
            except RangeNotSatisfiable:
                handle.close()
                raise
            return BlobStream(dataclasses.replace(blob, content_length=size), file=handle, served_range=served)
        raise ObjectNotFound(f"Blob '{blob_id}' not found in bucket '{bucket_id}'")

    def create_blob(self, bucket_id: str, blob_id: str, *, data: BinaryIO, content_type: str,
                    user_metadata: Mapping[str, str], content_length: int | None = None) -> Blob:
        self._user()
        _check_name("Blob", blob_id)
        store = self.store
        if not store.exists("buckets", bucket_id):
            raise ObjectNotFound(f"Bucket '{bucket_id}' does not exist")
        blob_dir = self._blob_dir()
        name = f"{blob_file_stem(blob_id)}.{secrets.token_hex(16)}"
        target = blob_dir / name
        fd, tmp = tempfile.mkstemp(dir=blob_dir, prefix=".upload-")
        try:
            size = 0
            digest = hashlib.md5(usedforsecurity=False)
            with os.fdopen(fd, "wb") as out:
                while chunk := data.read(CHUNK_SIZE):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        try:
            with store.transaction() as tx:
                bucket = tx.get("buckets", bucket_id)
                if bucket is None:  # deleted while the data was uploading
                    raise ObjectNotFound(f"Bucket '{bucket_id}' does not exist")
                old = tx.get("blobs", blob_id)
                rec = tx.put("blobs", blob_id, {
                    "name": blob_id, "bucket": bucket_id, "last_modified": _now(),
                    "user_metadata": {str(k).lower(): str(v) for k, v in user_metadata.items()},
                    "content_length": size, "content_type": content_type, "file": name,
                    "etag": digest.hexdigest()})
                bucket["size"] = _counter(bucket.get("size")) + 1
                tx.put("buckets", bucket_id, bucket)
        except BaseException:
            self._remove_data(name)
            raise
        if old is not None:
            self._remove_data(old.get("file"))
        return self._blob(rec)

    def destroy_blob(self, bucket_id: str, blob_id: str) -> None:
        self._user()
        with self.store.transaction() as tx:
            rec = tx.get("blobs", blob_id)
            if rec is None or rec.get("bucket") != bucket_id:
                raise ObjectNotFound("Could not delete a non existent blob")
            tx.delete("blobs", blob_id)
            bucket = tx.get("buckets", bucket_id)
            if bucket is not None:
                bucket["size"] = _counter(bucket.get("size")) - 1
                tx.put("buckets", bucket_id, bucket)
        self._remove_data(rec.get("file"))

    @nonblocking
    def blob_metadata(self, bucket_id: str, blob_id: str) -> dict[str, str] | None:
        # As the original (MOCK.md quirk 11): looked up by blob id only, whatever the bucket.
        self._user()
        rec = self.store.get("blobs", blob_id)
        if rec is None:
            return None
        return {str(k): str(v) for k, v in dict(rec.get("user_metadata") or {}).items()}

    def update_blob_metadata(self, bucket_id: str, blob_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        # As the original: looked up by blob id only; the data and last_modified stay.
        self._user()
        with self.store.transaction() as tx:
            rec = tx.get("blobs", blob_id)
            if rec is None:
                raise ObjectNotFound(f"Blob '{blob_id}' not found")
            rec["user_metadata"] = {str(k).lower(): str(v) for k, v in metadata.items()}
            tx.put("blobs", blob_id, rec)
        return dict(rec["user_metadata"])
