"""Key creation and deletion."""

from __future__ import annotations

import re

import pytest
from deltacloud_core.errors import ForbiddenError, ObjectNotFound

from deltacloud_mock.driver import MockDriver, random_fingerprint, random_pem
from deltacloud_mock.store import MockStore

FINGERPRINT_RE = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){19}")
PEM_RE = re.compile(r"-----BEGIN RSA PRIVATE KEY-----\n(?:[A-Za-z0-9=/+]{75}\n){21}[A-Za-z0-9=/+]{68}"
                    r"-----END RSA PRIVATE KEY-----")


def test_random_material():
    fingerprints = {random_fingerprint() for _ in range(5)}
    assert len(fingerprints) == 5
    assert all(FINGERPRINT_RE.fullmatch(f) for f in fingerprints)
    pems = {random_pem() for _ in range(3)}
    assert len(pems) == 3
    assert all(PEM_RE.fullmatch(p) for p in pems)


def test_create_key(driver: MockDriver, store: MockStore):
    key = driver.create_key(name="goldencheck-k0", public_key="ssh-rsa ignored")
    assert key.id == "goldencheck-k0"
    assert key.name == "goldencheck-k0"
    assert key.credential_type == "key"
    assert key.state is None
    assert FINGERPRINT_RE.fullmatch(key.fingerprint or "")
    assert PEM_RE.fullmatch(key.pem_rsa_key or "")
    assert driver.get_key("goldencheck-k0") == key
    assert [k.id for k in driver.list_keys()] == ["goldencheck-k0", "test-key"]  # byte order
    assert "public_key" not in store.get("keys", "goldencheck-k0")


def test_create_duplicate_key(driver: MockDriver):
    original = driver.get_key("test-key")
    with pytest.raises(ForbiddenError) as info:
        driver.create_key(name="test-key")
    assert info.value.message == "Key with same name already exists"
    assert info.value.status == 403
    assert driver.get_key("test-key") == original


def test_destroy_key(driver: MockDriver):
    driver.create_key(name="k1")
    assert driver.destroy_key("k1") is None
    assert driver.get_key("k1") is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_key("k1")
    driver.destroy_key("test-key")
    assert driver.list_keys() == []
