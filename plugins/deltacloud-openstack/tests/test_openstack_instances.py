"""Against the test cloud: Nova servers through their real life cycle, key pairs, snapshots, quotas.

Every wait is a bounded poll: Nova moves BUILD -> ACTIVE in about a second, stop and start take a
fraction of one; SETTLE (60 s) is the most any transition may take.
"""

from __future__ import annotations

import base64

import pytest
from deltacloud_core import Conflict, ObjectNotFound, RateLimited, ValidationError
from openstack_support import destroy_server, states_until, wait_until

from deltacloud_openstack import OpenStackDriver
from deltacloud_openstack.states import INSTANCE_STATES


def machine_allows(before: str, action: str, seen: list[str]) -> None:
    """The states seen after ``action`` in ``before`` are those the machine leads to, in order."""
    state = INSTANCE_STATES.next_state(before, action)
    assert state is not None, f"{action} is not allowed in {before}"
    path = [state]
    while True:
        autos = [t.to for t in INSTANCE_STATES.transitions_from(path[-1]) if t.auto and t.to != "error"]
        if not autos:
            break
        path.append(autos[0])
    observed = [s.lower() for s in seen]
    assert observed[-1] == path[-1], f"{action} from {before}: ended {observed}, machine says {path}"
    assert all(s in path for s in observed), f"{action} from {before}: saw {observed}, machine allows {path}"


def test_server_life_cycle_follows_the_machine(driver, cloud, cleanup):
    created = driver.create_instance(image_id=cloud.image_id, hwp_id="m1.tiny", name="cycle")
    cleanup.add("server", lambda: destroy_server(driver, created.id))
    assert created.state == "PENDING"
    assert driver.instance_actions_for(created) == []
    assert created.name == "cycle"
    assert created.image_id == cloud.image_id
    assert created.instance_profile.id == "m1.tiny"
    assert created.password  # Nova's generated admin password, shown once

    seen = states_until(lambda: driver.get_instance(created.id), {"RUNNING", "ERROR"}, what="boot")
    machine_allows("start", "create", seen)
    running = driver.get_instance(created.id)
    assert running.realm_id == "nova"
    assert running.launch_time
    assert running.create_image
    assert driver.instance_actions_for(running) == ["reboot", "stop", "destroy"]

    stopping = driver.stop_instance(created.id)
    assert stopping.state in ("STOPPING", "STOPPED")
    seen = [stopping.state, *states_until(lambda: driver.get_instance(created.id), {"STOPPED"}, what="stop")]
    machine_allows("running", "stop", seen)
    stopped = driver.get_instance(created.id)
    assert driver.instance_actions_for(stopped) == ["start", "destroy"]
    assert stopped.create_image

    with pytest.raises(Conflict, match="vm_state stopped") as info:  # Nova's own 409
        driver.stop_instance(created.id)
    assert info.value.status == 409
    assert info.value.backend_code == "conflictingRequest"

    starting = driver.start_instance(created.id)
    seen = [starting.state, *states_until(lambda: driver.get_instance(created.id), {"RUNNING"}, what="start")]
    machine_allows("stopped", "start", seen)

    rebooting = driver.reboot_instance(created.id)
    seen = [rebooting.state, *states_until(lambda: driver.get_instance(created.id), {"RUNNING"}, what="reboot")]
    machine_allows("running", "reboot", seen)

    driver.destroy_instance(created.id)
    seen = states_until(lambda: driver.get_instance(created.id), {"GONE"}, what="destroy")
    assert set(seen) <= {"RUNNING", "FINISH", "GONE"}
    assert created.id not in {i.id for i in driver.list_instances()}


def test_destroy_a_stopped_server(driver, server):
    driver.stop_instance(server.id)
    wait_until(lambda: driver.get_instance(server.id), lambda i: i.state == "STOPPED", what="stop")
    driver.destroy_instance(server.id)
    wait_until(lambda: driver.get_instance(server.id), lambda i: i is None, what="server gone")


def test_paused_and_suspended_servers_are_stopped_and_start_resumes_them(driver, server, admin_sdk):
    for hold, status in ((admin_sdk.compute.pause_server, "PAUSED"), (admin_sdk.compute.suspend_server, "SUSPENDED")):
        hold(server.id)
        held = wait_until(lambda: driver.get_instance(server.id),
                          lambda i, status=status: i.extra["status"] == status, what=f"server {status.lower()}")
        assert held.state == "STOPPED"
        assert driver.instance_actions_for(held) == ["start", "destroy"]
        driver.start_instance(server.id)
        wait_until(lambda: driver.get_instance(server.id), lambda i: i.state == "RUNNING", what="server resumed")


def test_server_with_everything(driver, cloud, cleanup, admin_sdk):
    """Zone, key, user data, personality file, admin password and name all reach Nova."""
    key = driver.create_key(name="test-everything")
    cleanup.add("key", lambda: driver.destroy_key(key.id))
    created = driver.create_instance(
        image_id=cloud.image_id, hwp_id="m1.small", realm_id="nova", keyname=key.id, name="everything",
        user_data=b"#!/bin/sh\necho hello\n", password="Sup3r-secret", path1="/etc/motd", content1="welcome")
    cleanup.add("server", lambda: destroy_server(driver, created.id))
    assert created.password == "Sup3r-secret"
    running = wait_until(lambda: driver.get_instance(created.id), lambda i: i.state == "RUNNING", what="boot")
    assert (running.keyname, running.realm_id, running.instance_profile.id) == (key.id, "nova", "m1.small")
    shown = admin_sdk.compute.get(f"/servers/{created.id}", microversion="2.3").json()["server"]
    assert base64.b64decode(shown["OS-EXT-SRV-ATTR:user_data"]) == b"#!/bin/sh\necho hello\n"


def test_default_hardware_profile_is_the_smallest_that_fits(driver, cloud, cleanup):
    created = driver.create_instance(image_id=cloud.image_id)
    cleanup.add("server", lambda: destroy_server(driver, created.id))
    assert created.instance_profile.id == "m1.tiny"
    assert created.name.startswith("deltacloud-")


def test_bad_create_parameters_are_nova_s_400s(driver, cloud):
    with pytest.raises(ValidationError, match="image") as info:
        driver.create_instance(image_id="00000000-0000-0000-0000-000000000000", hwp_id="m1.tiny")
    assert info.value.status == 400
    with pytest.raises(ValidationError, match=r"[Ff]lavor"):
        driver.create_instance(image_id=cloud.image_id, hwp_id="m1.huge")
    with pytest.raises(ValidationError, match=r"[Kk]ey"):
        driver.create_instance(image_id=cloud.image_id, hwp_id="m1.tiny", keyname="no-such-key")


def test_missing_servers(driver):
    assert driver.get_instance("deltacloud-missing") is None
    assert driver.list_instances(id="deltacloud-missing") == []
    for action in (driver.start_instance, driver.stop_instance, driver.reboot_instance, driver.destroy_instance):
        with pytest.raises(ObjectNotFound):
            action("00000000-0000-0000-0000-000000000000")


def test_list_filters(driver, server):
    assert [i.id for i in driver.list_instances(state="RUNNING") if i.id == server.id] == [server.id]
    assert server.id not in {i.id for i in driver.list_instances(state="STOPPED")}
    assert server.id in {i.id for i in driver.list_instances(realm_id="nova")}
    assert driver.list_instances(id=server.id)[0].id == server.id


def test_servers_are_per_project(driver, server, cloud):
    other = OpenStackDriver(credentials=cloud.credentials("domain_user"), provider=cloud.provider)
    assert server.id not in {i.id for i in other.list_instances()}
    assert other.get_instance(server.id) is None


# -- images from instances ----------------------------------------------------------------------------


def test_create_and_destroy_an_image_of_a_server(driver, server, cleanup):
    image = driver.create_image(instance_id=server.id, name="test-snapshot", description="made by the tests")
    cleanup.add("image", lambda: driver.destroy_image(image.id))
    assert (image.name, image.description) == ("test-snapshot", "made by the tests")
    assert image.owner_id == driver.cloud.project_id
    # The fake virt driver uploads no data: Glance keeps the record queued (PENDING).
    assert image.state == "PENDING"
    assert image.id in {i.id for i in driver.list_images(owner_id="self")}
    wait_until(lambda: driver.get_instance(server.id), lambda i: i.extra["task_state"] is None,
               what="the snapshot task to end")
    driver.destroy_image(image.id)
    assert driver.get_image(image.id) is None


def test_image_of_a_missing_server_is_404(driver):
    with pytest.raises(ObjectNotFound):
        driver.create_image(instance_id="00000000-0000-0000-0000-000000000000", name="x")


# -- keys ---------------------------------------------------------------------------------------------

PUBLIC_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lDiHgj3eFBTMJSqPjmQS"
              "JZ7Q3ZiuG+2ZhczWqKfGNR3bPm9KRv6ILyAa5Pz1aJPHoVNDkHWLJlNUMuDeEcpmLsDzE0mT4k6xqEtp8N4XqsGWyBF57Y"
              "ZvZMT6B7XLsdKvJbNCjTa6ycNG8jMo3bNDkFEJyeu4oh3XdtVcYgJ1YXN+XY5CdgnfQjBUjgCIkaXkzfDL3jAyS6UL4+l"
              "CHZ12DapcnIE7Ccz8WGK8Mb3Q1/RXCSQyqhURcyvyV8TL5/4SYdIvCnOI8CrB7WD/zkvFsD5GkpWDhNaQ0Gd3Zzm1q9V7"
              "mdqZXEzMfV deltacloud-test")


def test_key_pairs(driver, cleanup):
    generated = driver.create_key(name="test-generated")
    cleanup.add("key", lambda: driver.destroy_key(generated.id))
    assert generated.id == generated.name == "test-generated"
    assert generated.pem_rsa_key.startswith("-----BEGIN")
    assert generated.fingerprint.count(":") == 15
    shown = driver.get_key("test-generated")
    assert shown.fingerprint == generated.fingerprint
    assert shown.pem_rsa_key is None

    imported = driver.create_key(name="test-imported", public_key=PUBLIC_KEY)
    cleanup.add("key", lambda: driver.destroy_key(imported.id))
    assert imported.pem_rsa_key is None
    assert imported.extra["public_key"] == PUBLIC_KEY
    assert {k.id for k in driver.list_keys()} >= {"test-generated", "test-imported"}
    assert [k.id for k in driver.list_keys(id="test-imported")] == ["test-imported"]

    with pytest.raises(Conflict, match="already exists") as info:
        driver.create_key(name="test-generated")
    assert info.value.status == 409
    with pytest.raises(ValidationError):
        driver.create_key(name="test-bad", public_key="not a key")

    driver.destroy_key("test-imported")
    assert driver.get_key("test-imported") is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_key("test-imported")


# -- quotas -------------------------------------------------------------------------------------------


@pytest.fixture
def no_quota(cloud, admin_sdk):
    """The domain user's project with no room for instances, cores or volume gigabytes."""
    project = admin_sdk.identity.find_project("dcproject", domain_id=admin_sdk.identity.find_domain("dcdomain").id)
    admin_sdk.set_compute_quotas(project.id, instances=0)
    admin_sdk.set_volume_quotas(project.id, gigabytes=0, volumes=0)
    yield OpenStackDriver(credentials=cloud.credentials("domain_user"), provider=cloud.provider)
    admin_sdk.set_compute_quotas(project.id, instances=10)
    admin_sdk.set_volume_quotas(project.id, gigabytes=1000, volumes=10)


def test_quota_exceeded_is_413(no_quota, cloud):
    with pytest.raises(RateLimited, match=r"[Qq]uota") as info:
        no_quota.create_instance(image_id=cloud.image_id, hwp_id="m1.tiny")
    assert info.value.status == 413
    with pytest.raises(RateLimited, match=r"[Qq]uota") as info:
        no_quota.create_storage_volume(capacity="1")
    assert info.value.status == 413


def test_a_server_nova_cannot_place_goes_to_error_and_can_be_destroyed(driver, cloud, cleanup, admin_sdk):
    # More disk than the fake hypervisor has (600000 GB), and disk has no quota: the scheduler refuses.
    flavor = admin_sdk.compute.create_flavor(id="test.toobig", name="test.toobig", ram=512, vcpus=1, disk=10**6)
    cleanup.add("flavor", lambda: admin_sdk.compute.delete_flavor(flavor, ignore_missing=True))
    created = driver.create_instance(image_id=cloud.image_id, hwp_id="test.toobig")
    cleanup.add("server", lambda: destroy_server(driver, created.id))
    seen = states_until(lambda: driver.get_instance(created.id), {"ERROR", "RUNNING"}, what="scheduling")
    assert seen[-1] == "ERROR"
    assert set(seen) <= {"PENDING", "ERROR"}
    failed = driver.get_instance(created.id)
    assert "No valid host" in failed.extra["fault"]
    assert driver.instance_actions_for(failed) == ["destroy"]
    assert not failed.create_image
    driver.destroy_instance(created.id)
    wait_until(lambda: driver.get_instance(created.id), lambda i: i is None, what="failed server gone")
