"""``/api/subnets``: address ranges inside a network."""

from __future__ import annotations

from ..drivers.capabilities import implements
from ..hookspecs import hookimpl
from ..schemas.network import SubnetJson, SubnetXml
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

_ID = Param("id", required=True, description="Subnet id")




async def _create(call: OperationCall) -> Outcome:
    # The original answered 200 without Location (and its XML failed); a create is 201 + Location.
    subnet = await call.invoke("create_subnet", network_id=call.params["network_id"],
                               address_block=call.params["address_block"], name=call.param("name") or None,
                               **call.extra_params("network_id", "address_block", "name"))
    return Outcome.member("subnet", subnet, status=201, location=call.url("subnets", subnet.id))


async def _new_form(call: OperationCall) -> Outcome:
    networks = await call.invoke("list_networks") if implements(type(call.driver), "list_networks") else []
    return Outcome(kind="custom", resource="subnet_new",
                   data={"networks": networks, "network_id": call.param("network_id")})


SUBNETS = Collection(
    name="subnets",
    singular="subnet",
    description="Subnets are address ranges of a network that interfaces get their addresses from.",
    resources=(Resource("subnet", "subnets", {"json": SubnetJson(), "xml": SubnetXml()}),),
    operations=(
        *read_operations("subnet", "subnets", "list_subnets", "get_subnet",
                         id_param=_ID,
                         index_description="List all subnets",
                         show_description="Show a subnet identified by id"),
        Operation("create", "POST", "", _create, capability="create_subnet", requires=needs("create_subnet"),
                  params=(Param("network_id", required=True, description="Network the subnet belongs to"),
                          Param("address_block", required=True, description="Address block (CIDR) of the subnet"),
                          Param("name", description="Name of the new subnet")),
                  description="Create a new subnet in a network"),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("subnets", "destroy_subnet"),
                  capability="destroy_subnet", requires=needs("destroy_subnet"), params=(_ID,),
                  description="Delete a subnet"),
    ),
    forms=(Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY, params=(Param("network_id"),),
                     description="Form to create a subnet"),),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(SUBNETS, owner=__name__)
