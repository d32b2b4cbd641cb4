"""Buckets: Azure blob containers (list, show, create, destroy).

* ``GET /api/buckets`` lists the account's containers by name only (``size`` empty, no
  blob children): listing every blob of every container, as the original did, costs one
  listing per container and grows with the account. ``GET /api/buckets/:id`` lists the
  container's blobs and counts them (``size``), as the original did.
* Azure deletes a container with everything in it; Deltacloud deletes only empty buckets,
  so :meth:`destroy_bucket` refuses a container that holds a blob (403). A blob uploaded
  between that check and the delete goes with the container.
* Container names follow Azure's rules (3-63 characters: lower-case letters, digits,
  single hyphens); Azure's refusal of another name is a 400 with its error code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from deltacloud_core import ForbiddenError, ObjectNotFound
from deltacloud_core.models import Bucket

from .errors import translated

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient

__all__ = ["ContainersMixin"]


class ContainersMixin:
    """``buckets``: Azure containers. Needs ``service()`` (the account's BlobServiceClient)."""

    if TYPE_CHECKING:
        def service(self) -> BlobServiceClient: ...

    def _container(self, bucket_id: str) -> ContainerClient:
        return self.service().get_container_client(bucket_id)

    def list_buckets(self, **filters: str) -> list[Bucket]:
        if filters.get("id"):
            bucket = self.get_bucket(filters["id"])
            return [bucket] if bucket is not None else []
        with translated():
            names = [c.name for c in self.service().list_containers()]
        return [Bucket(id=name, name=name, size=None) for name in names]

    #: Names per List Blobs page (None: Azure's own, 5000); every page is followed to the end.
    LISTING_PAGE_SIZE: ClassVar[int | None] = None

    def get_bucket(self, id: str) -> Bucket | None:
        try:
            with translated():
                blob_ids = tuple(self._container(id).list_blob_names(results_per_page=self.LISTING_PAGE_SIZE))
        except ObjectNotFound:
            return None
        return Bucket(id=id, name=id, size=len(blob_ids), blob_ids=blob_ids)

    def create_bucket(self, *, name: str, location: str | None = None, **extra: Any) -> Bucket:
        """Create container ``name`` (private). ``location`` has no meaning for a container."""
        with translated():
            self._container(name).create_container()
        return Bucket(id=name, name=name, size=0, blob_ids=())

    def destroy_bucket(self, id: str) -> None:
        container = self._container(id)
        with translated():
            first = next(iter(container.list_blob_names(results_per_page=1).by_page()), [])
            holds_blobs = any(True for _ in first)
        if holds_blobs:
            raise ForbiddenError("Delete operation not valid for non-empty bucket")
        with translated():
            container.delete_container()
