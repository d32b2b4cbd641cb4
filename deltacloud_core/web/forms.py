"""Request bodies of operations: urlencoded and multipart forms, counted as they arrive."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from ..collections.base import UploadedFile
from ..errors import PayloadTooLarge, ValidationError

__all__ = ["read_form"]

#: Methods whose form body is read (the others answer nothing).
BODY_METHODS = frozenset({"POST", "PUT", "DELETE"})


async def read_form(request: Request, max_bytes: int,
                    max_upload_bytes: int | None = None) -> tuple[list[tuple[str, str]], dict[str, UploadedFile]]:
    """Form fields (urlencoded or multipart) in order, and the uploaded files.

    The body is counted as it arrives (``Content-Length`` may be absent or lie): past
    ``max_bytes`` it is a 413. ``max_upload_bytes`` (operations that take file uploads,
    whose parts spool to disk) raises the limit for multipart bodies.
    """
    content_type = request.headers.get("content-type", "")
    multipart = content_type.startswith("multipart/form-data")
    if request.method not in BODY_METHODS or not (
            multipart or content_type.startswith("application/x-www-form-urlencoded")):
        return [], {}
    limit = max_upload_bytes if multipart and max_upload_bytes is not None else max_bytes
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"Request body of {length} bytes is larger than the limit of {limit} bytes.")
    received = 0

    async def counting_receive() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes.")
        return message

    limited = Request(request.scope, counting_receive)
    try:
        form = await limited.form(max_files=100, max_fields=10000, max_part_size=max_bytes)
    except PayloadTooLarge:
        raise
    except Exception as exc:  # python-multipart / Starlette parse errors: the client's fault
        if "maximum size" in str(exc):
            raise PayloadTooLarge(f"A form field is larger than the limit of {max_bytes} bytes.") from exc
        raise ValidationError(f"The request body could not be parsed: {exc}") from exc
    fields: list[tuple[str, str]] = []
    files: dict[str, UploadedFile] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[key] = UploadedFile(filename=value.filename, content_type=value.content_type,
                                      size=value.size, file=value.file)
            fields.append((key, value.filename or ""))
        else:
            fields.append((key, value))
    return fields, files
