"""The direct dispatch of operation endpoints and the router's remembered matches."""

from __future__ import annotations

import pytest
from conftest import BASE_URL, MOCK_AUTH
from starlette.testclient import TestClient


def test_other_paths_first_then_the_api(app) -> None:
    """Starlette's own walk may build the router's index before any API request does."""
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/").status_code == 200
        assert client.get("/robots.txt").status_code == 200
        assert client.get("/api/instances", auth=MOCK_AUTH).status_code == 200


def test_remembered_matches_keep_each_requests_own_path_parameters(client) -> None:
    for _ in range(2):  # the second round comes from the router's table
        for instance in ("inst0", "inst1", "inst2"):
            answer = client.get(f"/api/instances/{instance}", headers={"Accept": "application/json"})
            assert answer.status_code == 200
            assert answer.json()["instance"]["id"] == instance
        assert client.get("/api/instances/nosuch").status_code == 404


def test_paths_the_operations_do_not_serve_still_answer_as_before(client) -> None:
    for _ in range(2):
        assert client.get("/api/nosuch").status_code == 404
        assert client.get("/api/instances/").status_code == 404  # no slash redirect
        assert client.put("/api/instances").status_code == 404  # a method mismatch is a 404
        assert client.options("/api/instances").status_code == 200


def test_an_endpoint_that_raises_is_a_500_and_the_error_goes_on(app, monkeypatch: pytest.MonkeyPatch) -> None:
    from deltacloud_core.web import pipeline

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "run_operation", broken)
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        answer = client.get("/api/instances", auth=MOCK_AUTH)
    assert answer.status_code == 500
    assert answer.text == "Internal Server Error"
    with TestClient(app, base_url=BASE_URL) as client, pytest.raises(RuntimeError, match="boom"):
        client.get("/api/instances", auth=MOCK_AUTH)
