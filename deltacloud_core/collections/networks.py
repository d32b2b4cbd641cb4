"""``/api/networks``: virtual networks (VPCs) that subnets and network interfaces live in."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..schemas.network import NetworkJson, NetworkXml
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

_ID = Param("id", required=True, description="Network id")




async def _create(call: OperationCall) -> Outcome:
    # The original answered 200 without Location (and its XML failed); a create is 201 + Location.
    network = await call.invoke("create_network", address_block=call.param("address_block") or None,
                                name=call.param("name") or None, **call.extra_params("address_block", "name"))
    return Outcome.member("network", network, status=201, location=call.url("networks", network.id))


async def _new_form(call: OperationCall) -> Outcome:
    return Outcome(kind="custom", resource="network_new", data={})


NETWORKS = Collection(
    name="networks",
    singular="network",
    description="Networks are private address spaces (VPCs) holding subnets.",
    resources=(Resource("network", "networks", {"json": NetworkJson(), "xml": NetworkXml()}),),
    operations=(
        *read_operations("network", "networks", "list_networks", "get_network",
                         id_param=_ID,
                         index_description="List all networks",
                         show_description="Show a network identified by id"),
        Operation("create", "POST", "", _create, capability="create_network", requires=needs("create_network"),
                  params=(Param("address_block", description="Address block (CIDR) of the network"),
                          Param("name", description="Name of the new network")),
                  description="Create a new network"),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("networks", "destroy_network"),
                  capability="destroy_network", requires=needs("destroy_network"), params=(_ID,),
                  description="Delete a network (and its subnets)"),
    ),
    forms=(Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY, description="Form to create a network"),),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(NETWORKS, owner=__name__)
