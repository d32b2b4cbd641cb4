"""Swift: buckets (containers) and blobs (objects), streamed both ways, with user metadata.

Blob data never sits in memory whole: uploads are passed to Swift chunk by chunk as the client
sends them (with ``Content-Length`` when the client announced one, chunked otherwise), downloads
are read from Swift chunk by chunk as the client takes them (a client's ``Range`` is passed to
Swift). User metadata is Swift's ``X-Object-Meta-*``; keys come back lower-cased. Listings
follow ``marker`` to the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar
from urllib.parse import quote

from deltacloud_core import Conflict, ForbiddenError, ObjectNotFound, RangeNotSatisfiable
from deltacloud_core.models import Blob, Bucket, ByteRange

from .errors import translate, translated
from .rest import call, segment

if TYPE_CHECKING:
    from .session import Cloud

__all__ = ["CHUNK", "SwiftMixin", "blob_from_headers", "content_range"]

#: Bytes per chunk moved between the client and Swift.
CHUNK = 64 * 1024
#: Names per listing page (Swift's default maximum).
LISTING_PAGE = 10000
_META = "x-object-meta-"
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
#: The header of a listing that says how many entries there are in all.
_COUNTS = ("X-Container-Object-Count", "X-Account-Container-Count")


def _object_path(bucket_id: str, blob_id: str) -> str:
    return f"/{segment(bucket_id)}/{quote(blob_id, safe='/')}"


def _metadata(headers: Mapping[str, str]) -> dict[str, str]:
    return {k[len(_META):].lower(): v for k, v in headers.items() if k.lower().startswith(_META)}


def content_range(headers: Mapping[str, str]) -> tuple[int, int, int] | None:
    """``(first, last, size)`` of a 206's ``Content-Range: bytes first-last/size``."""
    match = _CONTENT_RANGE.match(headers.get("Content-Range") or "")
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def blob_from_headers(bucket_id: str, blob_id: str, headers: Mapping[str, str]) -> Blob:
    """A blob from the headers of Swift's answer to ``HEAD`` or ``GET`` on the object (for a
    ranged ``GET``, the length is the whole object's, from ``Content-Range``)."""
    length = headers.get("Content-Length")
    ranged = content_range(headers)
    return Blob(
        id=blob_id,
        bucket=bucket_id,
        content_length=ranged[2] if ranged else int(length) if length and length.isdigit() else None,
        content_type=headers.get("Content-Type"),
        last_modified=headers.get("Last-Modified"),
        user_metadata=_metadata(headers),
        extra={"etag": headers.get("Etag")},
        etag=headers.get("Etag") or None,
    )


class _Upload:
    """A request body that reads the client's data in chunks as Swift takes it.

    ``len()`` is the announced length (requests then sends ``Content-Length``), or 0 when unknown
    (requests then sends the body chunked).
    """

    def __init__(self, data: BinaryIO, length: int | None) -> None:
        self.data = data
        self.length = length or 0
        self.sent = 0

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:  # requests drops a falsy body (``data or {}``): an empty upload is still one
        return True

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self.data.read(CHUNK)
            if not chunk:
                return
            self.sent += len(chunk)
            yield chunk


class _Download:
    """Swift's answer to ``GET`` on an object, as an iterator of chunks; ``blob`` describes exactly
    the version being streamed."""

    def __init__(self, response: Any, blob: Blob, served_range: tuple[int, int] | None = None) -> None:
        self.response = response
        self.blob = blob
        #: The bytes of the object this is, for a ranged download (Swift's 206).
        self.served_range = served_range

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.response.iter_content(CHUNK)
        except Exception as exc:
            mapped = translate(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        finally:
            self.response.close()

    def close(self) -> None:
        self.response.close()


class SwiftMixin:
    """Buckets and blobs from Swift."""

    cloud: Cloud
    #: Names asked for per listing page (``limit``); every page is followed (``marker``) to the end.
    LISTING_PAGE_SIZE: ClassVar[int] = LISTING_PAGE

    def _swift(self, method: str, path: str, **kwargs: Any) -> Any:
        return call(self.cloud.object_store, method, path, **kwargs)

    def _names(self, path: str, allow404: bool = False) -> list[dict[str, Any]] | None:
        """Every entry of a Swift listing (account or container), page by page (``marker``).

        A short page ends the listing only when the count Swift reports (``X-Container-Object-Count``,
        ``X-Account-Container-Count``) is reached: a server whose pages are smaller than the limit
        asked for (a lower ``container_listing_limit``) is still followed to the end.
        """
        entries: list[dict[str, Any]] = []
        params: dict[str, Any] = {"format": "json", "limit": self.LISTING_PAGE_SIZE}
        while True:
            response = self._swift("GET", path, params=params, allow=(404,) if allow404 else ())
            if response.status_code == 404:
                return None
            page = response.json() if response.content else []
            entries.extend(page)
            if not page:
                return entries
            if len(page) < self.LISTING_PAGE_SIZE:
                counts = [response.headers.get(name) for name in _COUNTS]
                total = next((int(c) for c in counts if c and c.isdigit()), None)
                if total is None or len(entries) >= total:
                    return entries
            params["marker"] = page[-1]["name"]

    # -- buckets -----------------------------------------------------------------------------------
    @translated
    def list_buckets(self, **filters: str) -> list[Bucket]:
        if filters.get("id"):
            one = self.get_bucket(filters["id"])
            return [one] if one is not None else []
        buckets = []
        for container in self._names("/") or ():
            bucket = self.get_bucket(container["name"])
            if bucket is not None:  # deleted meanwhile
                buckets.append(bucket)
        return buckets

    @translated
    def get_bucket(self, id: str) -> Bucket | None:
        objects = self._names(f"/{segment(id)}", allow404=True)
        if objects is None:
            return None
        return Bucket(id=id, name=id, size=len(objects), blob_ids=tuple(o["name"] for o in objects))

    @translated
    def create_bucket(self, *, name: str, location: str | None = None, **extra: str) -> Bucket:
        path = f"/{segment(name)}"
        if self._swift("HEAD", path, allow=(404,)).status_code != 404:
            raise Conflict(f"Bucket {name} already exists.")
        self._swift("PUT", path)
        return Bucket(id=name, name=name, size=0, blob_ids=())

    @translated
    def destroy_bucket(self, id: str) -> None:
        try:
            self._swift("DELETE", f"/{segment(id)}")
        except Conflict as exc:  # Swift's 409: the container still holds objects
            raise ForbiddenError(f"Delete operation not valid for non-empty bucket {id}.",
                                 backend_code=exc.backend_code) from exc

    # -- blobs -------------------------------------------------------------------------------------
    def _head(self, bucket_id: str, blob_id: str) -> Any | None:
        response = self._swift("HEAD", _object_path(bucket_id, blob_id), allow=(404,))
        return None if response.status_code == 404 else response

    @translated
    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        response = self._head(bucket_id, blob_id)
        return None if response is None else blob_from_headers(bucket_id, blob_id, response.headers)

    @translated
    def blob_content(self, bucket_id: str, blob_id: str, *, byte_range: ByteRange | None = None) -> Iterator[bytes]:
        """``GET`` on the object, streamed; a client's ``Range`` goes to Swift as it is."""
        headers = {"Range": byte_range.header()} if byte_range is not None else None
        response = self._swift("GET", _object_path(bucket_id, blob_id), stream=True, allow=(404, 416),
                               headers=headers)
        if response.status_code == 404:
            response.close()
            raise ObjectNotFound(f"Blob {blob_id} is not in bucket {bucket_id}.")
        if response.status_code == 416:
            response.close()
            head = self._head(bucket_id, blob_id)
            size = blob_from_headers(bucket_id, blob_id, head.headers).content_length if head is not None else None
            if size == 0:  # no range of an empty blob: all of it (nothing), as the core answers it
                return self.blob_content(bucket_id, blob_id)
            raise RangeNotSatisfiable(f"The blob has {size} bytes: no byte of {byte_range.header()} exists.",
                                      size=size)
        blob = blob_from_headers(bucket_id, blob_id, response.headers)
        ranged = content_range(response.headers) if response.status_code == 206 else None
        return _Download(response, blob, (ranged[0], ranged[1]) if ranged else None)

    @translated
    def create_blob(self, bucket_id: str, blob_id: str, *, data: BinaryIO, content_type: str,
                    user_metadata: Mapping[str, str], content_length: int | None = None) -> Blob:
        headers = {f"X-Object-Meta-{key}": str(value) for key, value in user_metadata.items()}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            self._swift("PUT", _object_path(bucket_id, blob_id), data=_Upload(data, content_length),
                        headers=headers)
        except ObjectNotFound as exc:
            raise ObjectNotFound(f"Bucket {bucket_id} does not exist.", backend_code=exc.backend_code) from exc
        blob = self.get_blob(bucket_id, blob_id)
        if blob is None:
            raise ObjectNotFound(f"Blob {blob_id} vanished from bucket {bucket_id} right after it was stored.")
        return blob

    @translated
    def destroy_blob(self, bucket_id: str, blob_id: str) -> None:
        self._swift("DELETE", _object_path(bucket_id, blob_id))

    @translated
    def blob_metadata(self, bucket_id: str, blob_id: str) -> dict[str, str] | None:
        response = self._head(bucket_id, blob_id)
        return None if response is None else _metadata(response.headers)

    @translated
    def update_blob_metadata(self, bucket_id: str, blob_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        """Swift's object ``POST`` replaces all user metadata (the content type stays)."""
        headers = {f"X-Object-Meta-{key}": str(value) for key, value in metadata.items()}
        self._swift("POST", _object_path(bucket_id, blob_id), headers=headers)
        stored = self.blob_metadata(bucket_id, blob_id)
        if stored is None:
            raise ObjectNotFound(f"Blob {blob_id} is not in bucket {bucket_id}.")
        return stored
