"""``/api/drivers``: the drivers installed on this server (never loads the selected one)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..schemas.drivers import DriverJson, DriverListJson, DriverListXml, DriverXml
from .base import Answer, Collection, CollectionRegistry, Operation, OperationCall, Outcome, Param, Resource


async def _index(call: OperationCall) -> Outcome:
    infos = call.driver_registry.infos()
    return Outcome(kind="member", resource="driver_list", data=infos, wrap=False)


async def _show(call: OperationCall) -> Outcome:
    registry = call.driver_registry
    if call.id not in registry.names():
        return Outcome.plain(404)
    try:
        driver_cls = registry.load(call.id)
    except LookupError:
        return Outcome.plain(404)
    info = driver_cls.info()
    providers = None
    if call.id == call.driver_name:
        providers = await call.invoke("providers")
    return Outcome.member("driver", (info, providers if providers is not None else info.providers()))


DRIVERS = Collection(
    name="drivers",
    singular="driver",
    description="The drivers installed on this server, and the providers each can reach.",
    resources=(
        Resource("driver", "drivers", {"json": DriverJson(), "xml": DriverXml()}, xml_declaration=False),
        Resource("driver_list", "drivers", {"json": DriverListJson(), "xml": DriverListXml()},
                 xml_declaration=False, element="drivers"),
    ),
    operations=(
        Operation("index", "GET", "", _index, driverless=True, description="List all installed drivers",
                  answer=Answer(200, "The installed drivers", "bare", resource="driver_list")),
        Operation("show", "GET", "/{id}", _show, driverless=True, params=(Param("id", required=True),),
                  description="Show a driver and its providers",
                  answer=Answer(200, "One driver")),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(DRIVERS, owner=__name__)
