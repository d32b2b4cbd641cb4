"""The typed, frozen models of every collection (see :mod:`.base` for what they share)."""

from .base import Link, Ref, Resource
from .compute import Address, HardwareProfile, Image, Instance, InstanceProfile, Key, Realm, RunResult, VolumeAttachment
from .drivers import Driver, Provider, State, StateMachine, Transition
from .monitoring import Metric, MetricProperty
from .network import Firewall, FirewallRule, IPAddress, Listener, LoadBalancer, Network, NetworkInterface, Subnet
from .storage import Blob, Bucket, StorageSnapshot, StorageVolume

__all__ = [
    "Address", "Blob", "Bucket", "Driver", "Firewall", "FirewallRule", "HardwareProfile", "IPAddress", "Image",
    "Instance", "InstanceProfile", "Key", "Link", "Listener", "LoadBalancer", "Metric", "MetricProperty", "Network",
    "NetworkInterface", "Provider", "Realm", "Ref", "Resource", "RunResult", "State", "StateMachine", "StorageSnapshot",
    "StorageVolume", "Subnet", "Transition", "VolumeAttachment",
]
