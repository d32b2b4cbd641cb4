"""The mock driver: a whole fake cloud kept in a local store (see MOCK.md).

One account (``mockuser`` / ``mockpassword``); every data operation checks the
credentials first, except hardware profiles and ``run_on_instance``. Objects live in a
:class:`~deltacloud_mock.store.MockStore` shared by every request, client and worker of
the server process owner; it starts from the fixtures shipped with this package.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import time
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from deltacloud_core.drivers.base import Driver, nonblocking
from deltacloud_core.errors import (
    AuthenticationFailure,
    BackendError,
    DeltacloudError,
    ForbiddenError,
    NotSupportedError,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    ValidationError,
)
from deltacloud_core.hardware import HardwareProfile, HardwareProperty
from deltacloud_core.models import Image, Instance, InstanceAddress, InstanceProfile, Key, Realm, RunResult
from deltacloud_core.state_machine import StateMachine

from .idempotency import MockIdempotencyStore
from .network import MockNetworkMixin
from .storage import MockStorageMixin
from .store import MockStore, Record, get_store

__all__ = ["MOCK_PASSWORD", "MOCK_USER", "MockDriver", "random_fingerprint", "random_pem"]

MOCK_USER = "mockuser"
MOCK_PASSWORD = "mockpassword"

#: Realm ids that make a realm lookup or listing fail, for testing error handling.
_REALM_ERRORS: Mapping[str, tuple[type[DeltacloudError], str]] = {
    "500": (BackendError, "DeltacloudErrorMessage"),
    "501": (NotSupportedError, "NotImplementedMessage"),
    "502": (ProviderError, "ProviderErrorMessage"),
    "504": (ProviderTimeout, "ProviderTimeoutMessage"),
}

_REALMS: tuple[Realm, ...] = (
    Realm(id="us", name="United States", state="AVAILABLE", limit=None),
    Realm(id="eu", name="Europe", state="AVAILABLE", limit=None),
)

_PEM_ALPHABET = string.ascii_letters + string.digits + "=/+"
_PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----"
_PEM_FOOTER = "-----END RSA PRIVATE KEY-----"


def random_fingerprint() -> str:
    """20 random bytes as lower-case hex pairs joined by ``:``."""
    return ":".join(f"{b:02x}" for b in secrets.token_bytes(20))


def random_pem() -> str:
    """A fake private key laid out like the fixture: header, 21 lines of 75, 68 chars + footer."""

    def chars(n: int) -> str:
        return "".join(secrets.choice(_PEM_ALPHABET) for _ in range(n))

    lines = [_PEM_HEADER, *(chars(75) for _ in range(21)), chars(68) + _PEM_FOOTER]
    return "\n".join(lines)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _addresses(items: Any) -> tuple[InstanceAddress, ...]:
    out: list[InstanceAddress] = []
    for item in items or ():
        if isinstance(item, Mapping):
            out.append(InstanceAddress(address=str(item.get("address", "")), type=item.get("type") or "ipv4"))
        else:
            out.append(InstanceAddress(address=str(item), type="hostname"))
    return tuple(out)


def _volumes(items: Any) -> tuple[tuple[str, str | None], ...]:
    out: list[tuple[str, str | None]] = []
    for item in items or ():
        if isinstance(item, Mapping):
            out.append((str(item["id"]), _text(item.get("device"))))
        else:
            vol_id, device = item
            out.append((str(vol_id), _text(device)))
    return tuple(out)


def _instance(rec: Record) -> Instance:
    profile = rec.get("instance_profile") or {}
    nics = rec.get("network_interfaces")
    return Instance(
        id=rec["id"],
        state=rec.get("state") or "UNKNOWN",
        name=_text(rec.get("name")),
        owner_id=_text(rec.get("owner_id")),
        image_id=_text(rec.get("image_id")),
        realm_id=_text(rec.get("realm_id")),
        instance_profile=(InstanceProfile(id=profile["id"], overrides={k: str(v) for k, v in
                                                                       (profile.get("overrides") or {}).items()})
                          if profile.get("id") else None),
        actions=None,
        launch_time=_text(rec.get("launch_time")),
        public_addresses=_addresses(rec.get("public_addresses")),
        private_addresses=_addresses(rec.get("private_addresses")),
        create_image=bool(rec.get("create_image", False)),
        storage_volumes=_volumes(rec.get("storage_volumes")),
        keyname=_text(rec.get("keyname")),
        network_interfaces=None if nics is None else tuple(str(n) for n in nics),
    )


class _DecodedInstances:
    """Instances by the stored JSON text they were decoded from (a pure function of the text),
    holding exactly the texts of the latest listing: each listing keeps what it used and drops
    the rest, so an unchanged row is decoded once however many there are (a fixed-size LRU
    decodes every row again once a listing is longer than its size)."""

    def __init__(self) -> None:
        self._last: dict[str, Instance] = {}

    def decode(self, texts: Iterable[str]) -> list[Instance]:
        last = self._last
        now: dict[str, Instance] = {}
        for text in texts:
            instance = last.get(text)
            now[text] = instance if instance is not None else _instance(json.loads(text))
        self._last = now  # one assignment: a listing in another thread sees the old or the new
        return list(now.values())


_DECODED = _DecodedInstances()


_IDEMPOTENCY = MockIdempotencyStore()


def _key(rec: Record) -> Key:
    return Key(
        id=rec["id"],
        credential_type=rec.get("credential_type") or "key",
        name=rec.get("name") or rec["id"],
        fingerprint=rec.get("fingerprint"),
        pem_rsa_key=rec.get("pem_rsa_key"),
        state=rec.get("state"),
    )


class MockDriver(MockNetworkMixin, MockStorageMixin, Driver):
    """A fake cloud for tests and demos; data persists in a local SQLite store."""

    DISPLAY_NAME: ClassVar[str | None] = "Mock"

    INSTANCE_STATES: ClassVar[StateMachine | None] = (
        StateMachine.builder()
        .on("start", "create", "pending")
        .auto("pending", "running")
        .on("running", "reboot", "running")
        .on("running", "stop", "stopped")
        .on("stopped", "start", "running")
        .on("stopped", "destroy", "finish")
        .build()
    )

    HARDWARE_PROFILES: ClassVar[tuple[HardwareProfile, ...]] = (
        HardwareProfile("m1-small", (
            HardwareProperty.fixed("cpu", 1),
            HardwareProperty.fixed("memory", 1740.8),
            HardwareProperty.fixed("storage", 160),
            HardwareProperty.fixed("architecture", "i386"),
        )),
        HardwareProfile("m1-large", (
            HardwareProperty.range("cpu", 1, 6, default=1),
            HardwareProperty.range("memory", 7680, 15360, default=10240),
            HardwareProperty.enum("storage", (850, 1024), default=850),
            HardwareProperty.fixed("architecture", "x86_64"),
        )),
        HardwareProfile("m1-xlarge", (
            HardwareProperty.fixed("cpu", 4),
            HardwareProperty.range("memory", 12288, 32768, default=12288),
            HardwareProperty.enum("storage", (1024, 2048, 4096), default=1024),
            HardwareProperty.fixed("architecture", "x86_64"),
        )),
        HardwareProfile("opaque", ()),
    )

    # ``user_Data`` and the image features are misspelt / not catalogue names on purpose
    # (as in the original): they are declared but not advertised.
    FEATURES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "instances": ("metrics", "realm_filter", "user_name", "authentication_key", "user_Data"),
        "images": ("user_name", "user_description"),
    }

    #: Every change of these goes through this driver, which announces it (events at once).
    ANNOUNCES_CHANGES: ClassVar[frozenset[str]] = frozenset(
        {"instances", "storage_volumes", "storage_snapshots", "images"})

    #: Profile used when ``hwp_id`` is not given; realm likewise.
    DEFAULT_HWP: ClassVar[str] = "m1-small"
    DEFAULT_REALM: ClassVar[str] = "us"

    # -- plumbing --------------------------------------------------------------------------
    @property
    def store(self) -> MockStore:
        """The shared store (``$DELTACLOUD_MOCK_STORAGE`` at the time of the call)."""
        return get_store()

    @classmethod
    def idempotency_store(cls) -> MockIdempotencyStore:
        """``Idempotency-Key`` records live in the mock's store, with the instances they made."""
        return _IDEMPOTENCY

    def _user(self) -> str:
        """Check the credentials; the authenticated user name. Raises 401 on missing/wrong ones."""
        creds = self.credentials
        if creds.user != MOCK_USER or creds.password != MOCK_PASSWORD:
            raise AuthenticationFailure("Authentication Failure")
        return creds.user

    def validate_credentials(self) -> bool:
        creds = self.credentials
        return creds.user == MOCK_USER and creds.password == MOCK_PASSWORD

    # -- realms ----------------------------------------------------------------------------
    @staticmethod
    def _inject_realm_error(id: str | None) -> None:
        if id in _REALM_ERRORS:
            cls, message = _REALM_ERRORS[id]
            raise cls(message)

    @nonblocking
    def list_realms(self, **filters: str) -> list[Realm]:
        self._user()
        wanted = filters.get("id")
        self._inject_realm_error(wanted)
        return [r for r in _REALMS if not wanted or r.id == wanted]

    @nonblocking
    def get_realm(self, id: str) -> Realm | None:
        self._user()
        self._inject_realm_error(id)
        return next((r for r in _REALMS if r.id == id), None)

    # -- images ----------------------------------------------------------------------------
    def _image(self, rec: Record) -> Image:
        return Image(
            id=rec["id"],
            name=rec.get("name") or rec["id"],
            description=_text(rec.get("description")),
            owner_id=_text(rec.get("owner_id")),
            architecture=_text(rec.get("architecture")),
            state=_text(rec.get("state")),
            creation_time=_text(rec.get("creation_time")),
            hardware_profiles=tuple(p.id for p in self.HARDWARE_PROFILES),
            root_type="transient",
        )

    @nonblocking
    def get_hardware_profile(self, id: str) -> HardwareProfile | None:
        return super().get_hardware_profile(id)

    @nonblocking
    def list_images(self, **filters: str) -> list[Image]:
        user = self._user()
        records = self.store.list("images")
        if filters.get("id"):
            records = [r for r in records if r["id"] == filters["id"]]
        if filters.get("architecture"):
            records = [r for r in records if r.get("architecture") == filters["architecture"]]
        owner = filters.get("owner_id")
        if owner:
            owner = user if owner == "self" else owner
            records = [r for r in records if r.get("owner_id") == owner]
        # Original sorts by (owner, description); a missing description sorts as "".
        records.sort(key=lambda r: (str(r.get("owner_id") or ""), str(r.get("description") or "")))
        return [self._image(r) for r in records]

    @nonblocking
    def get_image(self, id: str) -> Image | None:
        self._user()
        rec = self.store.get("images", id)
        return self._image(rec) if rec else None

    def create_image(self, *, instance_id: str, name: str | None = None, description: str | None = None,
                     **extra: str) -> Image:
        self._user()
        if not name:
            raise ValidationError("The mock driver needs a name for the new image (it becomes the image id).")
        with self.store.transaction() as tx:
            inst = tx.get("instances", instance_id)
            if inst is None:
                raise ObjectNotFound("NotFound")
            if not inst.get("create_image"):
                raise BackendError("CreateImageNotSupported")
            rec = tx.put("images", name, {
                "name": name, "owner_id": "root", "state": "AVAILABLE",
                "description": description, "architecture": "i386",
            })
        self.announce_change("images", rec["id"])
        # As the original: the answer to a create has no creation time and no profile list.
        return Image(id=rec["id"], name=name, description=description, owner_id="root", architecture="i386",
                     state="AVAILABLE", creation_time=None, hardware_profiles=None, root_type="transient")

    def destroy_image(self, id: str) -> None:
        self._user()
        self.store.delete("images", id)
        self.announce_change("images", id)

    # -- instances -------------------------------------------------------------------------
    @nonblocking
    def list_instances(self, **filters: str) -> list[Instance]:
        user = self._user()
        instances = [i for i in _DECODED.decode(self.store.texts("instances")) if i.owner_id == user]
        for field in ("id", "state", "realm_id"):
            if filters.get(field):
                instances = [i for i in instances if getattr(i, field) == filters[field]]
        return instances

    @nonblocking
    def get_instance(self, id: str) -> Instance | None:
        self._user()
        rec = self.store.get("instances", id)
        return _instance(rec) if rec else None

    def create_instance(self, *, image_id: str, hwp_id: str | None = None, realm_id: str | None = None,
                        hwp_overrides: Mapping[str, str] | None = None, keyname: str | None = None,
                        name: str | None = None, user_data: bytes | None = None,
                        **extra: str) -> Instance:
        user = self._user()
        profile_id = hwp_id or self.DEFAULT_HWP
        if not any(p.id == profile_id for p in self.HARDWARE_PROFILES):
            raise ValidationError(f"Hardware profile '{profile_id}' does not exists.")
        state = (extra.get("initial_state") or "RUNNING").strip().upper() or "RUNNING"
        if state == "STARTED":
            state = "RUNNING"
        with self.store.transaction() as tx:
            new_id = tx.new_id("instances", "inst")
            record: Record = {
                "name": name or f"i-{int(time.time())}",
                "owner_id": user,
                "image_id": image_id,
                "realm_id": realm_id or self.DEFAULT_REALM,
                "state": state,
                "instance_profile": {"id": profile_id,
                                     "overrides": {k: str(v) for k, v in (hwp_overrides or {}).items()}},
                "public_addresses": [{"address": f"{image_id}.{new_id}.public.com", "type": "hostname"}],
                "private_addresses": [{"address": f"{image_id}.{new_id}.private.com", "type": "hostname"}],
                "create_image": True,
                "storage_volumes": [],
                "keyname": keyname,
            }
            if user_data is not None:
                record["user_data"] = base64.b64encode(user_data).decode("ascii")
            rec = tx.put("instances", new_id, record)
        instance = _instance(rec)
        self.announce_change("instances", new_id, instance)
        return instance

    def _set_state(self, id: str, state: str) -> Instance:
        self._user()
        with self.store.transaction() as tx:
            rec = tx.get("instances", id)
            if rec is None:
                raise ObjectNotFound(f"Instance '{id}' not found")
            rec["state"] = state
            rec.pop("actions", None)
            tx.put("instances", id, rec)
        instance = _instance(rec)
        self.announce_change("instances", id, instance)
        return instance

    def start_instance(self, id: str) -> Instance:
        return self._set_state(id, "RUNNING")

    def reboot_instance(self, id: str) -> Instance:
        return self._set_state(id, "RUNNING")

    def stop_instance(self, id: str) -> Instance:
        return self._set_state(id, "STOPPED")

    def destroy_instance(self, id: str) -> Instance | None:
        self._user()
        with self.store.transaction() as tx:
            if not tx.exists("instances", id):
                raise ObjectNotFound(f"Instance '{id}' not found")
            tx.delete_where("network_interfaces", instance=id)
            tx.delete("instances", id)
        self.announce_change("instances", id)
        return None

    def run_on_instance(self, id: str, *, cmd: str, private_key: str | None = None,
                        password: str | None = None, ip: str | None = None, port: str | None = None,
                        **extra: str) -> RunResult:
        # Like the original, running a command does not look at the credentials.
        rec = self.store.get("instances", id)
        if rec is None:
            raise ObjectNotFound(f"Instance '{id}' not found")
        public = _addresses(rec.get("public_addresses"))
        return RunResult(
            instance_id=id,
            command=cmd,
            output=f"This is where the output from '{cmd}' would appear if this were not a mock provider",
            public_address=public[0].address if public else None,
        )

    # -- keys ------------------------------------------------------------------------------
    @nonblocking
    def list_keys(self, **filters: str) -> list[Key]:
        self._user()
        records = self.store.list("keys")
        if filters.get("id"):
            records = [r for r in records if r["id"] == filters["id"]]
        return [_key(r) for r in records]

    @nonblocking
    def get_key(self, id: str) -> Key | None:
        self._user()
        rec = self.store.get("keys", id)
        return _key(rec) if rec else None

    def create_key(self, *, name: str, public_key: str | None = None, **extra: str) -> Key:
        self._user()
        if not name:
            raise ValidationError("A key needs a name.")
        rec = self.store.insert("keys", name, {
            "credential_type": "key",
            "fingerprint": random_fingerprint(),
            "pem_rsa_key": random_pem(),
            "state": None,
        })
        if rec is None:
            raise ForbiddenError("Key with same name already exists")
        return _key(rec)

    def destroy_key(self, id: str) -> None:
        self._user()
        if not self.store.delete("keys", id):
            raise ObjectNotFound(f"Key '{id}' not found")
