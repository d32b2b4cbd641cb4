"""The mutation matrix of the conformance kit: broken drivers, each wrong in one way.

Every class here is :class:`~support.tinycloud.TinyCloudDriver` with one mistake. The kit must
fail each of them, and its failure messages must name the mistake: every text in ``EXPECT``
appears in the failures. ``SELECT`` is the ``pytest -k`` expression of the kit tests the matrix
runs for it (the tests that must see the mistake, in both suites: a subset of the kit, so a
mutant that passes them is a hole of the kit); the correct driver runs the whole kit. The first
eight are the bugs of issue 22's trial, then cross-references, then the mistakes the kit's tests
caught before the matrix existed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import ClassVar

from deltacloud_core import Blob, Instance, InstanceProfile, ObjectNotFound, StorageSnapshot, StorageVolume

from .tinycloud import TinyCloudDriver, _Record

__all__ = ["MUTANTS", "Mutant"]


class Mutant(TinyCloudDriver):
    """A broken TinyCloud: what must appear in the kit's failures, which kit tests to run."""

    EXPECT: ClassVar[tuple[str, ...]] = ()
    SELECT: ClassVar[str] = ""



# -- the trial's bugs ------------------------------------------------------------------------

class BlobContentLosesFirstByte(Mutant):
    """Reads a blob back without its first byte (``bcdef`` for ``abcdef``)."""

    EXPECT = ("/content: 5 bytes b'bcdef'... differ from the 6 bytes b'abcdef'... stored",)
    SELECT = "blob_round_trip or bucket_lifecycle"

    def blob_content(self, bucket_id: str, blob_id: str) -> Iterator[bytes]:
        data = b"".join(super().blob_content(bucket_id, blob_id))
        return iter([data[1:]])


class InstanceOfUnknownProfile(Mutant):
    """Reports its instances on a hardware profile that does not exist."""

    EXPECT = ("its hardware_profile 'xlarge' does not exist (GET /api/hardware_profiles/xlarge: 404",)
    SELECT = "test_references and instances"

    def _now(self, record: _Record) -> Instance:
        return replace(super()._now(record), instance_profile=InstanceProfile("xlarge"))


class InstanceOfUnknownImage(Mutant):
    """Reports its instances as launched from an image that does not exist."""

    EXPECT = ("its image 'img-gone' does not exist (GET /api/images/img-gone: 404",)
    SELECT = "test_references and instances"

    def _now(self, record: _Record) -> Instance:
        return replace(super()._now(record), image_id="img-gone")


class InstanceInUnknownRealm(Mutant):
    """Reports its instances in a realm that does not exist."""

    EXPECT = ("its realm 'zone-9' does not exist (GET /api/realms/zone-9: 404",)
    SELECT = "test_references and instances"

    def _now(self, record: _Record) -> Instance:
        return replace(super()._now(record), realm_id="zone-9")


class DestroyedInstanceStaysListed(Mutant):
    """Keeps a destroyed instance, listed as FINISH, forever."""

    EXPECT = ("was destroyed, but GET /api/instances still lists it ('FINISH')",)
    SELECT = "instance_lifecycle"

    def destroy_instance(self, id: str) -> None:
        with self.cloud.lock:
            record = self.cloud.instances[id]
            record.instance = replace(self._now(record), state="FINISH")


class ListIgnoresTheIdFilter(Mutant):
    """``list_instances`` ignores ``id``, so the default ``get_instance`` answers the first instance."""

    EXPECT = ("list_instances must honour the id filter",)
    SELECT = "(test_show or test_not_found) and instances"

    def list_instances(self, **filters: str) -> list[Instance]:
        return super().list_instances(**{k: v for k, v in filters.items() if k != "id"})


class InstanceStuckPending(Mutant):
    """Never lets an instance finish booting: it stays PENDING."""

    EXPECT = ("is still 'PENDING' after POST /api/instances: the cloud leaves 'pending' on its own (to running)",
              "waited 1 s: ConformanceSettings.settle_timeout; later waits for this driver fail at once")
    SELECT = "instance_lifecycle"

    def _now(self, record: _Record) -> Instance:
        instance = super()._now(record)
        return replace(instance, state="PENDING") if record.instance.state in ("PENDING", "RUNNING") else instance


class InstanceOfUnknownKey(Mutant):
    """Reports its instances with a key that does not exist."""

    EXPECT = ("its authentication.keyname 'ghost-key' does not exist (GET /api/keys/ghost-key: 404",)
    SELECT = "test_references and instances"

    def _now(self, record: _Record) -> Instance:
        return replace(super()._now(record), keyname="ghost-key")


# -- cross-references --------------------------------------------------------------------------

class InstanceWithUnknownVolume(Mutant):
    """Lists a volume on every instance that does not exist."""

    EXPECT = ("its storage_volumes 'vol-gone' does not exist (GET /api/storage_volumes/vol-gone: 404",)
    SELECT = "test_references and instances"

    def _now(self, record: _Record) -> Instance:
        return replace(super()._now(record), storage_volumes=(("vol-gone", "/dev/sdb"),))


class VolumeInUnknownRealm(Mutant):
    """Creates volumes in a realm that does not exist."""

    EXPECT = ("its realm 'zone-9' does not exist (GET /api/realms/zone-9: 404",)
    SELECT = "test_references and storage_volumes"

    def list_storage_volumes(self, **filters: str) -> list[StorageVolume]:
        return [replace(v, realm_id="zone-9") for v in super().list_storage_volumes(**filters)]


class VolumeOnUnknownInstance(Mutant):
    """Reports its volumes attached to an instance that does not exist."""

    EXPECT = ("its instance 'vm-gone' does not exist (GET /api/instances/vm-gone: 404",)
    SELECT = "test_references and storage_volumes"

    def list_storage_volumes(self, **filters: str) -> list[StorageVolume]:
        return [replace(v, instance_id="vm-gone", device="/dev/sdb")
                for v in super().list_storage_volumes(**filters)]


class SnapshotOfUnknownVolume(Mutant):
    """Reports its snapshots as taken of a volume that does not exist."""

    EXPECT = ("its storage_volume 'vol-gone' does not exist (GET /api/storage_volumes/vol-gone: 404",)
    SELECT = "test_references and storage_snapshots"

    def list_storage_snapshots(self, **filters: str) -> list[StorageSnapshot]:
        return [replace(s, storage_volume_id="vol-gone") for s in super().list_storage_snapshots(**filters)]


class BlobNamesAnotherBucket(Mutant):
    """Describes every blob as a blob of another bucket."""

    EXPECT = ("shows a blob of bucket elsewhere",)
    SELECT = "blob_round_trip or bucket_lifecycle"

    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        blob = super().get_blob(bucket_id, blob_id)
        return None if blob is None else replace(blob, bucket="elsewhere")


class DeletedBlobStaysListed(Mutant):
    """Deletes a blob but leaves its id in its bucket's blob list."""

    EXPECT = ("still lists ['",)
    SELECT = "blob_round_trip"

    def destroy_blob(self, bucket_id: str, blob_id: str) -> None:
        with self.cloud.lock:
            blobs = self._blobs(bucket_id)
            if blobs.get(blob_id, (None, b""))[0] is None:
                raise ObjectNotFound(f"Blob '{blob_id}' not found in bucket '{bucket_id}'.")
            blobs[blob_id] = (None, b"")  # type: ignore[assignment]  # gone, but still listed


# -- what the kit's tests caught before --------------------------------------------------------

class ForgetsReboot(Mutant):
    """Advertises the actions of a running instance without ``reboot``."""

    EXPECT = ("advertises ['stop']; the machine allows ['reboot', 'stop']",)
    SELECT = "instance_lifecycle"

    def instance_actions_for(self, instance: Instance) -> list[str]:
        return [a for a in super().instance_actions_for(instance) if a != "reboot"]


class StateTheMachineLacks(Mutant):
    """Reports running instances as ``BOOTED``, a state its machine does not know."""

    EXPECT = ("'BOOTED', not a state of the machine",)
    SELECT = "instance_lifecycle"

    def _now(self, record: _Record) -> Instance:
        instance = super()._now(record)
        return replace(instance, state="BOOTED") if instance.state == "RUNNING" else instance


class UnknownRealmIsTheFirst(Mutant):
    """Answers any realm id with the first realm instead of None."""

    EXPECT = ("GET /api/realms/deltacloud-kit-missing: expected 404, got 200",
              "get_* must return None for an unknown id")
    SELECT = "test_not_found and realms"

    def get_realm(self, id: str):  # type: ignore[no-untyped-def]
        return super().get_realm(id) or self.list_realms()[0]


class UnknownKeyRaisesKeyError(Mutant):
    """Lets a ``KeyError`` out of ``get_key`` instead of answering None."""

    EXPECT = ("get_* must return None for an unknown id", "the driver raised KeyError", "expected 404, got 500")
    SELECT = "test_not_found and keys"

    def get_key(self, id: str):  # type: ignore[no-untyped-def]
        key = super().get_key(id)
        if key is None:
            raise KeyError(id)
        return key


MUTANTS: dict[str, type[Mutant]] = {
    cls.__name__: cls for cls in (
        BlobContentLosesFirstByte, InstanceOfUnknownProfile, InstanceOfUnknownImage, InstanceInUnknownRealm,
        DestroyedInstanceStaysListed, ListIgnoresTheIdFilter, InstanceStuckPending, InstanceOfUnknownKey,
        InstanceWithUnknownVolume, VolumeInUnknownRealm, VolumeOnUnknownInstance, SnapshotOfUnknownVolume,
        BlobNamesAnotherBucket, DeletedBlobStaysListed, ForgetsReboot, StateTheMachineLacks,
        UnknownRealmIsTheFirst, UnknownKeyRaisesKeyError)
}
