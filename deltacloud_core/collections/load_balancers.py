"""``/api/load_balancers``: load balancers spreading traffic over registered instances."""

from __future__ import annotations

from ..drivers.capabilities import implements
from ..errors import ObjectNotFound
from ..hookspecs import hookimpl
from ..models import LoadBalancer
from ..schemas.network import LoadBalancerJson, LoadBalancerXml
from .base import (
    HTML_ONLY,
    Answer,
    Collection,
    CollectionRegistry,
    Handler,
    Operation,
    OperationCall,
    Outcome,
    Param,
    Resource,
    destroy_handler,
    needs,
    read_operations,
)

_ID = Param("id", required=True, description="Load balancer id")
_CREATE_PARAMS = ("name", "realm_id", "listener_protocol", "listener_balancer_port", "listener_instance_port")




async def _create(call: OperationCall) -> Outcome:
    values = {name: call.params[name] for name in _CREATE_PARAMS}
    lb = await call.invoke("create_load_balancer", **values, **call.extra_params(*_CREATE_PARAMS))
    return Outcome.member("load_balancer", lb, status=201, location=call.url("load_balancers", lb.id))


def _membership(method: str) -> Handler:
    """register / unregister: 200 with the balancer as it is afterwards."""

    async def handler(call: OperationCall) -> Outcome:
        lb: LoadBalancer | None = await call.invoke(method, call.id, instance_id=call.params["instance_id"])
        if lb is None:
            lb = await call.invoke("get_load_balancer", call.id)
        if lb is None:
            raise ObjectNotFound()
        return Outcome.member("load_balancer", lb)

    return handler


async def _new_form(call: OperationCall) -> Outcome:
    realms = await call.invoke("list_realms")
    instances = await call.invoke("list_instances") if implements(type(call.driver), "list_instances") else []
    return Outcome(kind="custom", resource="load_balancer_new", data={"realms": realms, "instances": instances})


_INSTANCE_ID = Param("instance_id", required=True, description="Instance to (un)register")

LOAD_BALANCERS = Collection(
    name="load_balancers",
    singular="load_balancer",
    description="Load balancers distribute incoming traffic over the instances registered with them.",
    resources=(Resource("load_balancer", "load_balancers", {"json": LoadBalancerJson(), "xml": LoadBalancerXml()}),),
    operations=(
        *read_operations("load_balancer", "load_balancers", "list_load_balancers", "get_load_balancer",
                         id_param=_ID,
                         index_description="List all load balancers",
                         show_description="Show a load balancer",
                         show_capability="load_balancer"),
        Operation("create", "POST", "", _create, capability="create_load_balancer",
                  requires=needs("create_load_balancer"),
                  params=(Param("name", required=True, description="Name of the new load balancer"),
                          Param("realm_id", required=True, description="Realm to create it in"),
                          Param("listener_protocol", required=True, description="HTTP or TCP",
                                values=("HTTP", "TCP")),
                          Param("listener_balancer_port", required=True, description="Port the balancer listens on"),
                          Param("listener_instance_port", required=True,
                                description="Port of the instances traffic goes to")),
                  description="Create a new load balancer"),
        Operation("register", "POST", "/{id}/register", _membership("register_instance"),
                  capability="lb_register_instance", requires=needs("register_instance"),
                  params=(_ID, _INSTANCE_ID), description="Register an instance with a load balancer",
                  answer=Answer(200, "The load balancer")),
        Operation("unregister", "POST", "/{id}/unregister", _membership("unregister_instance"),
                  capability="lb_unregister_instance", requires=needs("unregister_instance"),
                  params=(_ID, _INSTANCE_ID), description="Unregister an instance from a load balancer",
                  answer=Answer(200, "The load balancer")),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("load_balancers", "destroy_load_balancer"),
                  capability="destroy_load_balancer", requires=needs("destroy_load_balancer"), params=(_ID,),
                  description="Delete a load balancer"),
    ),
    forms=(Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY,
                     description="Form to create a load balancer"),),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(LOAD_BALANCERS, owner=__name__)
