"""``/api/addresses``: public IP addresses that can be associated with instances."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..schemas.network import AddressJson, AddressXml
from .base import (
    HTML_ONLY,
    Answer,
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

_ID = Param("id", required=True, description="The address (its IP)")




async def _create(call: OperationCall) -> Outcome:
    address = await call.invoke("create_address", **call.extra_params())
    return Outcome.member("address", address, status=201, location=call.url("addresses", address.id))


async def _associate(call: OperationCall) -> Outcome:
    await call.invoke("associate_address", call.id, instance_id=call.params["instance_id"])
    # 202 with an empty body (XML/JSON); a browser goes back to the address.
    return Outcome.empty(202, html_redirect=call.url("addresses", call.id))


async def _disassociate(call: OperationCall) -> Outcome:
    await call.invoke("disassociate_address", call.id)
    return Outcome.empty(202, html_redirect=call.url("addresses", call.id))


async def _associate_form(call: OperationCall) -> Outcome:
    instances = await call.invoke("list_instances")
    return Outcome(kind="custom", resource="address_associate",
                   data={"address_id": call.id, "instances": instances})


ADDRESSES = Collection(
    name="addresses",
    singular="address",
    description="Public IP addresses that can be associated with (and moved between) instances.",
    resources=(Resource("address", "addresses", {"json": AddressJson(), "xml": AddressXml()}),),
    operations=(
        *read_operations("address", "addresses", "list_addresses", "get_address",
                         id_param=_ID,
                         index_description="List all addresses",
                         show_description="Show an address identified by its IP"),
        Operation("create", "POST", "", _create, capability="create_address", requires=needs("create_address"),
                  description="Allocate a new address"),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("addresses", "destroy_address"),
                  capability="destroy_address", requires=needs("destroy_address"), params=(_ID,),
                  description="Release an address (it must not be associated)"),
        Operation("associate", "POST", "/{id}/associate", _associate, capability="associate_address",
                  requires=needs("associate_address"),
                  params=(_ID, Param("instance_id", required=True, description="Instance to associate with")),
                  description="Associate an address with an instance",
                  answer=Answer(202, "Association requested", None)),
        # The original guards disassociate with the associate_address capability name (sic).
        Operation("disassociate", "POST", "/{id}/disassociate", _disassociate, capability="associate_address",
                  requires=needs("disassociate_address"), params=(_ID,),
                  description="Disassociate an address from its instance",
                  answer=Answer(202, "Disassociation requested", None)),
    ),
    forms=(
        Operation("associate_form", "GET", "/{id}/associate", _associate_form, formats=HTML_ONLY, params=(_ID,),
                  description="Form to associate an address with an instance"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(ADDRESSES, owner=__name__)
