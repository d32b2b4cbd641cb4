"""Every data operation checks the credentials first; a few operations never do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from deltacloud_core.credentials import Credentials
from deltacloud_core.errors import AuthenticationFailure, AuthenticationRequired

from deltacloud_mock.driver import MockDriver
from deltacloud_mock.store import MockStore

CALLS: dict[str, Callable[[MockDriver], Any]] = {
    "list_realms": lambda d: d.list_realms(),
    "get_realm": lambda d: d.get_realm("us"),
    "list_images": lambda d: d.list_images(),
    "get_image": lambda d: d.get_image("img1"),
    "create_image": lambda d: d.create_image(instance_id="inst1", name="x"),
    "destroy_image": lambda d: d.destroy_image("img1"),
    "list_instances": lambda d: d.list_instances(),
    "get_instance": lambda d: d.get_instance("inst0"),
    "create_instance": lambda d: d.create_instance(image_id="img1"),
    "start_instance": lambda d: d.start_instance("inst0"),
    "stop_instance": lambda d: d.stop_instance("inst0"),
    "reboot_instance": lambda d: d.reboot_instance("inst0"),
    "destroy_instance": lambda d: d.destroy_instance("inst0"),
    "list_keys": lambda d: d.list_keys(),
    "get_key": lambda d: d.get_key("test-key"),
    "create_key": lambda d: d.create_key(name="k"),
    "destroy_key": lambda d: d.destroy_key("test-key"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_missing_credentials(anonymous: MockDriver, store: MockStore, name: str):
    with pytest.raises(AuthenticationRequired):
        CALLS[name](anonymous)
    _assert_untouched(store)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_wrong_credentials(intruder: MockDriver, store: MockStore, name: str):
    with pytest.raises(AuthenticationFailure) as info:
        CALLS[name](intruder)
    assert not isinstance(info.value, AuthenticationRequired)
    assert info.value.message == "Authentication Failure"
    assert info.value.status == 401
    _assert_untouched(store)


def _assert_untouched(store: MockStore) -> None:
    assert store.ids("images") == ["img1", "img2", "img3"]
    assert store.ids("instances") == ["inst0", "inst1", "inst2", "inst3"]
    assert store.ids("keys") == ["test-key"]
    assert {r["state"] for r in store.list("instances")} == {"RUNNING"}


@pytest.mark.parametrize("creds", [Credentials("mockuser", "bad"), Credentials("someone", "mockpassword"),
                                   Credentials("", "")])
def test_wrong_user_or_password(storage, creds: Credentials):
    with pytest.raises(AuthenticationFailure):
        MockDriver(credentials=creds).list_instances()


def test_validate_credentials(driver: MockDriver, intruder: MockDriver, anonymous: MockDriver):
    assert driver.validate_credentials() is True
    assert intruder.validate_credentials() is False
    with pytest.raises(AuthenticationRequired):
        anonymous.validate_credentials()


def test_credentials_callable(storage):
    calls = []

    def supplier() -> Credentials:
        calls.append(1)
        return Credentials("mockuser", "mockpassword")

    assert [i.id for i in MockDriver(credentials=supplier).list_instances(id="inst1")] == ["inst1"]
    assert calls


def test_no_credential_check(anonymous: MockDriver, intruder: MockDriver):
    for d in (anonymous, intruder):
        assert len(d.list_hardware_profiles()) == 4
        assert d.get_hardware_profile("opaque") is not None
        assert d.run_on_instance("inst0", cmd="uname").instance_id == "inst0"
