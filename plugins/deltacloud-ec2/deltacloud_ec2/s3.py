"""S3: buckets and blobs, with user metadata; blob data streams both ways.

Uploads never hold more than one part in memory: a blob that fits in one part
(:data:`PART_SIZE`, 8 MiB) is one ``PutObject``, a larger one a multipart upload whose parts are
read from the client's body as they arrive (an aborted upload is cleaned up). Downloads hand the
client S3's body chunk by chunk; a client's ``Range`` goes to S3 as it is (``GetObject Range``).
Listings follow ``NextContinuationToken`` to the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, ClassVar

from deltacloud_core import DeltacloudError, ForbiddenError, ObjectNotFound, RangeNotSatisfiable, ValidationError
from deltacloud_core.models import Blob, Bucket, ByteRange

from .clients import AwsDriverBase
from .errors import aws_errors
from .shapes import s3_time

__all__ = ["PART_SIZE", "BlobStream", "S3Mixin"]

#: Multipart part size (S3's minimum is 5 MiB for every part but the last).
PART_SIZE = 8 * 1024 * 1024
#: Download chunk size.
CHUNK_SIZE = 64 * 1024
#: The original's bucket locations (``EU``) and the default region mean "no LocationConstraint" here.
_NO_CONSTRAINT = frozenset({"", "us-east-1", "us", "us-standard"})
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def _read_part(data: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes (fewer only at the end of the stream)."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = data.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _content_range(value: str | None) -> tuple[int, int, int] | None:
    """``(first, last, size)`` of S3's ``Content-Range: bytes first-last/size``."""
    match = _CONTENT_RANGE.match(value or "")
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


class BlobStream:
    """A blob's data as an iterator of chunks; ``blob`` describes exactly the version streamed,
    ``served_range`` the bytes S3 sent of it (None: all of them)."""

    def __init__(self, body: Any, blob: Blob, served_range: tuple[int, int] | None = None) -> None:
        self._body = body
        self.blob = blob
        self.served_range = served_range

    def __iter__(self) -> Iterator[bytes]:
        try:
            with aws_errors():
                yield from self._body.iter_chunks(CHUNK_SIZE)
        finally:
            self.close()

    def close(self) -> None:
        self._body.close()


class S3Mixin(AwsDriverBase):
    """Buckets and blobs on S3 (or any S3-compatible store the provider names)."""

    PART_SIZE: ClassVar[int] = PART_SIZE

    # -- buckets ---------------------------------------------------------------------------
    def _blob_ids(self, bucket_id: str) -> tuple[str, ...]:
        return tuple(o["Key"] for o in self.s3.pages("list_objects_v2", "Contents", Bucket=bucket_id))

    def list_buckets(self, **filters: str) -> list[Bucket]:
        """Every bucket (blob lists only in a bucket's own document, as listing them all is costly)."""
        if filters.get("id"):
            bucket = self.get_bucket(filters["id"])
            return [bucket] if bucket else []
        found = self.s3.list_buckets().get("Buckets") or ()
        return [Bucket(id=b["Name"], name=b["Name"], size=None, extra={"created": s3_time(b.get("CreationDate"))})
                for b in found]

    def get_bucket(self, id: str) -> Bucket | None:
        try:
            blobs = self._blob_ids(id)
        except (ObjectNotFound, ValidationError):
            return None
        return Bucket(id=id, name=id, size=len(blobs), blob_ids=blobs)

    def create_bucket(self, *, name: str, location: str | None = None, **extra: str) -> Bucket:
        where = (location or "").strip()
        if not where and self.region not in _NO_CONSTRAINT:
            where = self.region
        kwargs: dict[str, Any] = {"Bucket": name}
        if where.lower() not in _NO_CONSTRAINT:
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": where}
        self.s3.create_bucket(**kwargs)
        return Bucket(id=name, name=name, size=0, blob_ids=(), extra={"location": where or None})

    def destroy_bucket(self, id: str) -> None:
        """Only an empty bucket: checked first, as some S3-compatible stores (SeaweedFS by default)
        delete a bucket with everything in it."""
        if self.s3.list_objects_v2(Bucket=id, MaxKeys=1).get("KeyCount"):
            raise ForbiddenError("Delete operation not valid for non-empty bucket", backend_code="BucketNotEmpty")
        try:
            self.s3.delete_bucket(Bucket=id)
        except ForbiddenError as exc:
            if exc.backend_code == "BucketNotEmpty":
                raise ForbiddenError("Delete operation not valid for non-empty bucket",
                                     backend_code=exc.backend_code) from exc
            raise

    # -- blobs -----------------------------------------------------------------------------
    @staticmethod
    def _blob(bucket_id: str, blob_id: str, head: Mapping[str, Any], size: int | None = None) -> Blob:
        etag = str(head.get("ETag") or "").strip('"') or None
        return Blob(
            id=blob_id,
            bucket=bucket_id,
            content_length=int(head.get("ContentLength") or 0) if size is None else size,
            content_type=head.get("ContentType") or "",
            last_modified=s3_time(head.get("LastModified")),
            user_metadata=dict(head.get("Metadata") or {}),
            content=None,
            extra={"etag": etag},
            etag=etag,
        )

    def _head(self, bucket_id: str, blob_id: str) -> Mapping[str, Any] | None:
        try:
            return self.s3.head_object(Bucket=bucket_id, Key=blob_id)
        except ObjectNotFound:
            return None

    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        head = self._head(bucket_id, blob_id)
        return None if head is None else self._blob(bucket_id, blob_id, head)

    def blob_content(self, bucket_id: str, blob_id: str, *, byte_range: ByteRange | None = None) -> BlobStream:
        """``GetObject``, with the client's ``Range`` passed to S3 as it is."""
        kwargs: dict[str, Any] = {"Bucket": bucket_id, "Key": blob_id}
        if byte_range is not None:
            kwargs["Range"] = byte_range.header()
        try:
            found = self.s3.get_object(**kwargs)
        except ObjectNotFound as exc:
            raise ObjectNotFound(f"Blob '{blob_id}' not found in bucket '{bucket_id}'",
                                 backend_code=exc.backend_code) from exc
        except ValidationError as exc:
            if byte_range is None or exc.backend_code != "InvalidRange":
                raise
            head = self._head(bucket_id, blob_id)
            size = int(head.get("ContentLength") or 0) if head else None
            if size == 0:  # no range of an empty blob: the whole (empty) blob, as the core answers it
                return self.blob_content(bucket_id, blob_id)
            raise RangeNotSatisfiable(exc.message, size=size, backend_code=exc.backend_code) from exc
        served = _content_range(found.get("ContentRange"))
        if served is None:  # the whole blob (no Range asked, or a store that ignored it)
            return BlobStream(found["Body"], self._blob(bucket_id, blob_id, found))
        first, last, size = served
        return BlobStream(found["Body"], self._blob(bucket_id, blob_id, found, size=size), (first, last))

    def create_blob(self, bucket_id: str, blob_id: str, *, data: BinaryIO, content_type: str,
                    user_metadata: Mapping[str, str], content_length: int | None = None) -> Blob:
        extra: dict[str, Any] = {"Metadata": dict(user_metadata)}
        if content_type:
            extra["ContentType"] = content_type
        first = _read_part(data, self.PART_SIZE)
        if len(first) < self.PART_SIZE:
            self.s3.put_object(Bucket=bucket_id, Key=blob_id, Body=first, **extra)
        else:
            self._multipart(bucket_id, blob_id, first, data, extra)
        blob = self.get_blob(bucket_id, blob_id)
        if blob is None:
            raise ObjectNotFound(f"Blob '{blob_id}' vanished from bucket '{bucket_id}' right after the upload")
        return blob

    def _multipart(self, bucket_id: str, blob_id: str, first: bytes, data: BinaryIO, extra: Mapping[str, Any]) -> None:
        upload_id = self.s3.create_multipart_upload(Bucket=bucket_id, Key=blob_id, **extra)["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            part = first
            while part:
                number = len(parts) + 1
                etag = self.s3.upload_part(Bucket=bucket_id, Key=blob_id, UploadId=upload_id, PartNumber=number,
                                           Body=part)["ETag"]
                parts.append({"ETag": etag, "PartNumber": number})
                part = _read_part(data, self.PART_SIZE)
            self.s3.complete_multipart_upload(Bucket=bucket_id, Key=blob_id, UploadId=upload_id,
                                              MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                self.s3.abort_multipart_upload(Bucket=bucket_id, Key=blob_id, UploadId=upload_id)
            except DeltacloudError:
                pass  # the first failure is the one to report
            raise

    def destroy_blob(self, bucket_id: str, blob_id: str) -> None:
        if self._head(bucket_id, blob_id) is None:  # S3 deletes unknown keys silently: 404 first
            raise ObjectNotFound(f"Blob '{blob_id}' not found in bucket '{bucket_id}'")
        self.s3.delete_object(Bucket=bucket_id, Key=blob_id)

    def blob_metadata(self, bucket_id: str, blob_id: str) -> dict[str, str] | None:
        head = self._head(bucket_id, blob_id)
        return None if head is None else dict(head.get("Metadata") or {})

    def update_blob_metadata(self, bucket_id: str, blob_id: str, metadata: Mapping[str, str]) -> dict[str, str] | None:
        head = self._head(bucket_id, blob_id)
        if head is None:
            return None
        kwargs: dict[str, Any] = {"Bucket": bucket_id, "Key": blob_id, "Metadata": dict(metadata),
                                  "MetadataDirective": "REPLACE", "CopySource": {"Bucket": bucket_id, "Key": blob_id}}
        if head.get("ContentType"):
            kwargs["ContentType"] = head["ContentType"]
        self.s3.copy_object(**kwargs)
        return self.blob_metadata(bucket_id, blob_id)
