"""``/api/network_interfaces``: an instance's connections to networks (subnets)."""

from __future__ import annotations

from ..drivers.capabilities import implements
from ..hookspecs import hookimpl
from ..schemas.network import NetworkInterfaceJson, NetworkInterfaceXml
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

_ID = Param("id", required=True, description="Network interface id")




async def _create(call: OperationCall) -> Outcome:
    # The original answered 200 without Location; a create is 201 + Location. An empty
    # ``name`` (HTML form) counts as absent.
    nic = await call.invoke("create_network_interface", instance=call.params["instance"],
                            network=call.params["network"], name=call.param("name") or None,
                            subnet=call.param("subnet") or None,
                            **call.extra_params("instance", "network", "name", "subnet"))
    return Outcome.member("network_interface", nic, status=201, location=call.url("network_interfaces", nic.id))


async def _new_form(call: OperationCall) -> Outcome:
    driver_cls = type(call.driver)
    instances = await call.invoke("list_instances") if implements(driver_cls, "list_instances") else []
    subnets = await call.invoke("list_subnets") if implements(driver_cls, "list_subnets") else []
    networks = [] if subnets or not implements(driver_cls, "list_networks") else await call.invoke("list_networks")
    return Outcome(kind="custom", resource="network_interface_new",
                   data={"instances": instances, "subnets": subnets, "networks": networks,
                         "instance_id": call.param("instance")})


NETWORK_INTERFACES = Collection(
    name="network_interfaces",
    singular="network_interface",
    description="Network interfaces connect instances to networks (subnets) with an address.",
    resources=(Resource("network_interface", "network_interfaces",
                        {"json": NetworkInterfaceJson(), "xml": NetworkInterfaceXml()}),),
    operations=(
        *read_operations("network_interface", "network_interfaces", "list_network_interfaces", "get_network_interface",
                         id_param=_ID,
                         index_description="List all network interfaces",
                         show_description="Show a network interface identified by id"),
        Operation("create", "POST", "", _create, capability="create_network_interface",
                  requires=needs("create_network_interface"),
                  params=(Param("instance", required=True, description="Instance to attach the interface to"),
                          Param("network", required=True,
                                description="Network (subnet) to connect to; the subnet id when no subnet is given"),
                          Param("name", description="Name of the new interface"),
                          # Read by the mock only; the original did not declare it (not in OPTIONS).
                          Param("subnet", description="Subnet whose address block supplies the address",
                                advertised=False)),
                  description="Create a network interface for an instance"),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("network_interfaces", "destroy_network_interface"),
                  capability="destroy_network_interface", requires=needs("destroy_network_interface"),
                  params=(_ID,), description="Delete a network interface"),
    ),
    forms=(Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY, params=(Param("instance"),),
                     description="Form to create a network interface"),),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(NETWORK_INTERFACES, owner=__name__)
