"""``/api/buckets``: object storage buckets, and their blobs at ``/api/buckets/:id/:blob_id``.

Two collections are registered here: ``buckets`` and its sub-collection ``blobs`` (``parent``
``buckets``: its routes live below ``/api/buckets/{id}``, it is not an entry-point link).

Blob user metadata travels in ``X-Deltacloud-Blobmeta-<name>`` headers (matched
case-insensitively, ``-`` or ``_`` separators; names lower-cased) or, for the multipart
upload form, in ``meta_params=N`` / ``meta_nameK`` / ``meta_valueK`` fields. Blob data
streams in both directions: ``PUT`` hands the driver the request body as a file object
(``OperationCall.body_reader``), ``GET .../content`` streams the driver's chunks, whole or a
``Range`` of them, and answers conditional downloads (:mod:`.blob_download`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from ..errors import NotSupportedError, ObjectNotFound, ValidationError
from ..hookspecs import hookimpl
from ..models import Blob, ByteRange
from ..schemas.storage import BlobJson, BlobXml, BucketJson, BucketXml
from .base import (
    DATA_FORMATS,
    HTML_ONLY,
    Answer,
    Collection,
    CollectionRegistry,
    Operation,
    OperationCall,
    Outcome,
    Param,
    Resource,
    needs,
    read_operations,
)
from .blob_download import accepts_byte_range, etag_header, etag_matches, parse_range, partial_answer

__all__ = ["BLOBS", "BUCKETS", "blob_metadata_headers", "metadata_from_form", "metadata_from_headers"]

#: ``X-Deltacloud-Blobmeta-<name>`` (any case, ``-`` or ``_`` as separators).
_META_HEADER = re.compile(r"^x[-_]deltacloud[-_]blobmeta[-_](.+)$", re.IGNORECASE)
#: An HTTP header name (RFC 9110 token): what a metadata key must be to travel in a header.
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: Control characters a header value cannot carry (horizontal tab is allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: Most ``meta_nameK`` pairs a form may carry.
_MAX_FORM_META = 1000
_META_PREFIX = "X-Deltacloud-Blobmeta-"


# -- metadata helpers ------------------------------------------------------------------------

def metadata_from_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """User metadata from ``X-Deltacloud-Blobmeta-*`` request headers (keys lower-cased)."""
    items: Iterable[tuple[str, str]] = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        match = _META_HEADER.match(name)
        if match:
            out[match.group(1).lower()] = value
    return out


def _ruby_to_i(text: str | None) -> int:
    """Ruby's ``String#to_i``: the leading digits, else 0."""
    match = re.match(r"\s*([+-]?\d+)", text or "")
    return int(match.group(1)) if match else 0


def metadata_from_form(params: Mapping[str, str]) -> dict[str, str]:
    """``meta_params=N`` and ``meta_name1..N`` / ``meta_value1..N`` (a missing value is ``""``)."""
    count = min(max(_ruby_to_i(params.get("meta_params")), 0), _MAX_FORM_META)
    out: dict[str, str] = {}
    for k in range(1, count + 1):
        name = params.get(f"meta_name{k}")
        if not name:
            continue
        key = name.strip().lower()
        if not _TOKEN.match(key):
            raise ValidationError(f"Metadata name '{name}' (meta_name{k}) is not usable as an HTTP header name: "
                                  "use letters, digits and - _ . only.")
        value = params.get(f"meta_value{k}") or ""
        if _CONTROL.search(value):
            raise ValidationError(f"Metadata value meta_value{k} contains control characters (line breaks ...).")
        out[key] = value
    return out


def _header_value(value: object) -> str:
    """A metadata value as a header can carry it: no control characters, bytes as UTF-8."""
    text = _CONTROL.sub(" ", str(value))
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        text = text.encode("utf-8").decode("latin-1")
    return text


def blob_metadata_headers(metadata: Mapping[str, object] | None) -> dict[str, str]:
    """``X-Deltacloud-Blobmeta-<key>: <value>`` per entry, keys as stored (unusable names skipped)."""
    return {f"{_META_PREFIX}{key}": _header_value(value) for key, value in (metadata or {}).items()
            if _TOKEN.match(str(key))}


def content_disposition(blob_id: str) -> str:
    """``attachment; filename=<blob id>`` (quoted, plus RFC 6266 ``filename*``, when it must be)."""
    if _TOKEN.match(blob_id):
        return f"attachment; filename={blob_id}"
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in blob_id)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(blob_id, safe='')}"


def _ids(call: OperationCall) -> tuple[str, str]:
    return call.path_params["id"], call.path_params["blob_id"]


# -- buckets ---------------------------------------------------------------------------------

async def _create_bucket(call: OperationCall) -> Outcome:
    name = call.params["name"]
    if not name:
        raise ValidationError("A bucket needs a name.")
    bucket = await call.invoke("create_bucket", name=name, location=call.param("location") or None,
                               **call.extra_params("name", "location"))
    return Outcome.member("bucket", bucket, status=201, location=call.url("buckets", bucket.id))


async def _destroy_bucket(call: OperationCall) -> Outcome:
    await call.invoke("destroy_bucket", call.id)
    return Outcome.empty(204, html_redirect=call.url("buckets"))


async def _new_bucket_form(call: OperationCall) -> Outcome:
    return Outcome(kind="custom", resource="bucket_new", data={})


_ID = Param("id", required=True, description="Bucket id")

BUCKETS = Collection(
    name="buckets",
    singular="bucket",
    description="A bucket is a container of blobs (objects) in the provider's object storage.",
    resources=(Resource("bucket", "buckets", {"json": BucketJson(), "xml": BucketXml()}),),
    operations=(
        *read_operations("bucket", "buckets", "list_buckets", "get_bucket",
                         id_param=_ID,
                         index_description="List all buckets",
                         show_description="Show a bucket and the blobs it holds"),
        Operation("create", "POST", "", _create_bucket, capability="create_bucket", requires=needs("create_bucket"),
                  params=(Param("name", required=True, description="Name of the new bucket (its id)"),),
                  description="Create a new bucket"),
        Operation("destroy", "DELETE", "/{id}", _destroy_bucket, capability="delete_bucket",
                  requires=needs("destroy_bucket"), params=(_ID,), description="Delete an empty bucket"),
    ),
    forms=(Operation("new", "GET", "/new", _new_bucket_form, formats=HTML_ONLY,
                     description="Form to create a bucket"),),
)


# -- blobs -----------------------------------------------------------------------------------

async def _show_blob(call: OperationCall) -> Outcome:
    blob = await call.invoke("get_blob", *_ids(call))
    if blob is None:
        raise ObjectNotFound()
    return Outcome.member("blob", blob)


async def _open_content(call: OperationCall, wanted: ByteRange | None,
                        known: Blob | None) -> tuple[Any, Blob]:
    """The driver's stream (of ``wanted`` when it takes ranges) and the blob it belongs to."""
    bucket_id, blob_id = _ids(call)
    ranged = wanted is not None and accepts_byte_range(type(call.driver))
    stream = await call.invoke("blob_content", bucket_id, blob_id, **({"byte_range": wanted} if ranged else {}))
    if stream is None:
        raise ObjectNotFound()
    blob: Blob | None = getattr(stream, "blob", None) or known
    if blob is None:
        blob = await call.invoke("get_blob", bucket_id, blob_id)
        if blob is None:
            _close(stream)
            raise ObjectNotFound()
    return stream, blob


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()


async def _blob_content(call: OperationCall) -> Outcome:
    """The blob's data: whole (200), a ``Range`` of it (206), or ``304`` (see :mod:`.blob_download`)."""
    wanted = parse_range(call.headers.get("range"))
    if_none_match = call.headers.get("if-none-match")
    if_range = call.headers.get("if-range") if wanted is not None else None
    checked: Blob | None = None
    if if_none_match or if_range:  # a metadata call first: a 304 never opens a download
        checked = await call.invoke("get_blob", *_ids(call))
        if checked is None:
            raise ObjectNotFound()
        if if_none_match and etag_matches(if_none_match, checked.etag):
            outcome = Outcome(kind="raw", status=304, body=b"", decorate=False)
            if checked.etag:
                outcome.headers["ETag"] = etag_header(checked.etag)
            return outcome
        if if_range and not etag_matches(if_range, checked.etag, strong=True):
            wanted = None  # changed since the client's first part: the whole blob
    stream, blob = await _open_content(call, wanted, checked)
    if if_range and wanted is not None and checked is not None and blob.etag != checked.etag:
        # Replaced between the check and the download: the range would mix two versions.
        _close(stream)
        wanted = None
        stream, blob = await _open_content(call, None, None)
    # Content-Type goes in as a header, verbatim (no charset added to text/* types).
    headers = {"Content-Type": blob.content_type or "application/octet-stream",
               "Content-Disposition": content_disposition(_ids(call)[1]), "Accept-Ranges": "bytes"}
    if blob.etag:
        headers["ETag"] = etag_header(blob.etag)
    if wanted is not None and (blob.content_length or getattr(stream, "served_range", None)):
        body, (first, last), size = partial_answer(stream, blob, wanted)
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(last - first + 1)
        return Outcome(kind="raw", status=206, body=body, headers=headers, decorate=False)
    if blob.content_length is not None:
        headers["Content-Length"] = str(blob.content_length)
    return Outcome(kind="raw", status=200, body=stream, headers=headers, decorate=False)


def _segmented(call: OperationCall) -> bool:
    kind = call.headers.get("x-deltacloud-blobtype") or call.param("blob_type") or ""
    return kind.strip().lower() == "segmented"


async def _put_blob(call: OperationCall) -> Outcome:
    """``PUT /api/buckets/:id/:blob_id``: the request body is the blob (streamed to the driver)."""
    if _segmented(call):
        raise NotSupportedError("Segmented blob upload is not supported by this server yet; "
                                "send the whole blob in one PUT.")
    bucket_id, blob_id = _ids(call)
    length = call.headers.get("content-length")
    blob = await call.invoke(
        "create_blob", bucket_id, blob_id, data=call.body_reader(),
        content_type=call.headers.get("content-type", ""),
        user_metadata=metadata_from_headers(call.headers),
        content_length=int(length) if length and length.isdigit() else None)
    return Outcome.member("blob", blob)


async def _create_blob(call: OperationCall) -> Outcome:
    """Multipart ``POST /api/buckets/:id``: ``blob_id``, ``blob_data`` (a file or a plain field)."""
    blob_id = call.params["blob_id"]
    if not blob_id:
        raise ValidationError("Parameter blob_id must not be empty.")
    if blob_id in (".", ".."):
        raise ValidationError(f"Blob id '{blob_id}' is refused: clients remove such a segment from the blob's URL.")
    metadata = metadata_from_form(call.params)
    upload = call.files.get("blob_data")
    if upload is not None:
        upload.file.seek(0)
        data: Any = upload.file
        content_type = upload.content_type or ""
        length = upload.size
    else:
        raw = call.params["blob_data"].encode("utf-8")
        data, content_type, length = io.BytesIO(raw), "text/plain", len(raw)
    blob = await call.invoke("create_blob", call.id, blob_id, data=data, content_type=content_type,
                             user_metadata=metadata, content_length=length)
    return Outcome.member("blob", blob, status=201)


async def _destroy_blob(call: OperationCall) -> Outcome:
    bucket_id, blob_id = _ids(call)
    await call.invoke("destroy_blob", bucket_id, blob_id)
    return Outcome.empty(204, html_redirect=call.url("buckets", bucket_id))


async def _head_blob(call: OperationCall) -> Outcome:
    """``HEAD`` on a blob or its ``/metadata``: 204 with one header per metadata entry."""
    metadata = await call.invoke("blob_metadata", *_ids(call))
    if metadata is None:
        raise ObjectNotFound()
    outcome = Outcome.empty(204)
    outcome.headers = blob_metadata_headers(metadata)
    return outcome


async def _update_metadata(call: OperationCall) -> Outcome:
    bucket_id, blob_id = _ids(call)
    metadata = await call.invoke("update_blob_metadata", bucket_id, blob_id, metadata_from_headers(call.headers))
    if metadata is None:
        raise ObjectNotFound()
    outcome = Outcome.empty(204)
    outcome.headers = blob_metadata_headers(metadata)
    return outcome


async def _new_blob_form(call: OperationCall) -> Outcome:
    return Outcome(kind="custom", resource="blob_new", data={"bucket_id": call.id})


_BUCKET = Param("id", required=True, description="Bucket id")
_BLOB = Param("blob_id", required=True, description="Blob id")
#: The content download serves any negotiated format (the bytes are the answer).

BLOBS = Collection(
    name="blobs",
    singular="blob",
    parent="buckets",
    description="A blob is an object stored in a bucket: its data and user metadata.",
    resources=(Resource("blob", "blobs", {"json": BlobJson(), "xml": BlobXml()}),),
    # Declaration order gives OPTIONS /api/buckets/:id  ->  OPTIONS,GET,POST,DELETE,PUT,HEAD.
    operations=(
        Operation("show", "GET", "/{blob_id:rest}", _show_blob, capability="blob", requires=needs("get_blob"),
                  params=(_BUCKET, _BLOB), description="Show a blob's description and metadata"),
        Operation("create", "POST", "", _create_blob, capability="create_blob", requires=needs("create_blob"),
                  accepts_uploads=True,
                  params=(_BUCKET, Param("blob_id", required=True, description="Id of the new blob"),
                          Param("blob_data", "hash", required=True,
                                description="The data: a file part (or a plain field, stored as text/plain); "
                                            "metadata in meta_params=N, meta_nameK, meta_valueK")),
                  description="Upload a blob from an HTML form (multipart/form-data)"),
        Operation("destroy", "DELETE", "/{blob_id:rest}", _destroy_blob, capability="delete_blob",
                  requires=needs("destroy_blob"), params=(_BUCKET, _BLOB), description="Delete a blob"),
        Operation("stream", "PUT", "/{blob_id:rest}", _put_blob, capability="create_blob",
                  requires=needs("create_blob"),
                  params=(_BUCKET, _BLOB), streams_body=True,
                  description="Create or replace a blob from the request body (Content-Type and "
                              "X-Deltacloud-Blobmeta-* headers)",
                  answer=Answer(200, "The stored blob")),
        Operation("stream_alias", "PUT", "/{blob_id:rest}/stream", _put_blob, capability="create_blob",
                  requires=needs("create_blob"), params=(_BUCKET, _BLOB), streams_body=True,
                  description="The same as PUT on the blob",
                  answer=Answer(200, "The stored blob")),
        Operation("head", "HEAD", "/{blob_id:rest}", _head_blob, capability="blob_metadata",
                  requires=needs("blob_metadata"), params=(_BUCKET, _BLOB), formats=DATA_FORMATS,
                  negotiate_late=True, description="A blob's metadata as X-Deltacloud-Blobmeta-* headers",
                  answer=Answer(204, "The blob's metadata, as X-Deltacloud-Blobmeta-* headers", None)),
        Operation("metadata", "HEAD", "/{blob_id:rest}/metadata", _head_blob, capability="blob_metadata",
                  requires=needs("blob_metadata"), params=(_BUCKET, _BLOB), formats=DATA_FORMATS,
                  negotiate_late=True, description="A blob's metadata as X-Deltacloud-Blobmeta-* headers",
                  answer=Answer(204, "The blob's metadata, as X-Deltacloud-Blobmeta-* headers", None)),
        Operation("update", "POST", "/{blob_id:rest}", _update_metadata, capability="update_blob_metadata",
                  requires=needs("update_blob_metadata"), params=(_BUCKET, _BLOB), formats=DATA_FORMATS,
                  negotiate_late=True,
                  description="Replace a blob's metadata by the request's X-Deltacloud-Blobmeta-* headers",
                  answer=Answer(204, "Metadata replaced", None)),
        Operation("content", "GET", "/{blob_id:rest}/content", _blob_content, capability="blob",
                  requires=needs("get_blob", "blob_content"), params=(_BUCKET, _BLOB),
                  extra_formats=frozenset({"png", "gv"}),
                  description="Download a blob's data",
                  answer=Answer(200, "The blob's content, streamed, in its own media type", "raw",
                                media_type="*/*")),
    ),
    forms=(Operation("new_blob", "GET", "/new_blob_form_d15cfd90", _new_blob_form, formats=HTML_ONLY,
                     params=(_BUCKET,), description="Form to upload a blob"),),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(BUCKETS, owner=__name__)
    registry.register(BLOBS, owner=__name__)
