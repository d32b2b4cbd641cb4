"""Registers the core feature catalogue and the default state-machine hook."""

from __future__ import annotations

from .drivers.base import Driver
from .features import CORE_FEATURES, FeatureRegistry
from .hookspecs import hookimpl
from .state_machine import StateMachine


@hookimpl
def deltacloud_register_features(registry: FeatureRegistry) -> None:
    for feature in CORE_FEATURES:
        registry.register(feature, owner="deltacloud_core")


@hookimpl(trylast=True)
def deltacloud_instance_state_machine(driver_name: str, driver_class: type[Driver]) -> StateMachine | None:
    return driver_class.INSTANCE_STATES
