"""Events on ec2 over moto through a real ``deltacloudd``: the driver does not announce anything,
so every event comes from the watcher polling ``DescribeInstances``.

moto records every request it serves (``MOTO_ENABLE_RECORDING``, one JSON line per request in a
file of ours): the number of watchers is counted from that log, the backend's own, not from the
server. With two workers sharing Redis, one process polls; when it is killed, the other takes
over the lease, and no subscriber sees an event twice or misses one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import httpx
import pytest
from conftest import AUTH, IMAGE_X86_64
from moto_process import MotoServer

from deltacloud_core.testing.events import EventStream, StreamEvent
from deltacloud_core.testing.redis_server import running_redis
from deltacloud_core.testing.server import running_server

#: The watcher's pause between two listings (set both ways: a fixed rate to count against).
POLL = 0.5
#: Seconds of changes during which moto's listings are counted.
WINDOW = 8.0
#: Keys of a second moto account (made by the test through IAM in account 222222222222).
OTHER_ACCOUNT = "222222222222"


class RecordingMoto(MotoServer):
    """A moto server of this module that writes its request log."""

    def requests(self) -> list[dict[str, object]]:
        path = Path(self.extra_env["MOTO_RECORDER_FILEPATH"])
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def listings(self) -> int:
        """``DescribeInstances`` calls that list (a watcher's), not those reading one instance."""
        return sum(1 for entry in self.requests()
                   if "Action=DescribeInstances" in _body(entry) and "InstanceId." not in _body(entry))

    def calls(self, action: str, since: int = 0) -> Counter[str]:
        """``action`` calls after the first ``since`` requests, by the access key that signed them."""
        found: Counter[str] = Counter()
        for entry in self.requests()[since:]:
            if f"Action={action}&" in _body(entry) or _body(entry).endswith(f"Action={action}"):
                headers = {str(k).lower(): str(v) for k, v in dict(entry.get("headers") or {}).items()}
                signed = re.search(r"Credential=([^/]+)/", headers.get("authorization", ""))
                found[signed.group(1) if signed else "?"] += 1
        return found


def _body(entry: dict[str, object]) -> str:
    body = str(entry.get("body") or "")
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    return body


@pytest.fixture(scope="module")
def recording_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordingMoto]:
    base = tmp_path_factory.mktemp("moto-recording")
    server = RecordingMoto(base / "moto.log", extra_env={
        "MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(base / "requests.jsonl")}).start()
    try:
        yield server
    finally:
        server.stop()


def _env(moto: MotoServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELTACLOUD_"))}
    env.update({"AWS_ENDPOINT_URL": moto.url, "DELTACLOUD_EVENTS_POLL_MIN": str(POLL),
                "DELTACLOUD_EVENTS_POLL_MAX": str(POLL), **extra})
    return env


def _api(url: str, auth: tuple[str, str] = AUTH) -> httpx.Client:
    return httpx.Client(base_url=url, auth=auth, headers={"Accept": "application/json"}, timeout=60)


def _launch(api: httpx.Client) -> str:
    answer = api.post("/api/instances", data={"image_id": IMAGE_X86_64, "hwp_id": "m1.large"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["instance"]["id"])


def _until_state(stream: EventStream, iid: str, state: str) -> list[StreamEvent]:
    """This instance's events up to the one that says it is in ``state`` (bounded waits)."""
    seen = []
    while True:
        event = stream.next(timeout=60)
        if event.resource_id != iid:
            continue
        seen.append(event)
        if event.event == "destroyed" and state == "DESTROYED":
            return seen
        if event.data.get("instance", {}).get("state") == state:
            return seen


def _until_state_or_end(stream: EventStream, iid: str, state: str) -> tuple[list[StreamEvent], bool]:
    """As :func:`_until_state`, or what came before the stream ended (True then)."""
    seen: list[StreamEvent] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            event = stream.events.get(timeout=0.5)
        except Exception:  # noqa: BLE001 - queue.Empty: look whether the stream ended
            if stream.ended.is_set() and stream.events.empty():
                return seen, True
            continue
        if event.resource_id != iid:
            continue
        seen.append(event)
        if event.data.get("instance", {}).get("state") == state:
            return seen, False
    raise AssertionError(f"{iid} did not reach {state} on a stream within 60 s")


def _id_key(event_id: str | None) -> tuple[int, ...]:
    assert event_id is not None
    return tuple(int(part) for part in event_id.split("-"))


def test_polled_events_for_create_actions_and_destroy(recording_moto: RecordingMoto, tmp_path: Path) -> None:
    recording_moto.reset()
    with running_server(driver="ec2", env=_env(recording_moto), log_path=tmp_path / "d.log") as url, \
            _api(url) as api, EventStream(url, AUTH, collection="instances") as stream:
        assert stream.wait_open(60).status_code == 200
        iid = _launch(api)
        life = _until_state(stream, iid, "RUNNING")
        assert life[0].event == "created"
        assert api.post(f"/api/instances/{iid}/stop").status_code == 202
        life += _until_state(stream, iid, "STOPPED")
        assert api.post(f"/api/instances/{iid}/start").status_code == 202
        life += _until_state(stream, iid, "RUNNING")
        api.post(f"/api/instances/{iid}/stop")
        life += _until_state(stream, iid, "STOPPED")
        assert api.delete(f"/api/instances/{iid}").status_code == 204
        life += _until_state(stream, iid, "DESTROYED")
        assert next(e.event for e in life) == "created"
        assert [e.event for e in life][-1] == "destroyed"
        assert {e.event for e in life[1:-1]} == {"state"}
        states = [e.data["to"] for e in life if e.event == "state"]
        assert states.index("STOPPED") < states.index("RUNNING", states.index("STOPPED"))
        assert [_id_key(e.id) for e in life] == sorted({_id_key(e.id) for e in life})  # increasing, distinct
        assert life[-2].data["instance"]["href"] == f"{url}/api/instances/{iid}"


def _other_account_keys(moto: MotoServer) -> tuple[str, str]:
    """An IAM user's access key in another moto account (moto routes requests by access key)."""
    iam = boto3.client("iam", endpoint_url=moto.url, region_name="us-east-1",
                       aws_access_key_id=AUTH[0], aws_secret_access_key=AUTH[1])
    iam.meta.events.register("before-sign.iam.*",
                             lambda request, **_: request.headers.__setitem__("x-moto-account-id", OTHER_ACCOUNT))
    iam.create_user(UserName="events-other")
    key = iam.create_access_key(UserName="events-other")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_subscribers_with_other_credentials_never_see_each_others_events(recording_moto: RecordingMoto,
                                                                         tmp_path: Path) -> None:
    recording_moto.reset()
    other = _other_account_keys(recording_moto)
    with running_server(driver="ec2", env=_env(recording_moto), log_path=tmp_path / "d.log") as url, \
            _api(url) as api, _api(url, other) as other_api, \
            EventStream(url, AUTH, collection="instances") as mine, \
            EventStream(url, other, collection="instances") as theirs:
        assert mine.wait_open(60).status_code == 200
        assert theirs.wait_open(60).status_code == 200
        my_instance = _launch(api)
        assert _until_state(mine, my_instance, "RUNNING")[0].event == "created"
        their_instance = _launch(other_api)
        seen = _until_state(theirs, their_instance, "RUNNING")
        assert seen[0].event == "created"
        assert seen[0].data["instance"]["owner"] == OTHER_ACCOUNT
        assert all(e.resource_id != my_instance for e in theirs.drain())
        api.post(f"/api/instances/{my_instance}/stop")
        _until_state(mine, my_instance, "STOPPED")
        assert all(e.resource_id != their_instance for e in mine.drain())
        assert all(e.resource_id != my_instance for e in theirs.drain())


def _lease_holder(redis_url: str) -> str:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        leases = [k for k in client.scan_iter("deltacloud:events:*:lease")]
        assert len(leases) == 1, leases  # one watcher key, one lease
        return str(client.get(leases[0]))
    finally:
        client.close()


def _processes_with_subscribers(redis_url: str) -> set[str]:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        found: set[str] = set()
        for key in client.scan_iter("deltacloud:events:*:demand"):
            found.update(client.hkeys(key))
        return found
    finally:
        client.close()


def test_two_workers_one_watcher_and_a_takeover_without_loss(recording_moto: RecordingMoto, tmp_path: Path) -> None:
    recording_moto.reset()
    with running_redis() as redis_url:
        env = _env(recording_moto, DELTACLOUD_REDIS_URL=redis_url, DELTACLOUD_EVENTS_LEASE_TTL="2")
        with running_server(driver="ec2", env=env, workers=2, log_path=tmp_path / "d.log", timeout=90) as url, \
                _api(url) as api:
            streams: list[EventStream] = []
            try:
                # Subscribers until both workers serve some (the kernel spreads connections).
                deadline = time.monotonic() + 60
                while len(_processes_with_subscribers(redis_url)) < 2 or len(streams) < 4:
                    assert time.monotonic() < deadline, "all streams landed on one worker"
                    stream = EventStream(url, AUTH, collection="instances").__enter__()
                    streams.append(stream)
                    assert stream.wait_open(60).status_code == 200
                history: dict[int, list[StreamEvent]] = {i: [] for i in range(len(streams))}

                def follow(iid: str, state: str) -> None:
                    for i, stream in enumerate(streams):  # the list as it is now (after reconnects)
                        history[i] += _until_state(stream, iid, state)

                # One watcher in the whole deployment: moto saw listings at one watcher's rate.
                before, started = recording_moto.listings(), time.monotonic()
                iid = _launch(api)
                follow(iid, "RUNNING")
                api.post(f"/api/instances/{iid}/stop")
                follow(iid, "STOPPED")
                while time.monotonic() - started < WINDOW:  # long enough for the rates to tell apart
                    api.post(f"/api/instances/{iid}/start")
                    follow(iid, "RUNNING")
                    api.post(f"/api/instances/{iid}/stop")
                    follow(iid, "STOPPED")
                elapsed, listed = time.monotonic() - started, recording_moto.listings() - before
                # One watcher lists at most once per POLL (its pause follows each listing); two would
                # list about twice as often.
                assert 1 <= listed <= elapsed / POLL + 2, (listed, elapsed)

                # Kill the process that polls; the other takes the lease over. Streams of the
                # killed worker end: their clients come back with Last-Event-ID.
                holder = _lease_holder(redis_url)
                os.kill(int(holder.split(":")[1]), signal.SIGKILL)
                api.close()  # its kept-alive connection may have been to the killed worker
                api = _api(url)
                assert api.post(f"/api/instances/{iid}/start").status_code == 202
                for i, stream in enumerate(streams):
                    got, ended = _until_state_or_end(stream, iid, "RUNNING")
                    history[i] += got
                    if ended:
                        streams[i] = EventStream(url, AUTH, collection="instances",
                                                 last_event_id=stream.last_id).__enter__()
                        assert streams[i].wait_open(60).status_code == 200
                        history[i] += _until_state(streams[i], iid, "RUNNING")
                assert _lease_holder(redis_url) != holder
                assert api.post(f"/api/instances/{iid}/stop").status_code == 202
                follow(iid, "STOPPED")
                assert api.delete(f"/api/instances/{iid}").status_code == 204
                follow(iid, "DESTROYED")
                reference = [(e.id, e.event, e.data.get("to")) for e in history[0]]
                for events in history.values():
                    assert [(e.id, e.event, e.data.get("to")) for e in events] == reference
                    ids = [_id_key(e.id) for e in events]
                    assert ids == sorted(set(ids))  # no event twice, in order
                assert next(e for _i, e, _t in reference) == "created"
                assert [t for _i, _e, t in reference if t].count("RUNNING") >= 1
            finally:
                api.close()
                for stream in streams:
                    stream.close()


@dataclass
class RawSubscriber:
    """One ``GET /api/events`` on its own socket (a thousand of them in one event loop)."""

    auth: tuple[str, str]
    status: int = 0
    created: list[str] = field(default_factory=list)


async def _subscribe_raw(url: str, sub: RawSubscriber, opened: asyncio.Queue[RawSubscriber],
                         stop: asyncio.Event) -> None:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    token = base64.b64encode(f"{sub.auth[0]}:{sub.auth[1]}".encode()).decode()
    writer.write(f"GET /api/events?collection=instances HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 f"Accept: text/event-stream\r\nAuthorization: Basic {token}\r\n\r\n".encode())
    try:
        await writer.drain()
        head = await reader.readline()
        sub.status = int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else -1
        await opened.put(sub)
        kind = b""
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(reader.readline(), 0.5)
            except TimeoutError:
                continue
            if not line:
                return
            if line.startswith(b"event: "):
                kind = line[7:].strip()
            elif line.startswith(b"data: ") and kind == b"created":
                sub.created.append(str(json.loads(line[6:])["id"]))
    finally:
        writer.close()


async def _burst(url: str, subscribers: list[RawSubscriber], launch: object, timeout: float = 180.0) -> str:
    """Every subscriber connects at once; once all are open, ``launch()`` (in a thread) makes an
    instance, and this waits (bounded) until each subscriber of its account saw it created."""
    opened: asyncio.Queue[RawSubscriber] = asyncio.Queue()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_subscribe_raw(url, sub, opened, stop)) for sub in subscribers]
    try:
        deadline = time.monotonic() + timeout
        for _ in subscribers:
            await asyncio.wait_for(opened.get(), max(0.1, deadline - time.monotonic()))
        assert all(sub.status == 200 for sub in subscribers), Counter(sub.status for sub in subscribers)
        iid = await asyncio.to_thread(launch)  # type: ignore[arg-type]
        mine = [sub for sub in subscribers if sub.auth == AUTH]
        while any(iid not in sub.created for sub in mine):
            assert time.monotonic() < deadline, sum(iid in sub.created for sub in mine)
            await asyncio.sleep(0.1)  # a bounded look at the subscribers' own records
        return str(iid)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def test_a_thousand_subscribers_at_once_make_one_credentials_check(recording_moto: RecordingMoto,
                                                                   tmp_path: Path) -> None:
    """1,000 streams with the same credentials and 50 with another account's, all connecting at
    once: moto's own request log shows one ``DescribeAvailabilityZones`` (the driver's
    credentials check) per access key, and listings signed by each key (one watcher each, never
    shared); every stream of the first account sees its new instance, none of the others does."""
    recording_moto.reset()
    other = _other_account_keys(recording_moto)
    env = _env(recording_moto, DELTACLOUD_EVENTS_MAX_PER_CREDENTIALS="2000", DELTACLOUD_EVENTS_POLL_MIN="1",
               DELTACLOUD_EVENTS_POLL_MAX="1")
    with running_server(driver="ec2", env=env, log_path=tmp_path / "d.log", timeout=90) as url, _api(url) as api:
        before = len(recording_moto.requests())
        subscribers = [RawSubscriber(AUTH) for _ in range(1000)] + [RawSubscriber(other) for _ in range(50)]
        iid = asyncio.run(_burst(url, subscribers, lambda: _launch(api)))
        checks = recording_moto.calls("DescribeAvailabilityZones", before)
        assert checks == Counter({AUTH[0]: 1, other[0]: 1}), checks
        listings = recording_moto.calls("DescribeInstances", before)
        assert listings[AUTH[0]] >= 1
        assert listings[other[0]] >= 1
        assert all(iid in sub.created for sub in subscribers[:1000])
        assert not any(iid in sub.created for sub in subscribers[1000:])


def test_a_write_through_the_server_wakes_the_watcher_at_once(recording_moto: RecordingMoto, tmp_path: Path) -> None:
    """The watcher lists every 300 s here: within the tests' bounds only the server's own
    wake-up after a successful create, action or destroy can deliver (ec2 announces nothing)."""
    recording_moto.reset()
    env = _env(recording_moto, DELTACLOUD_EVENTS_POLL_MIN="300", DELTACLOUD_EVENTS_POLL_MAX="300")
    with running_server(driver="ec2", env=env, log_path=tmp_path / "d.log") as url, \
            _api(url) as api, EventStream(url, AUTH, collection="instances") as stream:
        assert stream.wait_open(60).status_code == 200
        listed = recording_moto.listings()
        iid = _launch(api)
        created = stream.next(timeout=60)
        assert (created.event, created.resource_id) == ("created", iid)
        assert api.post(f"/api/instances/{iid}/stop").status_code == 202
        stopped = stream.next(timeout=60)
        assert (stopped.event, stopped.resource_id, stopped.data["from"]) == ("state", iid, "RUNNING")
        assert api.post(f"/api/instances/{iid}/start").status_code == 202
        started = stream.next(timeout=60)
        assert (started.event, started.resource_id, started.data["to"]) == ("state", iid, "RUNNING")
        assert api.post(f"/api/instances/{iid}/stop").status_code == 202
        assert stream.next(timeout=60).data["to"] == stopped.data["to"]
        assert api.delete(f"/api/instances/{iid}").status_code == 204
        finished = stream.next(timeout=60)  # EC2 still shows it by id, terminated; listings do not
        assert (finished.event, finished.resource_id, finished.data["to"]) == ("state", iid, "FINISH")
        assert recording_moto.listings() == listed  # each change read as one instance, no listing
