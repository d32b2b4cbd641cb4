"""``/api/storage_volumes``: block storage volumes, attached to and detached from instances."""

from __future__ import annotations

from ..drivers.capabilities import implements
from ..errors import ObjectNotFound
from ..hookspecs import hookimpl
from ..schemas.storage import StorageVolumeJson, StorageVolumeXml
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

__all__ = ["STORAGE_VOLUMES"]

#: Parameters the core reads itself; anything else a client sends reaches the driver as ``extra``.
_CORE_CREATE_PARAMS = ("capacity", "realm_id", "snapshot_id", "name", "description")


async def _create(call: OperationCall) -> Outcome:
    params = call.params
    extra = call.extra_params(*_CORE_CREATE_PARAMS)
    volume = await call.invoke(
        "create_storage_volume", capacity=params.get("capacity") or None, realm_id=params.get("realm_id") or None,
        snapshot_id=params.get("snapshot_id") or None, name=params.get("name") or None,
        description=params.get("description") or None, **extra)
    return Outcome.member("storage_volume", volume, status=201, location=call.url("storage_volumes", volume.id))


async def _attach(call: OperationCall) -> Outcome:
    volume = await call.invoke("attach_storage_volume", call.id, instance_id=call.params["instance_id"],
                               device=call.params["device"])
    return Outcome.member("storage_volume", volume, status=202)


async def _detach(call: OperationCall) -> Outcome:
    volume = await call.invoke("detach_storage_volume", call.id)
    return Outcome.member("storage_volume", volume, status=202)


async def _new_form(call: OperationCall) -> Outcome:
    driver_cls = type(call.driver)
    realms = await call.invoke("list_realms") if implements(driver_cls, "list_realms") else []
    snapshots = (await call.invoke("list_storage_snapshots")
                 if implements(driver_cls, "list_storage_snapshots") else [])
    return Outcome(kind="custom", resource="storage_volume_new", data={
        "realms": realms, "snapshots": snapshots, "snapshot_id": call.param("snapshot_id"),
        "realm_id": call.param("realm_id")})


async def _attach_form(call: OperationCall) -> Outcome:
    volume = await call.invoke("get_storage_volume", call.id)
    if volume is None:
        raise ObjectNotFound()
    instances = await call.invoke("list_instances") if implements(type(call.driver), "list_instances") else []
    return Outcome(kind="custom", resource="storage_volume_attach", data={"volume": volume, "instances": instances})


_ID = Param("id", required=True, description="Storage volume id")

STORAGE_VOLUMES = Collection(
    name="storage_volumes",
    singular="storage_volume",
    description="A storage volume is a block device that can be attached to an instance.",
    resources=(Resource("storage_volume", "storage_volumes",
                        {"json": StorageVolumeJson(), "xml": StorageVolumeXml()}),),
    operations=(
        *read_operations("storage_volume", "storage_volumes", "list_storage_volumes", "get_storage_volume",
                         id_param=_ID,
                         index_description="List all storage volumes",
                         show_description="Show a storage volume identified by id"),
        Operation("create", "POST", "", _create, capability="create_storage_volume",
                  requires=needs("create_storage_volume"),
                  params=(Param("snapshot_id", description="Snapshot to create the volume from"),
                          Param("capacity", description="Size in GB (default 1)"),
                          Param("realm_id", description="Realm to create the volume in")),
                  description="Create a new storage volume"),
        Operation("attach", "POST", "/{id}/attach", _attach, capability="attach_storage_volume",
                  requires=needs("attach_storage_volume"),
                  params=(_ID, Param("instance_id", required=True, description="Instance to attach to"),
                          Param("device", required=True, description="Device name, e.g. /dev/sdh")),
                  description="Attach a storage volume to an instance"),
        Operation("detach", "POST", "/{id}/detach", _detach, capability="detach_storage_volume",
                  requires=needs("detach_storage_volume"), params=(_ID,),
                  description="Detach a storage volume from its instance"),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("storage_volumes", "destroy_storage_volume"),
                  capability="destroy_storage_volume", requires=needs("destroy_storage_volume"), params=(_ID,),
                  description="Destroy a storage volume"),
    ),
    forms=(
        Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY,
                  params=(Param("snapshot_id"), Param("realm_id")), description="Form to create a storage volume"),
        Operation("attach_form", "GET", "/{id}/attach_instance", _attach_form, formats=HTML_ONLY, params=(_ID,),
                  description="Form to attach a storage volume to an instance"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(STORAGE_VOLUMES, owner=__name__)
