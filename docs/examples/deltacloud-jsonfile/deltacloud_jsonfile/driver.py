"""``JsonFileDriver``: a cloud kept in one JSON file per provider.

What it supports is what it overrides: realms, images, instances (create, reboot, stop,
start, destroy) and keys (create, import, destroy). Hardware profiles, the state machine
and the file access live in their own modules.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from deltacloud_core import (
    AuthenticationFailure,
    Conflict,
    Driver,
    Image,
    Instance,
    InstanceAddress,
    InstanceProfile,
    Key,
    MethodNotAllowed,
    ObjectNotFound,
    ProviderInfo,
    Realm,
    ValidationError,
)

from .inventory import Inventory, provider_names
from .profiles import HARDWARE_PROFILES
from .states import INSTANCE_STATES


def _matches(record: Mapping[str, Any], filters: Mapping[str, str], *names: str) -> bool:
    """The record passes every given filter among ``names`` (empty filters pass)."""
    return all(not filters.get(n) or str(record.get(n)) == filters[n] for n in names)


class JsonFileDriver(Driver):
    """Realms, images, instances and keys from ``$DELTACLOUD_JSONFILE_DIR/<provider>.json``."""

    DISPLAY_NAME = "JsonFile"  # the id, capitalised, as in the original
    USERNAME_LABEL = "User name"
    PASSWORD_LABEL = "Password"
    #: A file without users serves anyone: the server lets an anonymous create through to
    #: :meth:`_authorize`, which asks for credentials when the file has users.
    ACCEPTS_ANONYMOUS = True
    INSTANCE_STATES = INSTANCE_STATES
    HARDWARE_PROFILES = HARDWARE_PROFILES
    FEATURES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "instances": ("user_name", "authentication_key", "realm_filter"),
        "keys": ("import_key",),
    }

    # -- plumbing --------------------------------------------------------------------------
    @property
    def inventory(self) -> Inventory:
        return Inventory(self.provider)

    def _authorize(self, data: Mapping[str, Any]) -> str | None:
        """The user, when the file has users; raises 401 for missing or wrong credentials."""
        users = data.get("users") or {}
        if not users:
            return None
        creds = self.credentials  # AuthenticationRequired (401 + challenge) when none were sent
        if users.get(creds.user) != creds.password:
            raise AuthenticationFailure("Authentication Failure")
        return creds.user

    def _read(self) -> dict[str, Any]:
        data = self.inventory.read()
        self._authorize(data)
        return data

    def validate_credentials(self) -> bool:
        try:
            self._read()
        except AuthenticationFailure:
            return False
        return True

    def providers(self) -> list[ProviderInfo]:
        return [ProviderInfo(name) for name in provider_names()]

    # -- realms and images -----------------------------------------------------------------
    def list_realms(self, **filters: str) -> list[Realm]:
        return [Realm(id=r["id"], name=r.get("name", r["id"]), state=r.get("state", "AVAILABLE"))
                for r in self._read()["realms"] if _matches(r, filters, "id")]

    def list_images(self, **filters: str) -> list[Image]:
        return [Image(id=i["id"], name=i.get("name", i["id"]), description=i.get("description"),
                      owner_id=i.get("owner_id"), architecture=i.get("architecture"), state="AVAILABLE",
                      hardware_profiles=tuple(p.id for p in HARDWARE_PROFILES if
                                              p.matches_architecture(i.get("architecture", ""))))
                for i in self._read()["images"] if _matches(i, filters, "id", "architecture", "owner_id")]

    # -- instances -------------------------------------------------------------------------
    def list_instances(self, **filters: str) -> list[Instance]:
        return [_instance(r) for r in self._read()["instances"] if _matches(r, filters, "id", "state", "realm_id")]

    def create_instance(self, *, image_id: str, hwp_id: str | None = None, realm_id: str | None = None,
                        hwp_overrides: Mapping[str, str] | None = None, keyname: str | None = None,
                        name: str | None = None, user_data: bytes | None = None, **extra: str) -> Instance:
        with self.inventory.change() as data:
            owner = self._authorize(data)
            if not any(i["id"] == image_id for i in data["images"]):
                raise ValidationError(f"Image '{image_id}' does not exist.")
            realm_id = realm_id or data["realms"][0]["id"]
            if not any(r["id"] == realm_id for r in data["realms"]):
                raise ValidationError(f"Realm '{realm_id}' does not exist.")
            if keyname and not any(k["id"] == keyname for k in data["keys"]):
                raise ValidationError(f"Key '{keyname}' does not exist.")
            number = data["next_instance"]
            data["next_instance"] = number + 1
            record = {
                "id": f"inst-{number}", "name": name or f"inst-{number}", "owner_id": owner,
                "image_id": image_id, "realm_id": realm_id, "hwp_id": hwp_id or "small",
                "hwp_overrides": dict(hwp_overrides or {}), "keyname": keyname,
                "state": "RUNNING",  # create -> pending -> (automatically) running, at once
                "launch_time": datetime.now(UTC).isoformat(timespec="seconds"),
                "private_ip": f"10.0.{number // 250}.{number % 250 + 2}",
            }
            data["instances"].append(record)
        return _instance(record)

    def _act(self, id: str, action: str) -> Instance | None:
        """Apply ``action`` as the state machine draws it; ``finish`` removes the instance."""
        with self.inventory.change() as data:
            self._authorize(data)
            record = next((r for r in data["instances"] if r["id"] == id), None)
            if record is None:
                raise ObjectNotFound(f"Instance '{id}' does not exist.")
            target = INSTANCE_STATES.next_state(record["state"], action)
            if target is None:
                raise MethodNotAllowed(f"Cannot {action} an instance that is {record['state']}.")
            if target == "finish":
                data["instances"].remove(record)
                return None
            record["state"] = target.upper()
        return _instance(record)

    def reboot_instance(self, id: str) -> Instance:
        return self._act(id, "reboot")  # type: ignore[return-value]

    def stop_instance(self, id: str) -> Instance:
        return self._act(id, "stop")  # type: ignore[return-value]

    def start_instance(self, id: str) -> Instance:
        return self._act(id, "start")  # type: ignore[return-value]

    def destroy_instance(self, id: str) -> None:
        self._act(id, "destroy")

    # -- keys ------------------------------------------------------------------------------
    def list_keys(self, **filters: str) -> list[Key]:
        return [_key(k) for k in self._read()["keys"] if _matches(k, filters, "id")]

    def create_key(self, *, name: str, public_key: str | None = None, **extra: str) -> Key:
        """Import an OpenSSH public key, or (without one) make a password credential."""
        if public_key:
            record = {"id": name, "credential_type": "key", "fingerprint": _fingerprint(public_key),
                      "public_key": public_key.strip()}
        else:
            record = {"id": name, "credential_type": "password", "username": name,
                      "password": secrets.token_urlsafe(12)}
        with self.inventory.change() as data:
            self._authorize(data)
            if any(k["id"] == name for k in data["keys"]):
                raise Conflict(f"Key '{name}' already exists.")
            data["keys"].append(record)
        return _key(record)

    def destroy_key(self, id: str) -> None:
        with self.inventory.change() as data:
            self._authorize(data)
            kept = [k for k in data["keys"] if k["id"] != id]
            if len(kept) == len(data["keys"]):
                raise ObjectNotFound(f"Key '{id}' does not exist.")
            data["keys"] = kept


def _instance(record: Mapping[str, Any]) -> Instance:
    return Instance(
        id=record["id"], state=record["state"], name=record.get("name"), owner_id=record.get("owner_id"),
        image_id=record.get("image_id"), realm_id=record.get("realm_id"),
        instance_profile=InstanceProfile(record.get("hwp_id") or "small", record.get("hwp_overrides") or {}),
        launch_time=record.get("launch_time"), keyname=record.get("keyname"),
        private_addresses=(InstanceAddress(record["private_ip"]),) if record.get("private_ip") else (),
    )


def _key(record: Mapping[str, Any]) -> Key:
    return Key(id=record["id"], name=record["id"], credential_type=record.get("credential_type", "key"),
               fingerprint=record.get("fingerprint"), username=record.get("username"),
               password=record.get("password"), state="AVAILABLE")


def _fingerprint(public_key: str) -> str:
    """The MD5 fingerprint of an OpenSSH public key (``aa:bb:...``), as EC2 shows imported keys."""
    fields = public_key.split()
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except (IndexError, binascii.Error) as exc:
        raise ValidationError("public_key is not an OpenSSH public key ('<type> <base64> [comment]').") from exc
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
