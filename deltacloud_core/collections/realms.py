"""``/api/realms``: regions or availability zones."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..schemas.compute import RealmJson, RealmXml
from .base import Collection, CollectionRegistry, Operation, Param, Resource, index_handler, needs, show_handler

REALMS = Collection(
    name="realms",
    singular="realm",
    description="Within a cloud provider a realm represents a boundary containing resources "
                "(a region or availability zone).",
    resources=(Resource("realm", "realms", {"json": RealmJson(), "xml": RealmXml()}),),
    operations=(
        Operation("index", "GET", "", index_handler("realm", "list_realms", ("id", "architecture")),
                  capability="realms", requires=needs("list_realms"), timed=True,
                  params=(Param("id", description="Realm id to show"),
                          Param("architecture", description="Architecture the realm supports")),
                  description="List all realms"),
        Operation("show", "GET", "/{id}", show_handler("realm", "get_realm"), capability="realms",
                  requires=needs("list_realms"), timed=True, params=(Param("id", required=True),),
                  description="Show a realm identified by id"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(REALMS, owner=__name__)
