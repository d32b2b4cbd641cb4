"""Compute resources: realms, images, instances, keys (Deltacloud's field names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["AddressType", "Image", "Instance", "InstanceAddress", "InstanceProfile", "Key", "Realm",
           "RunResult"]

AddressType = Literal["ipv4", "ipv6", "hostname", "mac", "vnc", "unavailable"]


@dataclass(frozen=True, slots=True)
class Realm:
    """A region/zone. ``limit`` None means unlimited."""

    id: str
    name: str
    state: str = "AVAILABLE"
    limit: str | int | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Image:
    id: str
    name: str = ""
    description: str | None = None
    owner_id: str | None = None
    architecture: str | None = None
    state: str | None = None
    creation_time: str | None = None
    #: Ids of compatible hardware profiles; None when the driver does not say.
    hardware_profiles: tuple[str, ...] | None = None
    root_type: str = "transient"
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InstanceAddress:
    address: str
    type: AddressType = "ipv4"
    port: int | None = None

    @property
    def rendered_type(self) -> str:
        return "unavailable" if not self.address.strip() else self.type


@dataclass(frozen=True, slots=True)
class InstanceProfile:
    """The hardware profile an instance runs with, plus the overrides it was created with."""

    id: str
    overrides: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    state: str
    name: str | None = None
    owner_id: str | None = None
    image_id: str | None = None
    realm_id: str | None = None
    instance_profile: InstanceProfile | None = None
    #: Actions this instance allows; None = derive them from the driver's state machine.
    actions: tuple[str, ...] | None = None
    launch_time: str | None = None
    public_addresses: tuple[InstanceAddress, ...] = ()
    private_addresses: tuple[InstanceAddress, ...] = ()
    create_image: bool = False
    #: ``(volume id, device)`` pairs of attached volumes.
    storage_volumes: tuple[tuple[str, str | None], ...] = ()
    firewalls: tuple[str, ...] | None = None
    keyname: str | None = None
    username: str | None = None
    password: str | None = None
    authn_error: str | None = None
    #: Ids of network interfaces; None when the cloud has no such notion for this instance.
    network_interfaces: tuple[str, ...] | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Key:
    id: str
    credential_type: Literal["key", "password", ""] = "key"
    name: str | None = None
    fingerprint: str | None = None
    pem_rsa_key: str | None = None
    username: str | None = None
    password: str | None = None
    state: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunResult:
    """Result of running a command on an instance."""

    instance_id: str
    command: str
    output: str
    public_address: str | None = None
