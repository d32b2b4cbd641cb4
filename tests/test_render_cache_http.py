"""The render cache seen from outside: repeated lists are the same bytes, changes show at once."""

from __future__ import annotations

import hashlib

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


def test_new_but_equal_models_hit_the_cache_and_nothing_is_asked_of_drivers(client, app) -> None:
    """The mock builds its models afresh from the store's rows; equal models hit all the same."""
    first = client.get("/api/instances", headers=JSON)
    kept = dict(app.services.fragments._entries)
    assert kept, "the first list keeps one rendering per instance"
    models = {key: entry[0] for key, entry in kept.items()}
    driver = app.drivers.load("mock")
    assert not hasattr(driver, "REUSES_MODELS")
    again = client.get("/api/instances", headers=JSON)
    assert again.content == first.content
    assert {key: entry[1] for key, entry in app.services.fragments._entries.items()} == {
        key: entry[1] for key, entry in kept.items()}
    # An equal model made anew (not the kept object) hits: the cache compares by value.
    key, model = next(iter(models.items()))
    scope = key[0]
    fresh = type(model)(**{f: getattr(model, f) for f in model.__dataclass_fields__})
    assert fresh is not model and fresh == model
    assert app.services.fragments.get(scope, fresh) is kept[key][1]
