"""What the kit cannot know about this driver: its file, its users, its error translation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deltacloud_core import (
    AuthenticationFailure,
    AuthenticationRequired,
    BackendError,
    Conflict,
    Credentials,
    ValidationError,
)

from deltacloud_jsonfile.driver import JsonFileDriver

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHKdm5qnF+oNQwIUBdbGmGK3JfKjVs5l1Bq4dCbI5mCw alice@example"


@pytest.fixture
def directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DELTACLOUD_JSONFILE_DIR", str(tmp_path))
    return tmp_path


def test_state_persists_in_the_file(directory: Path) -> None:
    created = JsonFileDriver().create_instance(image_id="debian-12", name="web")
    JsonFileDriver().stop_instance(created.id)
    saved = json.loads((directory / "default.json").read_text())
    assert [(i["id"], i["name"], i["state"]) for i in saved["instances"]] == [("inst-1", "web", "STOPPED")]
    assert JsonFileDriver().get_instance("inst-1").state == "STOPPED"


def test_one_file_per_provider(directory: Path) -> None:
    JsonFileDriver(provider="lab").create_key(name="ops")
    assert [k.id for k in JsonFileDriver(provider="lab").list_keys()] == ["ops"]
    assert JsonFileDriver().list_keys() == []
    assert [p.id for p in JsonFileDriver().providers()] == ["default", "lab"]
    with pytest.raises(ValidationError):
        JsonFileDriver(provider="../etc").list_keys()


def test_users_in_the_file_require_credentials(directory: Path) -> None:
    (directory / "default.json").write_text(json.dumps({"users": {"alice": "s3cret"}}))
    assert [r.id for r in JsonFileDriver(credentials=Credentials("alice", "s3cret")).list_realms()] == ["local"]
    with pytest.raises(AuthenticationRequired):
        JsonFileDriver().list_realms()
    with pytest.raises(AuthenticationFailure):
        JsonFileDriver(credentials=Credentials("alice", "wrong")).list_realms()
    assert JsonFileDriver(credentials=Credentials("alice", "wrong")).validate_credentials() is False


def test_a_broken_file_is_a_backend_error(directory: Path) -> None:
    (directory / "default.json").write_text("{not json")
    with pytest.raises(BackendError, match="not valid JSON"):
        JsonFileDriver().list_images()


def test_keys_import_or_generate(directory: Path) -> None:
    driver = JsonFileDriver()
    imported = driver.create_key(name="alice", public_key=ED25519)
    assert imported.credential_type == "key"
    assert len(imported.fingerprint.split(":")) == 16
    generated = driver.create_key(name="bob")
    assert (generated.credential_type, generated.username) == ("password", "bob")
    assert generated.password
    with pytest.raises(Conflict):
        driver.create_key(name="bob")
    with pytest.raises(ValidationError):
        driver.create_key(name="carol", public_key="not a key")


def test_create_checks_what_it_refers_to(directory: Path) -> None:
    driver = JsonFileDriver()
    with pytest.raises(ValidationError, match="Image 'nope'"):
        driver.create_instance(image_id="nope")
    with pytest.raises(ValidationError, match="Realm 'mars'"):
        driver.create_instance(image_id="debian-12", realm_id="mars")
    with pytest.raises(ValidationError, match="Key 'ghost'"):
        driver.create_instance(image_id="debian-12", keyname="ghost")
