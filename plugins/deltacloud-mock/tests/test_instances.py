"""Instance life cycle at the driver level."""

from __future__ import annotations

import base64
import re
import time

import pytest
from deltacloud_core.errors import ObjectNotFound, ValidationError
from deltacloud_core.models import RunResult

from deltacloud_mock.driver import MockDriver
from deltacloud_mock.store import MockStore


def test_create_defaults(driver: MockDriver, store: MockStore):
    before = int(time.time())
    inst = driver.create_instance(image_id="img1")
    after = int(time.time())
    assert inst.id == "inst4"
    assert inst.state == "RUNNING"
    assert inst.owner_id == "mockuser"
    assert inst.image_id == "img1"
    assert inst.realm_id == "us"
    assert inst.instance_profile is not None
    assert inst.instance_profile.id == "m1-small"
    assert dict(inst.instance_profile.overrides) == {}
    match = re.fullmatch(r"i-(\d+)", inst.name or "")
    assert match
    assert before <= int(match.group(1)) <= after
    assert [(a.address, a.type) for a in inst.public_addresses] == [("img1.inst4.public.com", "hostname")]
    assert [(a.address, a.type) for a in inst.private_addresses] == [("img1.inst4.private.com", "hostname")]
    assert inst.create_image is True
    assert inst.storage_volumes == ()
    assert inst.network_interfaces is None
    assert inst.keyname is None
    assert inst.actions is None
    assert driver.instance_actions_for(inst) == ["reboot", "stop"]
    assert driver.get_instance("inst4") == inst
    assert [i.id for i in driver.list_instances()] == ["inst0", "inst1", "inst2", "inst3", "inst4"]
    assert "user_data" not in store.get("instances", "inst4")


def test_create_with_everything(driver: MockDriver, store: MockStore):
    inst = driver.create_instance(image_id="img3", hwp_id="m1-large", realm_id="eu",
                                  hwp_overrides={"memory": "12288", "cpu": "2"}, keyname="test-key",
                                  name="my box", user_data=b"#!/bin/sh\necho hi\n", metrics="true")
    assert inst.name == "my box"
    assert inst.realm_id == "eu"
    assert inst.keyname == "test-key"
    assert inst.instance_profile is not None
    assert inst.instance_profile.id == "m1-large"
    assert dict(inst.instance_profile.overrides) == {"memory": "12288", "cpu": "2"}
    assert inst.public_addresses[0].address == "img3.inst4.public.com"
    assert base64.b64decode(store.get("instances", "inst4")["user_data"]) == b"#!/bin/sh\necho hi\n"
    # The image is not checked for existence, the realm not validated (as the original).
    other = driver.create_instance(image_id="no-such-image", realm_id="mars")
    assert (other.id, other.image_id, other.realm_id) == ("inst5", "no-such-image", "mars")


def test_create_unknown_profile(driver: MockDriver, store: MockStore):
    with pytest.raises(ValidationError) as info:
        driver.create_instance(image_id="img1", hwp_id="nope")
    assert info.value.message == "Hardware profile 'nope' does not exists."
    assert info.value.status == 400
    assert store.ids("instances") == ["inst0", "inst1", "inst2", "inst3"]


@pytest.mark.parametrize(("initial", "state", "actions"), [
    ("STOPPED", "STOPPED", ["start", "destroy"]),
    ("STARTED", "RUNNING", ["reboot", "stop"]),
    ("RUNNING", "RUNNING", ["reboot", "stop"]),
    ("", "RUNNING", ["reboot", "stop"]),
])
def test_create_initial_state(driver: MockDriver, initial: str, state: str, actions: list[str]):
    inst = driver.create_instance(image_id="img1", initial_state=initial)
    assert inst.state == state
    assert driver.instance_actions_for(inst) == actions


def test_actions(driver: MockDriver):
    stopped = driver.stop_instance("inst1")
    assert stopped.state == "STOPPED"
    assert driver.instance_actions_for(stopped) == ["start", "destroy"]
    assert driver.get_instance("inst1") == stopped
    started = driver.start_instance("inst1")
    assert started.state == "RUNNING"
    assert driver.get_instance("inst1").state == "RUNNING"
    driver.stop_instance("inst1")
    rebooted = driver.reboot_instance("inst1")  # driver level: any action in any state
    assert rebooted.state == "RUNNING"
    # Everything else about the instance is kept.
    assert rebooted.network_interfaces == ("nic1",)
    assert rebooted.name == "MockUserInstance"


@pytest.mark.parametrize("action", ["start_instance", "stop_instance", "reboot_instance", "destroy_instance"])
def test_actions_unknown_instance(driver: MockDriver, action: str):
    with pytest.raises(ObjectNotFound):
        getattr(driver, action)("nope")


def test_ids_of_destroyed_instances_are_never_given_again(driver: MockDriver, store: MockStore):
    # The original reused the smallest free id (MOCK.md); a stale reference then reached a newer
    # instance (issue 21). New ids start above the fixtures' and only grow.
    ids = [driver.create_instance(image_id="img1").id for _ in range(3)]
    assert ids == ["inst4", "inst5", "inst6"]
    driver.stop_instance("inst5")
    assert driver.destroy_instance("inst5") is None
    assert driver.get_instance("inst5") is None
    assert driver.create_instance(image_id="img2").id == "inst7"
    driver.destroy_instance("inst0")
    driver.destroy_instance("inst7")
    assert driver.create_instance(image_id="img2").id == "inst8"
    assert driver.get_instance("inst0") is None


def test_new_ids_survive_a_new_connection(store: MockStore):
    with store.transaction() as tx:
        first = tx.new_id("instances", "inst")
        tx.put("instances", first, {"state": "RUNNING"})
    store.delete("instances", first)
    store.close()  # another connection (another worker) sees the same mark
    with store.transaction() as tx:
        assert tx.new_id("instances", "inst") == "inst5"


def test_destroy_removes_network_interfaces(driver: MockDriver, store: MockStore):
    driver.destroy_instance("inst1")
    assert store.ids("network_interfaces") == ["nicinst3"]
    driver.destroy_instance("inst3")
    assert store.ids("network_interfaces") == []
    assert [i.id for i in driver.list_instances()] == ["inst0", "inst2"]


def test_list_filters(driver: MockDriver):
    driver.stop_instance("inst2")
    assert [i.id for i in driver.list_instances(state="STOPPED")] == ["inst2"]
    assert [i.id for i in driver.list_instances(state="RUNNING")] == ["inst0", "inst1", "inst3"]
    assert [i.id for i in driver.list_instances(realm_id="eu")] == ["inst3"]
    assert [i.id for i in driver.list_instances(realm_id="us", state="RUNNING")] == ["inst0", "inst1"]
    assert [i.id for i in driver.list_instances(id="inst1")] == ["inst1"]
    assert driver.list_instances(id="nope") == []
    assert len(driver.list_instances(id="", state="")) == 4


def test_list_only_own_instances(driver: MockDriver, store: MockStore):
    record = store.get("instances", "inst0")
    store.put("instances", "inst9", {**record, "owner_id": "someone-else"})
    # A client-supplied owner_id is ignored: only the caller's instances are listed.
    assert "inst9" not in [i.id for i in driver.list_instances(owner_id="someone-else")]
    assert driver.list_instances(id="inst9") == []
    inst = driver.get_instance("inst9")  # show has no owner restriction
    assert inst is not None
    assert inst.owner_id == "someone-else"
    assert driver.create_instance(image_id="img1").id == "inst10"  # above every id held: never a gap filled


def test_run_on_instance(driver: MockDriver):
    result = driver.run_on_instance("inst2", cmd="uname -a")
    assert result == RunResult(
        instance_id="inst2", command="uname -a",
        output="This is where the output from 'uname -a' would appear if this were not a mock provider",
        public_address="img1.inst2.public.com")
    with pytest.raises(ObjectNotFound):
        driver.run_on_instance("nope", cmd="ls")
