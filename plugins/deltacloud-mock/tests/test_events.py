"""Events on the mock through a real ``deltacloudd``: the mock announces its own changes, so the
watcher's polling is set to every 300 s and every event within the tests' bounds was pushed.

With one process (the in-process backend) and with two workers sharing Redis (a change made by
one worker reaches subscribers of the other through the Redis nudges and stream).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from deltacloud_core.testing.events import EventStream, StreamEvent
from deltacloud_core.testing.redis_server import running_redis
from deltacloud_core.testing.server import running_server

AUTH = ("mockuser", "mockpassword")
#: Polling so rare that only the mock's own announcements can deliver within the tests' bounds.
PUSH_ONLY = {"DELTACLOUD_EVENTS_POLL_MIN": "300", "DELTACLOUD_EVENTS_POLL_MAX": "300"}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELTACLOUD_")}
    env.update({"DELTACLOUD_MOCK_STORAGE": str(tmp_path / "mock"), **PUSH_ONLY, **extra})
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("events")
    with running_server(driver="mock", env=_env(base), log_path=base / "deltacloudd.log") as url:
        yield url


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, auth=AUTH, headers={"Accept": "application/json"}, timeout=30) as client:
        yield client


def _launch(api: httpx.Client) -> str:
    answer = api.post("/api/instances", data={"image_id": "img1", "hwp_id": "m1-small"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["instance"]["id"])


def test_the_entry_point_links_the_stream(api: httpx.Client, server: str) -> None:
    answer = api.get("/api")
    assert answer.headers["link"] == f'<{server}/api/events>; rel="events"'
    assert "events" not in answer.text  # the document itself is the original's


def test_create_stop_start_destroy_arrive_in_order_with_ids(api: httpx.Client, server: str) -> None:
    with EventStream(server, AUTH, collection="instances") as stream:
        assert stream.wait_open().status_code == 200
        iid = _launch(api)
        created = stream.next()
        assert (created.event, created.resource_id) == ("created", iid)
        assert created.data["instance"]["state"] == "RUNNING"
        assert created.data["instance"]["href"] == f"{server}/api/instances/{iid}"  # as GET answers it
        assert created.data["instance"] == api.get(f"/api/instances/{iid}").json()["instance"]
        assert api.post(f"/api/instances/{iid}/stop").status_code == 202
        stopped = stream.next()
        assert (stopped.event, stopped.data["from"], stopped.data["to"]) == ("state", "RUNNING", "STOPPED")
        assert stopped.data["instance"] == api.get(f"/api/instances/{iid}").json()["instance"]
        assert "start" in [a["rel"] for a in stopped.data["instance"]["actions"]]
        assert api.post(f"/api/instances/{iid}/start").status_code == 202
        started = stream.next()
        assert (started.event, started.data["to"]) == ("state", "RUNNING")
        api.post(f"/api/instances/{iid}/stop")
        assert stream.next().data["to"] == "STOPPED"
        assert api.delete(f"/api/instances/{iid}").status_code == 204
        destroyed = stream.next()
        assert (destroyed.event, destroyed.resource_id) == ("destroyed", iid)
        ids = [e.id for e in (created, stopped, started, destroyed)]
        assert all(ids)
        assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
        assert len(set(ids)) == 4


def test_filters_by_id_and_state(api: httpx.Client, server: str) -> None:
    first, second = _launch(api), _launch(api)
    with EventStream(server, AUTH, collection="instances", id=second) as by_id, \
            EventStream(server, AUTH, collection="instances", state="STOPPED") as by_state:
        by_id.wait_open()
        by_state.wait_open()
        api.post(f"/api/instances/{first}/stop")
        api.post(f"/api/instances/{second}/stop")
        assert by_id.next().resource_id == second
        assert [by_state.next().resource_id, by_state.next().resource_id] == [first, second]
        api.delete(f"/api/instances/{first}")
        api.delete(f"/api/instances/{second}")
        assert by_id.next("destroyed").resource_id == second
        assert by_state.next().resource_id == first  # destroyed while STOPPED
        assert not [e for e in by_id.drain() if e.resource_id == first]


def test_resume_after_a_dropped_connection_loses_nothing(api: httpx.Client, server: str) -> None:
    iid = _launch(api)
    with EventStream(server, AUTH, collection="instances") as keeper:  # keeps the watcher going
        keeper.wait_open()
        with EventStream(server, AUTH, collection="instances", id=iid) as stream:
            stream.wait_open()
            api.post(f"/api/instances/{iid}/stop")
            assert stream.next().data["to"] == "STOPPED"
            last = stream.last_id
        api.post(f"/api/instances/{iid}/start")  # while the client is away
        api.post(f"/api/instances/{iid}/stop")
        assert [keeper.next("state").data["to"] for _ in range(3)] == ["STOPPED", "RUNNING", "STOPPED"]
        with EventStream(server, AUTH, collection="instances", id=iid, last_event_id=last) as again:
            again.wait_open()
            missed = [again.next(), again.next()]
            assert [(e.event, e.data["to"]) for e in missed] == [("state", "RUNNING"), ("state", "STOPPED")]
            assert last not in [e.id for e in missed]
            api.delete(f"/api/instances/{iid}")
            assert again.next().event == "destroyed"
            assert again.drain() == []


def test_resume_after_the_watcher_stopped_reports_what_changed_meanwhile(api: httpx.Client, server: str) -> None:
    iid = _launch(api)
    with EventStream(server, AUTH, collection="instances", id=iid) as stream:
        stream.wait_open()
        api.post(f"/api/instances/{iid}/stop")
        assert stream.next().data["to"] == "STOPPED"
        last = stream.last_id
    # The only subscriber left, so the watcher stopped (and forgot the credentials); its snapshot
    # stays for the retention time, and the next watcher reports the difference.
    api.post(f"/api/instances/{iid}/start")
    with EventStream(server, AUTH, collection="instances", id=iid, last_event_id=last) as again:
        again.wait_open()
        change = again.next()
        assert (change.event, change.data["from"], change.data["to"]) == ("state", "STOPPED", "RUNNING")
        api.post(f"/api/instances/{iid}/stop")
        api.delete(f"/api/instances/{iid}")
        assert again.next().data["to"] == "STOPPED"
        assert again.next().event == "destroyed"


def test_an_unknown_last_event_id_gets_a_reset_with_the_snapshot(api: httpx.Client, server: str) -> None:
    iid = _launch(api)
    with EventStream(server, AUTH, collection="instances", last_event_id="1-0") as stream:
        stream.wait_open()
        reset = stream.next()
        assert reset.event == "reset"
        listed = {i["id"] for i in api.get("/api/instances").json()["instances"]}
        assert {i["id"] for i in reset.data["instances"]} == listed
        assert iid in listed
        assert reset.id is not None
        api.delete(f"/api/instances/{iid}")
    assert stream.last_id is not None


@pytest.mark.parametrize(("params", "headers", "auth", "status", "says"), [
    ({}, {"Accept": "application/json"}, AUTH, 406, ""),
    ({"collection": "keys"}, {}, AUTH, 400, "not 'keys'"),
    ({}, {}, None, 401, ""),
    ({}, {}, ("mockuser", "wrong"), 401, "refused"),
])
def test_clear_errors_before_the_stream_starts(server: str, params: dict[str, str], headers: dict[str, str],
                                               auth: tuple[str, str] | None, status: int, says: str) -> None:
    answer = httpx.get(f"{server}/api/events", params=params, auth=auth,
                       headers={"Accept": "text/event-stream", **headers}, timeout=30)
    assert answer.status_code == status, answer.text
    assert says in answer.text
    if status == 401 and auth is None:
        assert answer.headers["www-authenticate"].startswith("Basic")


def test_limit_per_credentials(tmp_path: Path) -> None:
    env = _env(tmp_path, DELTACLOUD_EVENTS_MAX_PER_CREDENTIALS="1")
    with running_server(driver="mock", env=env) as url, EventStream(url, AUTH, collection="instances") as first:
        assert first.wait_open().status_code == 200
        second = httpx.get(f"{url}/api/events", auth=AUTH, headers={"Accept": "text/event-stream"}, timeout=30)
        assert second.status_code == 429
        assert second.headers["retry-after"] == "5"
        assert "1 event streams are open" in second.text


def test_two_workers_share_events_through_redis(tmp_path: Path) -> None:
    with running_redis() as redis_url:
        env = _env(tmp_path, DELTACLOUD_REDIS_URL=redis_url)
        with running_server(driver="mock", env=env, workers=2, log_path=tmp_path / "d.log") as url, \
                httpx.Client(base_url=url, auth=AUTH, headers={"Accept": "application/json"}, timeout=30) as api:
            streams = [EventStream(url, AUTH, collection="instances").__enter__() for _ in range(4)]
            try:
                for stream in streams:
                    assert stream.wait_open().status_code == 200
                seen: list[list[StreamEvent]] = [[] for _ in streams]
                for _round in range(3):  # each request lands on either worker
                    iid = _launch(api)
                    for stream, got in zip(streams, seen, strict=True):
                        got.append(stream.next())
                    api.post(f"/api/instances/{iid}/stop")
                    for stream, got in zip(streams, seen, strict=True):
                        got.append(stream.next())
                    api.delete(f"/api/instances/{iid}")
                    for stream, got in zip(streams, seen, strict=True):
                        got.append(stream.next())
                        assert [(e.event, e.resource_id) for e in got[-3:]] == [
                            ("created", iid), ("state", iid), ("destroyed", iid)]
                for got in seen:
                    assert [e.id for e in got] == [e.id for e in seen[0]]  # one history, the same ids
                    assert len({e.id for e in got}) == 9
            finally:
                for stream in streams:
                    stream.close()
