"""Dump schemas of the storage resources: volumes, snapshots, buckets and blobs (FORMATS.md §8-§10)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from ..models import Blob, StorageSnapshot, StorageVolume
from .base import OMIT, DumpSchema, computed, link, ref, text
from .context import render_context
from .shapes import ACTIONS, LINK, LINKS, NULLABLE_LINK, STRING, object_of

__all__ = [
    "BlobJson", "BlobXml", "BucketJson", "BucketXml", "StorageSnapshotJson", "StorageSnapshotXml",
    "StorageVolumeJson", "StorageVolumeXml", "blob_url",
]


def _href(collection: str, obj: Any) -> str:
    return render_context().url(collection, obj.id)


def blob_url(bucket_id: str, blob_id: str, *more: str) -> str:
    """``<base>/api/buckets/<bucket>/<blob>[/<more>...]``."""
    return render_context().url("buckets", bucket_id, blob_id, *more)


def _if(value: Any) -> Any:
    """Ruby's ``if value``: emitted unless None/False (empty strings are emitted)."""
    return OMIT if value is None or value is False else text(value)


# -- storage volumes ------------------------------------------------------------------------

def _volume_action_href(volume: StorageVolume, action: str) -> str:
    base = _href("storage_volumes", volume)
    return base if action == "destroy" else f"{base}/{action}"


#: The original's quirk: without a realm the href is the realms collection and the id null.
_REALM_LINK = {**LINK, "properties": {**LINK["properties"], "id": {"type": ["string", "null"]}}}
#: A link to the instance, or an empty object when the volume is not attached.
_INSTANCE_LINK = {"anyOf": [LINK, {"type": "object", "maxProperties": 0}]}


class StorageVolumeJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda v: _href("storage_volumes", v))
    name = fields.Raw(allow_none=True)
    description = fields.Raw(allow_none=True)
    state = fields.Raw(allow_none=True)
    created = fields.Raw(allow_none=True)
    realm = computed(lambda v: {"id": v.realm_id, "href": render_context().url(
        *(("realms", v.realm_id) if v.realm_id is not None else ("realms",))), "rel": "realm"}, shape=_REALM_LINK)
    device = fields.Raw(allow_none=True)
    kind = fields.Raw(allow_none=True)
    capacity = fields.Raw(allow_none=True)
    actions = computed(lambda v: [{"href": _volume_action_href(v, a), "rel": a} for a in v.actions or ()],
                       shape=ACTIONS)
    instance = computed(lambda v: {"id": v.instance_id, "href": render_context().url(
        "instances", v.instance_id), "rel": "instance"} if v.instance_id is not None else {}, shape=_INSTANCE_LINK)


def _storage_volume_xml_mount(volume: StorageVolume) -> Any:
    if volume.instance_id is None:
        return OMIT
    out: dict[str, Any] = {"instance": ref("instances", volume.instance_id)}
    if volume.device is not None:
        out["device"] = {"@name": volume.device}
    return out


def _storage_volume_xml_actions(volume: StorageVolume) -> Any:
    if volume.actions is None:
        return OMIT
    # As the original: method 'post' for every action, destroy's href is the volume itself.
    links = [link(_volume_action_href(volume, a), a, "post") for a in volume.actions]
    return {"link": links} if links else None


class StorageVolumeXml(DumpSchema):
    href = fields.Function(lambda v: _href("storage_volumes", v), data_key="@href")
    id = fields.String(data_key="@id")
    created = fields.Function(lambda v: _if(v.created))
    capacity = fields.Function(lambda v: {"@unit": "GB", "#text": text(v.capacity)})
    kind = fields.Function(lambda v: _if(v.kind))
    name = fields.Function(lambda v: text(v.name if v.name is not None else v.id))
    device = fields.Function(lambda v: _if(v.device))
    realm = fields.Function(lambda v: ref("realms", v.realm_id) if v.realm_id is not None else OMIT)
    realm_id = fields.Function(lambda v: _if(v.realm_id))
    state = fields.Function(lambda v: _if(v.state))
    mount = fields.Function(_storage_volume_xml_mount)
    actions = fields.Function(_storage_volume_xml_actions)


# -- storage snapshots ----------------------------------------------------------------------

def _volume_ref_json(snapshot: StorageSnapshot) -> Any:
    if snapshot.storage_volume_id is None:
        return None
    return {"id": snapshot.storage_volume_id,
            "href": render_context().url("storage_volumes", snapshot.storage_volume_id), "rel": "storage_volume"}


class StorageSnapshotJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda s: _href("storage_snapshots", s))
    state = fields.Raw(allow_none=True)
    storage_volume = computed(_volume_ref_json, shape=NULLABLE_LINK)
    created = fields.Raw(allow_none=True)


class StorageSnapshotXml(DumpSchema):
    href = fields.Function(lambda s: _href("storage_snapshots", s), data_key="@href")
    id = fields.String(data_key="@id")
    # The original prints the id as the name (whatever name the snapshot was given).
    name = fields.Function(lambda s: text(s.id))
    created = fields.Function(lambda s: _if(s.created))
    storage_volume = fields.Function(lambda s: ref("storage_volumes", s.storage_volume_id)
                                     if s.storage_volume_id is not None else OMIT)


# -- buckets --------------------------------------------------------------------------------

class BucketJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda b: _href("buckets", b))
    name = fields.Raw(allow_none=True)
    size = fields.Raw(allow_none=True)
    blob_list = computed(lambda b: [{"rel": "blob", "href": blob_url(b.id, blob_id), "id": blob_id}
                                           for blob_id in b.blob_ids], shape=LINKS)


class BucketXml(DumpSchema):
    href = fields.Function(lambda b: _href("buckets", b), data_key="@href")
    id = fields.String(data_key="@id")
    name = fields.Function(lambda b: text(b.name if b.name is not None else b.id))
    size = fields.Function(lambda b: text(b.size))
    blob = fields.Function(lambda b: [{"@href": blob_url(b.id, blob_id), "@id": blob_id} for blob_id in b.blob_ids]
                           or OMIT)


# -- blobs ----------------------------------------------------------------------------------

class BlobJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda b: blob_url(b.bucket, b.id))
    bucket = computed(lambda b: {"rel": "bucket", "href": render_context().url("buckets", b.bucket),
                                        "id": b.bucket}, shape=LINK)
    content_length = fields.Raw(allow_none=True)
    content_type = fields.Raw(allow_none=True)
    last_modified = fields.Raw(allow_none=True)
    content = fields.Raw(allow_none=True)
    # The original: "" when the driver reports no metadata at all.
    user_metadata = computed(lambda b: "" if b.user_metadata is None else dict(b.user_metadata),
                             shape={"anyOf": [object_of(STRING), {"const": ""}]})


def _blob_xml_metadata(blob: Blob) -> Any:
    entries = [{"@key": str(k), "#text": text(v)} for k, v in (blob.user_metadata or {}).items()]
    return {"entry": entries} if entries else None


class BlobXml(DumpSchema):
    href = fields.Function(lambda b: blob_url(b.bucket, b.id), data_key="@href")
    id = fields.String(data_key="@id")
    bucket = fields.Function(lambda b: text(b.bucket))
    content_length = fields.Function(lambda b: text(b.content_length))
    content_type = fields.Function(lambda b: text(b.content_type))
    last_modified = fields.Function(lambda b: text(b.last_modified))
    user_metadata = fields.Function(_blob_xml_metadata)
    content = fields.Function(lambda b: {"@href": blob_url(b.bucket, b.id, "content"), "@rel": "blob_content"})
