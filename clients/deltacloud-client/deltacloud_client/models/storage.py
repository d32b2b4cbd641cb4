"""Storage: volumes, snapshots, buckets and blobs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import Ref, Resource, json_ref, json_refs, keys, text_of, xml_ref

__all__ = ["Blob", "Bucket", "StorageSnapshot", "StorageVolume"]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(str(value))
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class StorageVolume(Resource):
    COLLECTION = "storage_volumes"
    SINGULAR = "storage_volume"
    JSON_KEYS = keys("name", "description", "state", "created", "realm", "device", "kind", "capacity", "instance")
    XML_KEYS = keys("created", "capacity", "kind", "name", "device", "realm", "realm_id", "state", "mount",
                    "description")

    name: str | None = None
    description: str | None = None
    state: str | None = None
    created: str | None = None
    realm: Ref | None = None
    device: str | None = None
    kind: str | None = None
    #: In GB, as text (the original sends a number or a string).
    capacity: str | None = None
    #: The instance it is attached to.
    instance: Ref | None = None

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "name": doc.get("name"), "description": doc.get("description"),
                "state": doc.get("state"), "created": doc.get("created"), "realm": json_ref(doc.get("realm")),
                "device": doc.get("device"), "kind": doc.get("kind"), "capacity": _str(doc.get("capacity")),
                "instance": json_ref(doc.get("instance"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        mount = element.find("mount")
        device = text_of(element, "device")
        if device is None and mount is not None and mount.find("device") is not None:
            device = mount.find("device").get("name")  # type: ignore[union-attr]
        return {**super().xml_fields(element), "name": text_of(element, "name"),
                "description": text_of(element, "description"), "state": text_of(element, "state"),
                "created": text_of(element, "created"), "realm": xml_ref(element.find("realm")), "device": device,
                "kind": text_of(element, "kind"), "capacity": text_of(element, "capacity"),
                "instance": xml_ref(mount.find("instance")) if mount is not None else None}


@dataclass(frozen=True, kw_only=True)
class StorageSnapshot(Resource):
    COLLECTION = "storage_snapshots"
    SINGULAR = "storage_snapshot"
    JSON_KEYS = keys("name", "state", "storage_volume", "created")
    XML_KEYS = keys("name", "state", "storage_volume", "created")

    name: str | None = None
    state: str | None = None
    created: str | None = None
    storage_volume: Ref | None = None

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "name": doc.get("name"), "state": doc.get("state"),
                "created": doc.get("created"), "storage_volume": json_ref(doc.get("storage_volume"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        return {**super().xml_fields(element), "name": text_of(element, "name"), "state": text_of(element, "state"),
                "created": text_of(element, "created"), "storage_volume": xml_ref(element.find("storage_volume"))}


@dataclass(frozen=True, kw_only=True)
class Bucket(Resource):
    COLLECTION = "buckets"
    SINGULAR = "bucket"
    JSON_KEYS = keys("name", "size", "blob_list")
    XML_KEYS = keys("name", "size", "blob")

    name: str | None = None
    #: The server's counter of blobs (text: some drivers do not count).
    size: str | None = None
    blobs: tuple[Ref, ...] = ()

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "name": doc.get("name"), "size": _str(doc.get("size")),
                "blobs": json_refs(doc.get("blob_list"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        blobs = tuple(r for r in (xml_ref(e) for e in element.findall("blob")) if r)
        return {**super().xml_fields(element), "name": text_of(element, "name"), "size": text_of(element, "size"),
                "blobs": blobs}


@dataclass(frozen=True, kw_only=True)
class Blob(Resource):
    COLLECTION = "blobs"
    SINGULAR = "blob"
    JSON_KEYS = keys("bucket", "content_length", "content_type", "last_modified", "content", "user_metadata")
    XML_KEYS = keys("bucket", "content_length", "content_type", "last_modified", "user_metadata", "content")

    bucket: str | None = None
    content_length: int | None = None
    content_type: str | None = None
    last_modified: str | None = None
    user_metadata: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: Where the bytes are (``.../content``).
    content_href: str | None = None

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        bucket = doc.get("bucket")
        meta = doc.get("user_metadata")
        href = doc.get("href")
        return {**super().json_fields(doc), "bucket": bucket.get("id") if isinstance(bucket, Mapping) else _str(bucket),
                "content_length": _int(doc.get("content_length")), "content_type": doc.get("content_type"),
                "last_modified": _str(doc.get("last_modified")),
                "user_metadata": {str(k): str(v) for k, v in meta.items()} if isinstance(meta, Mapping) else {},
                "content_href": f"{href}/content" if href else None}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        meta = {e.get("key", ""): (e.text or "").strip() for e in element.findall("user_metadata/entry")}
        content = element.find("content")
        href = element.get("href")
        return {**super().xml_fields(element), "bucket": text_of(element, "bucket"),
                "content_length": _int(text_of(element, "content_length")),
                "content_type": text_of(element, "content_type"), "last_modified": text_of(element, "last_modified"),
                "user_metadata": meta,
                "content_href": content.get("href") if content is not None else (f"{href}/content" if href else None)}
