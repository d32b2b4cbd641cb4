"""``/api/instances``: running (or stopped) machines and their life-cycle actions."""

from __future__ import annotations

import base64
import binascii

from ..errors import ForbiddenError, MethodNotAllowed, ValidationError
from ..hardware import validate_overrides
from ..hookspecs import hookimpl
from ..models import Instance
from ..schemas.compute import InstanceJson, InstanceXml, RunResultJson, RunResultXml
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
    index_handler,
    needs,
    show_handler,
)

#: Parameters the core reads itself; everything else a client sends is passed as ``extra``.
_CORE_CREATE_PARAMS = ("image_id", "hwp_id", "realm_id", "keyname", "name", "user_data")


def _decode_user_data(raw: str | None) -> bytes | None:
    if raw is None or raw == "":
        return None
    try:
        return base64.b64decode("".join(raw.split()).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ValidationError("Parameter user_data must be base64-encoded (RFC 4648 alphabet, "
                              "padded with '=').") from exc


async def _create(call: OperationCall) -> Outcome:
    params = call.params
    overrides = {k[4:]: v for k, v in params.items() if k.startswith("hwp_") and k != "hwp_id" and v != ""}
    hwp_id = params.get("hwp_id") or None
    accepted: dict[str, str] = {}
    if hwp_id is not None:
        profile = await call.invoke("get_hardware_profile", hwp_id)
        if profile is None:
            raise ValidationError(f"Hardware profile '{hwp_id}' does not exists.")
        accepted = validate_overrides(profile, overrides)
    elif overrides:
        names = ", ".join(f"hwp_{n}" for n in overrides)
        raise ValidationError(f"Parameter(s) {names} need hwp_id: name the hardware profile to adjust.")
    extra = {k: v for k, v in call.extra_params(*_CORE_CREATE_PARAMS).items() if not k.startswith("hwp_")}
    created = await call.invoke(
        "create_instance", image_id=params["image_id"], hwp_id=hwp_id, realm_id=params.get("realm_id") or None,
        hwp_overrides=accepted, keyname=params.get("keyname") or None, name=params.get("name") or None,
        user_data=_decode_user_data(params.get("user_data")), **extra)
    if isinstance(created, list):
        if len(created) == 1:
            created = created[0]
        else:
            outcome = Outcome.collection("instance", created)
            outcome.status = 201
            return outcome
    return Outcome.member("instance", created, status=201, location=call.url("instances", created.id))


def _action(action: str) -> object:
    """Handler of a state-machine action: 403 unknown, 405 not allowed now, else the driver."""

    async def handler(call: OperationCall) -> Outcome:
        instance: Instance | None = await call.invoke("get_instance", call.id)
        if instance is None:
            raise ForbiddenError()
        if action not in call.driver.instance_actions_for(instance):
            raise MethodNotAllowed()
        result = await call.invoke(f"{action}_instance", call.id)
        if action == "destroy":
            return Outcome.empty(204, html_redirect=call.url("instances"))
        if isinstance(result, Instance):
            return Outcome.member("instance", result, status=202, wrap=False)
        return Outcome.redirect(call.url("instances", call.id), status=303)

    return handler


async def _run(call: OperationCall) -> Outcome:
    extra = call.extra_params("cmd", "private_key", "password", "ip", "port")
    result = await call.invoke("run_on_instance", call.id, cmd=call.params["cmd"],
                               private_key=call.param("private_key"), password=call.param("password"),
                               ip=call.param("ip"), port=call.param("port"), **extra)
    return Outcome.member("run_result", result)


async def _new_form(call: OperationCall) -> Outcome:
    images = await call.invoke("list_images")
    realms = await call.invoke("list_realms")
    profiles = await call.invoke("list_hardware_profiles")
    keys = []
    if call.driver.has_feature("instances", "authentication_key") and hasattr(call.driver, "list_keys"):
        try:
            keys = await call.invoke("list_keys")
        except Exception:  # noqa: BLE001 - the form works without the key list
            keys = []
    return Outcome(kind="custom", resource="instance_new", data={
        "images": images, "realms": realms, "hardware_profiles": profiles, "keys": keys,
        "image_id": call.param("image_id"), "realm_id": call.param("realm_id")})


async def _run_form(call: OperationCall) -> Outcome:
    instance = await call.invoke("get_instance", call.id)
    if instance is None:
        return Outcome.plain(404)
    return Outcome(kind="custom", resource="instance_run", data={"instance": instance})


_ID = Param("id", required=True, description="Instance id")


def _action_op(action: str, capability: str) -> Operation:
    return Operation(action, "POST", f"/{{id}}/{action}", _action(action), capability=capability,  # type: ignore[arg-type]
                     requires=needs(capability), timed=True, params=(_ID,),
                     description=f"{action.title()} an instance",
                     answer=Answer(202, "The instance after the action (not wrapped)", "bare"))


INSTANCES = Collection(
    name="instances",
    singular="instance",
    description="An instance is a concrete machine realized from an image.",
    resources=(
        Resource("instance", "instances", {"json": InstanceJson(), "xml": InstanceXml()}),
        Resource("run_result", "instances", {"json": RunResultJson(), "xml": RunResultXml()},
                 xml_declaration=False, element="instance"),
    ),
    operations=(
        Operation("index", "GET", "", index_handler("instance", "list_instances", ("id", "state")),
                  capability="instances", requires=needs("list_instances"), timed=True,
                  params=(Param("id", description="Instance id", advertised=False),
                          Param("state", description="Instance state", advertised=False)),
                  description="List all instances"),
        Operation("show", "GET", "/{id}", show_handler("instance", "get_instance"), capability="instances",
                  requires=needs("list_instances"), timed=True, params=(_ID,),
                  description="Show an instance identified by id"),
        Operation("create", "POST", "", _create, capability="create_instance", requires=needs("create_instance"),
                  params=(Param("image_id", required=True, description="Image to launch"),
                          Param("realm_id", description="Realm to launch in"),
                          Param("hwp_id", description="Hardware profile"),
                          Param("keyname", description="Key to log in with"),
                          Param("hwp_cpu", description="CPU count within the profile's range", advertised=False),
                          Param("hwp_memory", description="Memory (MB) within the profile's range",
                                advertised=False),
                          Param("hwp_storage", description="Storage (GB) within the profile's range",
                                advertised=False),
                          Param("hwp_architecture", description="Architecture allowed by the profile",
                                advertised=False)),
                  description="Create a new instance",
                  answer=Answer(201, "The new instance (several with instance_count)", "member_or_list",
                                location=True)),
        _action_op("reboot", "reboot_instance"),
        _action_op("start", "start_instance"),
        _action_op("stop", "stop_instance"),
        Operation("destroy", "DELETE", "/{id}", _action("destroy"), capability="destroy_instance",  # type: ignore[arg-type]
                  requires=needs("destroy_instance"), params=(_ID,), timed=True, description="Destroy an instance",
                  answer=Answer(204, "Destroyed (an HTML client is redirected to the list)", None)),
        Operation("run", "POST", "/{id}/run", _run, capability="run_on_instance", requires=needs("run_on_instance"),
                  params=(_ID, Param("cmd", required=True, description="Shell command to run"),
                          Param("private_key"), Param("password"), Param("ip"), Param("port")),
                  description="Run a command on an instance",
                  answer=Answer(200, "The command's output", resource="run_result")),
    ),
    forms=(
        # The forms read data first (so they need credentials), then negotiate, as the original.
        Operation("new", "GET", "/new", _new_form, formats=HTML_ONLY, negotiate_late=True,
                  params=(Param("image_id"), Param("realm_id")), description="Form to launch an instance"),
        Operation("run_form", "GET", "/{id}/run", _run_form, formats=HTML_ONLY, negotiate_late=True,
                  params=(_ID,), description="Form to run a command on an instance"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(INSTANCES, owner=__name__)
