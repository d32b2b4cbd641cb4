"""Buckets = Azure containers, through the driver, against Azurite."""

from __future__ import annotations

import io

import pytest
from conftest import new_name
from deltacloud_core import Conflict, ForbiddenError, ObjectNotFound, ValidationError


def test_create_show_list_destroy(driver, sdk):
    name = new_name("c")
    created = driver.create_bucket(name=name)
    assert (created.id, created.name, created.size, created.blob_ids) == (name, name, 0, ())
    assert sdk.get_container_client(name).exists()
    try:
        shown = driver.get_bucket(name)
        assert shown is not None
        assert (shown.id, shown.size, shown.blob_ids) == (name, 0, ())
        listed = {b.id: b for b in driver.list_buckets()}
        assert name in listed
        assert listed[name].size is None
        assert [b.id for b in driver.list_buckets(id=name)] == [name]
    finally:
        driver.destroy_bucket(name)
    assert not sdk.get_container_client(name).exists()
    assert driver.get_bucket(name) is None
    assert driver.list_buckets(id=name) == []


def test_show_lists_and_counts_blobs(driver, sdk, bucket):
    for blob_id in ("a", "dir/b", "c.txt"):
        sdk.get_blob_client(bucket, blob_id).upload_blob(b"x")
    shown = driver.get_bucket(bucket)
    assert shown is not None
    assert sorted(shown.blob_ids) == ["a", "c.txt", "dir/b"]
    assert shown.size == 3


def test_location_and_extra_parameters_are_ignored(driver, sdk):
    name = new_name("c")
    driver.create_bucket(name=name, location="EU", anything="else")
    try:
        assert sdk.get_container_client(name).exists()
    finally:
        sdk.delete_container(name)


def test_existing_container_is_a_conflict(driver, bucket):
    with pytest.raises(Conflict) as info:
        driver.create_bucket(name=bucket)
    assert info.value.status == 409
    assert info.value.backend_code == "ContainerAlreadyExists"


def test_invalid_container_name_is_a_bad_request(driver):
    for name in ("ab", "Upper-Case", "under_score"):
        with pytest.raises(ValidationError) as info:
            driver.create_bucket(name=name)
        assert info.value.status == 400, name
        assert info.value.backend_code, name


def test_unknown_bucket(driver):
    assert driver.get_bucket("no-such-container") is None
    with pytest.raises(ObjectNotFound) as info:
        driver.destroy_bucket("no-such-container")
    assert info.value.backend_code == "ContainerNotFound"


def test_non_empty_bucket_is_not_deleted(driver, sdk, bucket):
    driver.create_blob(bucket, "keep", data=io.BytesIO(b"data"), content_type="", user_metadata={})
    with pytest.raises(ForbiddenError):
        driver.destroy_bucket(bucket)
    assert sdk.get_blob_client(bucket, "keep").exists()
    driver.destroy_blob(bucket, "keep")
    driver.destroy_bucket(bucket)
    assert not sdk.get_container_client(bucket).exists()
