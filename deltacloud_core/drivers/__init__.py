"""The driver contract, computed capabilities and the entry-point registry."""

from .base import ClientCache, Driver
from .capabilities import capabilities, implements
from .registry import DRIVER_GROUP, DriverRegistry, UnknownDriver

__all__ = ["DRIVER_GROUP", "ClientCache", "Driver", "DriverRegistry", "UnknownDriver", "capabilities",
           "implements"]
