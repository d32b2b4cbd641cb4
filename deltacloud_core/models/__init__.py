"""Frozen dataclasses of the domain, with Deltacloud's field names."""

from ..hardware import HardwareProfile, HardwareProperty
from .compute import Image, Instance, InstanceAddress, InstanceProfile, Key, Realm, RunResult
from .driver_info import DriverInfo, ProviderInfo
from .monitoring import Metric, MetricProperty, MetricSample
from .network import (
    Address,
    Firewall,
    FirewallRule,
    FirewallRuleSource,
    Listener,
    LoadBalancer,
    Network,
    NetworkInterface,
    Subnet,
)
from .storage import Blob, Bucket, ByteRange, StorageSnapshot, StorageVolume

__all__ = [
    "Address",
    "Blob",
    "Bucket",
    "ByteRange",
    "DriverInfo",
    "Firewall",
    "FirewallRule",
    "FirewallRuleSource",
    "HardwareProfile",
    "HardwareProperty",
    "Image",
    "Instance",
    "InstanceAddress",
    "InstanceProfile",
    "Key",
    "Listener",
    "LoadBalancer",
    "Metric",
    "MetricProperty",
    "MetricSample",
    "Network",
    "NetworkInterface",
    "ProviderInfo",
    "Realm",
    "RunResult",
    "StorageSnapshot",
    "StorageVolume",
    "Subnet",
]
