"""Images made from instances, image listing order, deletion."""

from __future__ import annotations

import pytest
from deltacloud_core.errors import BackendError, ObjectNotFound, ValidationError

from deltacloud_mock.driver import MockDriver
from deltacloud_mock.store import MockStore


def test_create_image(driver: MockDriver, store: MockStore):
    image = driver.create_image(instance_id="inst1", name="myimg", description="made by a test")
    assert (image.id, image.name, image.owner_id, image.architecture, image.state, image.description) == (
        "myimg", "myimg", "root", "i386", "AVAILABLE", "made by a test")
    assert image.creation_time is None
    assert image.hardware_profiles is None  # as the original's create answer
    assert store.get("images", "myimg") == {
        "id": "myimg", "name": "myimg", "owner_id": "root", "state": "AVAILABLE",
        "description": "made by a test", "architecture": "i386"}
    shown = driver.get_image("myimg")
    assert shown is not None
    assert shown.hardware_profiles == ("m1-small", "m1-large", "m1-xlarge", "opaque")
    assert shown.creation_time is None
    assert [i.id for i in driver.list_images()] == ["img1", "img2", "img3", "myimg"]


def test_create_image_overwrites_same_name(driver: MockDriver):
    driver.create_image(instance_id="inst1", name="same", description="one")
    driver.create_image(instance_id="inst0", name="same", description="two")
    image = driver.get_image("same")
    assert image is not None
    assert image.description == "two"


def test_create_image_errors(driver: MockDriver, store: MockStore):
    with pytest.raises(ValidationError):
        driver.create_image(instance_id="inst1")
    with pytest.raises(ValidationError):
        driver.create_image(instance_id="inst1", name="")
    with pytest.raises(ObjectNotFound) as info:
        driver.create_image(instance_id="nope", name="x")
    assert info.value.message == "NotFound"
    with pytest.raises(BackendError) as info:
        driver.create_image(instance_id="inst3", name="x")
    assert info.value.message == "CreateImageNotSupported"
    assert info.value.status == 500
    assert store.ids("images") == ["img1", "img2", "img3"]


def test_image_sort_with_missing_description(driver: MockDriver):
    driver.create_image(instance_id="inst1", name="b-with")
    driver.create_image(instance_id="inst1", name="a-without", description="zzz")
    driver.create_image(instance_id="inst0", name="c-none")
    # Sorted by (owner, description); missing descriptions sort as "" (no failure).
    assert [i.id for i in driver.list_images()] == ["img1", "img2", "img3", "b-with", "c-none", "a-without"]
    assert [i.id for i in driver.list_images(owner_id="root")] == ["b-with", "c-none", "a-without"]


def test_destroy_image(driver: MockDriver, store: MockStore):
    assert driver.destroy_image("img2") is None
    assert store.ids("images") == ["img1", "img3"]
    driver.destroy_image("img2")  # unknown: silently fine
    assert driver.get_image("img2") is None
