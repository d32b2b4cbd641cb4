"""Images: the volumes of the image pool (``DELTACLOUD_LIBVIRT_IMAGE_POOL``, default ``deltacloud-images``).

An image's id is its volume name (``tiny.qcow2``). libvirt's volumes have no metadata of their own,
so an image's name, description, architecture and owner live beside it in a small JSON volume,
``<image>.deltacloud.json`` (written and read through libvirt's streams, so a remote host works as a
local one). An image without one (put there by the operator) is named after its volume, owned by
nobody, of the host's architecture.

``create_image`` copies a stopped instance's disk into the pool (``virStorageVolCreateXMLFrom``: the
qcow2 overlay is flattened into a standalone image); ``destroy_image`` removes both volumes, and is
refused (409) while an instance's disk still starts from the image.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping

import libvirt
from deltacloud_core import Conflict, Image, ObjectNotFound, ValidationError

from .base import LibvirtBase, boundary, check_name
from .domain_xml import parse_domain, volume_facts, volume_xml
from .errors import is_code
from .streams import download, upload

__all__ = ["META_SUFFIX", "ImagesMixin"]

META_SUFFIX = ".deltacloud.json"
#: The largest metadata document read back (bytes).
META_LIMIT = 64 * 1024


class ImagesMixin(LibvirtBase):
    @boundary
    def list_images(self, **filters: str) -> list[Image]:
        pool = self.pool("image_pool")
        volumes = {v.name(): v for v in pool.listAllVolumes(0)}
        images = []
        for name in sorted(volumes):
            if name.endswith(META_SUFFIX) or (filters.get("id") and name != filters["id"]):
                continue
            sidecar = volumes.get(name + META_SUFFIX)
            image = self._image(volumes[name], self._read_meta(sidecar) if sidecar is not None else {})
            if filters.get("architecture") and image.architecture != filters["architecture"]:
                continue
            if filters.get("owner_id") and image.owner_id != filters["owner_id"]:
                continue
            images.append(image)
        return images

    def _read_meta(self, sidecar: libvirt.virStorageVolume) -> dict[str, str]:
        try:
            document = json.loads(download(self.conn, sidecar, META_LIMIT).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {}  # not ours, or damaged: the image is still usable
        except libvirt.libvirtError as exc:
            if is_code(exc, "NO_SUPPORT", "NO_STORAGE_VOL"):
                return {}
            raise
        return {k: str(v) for k, v in document.items() if isinstance(v, (str, int, float))} \
            if isinstance(document, dict) else {}

    def _image(self, volume: libvirt.virStorageVolume, meta: Mapping[str, str]) -> Image:
        facts = volume_facts(volume.XMLDesc(0))
        return Image(
            id=volume.name(),
            name=meta.get("name") or volume.name(),
            description=meta.get("description") or None,
            owner_id=meta.get("owner") or None,
            architecture=meta.get("architecture") or str(self.host_facts()["arch"]),
            state="AVAILABLE",
            creation_time=meta.get("created") or facts.created,
            root_type="persistent",
            extra={"format": facts.fmt, "capacity_bytes": facts.capacity, "path": volume.path()},
        )

    def image_volume(self, image_id: str) -> libvirt.virStorageVolume:
        """The volume of image ``image_id`` (400 when there is none: it is a parameter of a create)."""
        volume = None if image_id.endswith(META_SUFFIX) else self.volume("image_pool", image_id)
        if volume is None:
            raise ValidationError(f"Image '{image_id}' does not exist in storage pool "
                                  f"'{self.settings.image_pool}' (see /api/images)")
        return volume

    @boundary
    def create_image(self, *, instance_id: str, name: str | None = None, description: str | None = None,
                     **extra: str) -> Image:
        domain = self.domain(instance_id)
        if domain is None:
            raise ObjectNotFound(f"Instance '{instance_id}' does not exist")
        facts = parse_domain(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        if domain.isActive():
            raise Conflict(f"Instance '{instance_id}' is running; stop it before making an image of it "
                           "(a running guest's disk is not consistent)")
        disk_name = facts.metadata.get("disk")
        disk = self.volume("instance_pool", disk_name) if disk_name else None
        if disk is None:
            raise ValidationError(f"Instance '{instance_id}' has no disk in pool '{self.settings.instance_pool}' "
                                  "(it was not made by this driver)")
        image_id = check_name(name or f"{facts.name}-{time.strftime('%Y%m%d%H%M%S')}.qcow2", "Image name")
        if image_id.endswith(META_SUFFIX) or self.volume("image_pool", image_id) is not None:
            raise Conflict(f"An image '{image_id}' already exists in pool '{self.settings.image_pool}'")
        meta = {"name": name or image_id, "description": description or "",
                "architecture": facts.arch or str(self.host_facts()["arch"]), "owner": self.credentials.user,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "instance": instance_id}
        pool = self.pool("image_pool")
        capacity = int(disk.info()[1])
        image = pool.createXMLFrom(volume_xml(image_id, capacity, fmt="qcow2"), disk, 0)
        try:
            self._write_meta(pool, image_id, meta)
        except BaseException:
            _delete(image)
            raise
        return self._image(image, meta)

    def _write_meta(self, pool: libvirt.virStoragePool, image_id: str, meta: Mapping[str, str]) -> None:
        data = json.dumps(meta, sort_keys=True).encode()
        sidecar = pool.createXML(volume_xml(image_id + META_SUFFIX, len(data), fmt="raw"), 0)
        try:
            upload(self.conn, sidecar, data)
        except BaseException:
            _delete(sidecar)
            raise

    @boundary
    def destroy_image(self, id: str) -> None:
        volume = None if id.endswith(META_SUFFIX) else self.volume("image_pool", id)
        if volume is None:
            raise ObjectNotFound(f"Image '{id}' does not exist")
        records = [parse_domain(d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) for d in self.conn.listAllDomains(0)]
        users = [facts.name for facts in records if facts.metadata.get("image") == id]
        if users:
            raise Conflict(f"Image '{id}' is the base of the disks of instances {', '.join(sorted(users))}; "
                           "destroy them first")
        volume.delete(0)
        sidecar = self.volume("image_pool", id + META_SUFFIX)
        if sidecar is not None:
            _delete(sidecar)


def _delete(volume: libvirt.virStorageVolume) -> None:
    with contextlib.suppress(libvirt.libvirtError):
        volume.delete(0)
