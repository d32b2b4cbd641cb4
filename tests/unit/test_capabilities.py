"""What a driver supports is what it overrides: computed, never configured."""

from __future__ import annotations

from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deltacloud_core import Driver, NotSupportedError, Realm, capabilities, implements
from deltacloud_core.collections.base import needs
from deltacloud_core.collections.instances import INSTANCES
from deltacloud_core.collections.realms import REALMS
from deltacloud_core.drivers.base import unsupported

#: Every optional operation of the contract (a base-class stub raising NotSupportedError).
STUBS = sorted(n for n in dir(Driver) if getattr(getattr(Driver, n), "__deltacloud_unsupported__", False))


def test_the_contract_has_the_expected_optional_operations():
    for name in ("list_realms", "list_images", "create_image", "destroy_image", "list_instances",
                 "create_instance", "start_instance", "stop_instance", "reboot_instance", "destroy_instance",
                 "run_on_instance", "list_keys", "create_key", "destroy_key"):
        assert name in STUBS


def test_base_stubs_are_not_capabilities():
    caps = capabilities(Driver)
    assert not caps & set(STUBS)
    # methods with a working default are capabilities of every driver
    assert {"list_hardware_profiles", "get_hardware_profile", "info", "instance_actions_for"} <= caps


def test_base_stubs_raise_not_supported():
    driver = Driver()
    with pytest.raises(NotSupportedError):
        driver.list_instances()
    with pytest.raises(NotSupportedError):
        driver.stop_instance("x")


def test_overriding_gives_the_capability():
    class OnlyInstances(Driver):
        def list_instances(self, **filters: str) -> list:
            return []

    caps = capabilities(OnlyInstances)
    assert "list_instances" in caps
    assert implements(OnlyInstances, "list_instances")
    assert not implements(OnlyInstances, "create_instance")
    assert not implements(OnlyInstances, "list_realms")


def test_async_override_counts():
    class AsyncRealms(Driver):
        async def list_realms(self, **filters: str) -> list[Realm]:
            return []

    assert implements(AsyncRealms, "list_realms")


def test_capability_is_inherited_and_can_be_taken_back():
    class Parent(Driver):
        def list_keys(self, **filters: str) -> list:
            return []

        def destroy_key(self, id: str) -> None:
            return None

    class Child(Parent):
        @unsupported
        def destroy_key(self, id: str) -> None:
            raise NotSupportedError()

    assert implements(Child, "list_keys")
    assert implements(Parent, "destroy_key")
    assert not implements(Child, "destroy_key")


def test_unknown_and_non_callable_names_are_not_capabilities():
    class Weird(Driver):
        FEATURES: ClassVar = {"instances": ("user_name",)}
        start_instance = None  # type: ignore[assignment]

    assert not implements(Weird, "no_such_method")
    assert not implements(Weird, "FEATURES")
    assert not implements(Weird, "start_instance")
    assert "start_instance" not in capabilities(Weird)


def test_private_names_are_never_listed():
    class Private(Driver):
        def _helper(self) -> None:
            return None

    assert not any(n.startswith("_") for n in capabilities(Private))


def test_needs_and_collection_support_follow_overrides():
    class RealmsOnly(Driver):
        def list_realms(self, **filters: str) -> list[Realm]:
            return []

    assert needs("list_realms")(RealmsOnly)
    assert not needs("list_realms", "list_instances")(RealmsOnly)
    assert REALMS.supported_by(RealmsOnly)
    assert not INSTANCES.supported_by(RealmsOnly)
    assert not REALMS.supported_by(Driver)
    stop = INSTANCES.operation("stop")
    assert stop is not None and not stop.supported_by(RealmsOnly)


def _make_override(name: str):
    def method(self, *args, **kwargs):
        return None

    method.__name__ = name
    return method


@given(st.sets(st.sampled_from(STUBS)))
def test_capabilities_are_exactly_the_overridden_stubs(overridden):
    cls = type("Generated", (Driver,), {name: _make_override(name) for name in overridden})
    caps = capabilities(cls)
    assert caps & set(STUBS) == overridden
    assert caps - set(STUBS) == capabilities(Driver) - set(STUBS)
    for name in STUBS:
        assert implements(cls, name) is (name in overridden)
