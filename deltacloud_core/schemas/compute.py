"""Dump schemas of the compute resources: realms, hardware profiles, images, instances, keys."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from ..hardware import HardwareProfile, HardwareProperty
from ..models import Image, Instance, Key
from .base import OMIT, DumpSchema, computed, link, ref, text
from .context import render_context
from .shapes import ACTIONS, ADDRESSES, BOOLEAN, LINK, LINKS, NULLABLE_LINK, STRING, STRINGS, nullable, object_of

__all__ = [
    "HardwareProfileJson", "HardwareProfileXml", "ImageJson", "ImageXml", "InstanceJson", "InstanceXml",
    "KeyJson", "KeyXml", "RealmJson", "RealmXml", "RunResultJson", "RunResultXml",
]


def _href(collection: str, obj: Any) -> str:
    return render_context().url(collection, obj.id)


# -- realms ---------------------------------------------------------------------------------

class RealmJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda r: _href("realms", r))
    name = fields.String()
    state = fields.String()
    limit = computed(lambda r: "unlimited" if r.limit is None else r.limit, shape={"type": ["string", "integer"]})


class RealmXml(DumpSchema):
    href = fields.Function(lambda r: _href("realms", r), data_key="@href")
    id = fields.String(data_key="@id")
    name = fields.Function(lambda r: text(r.name))
    state = fields.Function(lambda r: text(r.state))
    limit = fields.Function(lambda r: OMIT if r.limit is None else text(r.limit))


# -- hardware profiles ----------------------------------------------------------------------

def _property_json(prop: HardwareProperty) -> dict[str, Any]:
    """One property as the XML ``<property>`` tells it: kind, unit, default, and the bounds."""
    out: dict[str, Any] = {"name": prop.name, "kind": prop.kind, "unit": prop.unit, "value": text(prop.default)}
    if prop.kind != "fixed":
        out["param"] = prop.param
    if prop.kind == "range":
        out["range"] = {"first": text(prop.first), "last": text(prop.last)}
    elif prop.kind == "enum":
        out["enum"] = [text(v) for v in prop.values]
    return out


def _hardware_profile_json_properties(profile: HardwareProfile) -> Any:
    if not profile.properties:
        return OMIT
    return {p.name: text(p.default) for p in profile.properties}


def _hardware_profile_json_property_details(profile: HardwareProfile) -> Any:
    if not profile.properties:
        return OMIT
    return [_property_json(p) for p in profile.properties]


_DEFAULTS = {**object_of(STRING), "description": "Default value of each property"}
#: The JSON Schema of ``property_details``.
_PROPERTY_DETAILS = {
    "type": "array", "description": "Each property's kind, unit, default and bounds (an extension; "
                                    "the original's JSON had only the defaults)",
    "items": {"type": "object", "required": ["name", "kind", "unit", "value"], "properties": {
        "name": STRING, "kind": {"enum": ["fixed", "range", "enum"]},
        "unit": {"type": ["string", "null"]}, "value": STRING,
        "param": {"type": "string", "description": "The instance-create parameter that overrides it"},
        "range": {"type": "object", "required": ["first", "last"],
                  "properties": {"first": STRING, "last": STRING}},
        "enum": STRINGS}}}


class HardwareProfileJson(DumpSchema):
    """The original's keys, then ``property_details``, an extension: the original's JSON kept only
    each property's default (``properties``, unchanged here, so old clients read the same); the
    details carry what its XML tells, kind (fixed, range, enum), unit, the range's bounds or the
    enum's values, all as text like ``properties``, so clients can validate ``hwp_*`` overrides."""

    id = fields.String()
    href = fields.Function(lambda p: _href("hardware_profiles", p))
    name = fields.String()
    properties = computed(_hardware_profile_json_properties, shape=_DEFAULTS)
    property_details = computed(_hardware_profile_json_property_details, shape=_PROPERTY_DETAILS)


def _property_xml(prop: HardwareProperty) -> dict[str, Any]:
    out: dict[str, Any] = {"@kind": prop.kind, "@name": prop.name}
    if prop.unit:
        out["@unit"] = prop.unit
    out["@value"] = text(prop.default)
    if prop.kind != "fixed":
        out["param"] = {"@href": render_context().url("instances"), "@method": "post",
                        "@name": prop.param, "@operation": "create"}
    if prop.kind == "range":
        out["range"] = {"@first": text(prop.first), "@last": text(prop.last)}
    elif prop.kind == "enum":
        out["enum"] = {"entry": [{"@value": text(v)} for v in prop.values]}
    return out


class HardwareProfileXml(DumpSchema):
    href = fields.Function(lambda p: _href("hardware_profiles", p), data_key="@href")
    at_id = fields.Function(lambda p: p.id, data_key="@id")
    id = fields.String()
    name = fields.String()
    property = fields.Function(lambda p: [_property_xml(x) for x in p.properties] or OMIT)


# -- images ---------------------------------------------------------------------------------

def _image_profiles(image: Image) -> list[dict[str, str]]:
    ctx = render_context()
    return [{"id": h, "href": ctx.url("hardware_profiles", h), "rel": "hardware_profile"}
            for h in image.hardware_profiles or ()]


class ImageJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda i: _href("images", i))
    name = fields.String()
    description = fields.String(allow_none=True)
    owner = fields.Function(lambda i: i.owner_id)
    architecture = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    root_type = fields.String()
    creation_time = fields.String(allow_none=True)
    hardware_profiles = computed(_image_profiles, shape=LINKS)


def _image_xml_profiles(image: Image) -> Any:
    if image.hardware_profiles is None:
        return OMIT
    if not image.hardware_profiles:
        return None
    return {"hardware_profile": [ref("hardware_profiles", h, rel="hardware_profile")
                                 for h in image.hardware_profiles]}


def _image_xml_actions(image: Image) -> Any:
    ctx = render_context()
    links = [link(f"{ctx.api_url}/instances;image_id={image.id}", "create_instance", "post")]
    if ctx.implements("destroy_image"):
        links.append(link(ctx.url("images", image.id), "destroy_image", "delete"))
    return {"link": links}


class ImageXml(DumpSchema):
    href = fields.Function(lambda i: _href("images", i), data_key="@href")
    id = fields.String(data_key="@id")
    name = fields.Function(lambda i: text(i.name))
    description = fields.Function(lambda i: text(i.description))
    owner_id = fields.Function(lambda i: text(i.owner_id))
    architecture = fields.Function(lambda i: text(i.architecture))
    state = fields.Function(lambda i: OMIT if i.state is None else text(i.state))
    creation_time = fields.Function(lambda i: OMIT if i.creation_time is None else text(i.creation_time))
    hardware_profiles = fields.Function(_image_xml_profiles)
    root_type = fields.Function(lambda i: text(i.root_type or "transient"))
    actions = fields.Function(_image_xml_actions)


# -- instances ------------------------------------------------------------------------------

_ACTION_METHODS = {"destroy": "delete"}


def _instance_action_links(instance: Instance) -> list[dict[str, str]]:
    """Action links as (href, rel, method) dicts, in the original's order."""
    ctx = render_context()
    base = ctx.url("instances", instance.id)
    out: list[dict[str, str]] = []
    for action in ctx.instance_actions(instance):
        if action == "create":
            continue
        href = base if action == "destroy" else f"{base}/{action}"
        out.append({"href": href, "rel": action, "method": _ACTION_METHODS.get(action, "post")})
    if ctx.implements("run_on_instance"):
        out.append({"href": f"{base}/run;id={instance.id}", "rel": "run", "method": "post"})
    if instance.create_image:
        out.append({"href": f"{ctx.api_url}/images;instance_id={instance.id}", "rel": "create_image",
                    "method": "post"})
    return out


def _addresses_json(addresses: Any) -> list[dict[str, Any]]:
    out = []
    for a in addresses:
        item: dict[str, Any] = {"address": a.address, "type": a.rendered_type}
        if a.port is not None:
            item["port"] = a.port
        out.append(item)
    return out


def _addresses_xml(addresses: Any) -> Any:
    if not addresses:
        return None
    out = []
    for a in addresses:
        item: dict[str, Any] = {}
        if a.port is not None:
            item["@port"] = str(a.port)
        item["@type"] = a.rendered_type
        item["#text"] = a.address
        out.append(item)
    return {"address": out}


def _auth_kind() -> str | None:
    ctx = render_context()
    if ctx.has_feature("instances", "authentication_key"):
        return "key"
    if ctx.has_feature("instances", "authentication_password"):
        return "password"
    return None


def _instance_json_profile(instance: Instance) -> Any:
    prof = instance.instance_profile
    if prof is None:
        return None
    return {"id": prof.id, "href": render_context().url("hardware_profiles", prof.id),
            "rel": "hardware_profile", "properties": dict(prof.overrides)}


def _instance_json_authentication(instance: Instance) -> Any:
    kind = _auth_kind()
    out: dict[str, Any] = {}
    if kind == "key" and instance.keyname is not None:
        out["keyname"] = instance.keyname
    if kind is not None and instance.username is not None:
        out["user"] = instance.username
        out["password"] = instance.password
    return out or OMIT


#: The instance's hardware profile: a link with the overridden property values.
_PROFILE_LINK = nullable({**LINK, "properties": {**LINK["properties"], "properties": {
    "type": "object", "description": "Overridden property values"}}})


class InstanceJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda i: _href("instances", i))
    name = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    owner = fields.Function(lambda i: i.owner_id)
    image = computed(lambda i: {"href": render_context().url("images", i.image_id), "id": i.image_id,
                                       "rel": "image"} if i.image_id else None, shape=NULLABLE_LINK)
    realm = computed(lambda i: {"href": render_context().url("realms", i.realm_id), "id": i.realm_id,
                                       "rel": "realm"} if i.realm_id else None, shape=NULLABLE_LINK)
    actions = computed(_instance_action_links, shape=ACTIONS)
    hardware_profile = computed(_instance_json_profile, shape=_PROFILE_LINK)
    public_addresses = computed(lambda i: _addresses_json(i.public_addresses), shape=ADDRESSES)
    private_addresses = computed(lambda i: _addresses_json(i.private_addresses), shape=ADDRESSES)
    create_time = fields.Function(lambda i: OMIT if i.launch_time is None else i.launch_time)
    create_image = computed(lambda i: True if i.create_image else OMIT, shape=BOOLEAN)
    firewalls = computed(lambda i: OMIT if i.firewalls is None else [
        {"id": f, "href": render_context().url("firewalls", f), "rel": "firewall"} for f in i.firewalls], shape=LINKS)
    storage_volumes = computed(lambda i: [
        {"id": v, "href": render_context().url("storage_volumes", v), "rel": "storage_volume"}
        for v, _device in i.storage_volumes], shape=LINKS)
    authentication_type = computed(lambda i: "key" if _auth_kind() == "key" else OMIT, shape=STRING)
    authentication = computed(_instance_json_authentication, shape={"type": "object"})


def _instance_xml_profile(instance: Instance) -> Any:
    prof = instance.instance_profile
    if prof is None:
        return OMIT
    out: dict[str, Any] = ref("hardware_profiles", prof.id)
    if prof.overrides:
        driver = render_context().driver_cls
        profiles = {p.id: p for p in (driver.HARDWARE_PROFILES if driver else ())}
        props = []
        for name, value in prof.overrides.items():
            unit = None
            base = profiles.get(prof.id)
            if base is not None and base.property(name) is not None:
                unit = base.property(name).unit  # type: ignore[union-attr]
            else:
                from ..hardware import PROPERTY_UNITS
                unit = PROPERTY_UNITS.get(name)
            item = {"@kind": "fixed", "@name": name}
            if unit:
                item["@unit"] = unit
            item["@value"] = text(value)
            props.append(item)
        out["property"] = props
    return out


def _instance_xml_actions(instance: Instance) -> Any:
    links = [link(a["href"], a["rel"], a["method"]) for a in _instance_action_links(instance)]
    return {"link": links} if links else None


def _instance_xml_authentication(instance: Instance) -> Any:
    kind = _auth_kind()
    if kind is None:
        return OMIT
    out: dict[str, Any] = {"@type": kind}
    if instance.authn_error is not None:
        out["error"] = instance.authn_error
        return out
    logins: list[dict[str, Any]] = []
    if instance.password is not None:
        logins.append({"username": text(instance.username), "password": instance.password})
    if instance.keyname is not None:
        logins.append({"keyname": instance.keyname})
    if logins:
        out["login"] = logins if len(logins) > 1 else logins[0]
    return out


class InstanceXml(DumpSchema):
    href = fields.Function(lambda i: _href("instances", i), data_key="@href")
    id = fields.String(data_key="@id")
    name = fields.Function(lambda i: OMIT if i.name is None else text(i.name))
    owner_id = fields.Function(lambda i: OMIT if i.owner_id is None else text(i.owner_id))
    image = fields.Function(lambda i: ref("images", i.image_id) if i.image_id is not None else OMIT)
    realm = fields.Function(lambda i: ref("realms", i.realm_id) if i.realm_id is not None else OMIT)
    state = fields.Function(lambda i: OMIT if i.state is None else text(i.state))
    hardware_profile = fields.Function(_instance_xml_profile)
    actions = fields.Function(_instance_xml_actions)
    launch_time = fields.Function(lambda i: OMIT if i.launch_time is None else text(i.launch_time))
    public_addresses = fields.Function(lambda i: _addresses_xml(i.public_addresses))
    private_addresses = fields.Function(lambda i: _addresses_xml(i.private_addresses))
    firewalls = fields.Function(lambda i: OMIT if i.firewalls is None else (
        {"firewall": [ref("firewalls", f) for f in i.firewalls]} if i.firewalls else None))
    storage_volumes = fields.Function(lambda i: {"storage_volume": [
        {**ref("storage_volumes", v), **({"@device": d} if d is not None else {})}
        for v, d in i.storage_volumes]} if i.storage_volumes else None)
    authentication = fields.Function(_instance_xml_authentication)
    network_interfaces = fields.Function(lambda i: OMIT if i.network_interfaces is None else (
        {"network_interface": [ref("network_interfaces", n) for n in i.network_interfaces]}
        if i.network_interfaces else None))


class RunResultJson(DumpSchema):
    id = fields.Function(lambda r: r.instance_id)
    public_address = fields.String(allow_none=True)
    command = fields.String()
    output = fields.String()


class RunResultXml(DumpSchema):
    href = fields.Function(lambda r: render_context().url("instances", r.instance_id), data_key="@href")
    id = fields.Function(lambda r: r.instance_id, data_key="@id")
    public_address = fields.Function(lambda r: text(r.public_address))
    command = fields.Function(lambda r: text(r.command))
    output = fields.Function(lambda r: text(r.output))


# -- keys -----------------------------------------------------------------------------------

class KeyJson(DumpSchema):
    id = fields.String()
    href = fields.Function(lambda k: _href("keys", k))
    credential_type = fields.String(allow_none=True)
    username = fields.String(allow_none=True)
    password = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    pem_rsa_key = fields.Function(lambda k: OMIT if k.pem_rsa_key is None else k.pem_rsa_key)
    fingerprint = fields.Function(lambda k: OMIT if k.fingerprint is None else k.fingerprint)


def _key_xml_actions(key: Key) -> Any:
    ctx = render_context()
    if not ctx.implements("destroy_key"):
        return None
    return {"link": [link(ctx.url("keys", key.id), "destroy", "delete")]}


class KeyXml(DumpSchema):
    href = fields.Function(lambda k: _href("keys", k), data_key="@href")
    id = fields.String(data_key="@id")
    type = fields.Function(lambda k: k.credential_type or "", data_key="@type")
    name = fields.Function(lambda k: text(k.name or k.id))
    actions = fields.Function(_key_xml_actions)
    fingerprint = fields.Function(lambda k: text(k.fingerprint)
                                  if k.credential_type == "key" and k.fingerprint is not None else OMIT)
    pem = fields.Function(lambda k: k.pem_rsa_key
                          if k.credential_type == "key" and k.pem_rsa_key is not None else OMIT)
    username = fields.Function(lambda k: text(k.username) if k.credential_type == "password" else OMIT)
    password = fields.Function(lambda k: text(k.password) if k.credential_type == "password" else OMIT)
    state = fields.Function(lambda k: text(k.state))


