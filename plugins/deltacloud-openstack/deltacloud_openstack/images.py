"""Glance: list, show and delete images; create one from an instance (Nova's ``createImage``)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from deltacloud_core import BackendError, DeltacloudError, Image, ObjectNotFound

from .compute import ARCHITECTURE, flavor_fits
from .errors import translated
from .rest import call, json_of, paged, segment

if TYPE_CHECKING:
    from .session import Cloud

__all__ = ["IMAGE_STATES", "ImagesMixin", "glance_image"]

#: Glance image status -> Deltacloud image state.
IMAGE_STATES: Mapping[str, str] = {
    "active": "AVAILABLE",
    "queued": "PENDING",
    "saving": "PENDING",
    "uploading": "PENDING",
    "importing": "PENDING",
    "deactivated": "UNAVAILABLE",
    "killed": "ERROR",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
}


def glance_image(image: Mapping[str, Any], flavors: Sequence[Mapping[str, Any]] | None) -> Image:
    """A Glance v2 image document as a Deltacloud image.

    ``hardware_profiles`` lists the flavors with enough RAM and disk for it (None when the flavors
    could not be read). Glance rarely records an architecture; then it is x86_64, as the original said.
    """
    status = str(image.get("status") or "")
    return Image(
        id=str(image["id"]),
        name=str(image.get("name") or ""),
        description=image.get("description") or image.get("name"),
        owner_id=image.get("owner"),
        architecture=image.get("architecture") or ARCHITECTURE,
        state=IMAGE_STATES.get(status, status.upper() or "UNKNOWN"),
        creation_time=image.get("created_at"),
        hardware_profiles=None if flavors is None else tuple(str(f["id"]) for f in flavors if flavor_fits(f, image)),
        extra={"visibility": image.get("visibility"), "size": image.get("size"),
               "disk_format": image.get("disk_format"), "min_ram": image.get("min_ram"),
               "min_disk": image.get("min_disk")},
    )


class ImagesMixin:
    """Images from Glance; snapshots of instances through Nova."""

    cloud: Cloud

    def _flavors_or_none(self) -> list[dict[str, Any]] | None:
        try:
            return self._flavors()  # type: ignore[attr-defined]
        except DeltacloudError:  # an image-only cloud, or flavors hidden from this user
            return None

    @translated
    def list_images(self, **filters: str) -> list[Image]:
        cloud = self.cloud
        if filters.get("id"):
            response = call(cloud.image, "GET", f"/images/{segment(filters['id'])}", allow=(404,))
            raw = [] if response.status_code == 404 else [response.json()]
        else:
            raw = list(paged(cloud.image, "/images", "images"))
        flavors = self._flavors_or_none() if raw else None
        images = [glance_image(i, flavors) for i in raw]
        owner = filters.get("owner_id")
        if owner:
            owner = cloud.project_id if owner == "self" else owner
            images = [i for i in images if i.owner_id == owner]
        if filters.get("architecture"):
            images = [i for i in images if i.architecture == filters["architecture"]]
        return images

    @translated
    def get_image(self, id: str) -> Image | None:
        found = self.list_images(id=id)
        return found[0] if found else None

    @translated
    def create_image(self, *, instance_id: str, name: str | None = None, description: str | None = None,
                     **extra: str) -> Image:
        """Snapshot an instance: Nova's ``createImage``; the image is PENDING until its data is uploaded."""
        server = self._server(instance_id)  # type: ignore[attr-defined]
        if server is None:
            raise ObjectNotFound(f"Instance {instance_id} could not be found.")
        body: dict[str, Any] = {"name": name or f"{server.get('name') or instance_id}-{time.strftime('%Y%m%d-%H%M%S')}"}
        if description:
            body["metadata"] = {"description": description}
        response = self._nova("POST", f"/servers/{segment(instance_id)}/action",  # type: ignore[attr-defined]
                              json={"createImage": body})
        image_id = (json_of(response) or {}).get("image_id")
        if not image_id and response.headers.get("Location"):  # microversions before 2.45
            image_id = urlsplit(response.headers["Location"]).path.rstrip("/").rsplit("/", 1)[-1]
        if not image_id:
            raise BackendError(f"Nova accepted the snapshot of {instance_id} but named no image.")
        image = self.get_image(image_id)
        if image is None:
            raise BackendError(f"Image {image_id} (snapshot of {instance_id}) is not in Glance.")
        return image

    @translated
    def destroy_image(self, id: str) -> None:
        call(self.cloud.image, "DELETE", f"/images/{segment(id)}")
