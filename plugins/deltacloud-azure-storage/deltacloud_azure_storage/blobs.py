"""Blobs: Azure block blobs in a container.

Uploads (``PUT`` and the multipart ``POST``) read the request body ``block_size`` bytes at a
time. A body that fits in one block goes up in one Put Blob request; a larger one as blocks
(Put Block, up to ``upload_concurrency`` in flight) committed at the end with the content
type and the metadata (Put Block List), so the blob appears whole or not at all, and a
concurrent upload of the same name never mixes blocks with this one (block ids carry a
random prefix per upload). Memory per upload: about ``(upload_concurrency + 1) *
block_size``, whatever the blob's size.

Downloads (``GET .../content``) fetch ``block_size`` ranges one after the other while the
client reads; a client's ``Range`` becomes the offset and length of the download. The SDK
pins the version it started with (``If-Match`` on its ETag): if the blob is replaced
meanwhile, the download stops (the connection is cut) rather than mixing two versions.

User metadata (``X-Deltacloud-Blobmeta-<name>``) is Azure metadata (``x-ms-meta-<name>``),
reported back without prefix. Azure wants metadata names to be C# identifiers (letters,
digits, ``_``; not starting with a digit): other names are refused with a 400 before any data
is sent. Values travel as HTTP headers, so they are stored without leading or trailing blanks.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from azure.storage.blob import ContentSettings
from deltacloud_core import ObjectNotFound, ProviderError, RangeNotSatisfiable, ValidationError, error_for_status
from deltacloud_core.models import Blob, ByteRange

from .errors import translated

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, BlobProperties, BlobServiceClient, StorageStreamDownloader

    from .client import ClientSettings

__all__ = ["DEFAULT_CONTENT_TYPE", "MAX_BLOCKS", "BlobStream", "BlobsMixin", "azure_metadata", "format_time"]

#: What Azure stores when a client sends no content type (Deltacloud's ``""``).
DEFAULT_CONTENT_TYPE = "application/octet-stream"
#: Azure's limit of committed blocks per block blob.
MAX_BLOCKS = 50_000
_METADATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_time(value: datetime | None) -> str | None:
    """A timestamp as the original printed Ruby times: ``2026-11-22 08:54:32 +0000`` (UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S %z")


def azure_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """User metadata as Azure takes it; a name Azure would refuse is a 400 naming the rule."""
    out: dict[str, str] = {}
    for name, value in metadata.items():
        key = str(name)
        if not _METADATA_NAME.match(key):
            raise ValidationError(
                f"Metadata name '{key}' is not allowed by Azure: names must be C# identifiers "
                "(letters, digits and '_', not starting with a digit; no '-' or '.').",
                backend_code="InvalidMetadata")
        out[key] = str(value).strip()  # header values: Azure keeps them without surrounding blanks
    return out


def _read_exactly(data: BinaryIO, size: int) -> bytes:
    """``size`` bytes from ``data`` (fewer only at the end): file objects may return short reads."""
    first = data.read(size)
    if not first or len(first) == size:
        return first or b""
    parts = [first]
    got = len(first)
    while got < size:
        more = data.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _check_length(received: int, announced: int | None) -> None:
    if announced is not None and received != announced:
        raise ValidationError(f"The request announced {announced} bytes but carried {received}; nothing was stored.")


class BlobStream:
    """A blob's data as an iterator of chunks, with the :class:`Blob` the chunks belong to and,
    for a ranged download, the bytes of it they are (``served_range``)."""

    def __init__(self, blob: Blob, downloader: StorageStreamDownloader,
                 served_range: tuple[int, int] | None = None) -> None:
        self.blob = blob
        self._downloader = downloader
        self.served_range = served_range

    def __iter__(self) -> Iterator[bytes]:
        with translated():
            yield from self._downloader.chunks()

    def close(self) -> None:
        """Nothing to release: each chunk is its own request."""


class BlobsMixin:
    """Blob operations. Needs ``service()`` and ``client_settings()`` from the driver."""

    if TYPE_CHECKING:
        def service(self) -> BlobServiceClient: ...

        def client_settings(self) -> ClientSettings: ...

    def _blob_client(self, bucket_id: str, blob_id: str) -> BlobClient:
        return self.service().get_blob_client(bucket_id, blob_id)

    @staticmethod
    def _blob(bucket_id: str, blob_id: str, props: BlobProperties) -> Blob:
        settings = props.content_settings
        return Blob(id=blob_id, bucket=bucket_id, content_length=props.size,
                    content_type=(settings.content_type if settings else None) or "",
                    last_modified=format_time(props.last_modified),
                    user_metadata=dict(props.metadata or {}), content=None, etag=props.etag,
                    extra={"etag": props.etag, "blob_type": str(getattr(props.blob_type, "value", props.blob_type))})

    def _properties(self, bucket_id: str, blob_id: str) -> BlobProperties | None:
        try:
            with translated():
                return self._blob_client(bucket_id, blob_id).get_blob_properties()
        except ObjectNotFound:
            return None

    # -- read ------------------------------------------------------------------------------
    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        props = self._properties(bucket_id, blob_id)
        return None if props is None else self._blob(bucket_id, blob_id, props)

    def blob_content(self, bucket_id: str, blob_id: str, *, byte_range: ByteRange | None = None) -> BlobStream:
        """Get Blob, in ranges of one block; a client's ``Range`` becomes the download's offset and
        length (a suffix range asks for the blob's size first: Azure takes no suffix)."""
        client = self._blob_client(bucket_id, blob_id)
        offset = length = None
        served = None
        if byte_range is not None:
            if byte_range.suffix is not None:
                props = self._properties(bucket_id, blob_id)
                if props is None:
                    raise ObjectNotFound(f"Blob '{blob_id}' not found in bucket '{bucket_id}'")
                if not props.size:  # an empty blob has no range: all of it (nothing)
                    byte_range = None
                else:
                    served = byte_range.resolve(props.size)
            else:
                served = (byte_range.start, byte_range.end)  # type: ignore[assignment]
            if served is not None:
                offset = served[0]
                length = None if served[1] is None else served[1] - served[0] + 1
        with translated():
            try:
                downloader = client.download_blob(offset=offset, length=length, max_concurrency=1)
            except RangeNotSatisfiable:
                props = self._properties(bucket_id, blob_id)
                size = props.size if props is not None else None
                if size == 0:
                    return self.blob_content(bucket_id, blob_id)
                raise RangeNotSatisfiable(f"The blob has {size} bytes: no byte of {byte_range.header()} exists.",
                                          size=size) from None
        blob = self._blob(bucket_id, blob_id, downloader.properties)
        if offset is None:
            return BlobStream(blob, downloader)
        # A ranged download's properties: ``size`` is the range's, ``content_range`` "bytes a-b/whole".
        match = re.match(r"^bytes (\d+)-(\d+)/(\d+)$", str(downloader.properties.content_range or ""))
        if match is None:
            raise ProviderError(f"Azure answered a ranged download without its Content-Range for '{blob_id}'.")
        first, last, size = (int(g) for g in match.groups())
        last = min(last, size - 1)  # the SDK writes the range asked for, not the one Azure cut at the end
        if size == 0:  # an empty blob has no range: all of it (nothing), as the core answers it
            return BlobStream(dataclasses.replace(blob, content_length=0), downloader)
        if first > last:  # Azurite answers an offset past the end with nothing rather than a 416
            assert byte_range is not None
            raise RangeNotSatisfiable(f"The blob has {size} bytes: no byte of {byte_range.header()} exists.",
                                      size=size)
        return BlobStream(dataclasses.replace(blob, content_length=size), downloader, (first, last))

    def blob_metadata(self, bucket_id: str, blob_id: str) -> dict[str, str] | None:
        props = self._properties(bucket_id, blob_id)
        return None if props is None else dict(props.metadata or {})

    # -- write -----------------------------------------------------------------------------
    def create_blob(self, bucket_id: str, blob_id: str, *, data: BinaryIO, content_type: str,
                    user_metadata: Mapping[str, str], content_length: int | None = None) -> Blob:
        metadata = azure_metadata(user_metadata)
        settings = self.client_settings()
        client = self._blob_client(bucket_id, blob_id)
        content = ContentSettings(content_type=content_type or DEFAULT_CONTENT_TYPE)
        first = _read_exactly(data, settings.block_size)
        with translated():
            if len(first) < settings.block_size:
                _check_length(len(first), content_length)
                result = client.upload_blob(first, length=len(first), overwrite=True, content_settings=content,
                                            metadata=metadata)
                size = len(first)
            else:
                size, result = self._upload_blocks(client, first, data, settings, content, metadata, content_length)
        return Blob(id=blob_id, bucket=bucket_id, content_length=size, content_type=content.content_type,
                    last_modified=format_time(result.get("last_modified")), user_metadata=metadata, content=None,
                    etag=result.get("etag"), extra={"etag": result.get("etag"), "blob_type": "BlockBlob"})

    @staticmethod
    def _upload_blocks(client: BlobClient, first: bytes, data: BinaryIO, settings: ClientSettings,
                       content: ContentSettings, metadata: Mapping[str, str],
                       content_length: int | None) -> tuple[int, dict[str, Any]]:
        """Stage ``first`` and the rest of ``data`` as blocks, a bounded number in flight; commit."""
        prefix = uuid.uuid4().hex
        block_ids: list[str] = []
        size = 0
        pending: deque[Future[Any]] = deque()
        with ThreadPoolExecutor(max_workers=settings.upload_concurrency,
                                thread_name_prefix="deltacloud-azure-upload") as pool:
            try:
                chunk = first
                while chunk:
                    if len(block_ids) >= MAX_BLOCKS:
                        raise error_for_status(413, f"A blob may have at most {MAX_BLOCKS} blocks of "
                                                    f"{settings.block_size} bytes (DELTACLOUD_AZURE_BLOCK_SIZE).")
                    block_id = base64.b64encode(f"{prefix}{len(block_ids):08d}".encode()).decode()
                    block_ids.append(block_id)
                    size += len(chunk)
                    while len(pending) >= settings.upload_concurrency:
                        pending.popleft().result()
                    pending.append(pool.submit(client.stage_block, block_id, chunk, length=len(chunk)))
                    del chunk  # only the pending blocks stay referenced
                    chunk = _read_exactly(data, settings.block_size)
                while pending:
                    pending.popleft().result()
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        _check_length(size, content_length)
        result = client.commit_block_list(block_ids, content_settings=content, metadata=dict(metadata))
        return size, result

    def update_blob_metadata(self, bucket_id: str, blob_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        stored = azure_metadata(metadata)
        with translated():
            self._blob_client(bucket_id, blob_id).set_blob_metadata(stored)
        return stored

    def destroy_blob(self, bucket_id: str, blob_id: str) -> None:
        with translated():
            self._blob_client(bucket_id, blob_id).delete_blob(delete_snapshots="include")
