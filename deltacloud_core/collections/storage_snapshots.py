"""``/api/storage_snapshots``: point-in-time copies of storage volumes."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..schemas.storage import StorageSnapshotJson, StorageSnapshotXml
from .base import (
    HTML_ONLY,
    Collection,
    CollectionRegistry,
    Operation,
    OperationCall,
    Outcome,
    Param,
    Resource,
    destroy_handler,
    needs,
    read_operations,
)

__all__ = ["STORAGE_SNAPSHOTS"]

_CORE_CREATE_PARAMS = ("volume_id", "name", "description")


async def _create(call: OperationCall) -> Outcome:
    params = call.params
    extra = call.extra_params(*_CORE_CREATE_PARAMS)
    snapshot = await call.invoke("create_storage_snapshot", volume_id=params["volume_id"],
                                 name=params.get("name") or None, description=params.get("description") or None,
                                 **extra)
    return Outcome.member("storage_snapshot", snapshot, status=201,
                          location=call.url("storage_snapshots", snapshot.id))


async def _new_form(call: OperationCall) -> Outcome:
    # Public in the original: the form does not look anything up.
    return Outcome(kind="custom", resource="storage_snapshot_new", data={"volume_id": call.param("volume_id")})


_ID = Param("id", required=True, description="Storage snapshot id")

STORAGE_SNAPSHOTS = Collection(
    name="storage_snapshots",
    singular="storage_snapshot",
    description="A storage snapshot is a point-in-time copy of a storage volume.",
    resources=(Resource("storage_snapshot", "storage_snapshots",
                        {"json": StorageSnapshotJson(), "xml": StorageSnapshotXml()}),),
    operations=(
        *read_operations("storage_snapshot", "storage_snapshots", "list_storage_snapshots", "get_storage_snapshot",
                         id_param=_ID,
                         index_description="List all storage snapshots",
                         show_description="Show a storage snapshot identified by id"),
        Operation("create", "POST", "", _create, capability="create_storage_snapshot",
                  requires=needs("create_storage_snapshot"),
                  params=(Param("volume_id", required=True, description="Volume to snapshot"),
                          Param("name", description="Snapshot name"),
                          Param("description", description="Snapshot description")),
                  description="Create a snapshot of a storage volume"),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("storage_snapshots", "destroy_storage_snapshot"),
                  capability="destroy_storage_snapshot", requires=needs("destroy_storage_snapshot"),
                  params=(_ID,), description="Delete a storage snapshot"),
    ),
    forms=(Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY, params=(Param("volume_id"),),
                     description="Form to create a storage snapshot"),),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(STORAGE_SNAPSHOTS, owner=__name__)
