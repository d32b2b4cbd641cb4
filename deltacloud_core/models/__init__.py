"""Frozen dataclasses of the domain, with Deltacloud's field names."""

from ..hardware import HardwareProfile, HardwareProperty
from .compute import Image, Instance, InstanceAddress, InstanceProfile, Key, Realm, RunResult
from .driver_info import DriverInfo, ProviderInfo

# -- network and monitoring resources (addresses, firewalls, load balancers, metrics, networks)
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

# -- storage resources (volumes, snapshots, buckets and blobs)
from .storage import Blob, Bucket, StorageSnapshot, StorageVolume

__all__ = ["DriverInfo", "HardwareProfile", "HardwareProperty", "Image", "Instance", "InstanceAddress",
           "InstanceProfile", "Key", "ProviderInfo", "Realm", "RunResult"]

# -- network and monitoring resources
__all__ += ["Address", "Firewall", "FirewallRule", "FirewallRuleSource", "Listener", "LoadBalancer", "Metric",
            "MetricProperty", "MetricSample", "Network", "NetworkInterface", "Subnet"]

# -- storage resources
__all__ += ["Blob", "Bucket", "StorageSnapshot", "StorageVolume"]
