"""Compute: realms, hardware profiles, images, instances, keys, the instance state machine."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..hardware import HardwareProperty, property_from_default, property_from_json, property_from_xml
from .base import Ref, Resource, json_ref, json_refs, keys, text_of, xml_ref

__all__ = ["Address", "HardwareProfile", "Image", "Instance", "InstanceProfile", "Key", "Realm", "RunResult",
           "VolumeAttachment"]


@dataclass(frozen=True, kw_only=True)
class Realm(Resource):
    COLLECTION = "realms"
    SINGULAR = "realm"
    JSON_KEYS = keys("name", "state", "limit")
    XML_KEYS = keys("name", "state", "limit")

    name: str | None = None
    state: str | None = None
    #: ``"unlimited"`` or the provider's limit text.
    limit: str | None = None

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        limit = doc.get("limit")
        return {**super().json_fields(doc), "name": doc.get("name"), "state": doc.get("state"),
                "limit": None if limit is None else str(limit)}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        return {**super().xml_fields(element), "name": text_of(element, "name"), "state": text_of(element, "state"),
                "limit": text_of(element, "limit") or "unlimited"}


@dataclass(frozen=True, kw_only=True)
class HardwareProfile(Resource):
    """A hardware profile; ``properties`` in the server's order, each fixed, a range or an enum
    (``kind == "unknown"`` when the server's JSON told only the default, as the original's did)."""

    COLLECTION = "hardware_profiles"
    SINGULAR = "hardware_profile"
    JSON_KEYS = keys("name", "properties", "property_details")
    XML_KEYS = keys("id", "name", "property")

    name: str | None = None
    properties: tuple[HardwareProperty, ...] = ()

    def property(self, name: str) -> HardwareProperty | None:
        return next((p for p in self.properties if p.name == name), None)

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        details = doc.get("property_details")
        if isinstance(details, list):
            props = tuple(property_from_json(d) for d in details if isinstance(d, Mapping))
        else:
            defaults = doc.get("properties") or {}
            props = tuple(property_from_default(str(k), v) for k, v in defaults.items())
        return {**super().json_fields(doc), "name": doc.get("name"), "properties": props}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        return {**super().xml_fields(element), "name": text_of(element, "name"),
                "properties": tuple(property_from_xml(p) for p in element.findall("property"))}


@dataclass(frozen=True, kw_only=True)
class Image(Resource):
    COLLECTION = "images"
    SINGULAR = "image"
    JSON_KEYS = keys("name", "description", "owner", "architecture", "state", "root_type", "creation_time",
                     "hardware_profiles")
    XML_KEYS = keys("name", "description", "owner_id", "architecture", "state", "root_type", "creation_time",
                    "hardware_profiles")

    name: str | None = None
    description: str | None = None
    owner_id: str | None = None
    architecture: str | None = None
    state: str | None = None
    root_type: str | None = None
    creation_time: str | None = None
    hardware_profiles: tuple[Ref, ...] = ()

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "name": doc.get("name"), "description": doc.get("description"),
                "owner_id": doc.get("owner"), "architecture": doc.get("architecture"), "state": doc.get("state"),
                "root_type": doc.get("root_type"), "creation_time": doc.get("creation_time"),
                "hardware_profiles": json_refs(doc.get("hardware_profiles"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        profiles = tuple(r for r in (xml_ref(e) for e in element.findall("hardware_profiles/hardware_profile")) if r)
        return {**super().xml_fields(element), "name": text_of(element, "name"),
                "description": text_of(element, "description"), "owner_id": text_of(element, "owner_id"),
                "architecture": text_of(element, "architecture"), "state": text_of(element, "state"),
                "root_type": text_of(element, "root_type"), "creation_time": text_of(element, "creation_time"),
                "hardware_profiles": profiles}


@dataclass(frozen=True)
class Address:
    """One of an instance's addresses (``type``: ipv4, ipv6, hostname, mac, vnc, unavailable)."""

    address: str
    type: str | None = None
    port: str | None = None


@dataclass(frozen=True)
class InstanceProfile:
    """The instance's hardware profile and the properties it overrides (``{"memory": "12288"}``)."""

    id: str
    href: str | None = None
    overrides: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class VolumeAttachment:
    id: str
    href: str | None = None
    device: str | None = None


def _json_addresses(values: Any) -> tuple[Address, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(Address(str(v.get("address", "")), v.get("type"), None if v.get("port") is None else str(v["port"]))
                 for v in values if isinstance(v, Mapping))


def _xml_addresses(element: ET.Element, tag: str) -> tuple[Address, ...]:
    return tuple(Address((a.text or "").strip(), a.get("type"), a.get("port"))
                 for a in element.findall(f"{tag}/address"))


@dataclass(frozen=True, kw_only=True)
class Instance(Resource):
    COLLECTION = "instances"
    SINGULAR = "instance"
    JSON_KEYS = keys("name", "state", "owner", "image", "realm", "hardware_profile", "public_addresses",
                     "private_addresses", "create_time", "create_image", "firewalls", "storage_volumes",
                     "authentication_type", "authentication", "network_interfaces")
    XML_KEYS = keys("name", "owner_id", "image", "realm", "state", "hardware_profile", "launch_time",
                    "public_addresses", "private_addresses", "firewalls", "storage_volumes", "authentication",
                    "network_interfaces")

    name: str | None = None
    #: Upper case as the server sends it: PENDING, RUNNING, STOPPING, STOPPED, FINISH, ERROR, ...
    state: str | None = None
    owner_id: str | None = None
    image: Ref | None = None
    realm: Ref | None = None
    hardware_profile: InstanceProfile | None = None
    public_addresses: tuple[Address, ...] = ()
    private_addresses: tuple[Address, ...] = ()
    launch_time: str | None = None
    #: Whether the instance can be imaged now (the original's ``create_image``).
    allows_create_image: bool = False
    firewalls: tuple[Ref, ...] = ()
    storage_volumes: tuple[VolumeAttachment, ...] = ()
    authentication_type: str | None = None
    #: ``{"keyname": ...}`` or ``{"username", "password"}`` as the server tells them.
    authentication: Mapping[str, str] = field(default_factory=dict, hash=False)
    network_interfaces: tuple[Ref, ...] = ()

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        profile = doc.get("hardware_profile")
        hwp = None
        if isinstance(profile, Mapping) and profile.get("id"):
            hwp = InstanceProfile(str(profile["id"]), profile.get("href"),
                                  {str(k): str(v) for k, v in (profile.get("properties") or {}).items()})
        volumes = tuple(VolumeAttachment(str(v["id"]), v.get("href"), v.get("device"))
                        for v in doc.get("storage_volumes") or () if isinstance(v, Mapping) and v.get("id"))
        auth = doc.get("authentication")
        return {**super().json_fields(doc), "name": doc.get("name"), "state": doc.get("state"),
                "owner_id": doc.get("owner"), "image": json_ref(doc.get("image")), "realm": json_ref(doc.get("realm")),
                "hardware_profile": hwp, "public_addresses": _json_addresses(doc.get("public_addresses")),
                "private_addresses": _json_addresses(doc.get("private_addresses")),
                "launch_time": doc.get("create_time"), "allows_create_image": bool(doc.get("create_image")),
                "firewalls": json_refs(doc.get("firewalls")), "storage_volumes": volumes,
                "authentication_type": doc.get("authentication_type"),
                "authentication": {str(k): str(v) for k, v in auth.items() if v is not None}
                if isinstance(auth, Mapping) else {},
                "network_interfaces": json_refs(doc.get("network_interfaces"))}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        profile = element.find("hardware_profile")
        hwp = None
        if profile is not None and profile.get("id"):
            hwp = InstanceProfile(profile.get("id", ""), profile.get("href"),
                                  {p.get("name", ""): p.get("value", "") for p in profile.findall("property")})
        auth_el = element.find("authentication")
        auth: dict[str, str] = {}
        if auth_el is not None:
            for tag in ("keyname", "username", "password"):
                value = text_of(auth_el, f"login/{tag}")
                if value is not None:
                    auth[tag] = value
        fws = tuple(r for r in (xml_ref(e) for e in element.findall("firewalls/firewall")) if r)
        nics = tuple(r for r in (xml_ref(e) for e in element.findall("network_interfaces/network_interface")) if r)
        volumes = tuple(VolumeAttachment(e.get("id", ""), e.get("href"), e.get("device"))
                        for e in element.findall("storage_volumes/storage_volume") if e.get("id"))
        actions = super().xml_fields(element)["actions"]
        return {**super().xml_fields(element), "name": text_of(element, "name"), "state": text_of(element, "state"),
                "owner_id": text_of(element, "owner_id"), "image": xml_ref(element.find("image")),
                "realm": xml_ref(element.find("realm")), "hardware_profile": hwp,
                "public_addresses": _xml_addresses(element, "public_addresses"),
                "private_addresses": _xml_addresses(element, "private_addresses"),
                "launch_time": text_of(element, "launch_time"),
                "allows_create_image": any(a.rel == "create_image" for a in actions), "firewalls": fws,
                "storage_volumes": volumes, "authentication_type": auth_el.get("type") if auth_el is not None else None,
                "authentication": auth, "network_interfaces": nics}


@dataclass(frozen=True, kw_only=True)
class RunResult(Resource):
    """What ``POST /api/instances/:id/run`` answers."""

    COLLECTION = "instances"
    SINGULAR = "instance"
    JSON_KEYS = keys("public_address", "command", "output")
    XML_KEYS = keys("public_address", "command", "output")

    public_address: str | None = None
    command: str | None = None
    output: str | None = None

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "public_address": doc.get("public_address"),
                "command": doc.get("command"), "output": doc.get("output")}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        return {**super().xml_fields(element), "public_address": text_of(element, "public_address"),
                "command": text_of(element, "command"), "output": text_of(element, "output")}


@dataclass(frozen=True, kw_only=True)
class Key(Resource):
    COLLECTION = "keys"
    SINGULAR = "key"
    JSON_KEYS = keys("credential_type", "username", "password", "state", "pem_rsa_key", "fingerprint", "name")
    XML_KEYS = keys("@type", "name", "fingerprint", "pem", "username", "password", "state")

    name: str | None = None
    credential_type: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    state: str | None = None
    fingerprint: str | None = None
    #: The private key, when the cloud generated it (only in the create answer on most clouds).
    pem_rsa_key: str | None = field(default=None, repr=False)

    @classmethod
    def json_fields(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().json_fields(doc), "name": doc.get("name") or doc.get("id"),
                "credential_type": doc.get("credential_type"), "username": doc.get("username"),
                "password": doc.get("password"), "state": doc.get("state"), "fingerprint": doc.get("fingerprint"),
                "pem_rsa_key": doc.get("pem_rsa_key")}

    @classmethod
    def xml_fields(cls, element: ET.Element) -> dict[str, Any]:
        pem = text_of(element, "pem")
        if pem is not None:  # the original's Haml indents the PEM's continuation lines
            pem = "\n".join(line.strip() for line in pem.splitlines())
        return {**super().xml_fields(element), "name": text_of(element, "name"),
                "credential_type": element.get("type") or None, "username": text_of(element, "username"),
                "password": text_of(element, "password"), "state": text_of(element, "state") or None,
                "fingerprint": text_of(element, "fingerprint"), "pem_rsa_key": pem}
