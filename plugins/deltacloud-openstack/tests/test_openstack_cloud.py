"""Against the test cloud: logging in, providers and regions, the token cache, unreachable clouds,
realms, hardware profiles and images."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from deltacloud_core import (
    AuthenticationFailure,
    AuthenticationRequired,
    Credentials,
    ForbiddenError,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    ValidationError,
)

from deltacloud_openstack import OpenStackDriver
from deltacloud_openstack.session import SESSIONS

# -- credentials --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["demo", "demo@demo", "demo+demo", "Default/demo@demo"])
def test_demo_user_forms_reach_project_demo(cloud, who):
    driver = OpenStackDriver(credentials=Credentials(who, cloud.users["demo"]["password"]), provider=cloud.provider)
    assert driver.validate_credentials()
    assert driver.cloud.access.project_name == "demo"


def test_user_without_default_project_gets_the_project_named_like_it(cloud):
    admin = OpenStackDriver(credentials=Credentials("admin", "secret"), provider=cloud.provider)
    assert admin.cloud.access.project_name == "admin"


def test_user_in_another_domain(cloud):
    driver = OpenStackDriver(credentials=cloud.credentials("domain_user"), provider=cloud.provider)
    assert driver.cloud.access.project_name == "dcproject"
    assert driver.list_instances() == []


def test_wrong_password_is_401_and_never_cached(cloud):
    driver = OpenStackDriver(credentials=Credentials("demo", "wrong"), provider=cloud.provider)
    assert driver.validate_credentials() is False
    with pytest.raises(AuthenticationFailure) as info:
        driver.list_realms()
    assert info.value.status == 401
    assert "authentication" in info.value.message.lower()
    assert all(key[0] != Credentials("demo", "wrong").digest() for key in SESSIONS._items)


def test_no_credentials_asks_for_them(cloud):
    driver = OpenStackDriver(credentials=None, provider=cloud.provider)
    with pytest.raises(AuthenticationRequired):
        driver.list_images()


def test_project_the_user_is_not_in_is_401(cloud):
    driver = OpenStackDriver(credentials=Credentials("demo@admin", "demopass"), provider=cloud.provider)
    with pytest.raises(AuthenticationFailure):
        driver.list_realms()


# -- provider and regions -----------------------------------------------------------------------------


def test_region_matches_case_insensitively(cloud, demo):
    # The server lower-cases provider strings: "regionone" must still find "RegionOne".
    driver = OpenStackDriver(credentials=demo, provider=cloud.provider.lower())
    assert driver.cloud.region == cloud.region
    assert [r.id for r in driver.list_realms()] == ["nova"]


def test_unknown_region_is_400_naming_the_known_ones(cloud, demo):
    driver = OpenStackDriver(credentials=demo, provider=f"{cloud.auth_url};Atlantis")
    with pytest.raises(ValidationError, match="RegionOne"):
        driver.list_realms()


def test_provider_without_region_uses_the_catalogue(cloud, demo):
    driver = OpenStackDriver(credentials=demo, provider=cloud.auth_url)
    assert driver.cloud.region is None
    assert driver.list_hardware_profiles()


def test_providers_lists_the_catalogue_regions(driver, cloud):
    (region,) = driver.providers()
    assert region.id == "RegionOne"
    assert region.entrypoints["provider"] == f"{cloud.auth_url};RegionOne"
    assert region.entrypoints["compute"].startswith("http://127.0.0.1:8774")


def test_sessions_are_cached_per_credentials_and_provider(cloud, demo):
    SESSIONS.forget(demo, cloud.provider)
    first = OpenStackDriver(credentials=demo, provider=cloud.provider).cloud
    again = OpenStackDriver(credentials=demo, provider=cloud.provider).cloud
    assert again is first
    # Until the token expires (Keystone's default: an hour from now).
    assert 3000 < first.expires_at - time.time() <= 3600
    other = OpenStackDriver(credentials=demo, provider=cloud.auth_url).cloud
    assert other is not first


def test_an_expired_token_means_a_new_login(cloud, demo, monkeypatch):
    first = OpenStackDriver(credentials=demo, provider=cloud.provider).cloud
    monkeypatch.setattr(SESSIONS, "clock", lambda: first.expires_at - 30)  # inside the minute of skew
    second = OpenStackDriver(credentials=demo, provider=cloud.provider).cloud
    assert second is not first
    assert second.session.get_token() != first.session.get_token()  # a new Keystone token
    monkeypatch.undo()
    assert OpenStackDriver(credentials=demo, provider=cloud.provider).cloud is second


def test_unreachable_cloud_is_502(demo):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    driver = OpenStackDriver(credentials=demo, provider=f"http://127.0.0.1:{port}/v3")
    with pytest.raises(ProviderError) as info:
        driver.list_realms()
    assert info.value.status == 502
    assert "could not be reached" in info.value.message


def test_silent_cloud_is_504(demo, monkeypatch):
    """A server that accepts the connection and never answers."""
    monkeypatch.setenv("DELTACLOUD_OPENSTACK_TIMEOUT", "0.5")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        driver = OpenStackDriver(credentials=demo, provider=f"http://127.0.0.1:{listener.getsockname()[1]}/v3")
        started = time.monotonic()
        with pytest.raises(ProviderTimeout) as info:
            driver.list_realms()
        assert info.value.status == 504
        assert time.monotonic() - started < 10
    finally:
        stop.set()
        thread.join(5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_not_keystone_is_502(demo, cloud):
    # Glance's URL answers, but not as Keystone.
    driver = OpenStackDriver(credentials=demo, provider="http://127.0.0.1:9292/v3")
    with pytest.raises(ProviderError) as info:
        driver.list_realms()
    assert info.value.status == 502


# -- realms -------------------------------------------------------------------------------------------


def test_realms_are_availability_zones(driver):
    (realm,) = driver.list_realms()
    assert (realm.id, realm.name, realm.state) == ("nova", "nova", "AVAILABLE")
    assert realm.limit == 10  # the project's instance quota
    assert driver.get_realm("nova") == realm
    assert driver.get_realm("atlantis") is None


# -- hardware profiles --------------------------------------------------------------------------------


def test_hardware_profiles_are_flavors(driver):
    profiles = {p.id: p for p in driver.list_hardware_profiles()}
    assert set(profiles) == {"m1.tiny", "m1.small"}
    tiny = profiles["m1.tiny"]
    assert {p.name: (p.kind, p.value) for p in tiny.properties} == {
        "cpu": ("fixed", 1), "memory": ("fixed", 512), "storage": ("fixed", 1), "architecture": ("fixed", "x86_64")}
    assert driver.get_hardware_profile("m1.small").property("memory").value == 2048
    assert driver.get_hardware_profile("m1.huge") is None
    assert [p.id for p in driver.list_hardware_profiles(id="m1.tiny")] == ["m1.tiny"]
    assert driver.list_hardware_profiles(architecture="i386") == []
    assert len(driver.list_hardware_profiles(architecture="x86_64")) == 2


# -- images -------------------------------------------------------------------------------------------


def test_images_come_from_glance(driver, cloud):
    images = {i.id: i for i in driver.list_images()}
    image = images[cloud.image_id]
    assert image.name == "cirros-fake"
    assert image.state == "AVAILABLE"
    assert image.architecture == "x86_64"
    assert image.hardware_profiles == ("m1.tiny", "m1.small")
    assert image.creation_time
    assert driver.get_image(cloud.image_id) == image
    assert driver.get_image("deltacloud-missing") is None
    assert driver.get_image("00000000-0000-0000-0000-000000000000") is None


def test_image_owner_filter(driver, admin_driver, cloud):
    public = driver.get_image(cloud.image_id)
    assert public.owner_id == admin_driver.cloud.project_id
    assert cloud.image_id not in {i.id for i in driver.list_images(owner_id="self")}
    assert cloud.image_id in {i.id for i in admin_driver.list_images(owner_id="self")}
    assert [i.id for i in driver.list_images(owner_id=public.owner_id)] == [cloud.image_id]


def test_deleting_someone_elses_image_is_403(driver, cloud):
    with pytest.raises(ForbiddenError) as info:
        driver.destroy_image(cloud.image_id)
    assert info.value.status == 403
    assert driver.get_image(cloud.image_id) is not None


def test_deleting_a_missing_image_is_404(driver):
    with pytest.raises(ObjectNotFound):
        driver.destroy_image("00000000-0000-0000-0000-000000000000")
