"""Storage resources: volumes, snapshots, buckets and blobs (Deltacloud's field names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Blob", "Bucket", "ByteRange", "StorageSnapshot", "StorageVolume"]


@dataclass(frozen=True, slots=True)
class StorageVolume:
    """A block device that can be attached to an instance.

    ``capacity`` is in GB and printed as the driver keeps it (``1`` from a number, ``"2"``
    from a string). ``instance_id``/``device`` are set while the volume is attached.
    ``actions`` is the list of actions the driver offers (``attach``, ``detach``,
    ``destroy``); None when the driver gives none (the XML then has no ``actions``).
    """

    id: str
    name: str | None = None
    description: str | None = None
    state: str | None = None
    created: str | None = None
    capacity: str | int | float | None = None
    realm_id: str | None = None
    instance_id: str | None = None
    device: str | None = None
    kind: str | None = None
    actions: tuple[str, ...] | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StorageSnapshot:
    """A point-in-time copy of a storage volume."""

    id: str
    storage_volume_id: str | None = None
    name: str | None = None
    description: str | None = None
    state: str | None = None
    created: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Bucket:
    """A container of blobs. ``size`` is what the driver reports (a counter for the mock,
    ``""``/None for clouds that do not count); ``blob_ids`` lists the blobs it holds."""

    id: str
    name: str | None = None
    size: str | int | None = None
    blob_ids: tuple[str, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Blob:
    """An object in a bucket (its metadata; the data is streamed by ``Driver.blob_content``).

    ``user_metadata`` None means the driver reports no metadata at all (the original's JSON
    then shows ``""``); an empty mapping means "none set". ``content`` is the data as text
    when the driver has it at hand and it is small (the mock), else None.
    """

    id: str
    bucket: str
    content_length: int | None = None
    content_type: str | None = None
    last_modified: str | None = None
    user_metadata: Mapping[str, str] | None = field(default_factory=dict)
    content: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    #: The backend's entity tag of this version of the data (S3's ETag, ...), quotes optional;
    #: None when the backend has none. Sent as ``ETag`` with the content and compared with the
    #: client's ``If-None-Match`` / ``If-Range``.
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class ByteRange:
    """One range of bytes a client asked for (``Range: bytes=...``, RFC 9110 section 14.1.2).

    Exactly one form is set: ``start`` with an inclusive ``end`` (``bytes=0-99``), ``start``
    alone (``bytes=100-``: to the end), or ``suffix`` (``bytes=-100``: the last 100 bytes).
    :meth:`header` is the same range as a ``Range`` value (what S3, GCS and Swift take as it
    is); :meth:`resolve` is the ``(first, last)`` it stands for in a blob of a given size.
    """

    start: int | None = None
    end: int | None = None
    suffix: int | None = None

    def __post_init__(self) -> None:
        if self.suffix is not None:
            if self.start is not None or self.end is not None or self.suffix < 1:
                raise ValueError(f"a suffix range takes only a positive suffix: {self!r}")
        elif self.start is None or self.start < 0 or (self.end is not None and self.end < self.start):
            raise ValueError(f"not a byte range: {self!r}")

    def header(self) -> str:
        """``bytes=0-99``, ``bytes=100-`` or ``bytes=-100``."""
        if self.suffix is not None:
            return f"bytes=-{self.suffix}"
        return f"bytes={self.start}-{'' if self.end is None else self.end}"

    def resolve(self, size: int) -> tuple[int, int] | None:
        """``(first, last)`` (inclusive) within ``size`` bytes; None when no byte of it exists."""
        if size <= 0:
            return None
        if self.suffix is not None:
            return max(0, size - self.suffix), size - 1
        assert self.start is not None
        if self.start >= size:
            return None
        return self.start, size - 1 if self.end is None else min(self.end, size - 1)
