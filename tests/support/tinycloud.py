"""TinyCloud: a small, correct, in-memory driver for the conformance kit's own tests.

It has what a new third-party driver has (the trial of issue 22): its own state machine with a
``PENDING`` boot and a ``STOPPING`` shutdown that the cloud finishes on its own, hardware profiles
with ranges and enums, realms, images, keys, volumes, snapshots, buckets and blobs, and it starts
empty (what the driver guide recommends): the kit has to create what it looks at. The broken
drivers of the mutation matrix (:mod:`support.mutants`) are subclasses that each get one thing wrong.

One cloud per provider (``TinyCloudDriver(provider="t-1")``), held in this process's memory, so
the server's one-driver-object-per-request works as with a real cloud. Only the public API of
``deltacloud_core`` is used.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO, ClassVar

from deltacloud_core import (
    Blob,
    Bucket,
    Conflict,
    Driver,
    ForbiddenError,
    HardwareProfile,
    HardwareProperty,
    Image,
    Instance,
    InstanceProfile,
    Key,
    MethodNotAllowed,
    ObjectNotFound,
    Realm,
    StateMachine,
    StorageSnapshot,
    StorageVolume,
    ValidationError,
)

__all__ = ["BOOT_SECONDS", "TinyCloudDriver", "reset"]

#: How long an instance stays PENDING after create (and STOPPING after stop): the cloud moves it on.
BOOT_SECONDS = 0.05

STATES = (
    StateMachine.builder()
    .on("start", "create", "pending")
    .auto("pending", "running")
    .on("running", "reboot", "running")
    .on("running", "stop", "stopping")
    .auto("stopping", "stopped")
    .on("stopped", "start", "running")
    .on("stopped", "destroy", "finish")
    .build()
)

PROFILES = (
    HardwareProfile("small", (HardwareProperty.fixed("cpu", 1), HardwareProperty.fixed("memory", 512),
                              HardwareProperty.fixed("architecture", "x86_64"))),
    HardwareProfile("flex", (HardwareProperty.range("cpu", 1, 4), HardwareProperty.range("memory", 512, 4096),
                             HardwareProperty.enum("storage", (10, 20, 40)),
                             HardwareProperty.fixed("architecture", "x86_64"))),
)


@dataclass
class _Record:
    """An instance as the cloud keeps it: the state it was put in, and since when."""

    instance: Instance
    since: float = field(default_factory=time.monotonic)


@dataclass
class Cloud:
    """Everything one provider holds."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    instances: dict[str, _Record] = field(default_factory=dict)
    keys: dict[str, Key] = field(default_factory=dict)
    volumes: dict[str, StorageVolume] = field(default_factory=dict)
    snapshots: dict[str, StorageSnapshot] = field(default_factory=dict)
    buckets: dict[str, dict[str, tuple[Blob, bytes]]] = field(default_factory=dict)
    counter: int = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"


_CLOUDS: dict[str, Cloud] = {}
_CLOUDS_LOCK = threading.Lock()


def reset() -> None:
    """Forget every provider's cloud."""
    with _CLOUDS_LOCK:
        _CLOUDS.clear()


def _matches(item: Any, filters: Mapping[str, str], *names: str) -> bool:
    return all(not filters.get(n) or str(getattr(item, n, None)) == filters[n] for n in names)


class TinyCloudDriver(Driver):
    """A correct driver of everything TinyCloud has; the kit must pass it."""

    DISPLAY_NAME = "TinyCloud"
    ACCEPTS_ANONYMOUS = True  # no accounts: the kit's requests carry no credentials
    INSTANCE_STATES = STATES
    HARDWARE_PROFILES = PROFILES
    FEATURES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "instances": ("user_name", "authentication_key", "realm_filter"),
    }
    REALMS = (Realm(id="zone-1", name="Zone 1"), Realm(id="zone-2", name="Zone 2"))
    IMAGES = (Image(id="img-a", name="Debian", architecture="x86_64", state="AVAILABLE", owner_id="tiny",
                    hardware_profiles=("small", "flex")),
              Image(id="img-b", name="Alpine", architecture="x86_64", state="AVAILABLE", owner_id="tiny",
                    hardware_profiles=("small",)))

    @property
    def cloud(self) -> Cloud:
        with _CLOUDS_LOCK:
            return _CLOUDS.setdefault(self.provider or "default", Cloud())

    # -- realms, images ----------------------------------------------------------------------
    def list_realms(self, **filters: str) -> list[Realm]:
        return [r for r in self.REALMS if _matches(r, filters, "id")]

    def list_images(self, **filters: str) -> list[Image]:
        return [i for i in self.IMAGES if _matches(i, filters, "id", "architecture", "owner_id")]

    # -- instances ---------------------------------------------------------------------------
    def _now(self, record: _Record) -> Instance:
        """The instance as the cloud has moved it by now (PENDING boots, STOPPING stops)."""
        instance = record.instance
        if time.monotonic() - record.since >= BOOT_SECONDS:
            moved = {"PENDING": "RUNNING", "STOPPING": "STOPPED"}.get(instance.state)
            if moved is not None:
                instance = record.instance = replace(instance, state=moved)
        volumes = tuple((v.id, v.device) for v in self.cloud.volumes.values() if v.instance_id == instance.id)
        return replace(instance, storage_volumes=volumes)

    def list_instances(self, **filters: str) -> list[Instance]:
        with self.cloud.lock:
            found = [self._now(r) for r in self.cloud.instances.values()]
        return [i for i in found if _matches(i, filters, "id", "state", "realm_id")]

    def create_instance(self, *, image_id: str, hwp_id: str | None = None, realm_id: str | None = None,
                        hwp_overrides: Mapping[str, str] | None = None, keyname: str | None = None,
                        name: str | None = None, user_data: bytes | None = None, **extra: str) -> Instance:
        if self.get_image(image_id) is None:
            raise ValidationError(f"Image '{image_id}' does not exist.")
        realm_id = realm_id or self.REALMS[0].id
        if self.get_realm(realm_id) is None:
            raise ValidationError(f"Realm '{realm_id}' does not exist.")
        cloud = self.cloud
        with cloud.lock:
            if keyname and keyname not in cloud.keys:
                raise ValidationError(f"Key '{keyname}' does not exist.")
            instance_id = cloud.next_id("vm")
            instance = Instance(id=instance_id, state="PENDING", name=name or instance_id, owner_id="tiny",
                                image_id=image_id, realm_id=realm_id,
                                instance_profile=InstanceProfile(hwp_id or "small", dict(hwp_overrides or {})),
                                keyname=keyname)
            cloud.instances[instance_id] = _Record(instance)
        return instance

    def _act(self, id: str, action: str) -> Instance | None:
        cloud = self.cloud
        with cloud.lock:
            record = cloud.instances.get(id)
            if record is None:
                raise ObjectNotFound(f"Instance '{id}' does not exist.")
            current = self._now(record)
            target = STATES.next_state(current.state, action)
            if target is None:
                raise MethodNotAllowed(f"Cannot {action} an instance that is {current.state}.")
            if target == "finish":
                del cloud.instances[id]
                for volume in list(cloud.volumes.values()):
                    if volume.instance_id == id:
                        cloud.volumes[volume.id] = replace(volume, instance_id=None, device=None, state="AVAILABLE")
                return None
            record.instance, record.since = replace(current, state=target.upper()), time.monotonic()
            return self._now(record)

    def reboot_instance(self, id: str) -> Instance:
        return self._act(id, "reboot")  # type: ignore[return-value]

    def stop_instance(self, id: str) -> Instance:
        return self._act(id, "stop")  # type: ignore[return-value]

    def start_instance(self, id: str) -> Instance:
        return self._act(id, "start")  # type: ignore[return-value]

    def destroy_instance(self, id: str) -> None:
        self._act(id, "destroy")

    # -- keys --------------------------------------------------------------------------------
    def list_keys(self, **filters: str) -> list[Key]:
        with self.cloud.lock:
            return [k for k in self.cloud.keys.values() if _matches(k, filters, "id")]

    def create_key(self, *, name: str, public_key: str | None = None, **extra: str) -> Key:
        with self.cloud.lock:
            if name in self.cloud.keys:
                raise Conflict(f"Key '{name}' already exists.")
            key = self.cloud.keys[name] = Key(id=name, name=name, credential_type="password", username=name,
                                              password="s3cret", state="AVAILABLE")
        return key

    def destroy_key(self, id: str) -> None:
        with self.cloud.lock:
            if self.cloud.keys.pop(id, None) is None:
                raise ObjectNotFound(f"Key '{id}' does not exist.")

    # -- volumes and snapshots ---------------------------------------------------------------
    def list_storage_volumes(self, **filters: str) -> list[StorageVolume]:
        with self.cloud.lock:
            return [v for v in self.cloud.volumes.values() if _matches(v, filters, "id")]

    def create_storage_volume(self, *, capacity: str | None = None, realm_id: str | None = None,
                              snapshot_id: str | None = None, name: str | None = None,
                              description: str | None = None, **extra: str) -> StorageVolume:
        realm_id = realm_id or self.REALMS[0].id
        if self.get_realm(realm_id) is None:
            raise ValidationError(f"Realm '{realm_id}' does not exist.")
        with self.cloud.lock:
            volume_id = self.cloud.next_id("vol")
            volume = self.cloud.volumes[volume_id] = StorageVolume(
                id=volume_id, name=name, description=description, state="AVAILABLE", capacity=capacity or "1",
                realm_id=realm_id, actions=("attach", "destroy"))
        return volume

    def attach_storage_volume(self, id: str, *, instance_id: str, device: str) -> StorageVolume:
        with self.cloud.lock:
            volume = self.cloud.volumes.get(id)
            if volume is None or instance_id not in self.cloud.instances:
                raise ObjectNotFound(f"No volume '{id}' or instance '{instance_id}'.")
            volume = self.cloud.volumes[id] = replace(volume, instance_id=instance_id, device=device,
                                                      state="IN-USE", actions=("detach",))
        return volume

    def detach_storage_volume(self, id: str) -> StorageVolume:
        with self.cloud.lock:
            volume = self.cloud.volumes.get(id)
            if volume is None:
                raise ObjectNotFound(f"Volume '{id}' does not exist.")
            if volume.instance_id is None:
                raise ForbiddenError(f"Volume '{id}' is not attached.")
            volume = self.cloud.volumes[id] = replace(volume, instance_id=None, device=None, state="AVAILABLE",
                                                      actions=("attach", "destroy"))
        return volume

    def destroy_storage_volume(self, id: str) -> None:
        with self.cloud.lock:
            volume = self.cloud.volumes.get(id)
            if volume is None:
                raise ObjectNotFound(f"Volume '{id}' does not exist.")
            if volume.instance_id is not None:
                raise ForbiddenError(f"Volume '{id}' is attached.")
            del self.cloud.volumes[id]

    def list_storage_snapshots(self, **filters: str) -> list[StorageSnapshot]:
        with self.cloud.lock:
            return [s for s in self.cloud.snapshots.values() if _matches(s, filters, "id")]

    def create_storage_snapshot(self, *, volume_id: str, name: str | None = None, description: str | None = None,
                                **extra: str) -> StorageSnapshot:
        with self.cloud.lock:
            if volume_id not in self.cloud.volumes:
                raise ValidationError(f"Volume '{volume_id}' does not exist.")
            snapshot_id = self.cloud.next_id("snap")
            snapshot = self.cloud.snapshots[snapshot_id] = StorageSnapshot(
                id=snapshot_id, storage_volume_id=volume_id, name=name, description=description, state="COMPLETED")
        return snapshot

    def destroy_storage_snapshot(self, id: str) -> None:
        with self.cloud.lock:
            if self.cloud.snapshots.pop(id, None) is None:
                raise ObjectNotFound(f"Snapshot '{id}' does not exist.")

    # -- buckets and blobs -------------------------------------------------------------------
    def list_buckets(self, **filters: str) -> list[Bucket]:
        with self.cloud.lock:
            buckets = [Bucket(id=b, name=b, size=len(blobs), blob_ids=tuple(sorted(blobs)))
                       for b, blobs in self.cloud.buckets.items()]
        return [b for b in buckets if _matches(b, filters, "id")]

    def create_bucket(self, *, name: str, location: str | None = None, **extra: str) -> Bucket:
        with self.cloud.lock:
            if name in self.cloud.buckets:
                raise Conflict(f"Bucket '{name}' already exists.")
            self.cloud.buckets[name] = {}
        return Bucket(id=name, name=name, size=0)

    def destroy_bucket(self, id: str) -> None:
        with self.cloud.lock:
            blobs = self.cloud.buckets.get(id)
            if blobs is None:
                raise ObjectNotFound(f"Bucket '{id}' does not exist.")
            if blobs:
                raise ForbiddenError(f"Bucket '{id}' is not empty.")
            del self.cloud.buckets[id]

    def _blobs(self, bucket_id: str) -> dict[str, tuple[Blob, bytes]]:
        blobs = self.cloud.buckets.get(bucket_id)
        if blobs is None:
            raise ObjectNotFound(f"Bucket '{bucket_id}' does not exist.")
        return blobs

    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        with self.cloud.lock:
            stored = self.cloud.buckets.get(bucket_id, {}).get(blob_id)
        return None if stored is None else stored[0]

    def blob_content(self, bucket_id: str, blob_id: str) -> Iterator[bytes]:
        with self.cloud.lock:
            stored = self.cloud.buckets.get(bucket_id, {}).get(blob_id)
        if stored is None:
            raise ObjectNotFound(f"Blob '{blob_id}' not found in bucket '{bucket_id}'.")
        data = stored[1]
        return iter([data[i:i + 1024] for i in range(0, len(data), 1024)])

    def create_blob(self, bucket_id: str, blob_id: str, *, data: BinaryIO, content_type: str,
                    user_metadata: Mapping[str, str], content_length: int | None = None) -> Blob:
        chunks = []
        while chunk := data.read(65536):
            chunks.append(chunk)
        content = b"".join(chunks)
        blob = Blob(id=blob_id, bucket=bucket_id, content_length=len(content),
                    content_type=content_type or "application/octet-stream", last_modified="2026-01-01T00:00:00Z",
                    user_metadata={k.lower(): v for k, v in user_metadata.items()})
        with self.cloud.lock:
            self._blobs(bucket_id)[blob_id] = (blob, content)
        return blob

    def destroy_blob(self, bucket_id: str, blob_id: str) -> None:
        with self.cloud.lock:
            if self._blobs(bucket_id).pop(blob_id, None) is None:
                raise ObjectNotFound(f"Blob '{blob_id}' not found in bucket '{bucket_id}'.")

    def blob_metadata(self, bucket_id: str, blob_id: str) -> dict[str, str] | None:
        blob = self.get_blob(bucket_id, blob_id)
        return None if blob is None else dict(blob.user_metadata or {})

    def update_blob_metadata(self, bucket_id: str, blob_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        with self.cloud.lock:
            blobs = self._blobs(bucket_id)
            if blob_id not in blobs:
                raise ObjectNotFound(f"Blob '{blob_id}' not found in bucket '{bucket_id}'.")
            blob, content = blobs[blob_id]
            blobs[blob_id] = (replace(blob, user_metadata={k.lower(): v for k, v in metadata.items()}), content)
        return dict(metadata)
