"""The feature catalogue: optional, named extensions of one operation of a collection.

A driver opts in by name (``Driver.FEATURES = {"instances": ("user_name", ...)}``);
the entry point advertises the intersection with this catalogue, in catalogue order.
Plugins may add features through the ``deltacloud_register_features`` hook.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["CORE_FEATURES", "Feature", "FeatureParam", "FeatureRegistry"]


@dataclass(frozen=True)
class FeatureParam:
    name: str
    type: str = "string"
    description: str = ""

    def spec(self) -> str:
        """``name:type:optional``: feature parameters are always optional."""
        return f"{self.name}:{self.type}:optional"


@dataclass(frozen=True)
class Feature:
    """A catalogue entry: ``collection``/``operation`` it extends, the params it adds."""

    name: str
    collection: str
    operation: str | None
    params: tuple[FeatureParam, ...] = ()
    description: str = ""


def _f(name: str, collection: str, operation: str | None, params: tuple[tuple[str, str, str], ...],
       description: str) -> Feature:
    return Feature(name, collection, operation, tuple(FeatureParam(*p) for p in params), description)


#: The original's catalogue, in definition (= advertising) order.
CORE_FEATURES: tuple[Feature, ...] = (
    _f("owner_id", "images", "index", (("owner_id", "string", "Owner account id"),),
       "List only images owned by that account id"),
    _f("image_name", "images", "create", (("name", "string", "Image name"),),
       "Name for an image made from an instance"),
    _f("image_description", "images", "create", (("description", "string", "Image description"),),
       "Description for an image made from an instance"),
    _f("bucket_location", "buckets", "create", (("location", "string", "Provider location"),),
       "Provider location/region for a new bucket"),
    _f("metrics", "instances", "create", (("metrics", "string", "Enable detailed monitoring"),),
       "Turn on detailed monitoring for the new instance"),
    _f("realm_filter", "instances", "index", (("realm_id", "string", "Realm id"),),
       "List only instances of that realm"),
    _f("user_name", "instances", "create", (("name", "string", "Instance name"),),
       "User-chosen instance name"),
    _f("user_data", "instances", "create", (("user_data", "string", "Base64-encoded user data"),),
       "Base64-encoded data made available to the instance"),
    _f("user_files", "instances", "create", (("user_files", "string", "Files to inject"),),
       "Files injected into the instance"),
    _f("user_iso", "instances", "create", (("user_iso", "string", "Base64 gzipped ISO"),),
       "Base64 gzipped ISO attached as CD-ROM"),
    _f("firewalls", "instances", "create", (("firewalls", "array", "Firewall ids"),),
       "Firewalls/security groups to launch into"),
    _f("authentication_key", "instances", "create", (("keyname", "string", "Key name"),),
       "Key pair used to log in"),
    _f("authentication_password", "instances", "create", (("password", "string", "Password"),),
       "Password-based login"),
    _f("hardware_profiles", "instances", None, (), "Sizing via hardware profiles"),
    _f("register_to_load_balancer", "instances", "create",
       (("load_balancer_id", "string", "Load balancer id"),), "Add the new instance to a load balancer"),
    _f("instance_count", "instances", "create", (("instance_count", "string", "How many"),),
       "Launch several instances at once"),
    _f("attach_snapshot", "instances", "create",
       (("snapshot_id", "string", "Snapshot id"), ("device_name", "string", "Device name")),
       "Attach a volume made from a snapshot at launch"),
    _f("sandboxing", "instances", "create", (("sandbox", "string", "Sandbox"),),
       "Launch from a sandbox image"),
    _f("import_key", "keys", "create", (("public_key", "string", "Public key to import"),),
       "Import an existing public key instead of generating one"),
    _f("volume_name", "storage_volumes", "create", (("name", "string", "Volume name"),),
       "Name for a new volume"),
    _f("volume_description", "storage_volumes", "create", (("description", "string", "Volume description"),),
       "Description for a new volume"),
)


class FeatureRegistry:
    """Features by name, in registration order; refuses a duplicate name."""

    def __init__(self) -> None:
        self._features: dict[str, Feature] = {}
        self._owners: dict[str, str] = {}
        self._param_names: dict[tuple[str, str, int], tuple[str, ...]] = {}

    def register(self, feature: Feature, *, owner: str = "core") -> None:
        key = f"{feature.collection}:{feature.name}"
        if key in self._features:
            raise ValueError(
                f"Feature '{feature.name}' of '{feature.collection}' registered twice: "
                f"by {self._owners[key]} and by {owner}")
        self._features[key] = feature
        self._owners[key] = owner

    def __iter__(self) -> Iterator[Feature]:
        return iter(self._features.values())

    def __len__(self) -> int:
        return len(self._features)

    def get(self, collection: str, name: str) -> Feature | None:
        return self._features.get(f"{collection}:{name}")

    def for_collection(self, collection: str) -> list[Feature]:
        return [f for f in self._features.values() if f.collection == collection]

    def param_names(self, collection: str, operation: str) -> tuple[str, ...]:
        """Names of the parameters the features of ``collection`` add to ``operation``."""
        key = (collection, operation, len(self._features))
        names = self._param_names.get(key)
        if names is None:
            names = tuple(p.name for f in self.for_collection(collection) if f.operation == operation
                          for p in f.params)
            self._param_names[key] = names
        return names
