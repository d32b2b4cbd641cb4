"""``Idempotency-Key`` on creates and actions (issue 21; IETF draft-ietf-httpapi-idempotency-key-header):
the same key and request answer the first answer, another request 422, a first still running 409.
Kept in the mock's own store for the mock, in Redis when configured, else in memory per process.

The 504-then-retry case against a stalled cloud is in tests/test_bulkheads_http.py (a real server).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from deltacloud_core import Driver, Instance
from deltacloud_core.drivers.registry import DriverRegistry
from deltacloud_core.idempotency import Claim, MemoryStore, StoredAnswer, parse_key, scoped_key
from deltacloud_core.plugins import blocked_names
from deltacloud_core.testing.redis_server import running_redis
from deltacloud_core.web import Settings, create_app

BASE = "http://127.0.0.1:3001"
WAIT = 60.0


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def instance_count(client: httpx.Client) -> int:
    return len(client.get("/api/instances?format=json").json()["instances"])


# -- on the mock (its own store) ----------------------------------------------------------------------

def test_the_same_key_and_request_answers_the_first_answer(client):
    headers = {**key(), "Accept": "application/json"}
    before = instance_count(client)
    first = client.post("/api/instances", data={"image_id": "img1", "name": "once"}, headers=headers)
    again = client.post("/api/instances", data={"image_id": "img1", "name": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert instance_count(client) == before + 1


def test_another_request_with_the_same_key_is_422(client):
    headers = key()
    assert client.post("/api/instances?format=json", data={"image_id": "img1"}, headers=headers).status_code == 201
    before = instance_count(client)
    other = client.post("/api/instances?format=json", data={"image_id": "img2"}, headers=headers)
    assert other.status_code == 422
    assert "different request" in other.json()["message"]
    assert instance_count(client) == before


def test_without_a_key_every_create_is_new(client):
    before = instance_count(client)
    for _ in range(2):
        assert client.post("/api/instances?format=json", data={"image_id": "img1"}).status_code == 201
    assert instance_count(client) == before + 2


def test_an_action_is_done_once(client):
    headers = key()
    stopped = client.post("/api/instances/inst0/stop?format=json", headers=headers)
    assert stopped.status_code == 202
    # Done again, stop would be refused (a stopped instance cannot stop): the replay shows it was not.
    again = client.post("/api/instances/inst0/stop?format=json", headers=headers)
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert client.post("/api/instances/inst0/stop?format=json").status_code == 405


@pytest.mark.parametrize("bad", ["", "has space", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_400_and_changes_nothing(client, bad):
    before = instance_count(client)
    answer = client.post("/api/instances?format=json", data={"image_id": "img1"},
                         headers={"Idempotency-Key": bad.encode("utf-8")})
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["message"]
    assert instance_count(client) == before


def test_the_draft_s_quoted_form_is_the_same_key(client):
    raw = uuid.uuid4().hex
    first = client.post("/api/instances?format=json", data={"image_id": "img1"}, headers={"Idempotency-Key": raw})
    quoted = client.post("/api/instances?format=json", data={"image_id": "img1"},
                         headers={"Idempotency-Key": f'"{raw}"'})
    assert quoted.headers["Idempotent-Replayed"] == "true"
    assert quoted.json() == first.json()


def test_the_mock_keeps_keys_in_its_own_store(client, mock_storage):
    from deltacloud_mock.idempotency import COLLECTION
    from deltacloud_mock.store import get_store

    raw = uuid.uuid4().hex
    client.post("/api/instances?format=json", data={"image_id": "img1"}, headers={"Idempotency-Key": raw})
    (record,) = get_store().list(COLLECTION)
    assert record["id"] == scoped_key(raw, driver="mock", provider=None, account=_mock_digest())
    assert record["answer"]["status"] == 201
    assert raw not in str(record) and "mockpassword" not in str(record)


def _mock_digest() -> str:
    from deltacloud_core import Credentials

    return Credentials("mockuser", "mockpassword").digest()


def test_the_entry_point_advertises_idempotency(client):
    assert client.get("/api?format=json").headers["X-Deltacloud-Idempotency"] == "supported"


# -- a driver without a store of its own: memory, or Redis --------------------------------------------

class GateDriver(Driver):
    """Creates wait for a gate the test opens; counts what it made."""

    driver_id = "gate"
    gate = threading.Event()
    made: list[str] = []

    def list_instances(self, **filters: str) -> list[Instance]:
        return []

    def create_instance(self, *, image_id: str, **extra: Any) -> Instance:
        self.credentials  # noqa: B018 - creates need an account
        assert self.gate.wait(WAIT)
        self.made.append(image_id)
        return Instance(id=f"g{len(self.made)}", state="RUNNING", name=image_id)


@pytest.fixture
def gate() -> Iterator[type[GateDriver]]:
    GateDriver.gate = threading.Event()
    GateDriver.made = []
    yield GateDriver
    GateDriver.gate.set()


def gate_app(**settings: Any) -> Any:
    drivers = DriverRegistry(blocked=blocked_names(), extra={"gate": GateDriver})
    return create_app(Settings(default_driver="gate", **settings), drivers=drivers)


async def _post(client: httpx.AsyncClient, headers: dict[str, str], image: str = "img") -> httpx.Response:
    return await client.post("/api/instances?format=json", data={"image_id": image}, headers=headers)


def test_a_first_request_still_running_makes_the_retry_409(gate):
    app = gate_app()

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, auth=("u", "p"), timeout=WAIT) as c:
            headers = key()
            first = asyncio.ensure_future(_post(c, headers))
            for _ in range(int(WAIT / 0.01)):  # a bounded poll until the first claimed the key
                if len(app.services.idempotency.memory) == 1:
                    break
                await asyncio.sleep(0.01)
            running = await _post(c, headers)
            assert running.status_code == 409
            assert running.headers["Retry-After"] == "1"
            gate.gate.set()
            assert (await first).status_code == 201
            replay = await _post(c, headers)
            assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
            assert gate.made == ["img"]

    asyncio.run(main())


def test_keys_are_per_account(gate):
    gate.gate.set()
    with TestClient(gate_app(), base_url=BASE) as c:
        headers = key()
        assert c.post("/api/instances?format=json", data={"image_id": "a"}, headers=headers, auth=("u1", "p")).json()
        other = c.post("/api/instances?format=json", data={"image_id": "a"}, headers=headers, auth=("u2", "p"))
        assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
        assert gate.made == ["a", "a"]


def test_keys_in_redis_are_shared_by_every_worker(gate):
    import redis

    gate.gate.set()
    with running_redis() as url:
        workers = [gate_app(redis_url=url, idempotency_ttl=600), gate_app(redis_url=url, idempotency_ttl=600)]
        raw = uuid.uuid4().hex
        with TestClient(workers[0], base_url=BASE) as one, TestClient(workers[1], base_url=BASE) as two:
            first = one.post("/api/instances?format=json", data={"image_id": "r"}, headers={"Idempotency-Key": raw},
                             auth=("u", "p"))
            again = two.post("/api/instances?format=json", data={"image_id": "r"}, headers={"Idempotency-Key": raw},
                             auth=("u", "p"))
        assert first.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert gate.made == ["r"]
        assert len(workers[0].services.idempotency.memory) == 0  # nothing kept in the process
        client = redis.Redis.from_url(url)
        (stored,) = client.keys("deltacloud:idempotency:*")
        assert raw.encode() not in stored  # the scoped hash, never the client's key or an account
        assert 0 < client.ttl(stored) <= 600  # the window
        client.close()


# -- the in-memory store and the key's rules ------------------------------------------------------------

def test_memory_store_is_bounded_and_forgets_expired_keys():
    async def main() -> None:
        store = MemoryStore(max_keys=2)
        assert await store.claim("a", "f", 60) is None
        assert await store.claim("b", "f", 60) is None
        assert await store.claim("c", "f", 60) is None
        assert len(store) == 2 and await store.claim("a", "f", 60) is None  # the oldest went first
        assert await store.claim("x", "f", -1) is None  # expired at once
        assert await store.claim("x", "g", 60) is None
        answer = StoredAnswer(201, (("location", "/i/1"),), b"{}")
        await store.complete("x", Claim("g", answer), 60)
        assert (await store.claim("x", "g", 60)) == Claim("g", answer)
        await store.release("x")
        assert await store.claim("x", "h", 60) is None

    asyncio.run(main())


def test_parse_key_accepts_tokens_and_structured_strings():
    assert parse_key("abc-123") == "abc-123"
    assert parse_key(' "8e03978e-40d5-43e8" ') == "8e03978e-40d5-43e8"


def test_an_unreachable_key_store_is_503_and_nothing_is_done(gate):
    from deltacloud_core.testing.server import free_port

    gate.gate.set()
    with TestClient(gate_app(redis_url=f"redis://127.0.0.1:{free_port()}/0"), base_url=BASE) as c:
        answer = c.post("/api/instances?format=json", data={"image_id": "x"}, headers=key(), auth=("u", "p"))
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        assert "nothing was done" in answer.json()["message"]
        assert gate.made == []
        plain = c.post("/api/instances?format=json", data={"image_id": "x"}, auth=("u", "p"))
        assert plain.status_code == 201  # without a key the store is not needed
