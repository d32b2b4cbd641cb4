"""Buckets and blobs through the GCS JSON API (google-cloud-storage), for service-account keys.

* Listings follow every page (``nextPageToken``) to the end: a bucket of 20,000 blobs lists
  20,000 ids.
* Uploads never hold more than one chunk (:attr:`Settings.chunk_size`, 8 MiB): a body that fits
  in one chunk is one multipart upload, a larger one a resumable upload fed chunk by chunk as
  the client's body arrives (the object appears whole or not at all).
* Downloads are one streamed ``alt=media`` GET pinned to the generation the metadata described
  (so the bytes are exactly that version's), with the client's ``Range`` passed on.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from deltacloud_core import ForbiddenError, ObjectNotFound, ProviderError, RangeNotSatisfiable
from deltacloud_core.models import Blob, Bucket, ByteRange

from .errors import for_status, google_errors, translate
from .settings import Settings

if TYPE_CHECKING:
    from google.cloud.storage import Client

__all__ = ["BlobStream", "JsonStorage", "format_time"]

def format_time(value: datetime | None) -> str | None:
    """As the other drivers print times: ``2026-11-22 08:54:32 +0000`` (UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S %z")


def _read_exactly(data: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    left = size
    while left > 0:
        chunk = data.read(left)
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class BlobStream:
    """A streamed media download; ``blob`` is the whole blob, ``served_range`` the bytes sent."""

    def __init__(self, response: Any, blob: Blob, served_range: tuple[int, int] | None, chunk: int) -> None:
        self._response = response
        self.blob = blob
        self.served_range = served_range
        self._chunk = chunk

    def __iter__(self) -> Iterator[bytes]:
        try:
            with google_errors():
                yield from self._response.iter_content(self._chunk)
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()


@dataclass
class JsonStorage:
    """The JSON API of one (credentials, endpoint, project): a Client and a streaming session."""

    client: Client
    session: Any
    endpoint: str
    project: str | None
    settings: Settings

    @property
    def _call(self) -> dict[str, Any]:
        return {"timeout": self.settings.timeouts, "retry": self.settings.retry}

    # -- buckets ---------------------------------------------------------------------------
    def list_buckets(self, **filters: str) -> list[Bucket]:
        if filters.get("id"):
            bucket = self.get_bucket(filters["id"])
            return [bucket] if bucket is not None else []
        with google_errors():
            found = list(self.client.list_buckets(project=self.project, **self._call))
        return [Bucket(id=b.name, name=b.name, size=None, extra={"location": b.location}) for b in found]

    def _blob_names(self, bucket_id: str) -> tuple[str, ...]:
        """Every name in the bucket, page after page (``nextPageToken``) to the end."""
        with google_errors():
            pages = self.client.list_blobs(bucket_id, page_size=self.settings.page_size,
                                           fields="items(name),nextPageToken", **self._call)
            return tuple(blob.name for blob in pages)

    def get_bucket(self, id: str) -> Bucket | None:
        try:
            names = self._blob_names(id)
        except ObjectNotFound:
            return None
        return Bucket(id=id, name=id, size=len(names), blob_ids=names)

    def create_bucket(self, *, name: str, location: str | None = None, **extra: str) -> Bucket:
        with google_errors():
            bucket = self.client.create_bucket(name, project=self.project, location=location or None,
                                               **self._call)
        return Bucket(id=name, name=name, size=0, blob_ids=(), extra={"location": bucket.location})

    def destroy_bucket(self, id: str) -> None:
        with google_errors():
            first = next(iter(self.client.list_blobs(id, max_results=1, fields="items(name)", **self._call)), None)
        if first is not None:
            raise ForbiddenError("Delete operation not valid for non-empty bucket")
        with google_errors():
            self.client.bucket(id).delete(**self._call)

    # -- blobs -----------------------------------------------------------------------------
    @staticmethod
    def _blob(bucket_id: str, found: Any) -> Blob:
        return Blob(id=found.name, bucket=bucket_id, content_length=found.size,
                    content_type=found.content_type or "", last_modified=format_time(found.updated),
                    user_metadata=dict(found.metadata or {}), content=None, etag=found.etag,
                    extra={"generation": found.generation, "md5_hash": found.md5_hash,
                           "storage_class": found.storage_class})

    def _get(self, bucket_id: str, blob_id: str) -> Any | None:
        with google_errors():
            return self.client.bucket(bucket_id).get_blob(blob_id, **self._call)

    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        try:
            found = self._get(bucket_id, blob_id)
        except ObjectNotFound:
            return None
        return None if found is None else self._blob(bucket_id, found)

    def blob_metadata(self, bucket_id: str, blob_id: str) -> dict[str, str] | None:
        blob = self.get_blob(bucket_id, blob_id)
        return None if blob is None else dict(blob.user_metadata or {})

    def blob_content(self, bucket_id: str, blob_id: str, *, byte_range: ByteRange | None = None) -> BlobStream:
        blob = self.get_blob(bucket_id, blob_id)
        if blob is None:
            raise ObjectNotFound(f"Blob '{blob_id}' not found in bucket '{bucket_id}'")
        url = (f"{self.endpoint}/download/storage/v1/b/{quote(bucket_id, safe='')}/o/{quote(blob_id, safe='')}"
               f"?alt=media&generation={blob.extra['generation']}")
        size = blob.content_length or 0
        served = None
        headers = {"Accept-Encoding": "identity"}  # the stored bytes, never a transcoding
        if byte_range is not None and size:
            served = byte_range.resolve(size)
            if served is None:
                raise RangeNotSatisfiable(f"The blob has {size} bytes: no byte of {byte_range.header()} exists.",
                                          size=size)
            headers["Range"] = byte_range.header()
        try:
            response = self.session.get(url, headers=headers, stream=True, timeout=self.settings.timeouts)
        except Exception as exc:
            raise (translate(exc) or exc) from exc
        if response.status_code not in (200, 206):
            text = response.text[:500]
            response.close()
            raise for_status(response.status_code, text or f"GET {blob_id}: {response.status_code}",
                             headers=response.headers)
        if served is not None and response.status_code == 200:
            response.close()  # an endpoint that ignored the Range: the core must not get the whole blob
            raise ProviderError("Google Cloud Storage ignored the Range of a ranged download.")
        return BlobStream(response, blob, served, self.settings.download_chunk)

    def create_blob(self, bucket_id: str, blob_id: str, *, data: BinaryIO, content_type: str,
                    user_metadata: Mapping[str, str], content_length: int | None = None) -> Blob:
        target = self.client.bucket(bucket_id).blob(blob_id, chunk_size=self.settings.chunk_size)
        target.metadata = dict(user_metadata)
        kind = content_type or None
        first = _read_exactly(data, self.settings.chunk_size)
        with google_errors():
            if len(first) < self.settings.chunk_size:
                target.upload_from_file(io.BytesIO(first), size=len(first), content_type=kind,
                                        timeout=self.settings.timeouts, retry=self.settings.retry)
            else:
                self._resumable(target, first, data, kind)
        return self._blob(bucket_id, target)

    def _resumable(self, target: Any, first: bytes, data: BinaryIO, content_type: str | None) -> None:
        """A resumable upload fed one chunk at a time (the writer keeps at most one chunk)."""
        writer = target.open("wb", chunk_size=self.settings.chunk_size, content_type=content_type,
                             ignore_flush=True, timeout=self.settings.timeouts, retry=self.settings.retry)
        try:
            chunk = first
            while chunk:
                writer.write(chunk)
                del chunk
                chunk = _read_exactly(data, self.settings.chunk_size)
        except BaseException:
            try:  # cancel the resumable upload: nothing of it is stored
                writer.terminate()
            except Exception:  # noqa: BLE001 - the first failure is the one to report
                pass
            raise
        writer.close()
        target.reload(timeout=self.settings.timeouts, retry=self.settings.retry)

    def destroy_blob(self, bucket_id: str, blob_id: str) -> None:
        with google_errors():
            self.client.bucket(bucket_id).blob(blob_id).delete(**self._call)

    def update_blob_metadata(self, bucket_id: str, blob_id: str, metadata: Mapping[str, str]) -> dict[str, str] | None:
        """Replace the metadata: a full update (PUT of the object's resource), as a patch merges."""
        try:
            found = self._get(bucket_id, blob_id)
        except ObjectNotFound:
            return None
        if found is None:
            return None
        found.metadata = dict(metadata)  # the whole map: update() PUTs the resource, which replaces it
        with google_errors():
            found.update(if_metageneration_match=found.metageneration, **self._call)
        return dict(found.metadata or {})
