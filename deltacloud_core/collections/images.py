"""``/api/images``: templates instances are launched from."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..schemas.compute import ImageJson, ImageXml
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
    index_handler,
    needs,
    show_handler,
)


async def _create(call: OperationCall) -> Outcome:
    image = await call.invoke("create_image", instance_id=call.params["instance_id"], name=call.param("name"),
                              description=call.param("description"),
                              **call.extra_params("instance_id", "name", "description"))
    return Outcome.member("image", image, status=201, location=call.url("images", image.id))



async def _new_form(call: OperationCall) -> Outcome:
    if not call.param("instance_id"):
        return Outcome.plain(404)
    return Outcome(kind="custom", resource="image_new", data={"instance_id": call.params["instance_id"]})


IMAGES = Collection(
    name="images",
    singular="image",
    description="An image is a platform template for launching instances.",
    resources=(Resource("image", "images", {"json": ImageJson(), "xml": ImageXml()}),),
    operations=(
        Operation("index", "GET", "", index_handler("image", "list_images", ("id", "architecture", "owner_id")),
                  capability="images", requires=needs("list_images"), timed=True,
                  params=(Param("architecture", description="Architecture of the images"),),
                  description="List all available images"),
        Operation("show", "GET", "/{id}", show_handler("image", "get_image"), capability="image",
                  requires=needs("list_images"), timed=True, params=(Param("id", required=True),),
                  description="Show an image identified by id"),
        Operation("create", "POST", "", _create, capability="create_image", requires=needs("create_image"),
                  params=(Param("instance_id", required=True, description="Instance to make the image from"),),
                  description="Create a new image from a running instance"),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("images", "destroy_image"),
                  capability="destroy_image", requires=needs("destroy_image"),
                  params=(Param("id", required=True),), description="Remove an image"),
    ),
    forms=(
        # Without instance_id: an empty 404 in every format; so negotiate after the handler.
        Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY, negotiate_late=True,
                  params=(Param("instance_id", description="Instance to make the image from"),),
                  description="Form to create an image from an instance"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(IMAGES, owner=__name__)
