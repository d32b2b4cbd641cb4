"""Cheap polling (issue 21): ``If-None-Match`` with the current ETag answers 304 without a body, and
an unchanged list costs no rendering (the render cache hands back the same document and ETag)."""

from __future__ import annotations

JSON = {"Accept": "application/json"}


def test_the_current_etag_answers_304_without_a_body(client) -> None:
    first = client.get("/api/instances", headers=JSON)
    etag = first.headers["etag"]
    again = client.get("/api/instances", headers={**JSON, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert "content-type" not in again.headers and again.headers.get("content-length", "0") == "0"


def test_a_304_renders_nothing(client, app) -> None:
    etag = client.get("/api/instances", headers=JSON).headers["etag"]
    fragments = app.services.fragments
    documents = dict(fragments._documents)  # the kept list documents, by identity
    entries = len(fragments)
    assert client.get("/api/instances", headers={**JSON, "If-None-Match": etag}).status_code == 304
    assert all(fragments._documents[k] is v for k, v in documents.items())  # not joined again
    assert len(fragments) == entries  # no item rendered


def test_quoted_weak_lists_and_star_match(client) -> None:
    etag = client.get("/api/instances", headers=JSON).headers["etag"]
    for condition in (f'"{etag}"', f'W/"{etag}"', f'"other", "{etag}"', "*"):
        assert client.get("/api/instances", headers={**JSON, "If-None-Match": condition}).status_code == 304


def test_a_change_or_another_etag_answers_200(client) -> None:
    etag = client.get("/api/instances", headers=JSON).headers["etag"]
    assert client.get("/api/instances", headers={**JSON, "If-None-Match": '"stale"'}).status_code == 200
    assert client.post("/api/instances/inst0/stop", headers=JSON).status_code == 202
    changed = client.get("/api/instances", headers={**JSON, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_members_and_the_entry_point_too(client) -> None:
    for path in ("/api/instances/inst1", "/api", "/api/images"):
        etag = client.get(path, headers=JSON).headers["etag"]
        assert client.get(path, headers={**JSON, "If-None-Match": etag}).status_code == 304, path


def test_writes_are_never_304(client) -> None:
    etag = client.get("/api/instances", headers=JSON).headers["etag"]
    created = client.post("/api/instances", data={"image_id": "img1"}, headers={**JSON, "If-None-Match": etag})
    assert created.status_code == 201
