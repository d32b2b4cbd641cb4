"""Nova: realms (availability zones), hardware profiles (flavors), instances (servers), keys (key pairs)."""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from deltacloud_core import (
    BackendError,
    DeltacloudError,
    HardwareProfile,
    HardwareProperty,
    Instance,
    InstanceAddress,
    InstanceProfile,
    Key,
    ObjectNotFound,
    Realm,
    ValidationError,
)

from .errors import translated
from .neutron import ports_by_instance, ports_of_instance, usable_networks
from .rest import call, json_of, paged, segment
from .states import instance_state, start_action

if TYPE_CHECKING:
    from .session import Cloud

__all__ = ["ComputeMixin", "flavor_fits", "hardware_profile", "personality"]

#: Flavors say nothing about the CPU architecture; like the original driver, profiles say x86_64.
ARCHITECTURE = "x86_64"
#: Personality files: the original's ``path1..5`` / ``content1..5`` parameters.
PERSONALITY_SLOTS = 5


def hardware_profile(flavor: Mapping[str, Any]) -> HardwareProfile:
    """A Nova flavor as a hardware profile of fixed properties."""
    return HardwareProfile(
        id=str(flavor["id"]),
        name=str(flavor.get("name") or flavor["id"]),
        properties=(
            HardwareProperty.fixed("cpu", int(flavor.get("vcpus") or 0)),
            HardwareProperty.fixed("memory", int(flavor.get("ram") or 0)),
            HardwareProperty.fixed("storage", int(flavor.get("disk") or 0)),
            HardwareProperty.fixed("architecture", ARCHITECTURE),
        ),
        extra={k: flavor[k] for k in ("OS-FLV-EXT-DATA:ephemeral", "swap", "os-flavor-access:is_public")
               if k in flavor},
    )


def flavor_fits(flavor: Mapping[str, Any], image: Mapping[str, Any] | None) -> bool:
    """The flavor has the RAM and disk an image asks for (a flavor disk of 0 takes any image)."""
    if not image:
        return True
    disk = int(flavor.get("disk") or 0)
    return int(flavor.get("ram") or 0) >= int(image.get("min_ram") or 0) and (
        disk == 0 or disk >= int(image.get("min_disk") or 0))


def _flavor_order(flavor: Mapping[str, Any]) -> tuple[int, int, int, str]:
    return (int(flavor.get("ram") or 0), int(flavor.get("vcpus") or 0), int(flavor.get("disk") or 0),
            str(flavor["id"]))


def personality(params: Mapping[str, str]) -> list[dict[str, str]]:
    """Nova personality files from ``path1..5`` / ``content1..5`` (content as sent, base64-encoded here)."""
    files = []
    for slot in range(1, PERSONALITY_SLOTS + 1):
        path = (params.get(f"path{slot}") or "").strip()
        if not path:
            continue
        content = params.get(f"content{slot}")
        if content is None:
            raise ValidationError(f"Parameter path{slot} needs content{slot} (the file's content).")
        files.append({"path": path, "contents": base64.b64encode(content.encode("utf-8")).decode("ascii")})
    return files


def _addresses(server: Mapping[str, Any]) -> tuple[tuple[InstanceAddress, ...], tuple[InstanceAddress, ...]]:
    public: list[InstanceAddress] = []
    private: list[InstanceAddress] = []
    for entries in (server.get("addresses") or {}).values():
        for entry in entries or ():
            address = InstanceAddress(address=str(entry.get("addr", "")),
                                      type="ipv6" if entry.get("version") == 6 else "ipv4")
            (public if entry.get("OS-EXT-IPS:type") == "floating" else private).append(address)
    for field, kind in (("accessIPv4", "ipv4"), ("accessIPv6", "ipv6")):
        value = server.get(field)
        if value and all(a.address != value for a in public):
            public.append(InstanceAddress(address=str(value), type=kind))  # type: ignore[arg-type]
    return tuple(public), tuple(private)


def server_instance(server: Mapping[str, Any], volumes: Iterable[tuple[str, str | None]] | None = None,
                    password: str | None = None, ports: tuple[str, ...] | None = None) -> Instance:
    """A Nova server document (microversion 2.46) as a Deltacloud instance; ``ports`` are its
    Neutron ports (None on a cloud without Neutron: no network interfaces element)."""
    state = instance_state(server)
    flavor = server.get("flavor") or {}
    profile = flavor.get("id") or flavor.get("original_name")
    image = server.get("image") or {}
    if volumes is None:
        volumes = [(str(v["id"]), None) for v in server.get("os-extended-volumes:volumes_attached") or ()]
    public, private = _addresses(server)
    return Instance(
        id=str(server["id"]),
        state=state,
        name=server.get("name"),
        owner_id=server.get("tenant_id"),
        image_id=str(image["id"]) if isinstance(image, Mapping) and image.get("id") else None,
        realm_id=server.get("OS-EXT-AZ:availability_zone") or None,
        instance_profile=InstanceProfile(id=str(profile)) if profile else None,
        actions=None,
        launch_time=server.get("OS-SRV-USG:launched_at") or server.get("created"),
        public_addresses=public,
        private_addresses=private,
        create_image=state in ("RUNNING", "STOPPED"),
        storage_volumes=tuple(volumes),
        keyname=server.get("key_name"),
        password=password,
        network_interfaces=ports,
        extra={"status": server.get("status"), "task_state": server.get("OS-EXT-STS:task_state"),
               "vm_state": server.get("OS-EXT-STS:vm_state"), "fault": (server.get("fault") or {}).get("message")},
    )


def _key(keypair: Mapping[str, Any]) -> Key:
    return Key(id=str(keypair["name"]), name=str(keypair["name"]), credential_type="key",
               fingerprint=keypair.get("fingerprint"), pem_rsa_key=keypair.get("private_key"), state="AVAILABLE",
               extra={"public_key": keypair.get("public_key"), "type": keypair.get("type")})


class ComputeMixin:
    """Realms, hardware profiles, instances and keys from Nova."""

    cloud: Cloud

    def _nova(self, method: str, path: str, **kwargs: Any) -> Any:
        cloud = self.cloud
        return call(cloud.compute, method, path, microversion=cloud.compute_microversion, **kwargs)

    # -- realms ------------------------------------------------------------------------------------
    @translated
    def list_realms(self, **filters: str) -> list[Realm]:
        zones = (json_of(self._nova("GET", "/os-availability-zone")) or {}).get("availabilityZoneInfo") or []
        try:  # the project's instance quota, when the cloud lets us read it
            absolute = ((json_of(self._nova("GET", "/limits")) or {}).get("limits") or {}).get("absolute") or {}
        except DeltacloudError:
            absolute = {}
        limit = absolute.get("maxTotalInstances")
        realms = [Realm(id=z["zoneName"], name=z["zoneName"],
                        state="AVAILABLE" if (z.get("zoneState") or {}).get("available") else "UNAVAILABLE",
                        limit=limit if isinstance(limit, int) and limit >= 0 else None)
                  for z in zones if z.get("zoneName")]
        if filters.get("id"):
            realms = [r for r in realms if r.id == filters["id"]]
        return realms

    # -- hardware profiles -------------------------------------------------------------------------
    def _flavors(self) -> list[dict[str, Any]]:
        cloud = self.cloud
        flavors = list(paged(cloud.compute, "/flavors/detail", "flavors", microversion=cloud.compute_microversion))
        return sorted(flavors, key=_flavor_order)

    @translated
    def list_hardware_profiles(self, **filters: str) -> list[HardwareProfile]:
        if filters.get("id"):
            one = self.get_hardware_profile(filters["id"])
            profiles = [one] if one is not None else []
        else:
            profiles = [hardware_profile(f) for f in self._flavors()]
        if filters.get("architecture"):
            profiles = [p for p in profiles if p.matches_architecture(filters["architecture"])]
        return profiles

    @translated
    def get_hardware_profile(self, id: str) -> HardwareProfile | None:
        response = self._nova("GET", f"/flavors/{segment(id)}", allow=(404,))
        if response.status_code == 404:
            return None
        return hardware_profile(response.json()["flavor"])

    # -- instances ---------------------------------------------------------------------------------
    @translated
    def list_instances(self, **filters: str) -> list[Instance]:
        if filters.get("id"):
            one = self.get_instance(filters["id"])
            instances = [one] if one is not None else []
        else:
            cloud = self.cloud
            servers = list(paged(cloud.compute, "/servers/detail", "servers", microversion=cloud.compute_microversion))
            ports = ports_by_instance(cloud) if servers and cloud.has_service("network") else None
            instances = [server_instance(s, ports=None if ports is None else ports.get(str(s["id"]), ()))
                         for s in servers]
        for name, attr in (("state", "state"), ("realm_id", "realm_id"), ("owner_id", "owner_id")):
            wanted = filters.get(name)
            if wanted:
                instances = [i for i in instances if str(getattr(i, attr) or "").upper() == wanted.upper()]
        return instances

    def _server(self, id: str) -> dict[str, Any] | None:
        response = self._nova("GET", f"/servers/{segment(id)}", allow=(404,))
        return None if response.status_code == 404 else response.json()["server"]

    def _attachments(self, id: str) -> list[tuple[str, str | None]]:
        response = self._nova("GET", f"/servers/{segment(id)}/os-volume_attachments", allow=(404,))
        if response.status_code == 404:
            return []
        return [(str(a["volumeId"]), a.get("device")) for a in response.json().get("volumeAttachments") or ()]

    @translated
    def get_instance(self, id: str) -> Instance | None:
        server = self._server(id)
        if server is None:
            return None
        cloud = self.cloud
        ports = ports_of_instance(cloud, id) if cloud.has_service("network") else None
        return server_instance(server, self._attachments(id), ports=ports)

    def _must_get_instance(self, id: str) -> Instance:
        instance = self.get_instance(id)
        if instance is None:
            raise ObjectNotFound(f"Instance {id} could not be found.")
        return instance

    def _image_requirements(self, image_id: str) -> dict[str, Any] | None:
        try:
            response = call(self.cloud.image, "GET", f"/images/{segment(image_id)}", allow=(404,))
        except DeltacloudError:
            return None
        return None if response.status_code == 404 else response.json()

    def _default_flavor(self, image_id: str) -> str:
        image = self._image_requirements(image_id)
        flavors = self._flavors()
        for flavor in flavors:
            if flavor_fits(flavor, image):
                return str(flavor["id"])
        raise ValidationError("No hardware profile has the memory and disk image "
                              f"{image_id} needs; name one with hwp_id.")

    def _networks(self, network_id: str | None) -> str | list[dict[str, str]] | None:
        """What to put in ``networks``: the one asked for; else the project's one network (its own
        or a shared one, not an external one); ``none`` when it has none (or the cloud has no
        Neutron). A project with several must choose (400 naming them)."""
        cloud = self.cloud
        if network_id:
            return [{"uuid": network_id}]
        if not cloud.compute_supports((2, 37)):
            return None
        if not cloud.has_service("network"):
            return "none"
        usable = [n for n in usable_networks(cloud) if not n.get("router:external")]
        if not usable:
            return "none"
        if len(usable) > 1:
            names = ", ".join(f"{n.get('name') or '-'} ({n['id']})" for n in usable)
            raise ValidationError(f"The project has {len(usable)} networks: {names}. "
                                  "Choose one with network_id.")
        return [{"uuid": str(usable[0]["id"])}]

    @translated
    def create_instance(self, *, image_id: str, hwp_id: str | None = None, realm_id: str | None = None,
                        hwp_overrides: Mapping[str, str] | None = None, keyname: str | None = None,
                        name: str | None = None, user_data: bytes | None = None,
                        **extra: str) -> Instance:
        """Boot a server. Extra parameters: ``password`` (feature authentication_password),
        ``path1..5``/``content1..5`` (feature user_files), ``network_id`` (a Neutron network)."""
        body: dict[str, Any] = {
            "name": name or time.strftime("deltacloud-%Y%m%d-%H%M%S"),
            "imageRef": image_id,
            "flavorRef": hwp_id or self._default_flavor(image_id),
        }
        if realm_id:
            body["availability_zone"] = realm_id
        if keyname:
            body["key_name"] = keyname
        if user_data:
            body["user_data"] = base64.b64encode(user_data).decode("ascii")
        if extra.get("password"):
            body["adminPass"] = extra["password"]
        files = personality(extra)
        if files:
            body["personality"] = files
        networks = self._networks(extra.get("network_id"))
        if networks is not None:
            body["networks"] = networks
        created = (json_of(self._nova("POST", "/servers", json={"server": body})) or {}).get("server") or {}
        if not created.get("id"):
            raise BackendError("Nova accepted the server but answered no id.")
        instance = self.get_instance(created["id"])
        if instance is None:  # deleted at once (or hidden): report what Nova said
            raise BackendError(f"Server {created['id']} vanished right after it was created.")
        if created.get("adminPass"):
            instance = dataclasses.replace(instance, password=created["adminPass"])
        return instance

    def _act(self, id: str, action: Mapping[str, Any]) -> Instance:
        self._nova("POST", f"/servers/{segment(id)}/action", json=dict(action))
        return self._must_get_instance(id)

    @translated
    def start_instance(self, id: str) -> Instance:
        server = self._server(id)
        if server is None:
            raise ObjectNotFound(f"Instance {id} could not be found.")
        return self._act(id, start_action(server))

    @translated
    def stop_instance(self, id: str) -> Instance:
        return self._act(id, {"os-stop": None})

    @translated
    def reboot_instance(self, id: str) -> Instance:
        return self._act(id, {"reboot": {"type": "SOFT"}})

    @translated
    def destroy_instance(self, id: str) -> None:
        self._nova("DELETE", f"/servers/{segment(id)}")

    # -- keys --------------------------------------------------------------------------------------
    @translated
    def list_keys(self, **filters: str) -> list[Key]:
        if filters.get("id"):
            one = self.get_key(filters["id"])
            return [one] if one is not None else []
        cloud = self.cloud
        return [_key(item["keypair"]) for item in
                paged(cloud.compute, "/os-keypairs", "keypairs", microversion=cloud.compute_microversion)]

    @translated
    def get_key(self, id: str) -> Key | None:
        response = self._nova("GET", f"/os-keypairs/{segment(id)}", allow=(404,))
        return None if response.status_code == 404 else _key(response.json()["keypair"])

    @translated
    def create_key(self, *, name: str, public_key: str | None = None, **extra: str) -> Key:
        keypair: dict[str, Any] = {"name": name}
        if public_key:
            keypair["public_key"] = public_key.strip()
        return _key(json_of(self._nova("POST", "/os-keypairs", json={"keypair": keypair}))["keypair"])

    @translated
    def destroy_key(self, id: str) -> None:
        self._nova("DELETE", f"/os-keypairs/{segment(id)}")
