"""The plugin is found through the ``deltacloud.drivers`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from deltacloud_core.drivers import DriverRegistry, capabilities

from deltacloud_mock.driver import MockDriver


def test_entry_point():
    eps = {ep.name: ep for ep in entry_points(group="deltacloud.drivers")}
    assert "mock" in eps
    assert eps["mock"].value == "deltacloud_mock.driver:MockDriver"
    assert eps["mock"].load() is MockDriver


def test_registry_loads_mock():
    registry = DriverRegistry()
    assert "mock" in registry.names()
    cls = registry.load("mock")
    assert issubclass(cls, MockDriver)
    assert cls.info().name == "Mock"


def test_capabilities():
    caps = capabilities(MockDriver)
    for name in ("list_realms", "list_images", "create_image", "destroy_image", "list_instances",
                 "create_instance", "start_instance", "stop_instance", "reboot_instance", "destroy_instance",
                 "run_on_instance", "list_keys", "create_key", "destroy_key"):
        assert name in caps, name
