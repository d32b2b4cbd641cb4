"""The render cache seen from outside: repeated lists are the same bytes, changes show at once."""

from __future__ import annotations

import hashlib

import pytest

JSON = {"Accept": "application/json"}


def test_a_repeated_list_is_the_same_answer_and_a_change_shows_at_once(client, app) -> None:
    first = client.get("/api/instances", headers=JSON)
    again = client.get("/api/instances", headers=JSON)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert first.headers["etag"] == again.headers["etag"] == hashlib.md5(first.content).hexdigest()
    count = len(first.json()["instances"])
    assert count > 0
    assert len(app.services.fragments) == count  # one rendering kept per instance

    running = next(i for i in first.json()["instances"] if i["state"] == "RUNNING")
    assert client.post(f"/api/instances/{running['id']}/stop", headers=JSON).status_code == 202
    after = client.get("/api/instances", headers=JSON)
    changed = next(i for i in after.json()["instances"] if i["id"] == running["id"])
    assert changed["state"] == "STOPPED"
    assert after.headers["etag"] == hashlib.md5(after.content).hexdigest() != first.headers["etag"]
    assert {a["rel"] for a in changed["actions"]} != {a["rel"] for a in running["actions"]}


def test_other_hosts_get_their_own_links(client) -> None:
    here = client.get("/api/instances", headers=JSON)
    there = client.get("/api/instances", headers={**JSON, "Host": "elsewhere.example:8080"})
    assert "http://127.0.0.1:3001/api/instances/" in here.text
    assert "http://elsewhere.example:8080/api/instances/" in there.text
    assert "127.0.0.1" not in there.text


def test_drivers_that_build_new_models_do_not_fill_the_cache(client, app, monkeypatch: pytest.MonkeyPatch) -> None:
    driver_cls = app.drivers.load("mock")
    monkeypatch.setattr(driver_cls, "REUSES_MODELS", frozenset())
    assert client.get("/api/instances", headers=JSON).status_code == 200
    assert client.get("/api/instances").status_code == 200
    assert len(app.services.fragments) == 0
