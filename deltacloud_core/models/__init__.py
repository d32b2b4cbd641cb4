"""Frozen dataclasses of the domain, with Deltacloud's field names."""

from ..hardware import HardwareProfile, HardwareProperty
from .compute import Image, Instance, InstanceAddress, InstanceProfile, Key, Realm, RunResult
from .driver_info import DriverInfo, ProviderInfo

# -- storage resources (volumes, snapshots, buckets and blobs)
from .storage import Blob, Bucket, StorageSnapshot, StorageVolume

__all__ = ["DriverInfo", "HardwareProfile", "HardwareProperty", "Image", "Instance", "InstanceAddress",
           "InstanceProfile", "Key", "ProviderInfo", "Realm", "RunResult"]

# -- storage resources
__all__ += ["Blob", "Bucket", "StorageSnapshot", "StorageVolume"]
