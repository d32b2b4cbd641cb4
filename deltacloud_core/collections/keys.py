"""``/api/keys``: credentials (SSH key pairs or passwords) to log in to instances."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..schemas.compute import KeyJson, KeyXml
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


async def _create(call: OperationCall) -> Outcome:
    key = await call.invoke("create_key", name=call.params["name"], public_key=call.param("public_key") or None,
                            **call.extra_params("name", "public_key"))
    return Outcome.member("key", key, status=201, location=call.url("keys", key.id))


async def _new_form(call: OperationCall) -> Outcome:
    return Outcome(kind="custom", resource="key_new", data={})


KEYS = Collection(
    name="keys",
    singular="key",
    description="A key captures the credentials required to access an instance.",
    resources=(Resource("key", "keys", {"json": KeyJson(), "xml": KeyXml()}),),
    operations=(
        *read_operations("key", "keys", "list_keys", "get_key",
                         id_param=Param("id", required=True),
                         index_description="List all keys",
                         show_description="Show a key identified by id"),
        Operation("create", "POST", "", _create, capability="create_key", requires=needs("create_key"),
                  params=(Param("name", required=True, description="Name of the new key"),),
                  description="Create a new key"),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("keys", "destroy_key"), capability="destroy_key",
                  requires=needs("destroy_key"), params=(Param("id", required=True),),
                  description="Delete a key"),
    ),
    forms=(Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY, description="Form to create a key"),),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(KEYS, owner=__name__)
