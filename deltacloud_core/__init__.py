"""Deltacloud for Python: the core (driver contract, collections, web front end).

Driver authors need only what this module exports.
"""

from .credentials import Credentials
from .drivers.base import ClientCache, Driver
from .drivers.capabilities import capabilities, implements
from .errors import (
    AuthenticationFailure,
    AuthenticationRequired,
    BackendError,
    Conflict,
    DeltacloudError,
    ForbiddenError,
    MethodNotAllowed,
    NotSupportedError,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ValidationError,
    error_for_status,
)
from .features import Feature, FeatureParam
from .hardware import HardwareProfile, HardwareProperty
from .hookspecs import hookimpl
from .models import DriverInfo, Image, Instance, InstanceAddress, InstanceProfile, Key, ProviderInfo, Realm, RunResult
from .state_machine import StateMachine, StateMachineError, Transition

__version__ = "0.1.0"

__all__ = [
    "AuthenticationFailure",
    "AuthenticationRequired",
    "BackendError",
    "ClientCache",
    "Conflict",
    "Credentials",
    "DeltacloudError",
    "Driver",
    "DriverInfo",
    "Feature",
    "FeatureParam",
    "ForbiddenError",
    "HardwareProfile",
    "HardwareProperty",
    "Image",
    "Instance",
    "InstanceAddress",
    "InstanceProfile",
    "Key",
    "MethodNotAllowed",
    "NotSupportedError",
    "ObjectNotFound",
    "ProviderError",
    "ProviderInfo",
    "ProviderTimeout",
    "RateLimited",
    "Realm",
    "RunResult",
    "StateMachine",
    "StateMachineError",
    "Transition",
    "ValidationError",
    "__version__",
    "capabilities",
    "error_for_status",
    "hookimpl",
    "implements",
]
