"""``/api/hardware_profiles``: the sizes instances come in (fixed, range or enum properties)."""

from __future__ import annotations

from ..drivers.base import Driver
from ..errors import DeltacloudError
from ..hookspecs import hookimpl
from ..schemas.compute import HardwareProfileJson, HardwareProfileXml
from .base import Collection, CollectionRegistry, Operation, OperationCall, Outcome, Param, Resource, show_handler


def _has_profiles(driver_cls: type[Driver]) -> bool:
    """The original's check: the driver defines at least one profile (or lists them itself)."""
    return bool(driver_cls.HARDWARE_PROFILES) or driver_cls.list_hardware_profiles is not Driver.list_hardware_profiles


async def _index(call: OperationCall) -> Outcome:
    try:
        profiles = await call.invoke("list_hardware_profiles", **call.filters("id", "architecture"))
    except DeltacloudError as exc:
        raise exc.generic() from exc
    return Outcome.collection("hardware_profile", profiles)


HARDWARE_PROFILES = Collection(
    name="hardware_profiles",
    singular="hardware_profile",
    description="A hardware profile represents a configuration of resources upon which a machine "
                "may be deployed: CPU, memory, storage and architecture, each fixed, a range or a list.",
    resources=(Resource("hardware_profile", "hardware_profiles",
                        {"json": HardwareProfileJson(), "xml": HardwareProfileXml()},
                        xml_sort=lambda p: p.sort_key()),),
    operations=(
        Operation("index", "GET", "", _index, capability="hardware_profiles", requires=_has_profiles,
                  timed=True, params=(Param("architecture", description="Architecture the profiles must fit"),),
                  description="List all hardware profiles"),
        Operation("show", "GET", "/{id}", show_handler("hardware_profile", "get_hardware_profile"),
                  capability="hardware_profiles", requires=_has_profiles, timed=True,
                  params=(Param("id", required=True),), description="Show a hardware profile"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(HARDWARE_PROFILES, owner=__name__)
