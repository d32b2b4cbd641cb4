"""A collection as a plugin would write it, in one module: ``/api/gadgets``.

Everything a collection is lives here: the model, the JSON and XML dump schemas (the JSON fields
with their OpenAPI shapes), the driver contract's part for it (``GadgetsContract``), the
operations and their handlers, and the registration hook. Its HTML pages are ``templates/`` beside
this file (``Collection.templates``). ``tests/test_plugin_collection.py`` serves it in XML, JSON,
HTML, OpenAPI and a plugin's own format without a line of the core knowing about gadgets.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields

from deltacloud_core import ObjectNotFound, ValidationError, hookimpl, unsupported
from deltacloud_core.collections.base import (
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
from deltacloud_core.errors import NotSupportedError
from deltacloud_core.schemas.base import OMIT, DumpSchema, computed, link, text
from deltacloud_core.schemas.context import render_context

COLORS = ("red", "green", "blue")


# -- the model ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Gadget:
    id: str
    name: str
    color: str
    polished: bool = False
    #: The realm it sits in (a cross-reference, rendered as a link).
    realm_id: str | None = None


# -- the driver contract's part -------------------------------------------------------------------

class GadgetsContract:
    """What a driver implements to offer gadgets (inherit it, override what the cloud has)."""

    @unsupported
    def list_gadgets(self, **filters: str) -> list[Gadget]:
        """Every gadget; filters: ``id``, ``color``."""
        raise NotSupportedError()

    def get_gadget(self, id: str) -> Gadget | None:
        return next(iter(self.list_gadgets(id=id)), None)

    @unsupported
    def create_gadget(self, *, name: str, color: str) -> Gadget:
        raise NotSupportedError()

    @unsupported
    def destroy_gadget(self, id: str) -> None:
        raise NotSupportedError()

    @unsupported
    def polish_gadget(self, id: str) -> Gadget:
        raise NotSupportedError()


# -- the wire format ------------------------------------------------------------------------------

def _href(gadget: Gadget) -> str:
    return render_context().url("gadgets", gadget.id)


def _realm_json(gadget: Gadget) -> object:
    if gadget.realm_id is None:
        return None
    return {"id": gadget.realm_id, "href": render_context().url("realms", gadget.realm_id), "rel": "realm"}


class GadgetJson(DumpSchema):
    id = fields.String()
    href = fields.Function(_href)
    name = fields.String()
    color = computed(lambda g: g.color, shape={"enum": list(COLORS)})
    polished = computed(lambda g: g.polished, shape={"type": "boolean"})
    realm = computed(_realm_json, shape={"anyOf": [{"type": "object", "required": ["href"]}, {"type": "null"}]})


def _actions_xml(gadget: Gadget) -> object:
    ctx = render_context()
    links = []
    if ctx.implements("polish_gadget") and not gadget.polished:
        links.append(link(f"{_href(gadget)}/polish", "polish", "post"))
    if ctx.implements("destroy_gadget"):
        links.append(link(_href(gadget), "destroy", "delete"))
    return {"link": links} if links else OMIT


class GadgetXml(DumpSchema):
    href = fields.Function(_href, data_key="@href")
    id = fields.String(data_key="@id")
    name = fields.Function(lambda g: text(g.name))
    color = fields.Function(lambda g: text(g.color))
    polished = fields.Function(lambda g: "true" if g.polished else "false")
    realm = fields.Function(lambda g: OMIT if g.realm_id is None else {
        "@href": render_context().url("realms", g.realm_id), "@id": g.realm_id})
    actions = fields.Function(_actions_xml)


# -- the operations -------------------------------------------------------------------------------

async def _create(call: OperationCall) -> Outcome:
    color = call.params.get("color", "red")
    if color not in COLORS:
        raise ValidationError(f"Parameter color must be one of {', '.join(COLORS)}, not '{color}'.")
    gadget = await call.invoke("create_gadget", name=call.params["name"], color=color)
    return Outcome.member("gadget", gadget, status=201, location=call.url("gadgets", gadget.id))


async def _polish(call: OperationCall) -> Outcome:
    if await call.invoke("get_gadget", call.id) is None:
        raise ObjectNotFound(f"No gadget {call.id}.")
    return Outcome.member("gadget", await call.invoke("polish_gadget", call.id), status=202)


_ID = Param("id", required=True, description="Gadget id")

GADGETS = Collection(
    name="gadgets",
    singular="gadget",
    description="Gadgets, contributed by a plugin in one module.",
    resources=(Resource("gadget", "gadgets", {"json": GadgetJson(), "xml": GadgetXml()}),),
    templates=__name__,
    operations=(
        *read_operations("gadget", "gadgets", "list_gadgets", "get_gadget", id_param=_ID, filters=("id", "color"),
                         index_description="List gadgets", show_description="Show a gadget"),
        Operation("create", "POST", "", _create, capability="create_gadget", requires=needs("create_gadget"),
                  params=(Param("name", required=True), Param("color", values=COLORS)),
                  description="Make a gadget"),
        Operation("polish", "POST", "/{id}/polish", _polish, capability="polish_gadget",
                  requires=needs("polish_gadget"), params=(_ID,), description="Polish a gadget",
                  answer=Answer(202, "The gadget, polished")),
        Operation("destroy", "DELETE", "/{id}", destroy_handler("gadgets", "destroy_gadget"),
                  capability="destroy_gadget", requires=needs("destroy_gadget"), params=(_ID,),
                  description="Throw a gadget away"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(GADGETS, owner=__name__)
