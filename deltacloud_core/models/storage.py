"""Storage resources: volumes, snapshots, buckets and blobs (Deltacloud's field names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Blob", "Bucket", "StorageSnapshot", "StorageVolume"]


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
