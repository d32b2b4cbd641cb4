"""One slow cloud never stalls the others, through a real ``deltacloudd`` (issue 21).

The clouds are loopback endpoints the tests control (``deltacloud_core.testing.slow_backend``:
slow, stalled or failing on command), reached by the ``httpcloud`` driver
(``deltacloud_core.testing.http_cloud``: plain ``def`` methods, as a sync SDK's driver has),
installed for the server without packaging (tests/support/sites.py). Each test gets its own
backends, so each gets its own bulkheads (the provider is the backend's URL).

Nothing here asserts on speed: a stalled backend's requests are still pending (they have not
answered) when the other provider and the mock answer, which is the claim.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.sites import driver_site, server_env

from deltacloud_core.testing.server import free_port, running_server
from deltacloud_core.testing.slow_backend import SlowBackend

CLOUD_AUTH = ("cloud-user", "cloud-s3cret-password")
MOCK_AUTH = ("mockuser", "mockpassword")
#: Every wait in these tests is bounded by this (seconds), generous for a loaded machine.
BOUND = 60.0
SHARE = 4
QUEUE = 2


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {BOUND:g} s: {what}")
        time.sleep(0.02)  # the pause of a bounded poll


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return driver_site(tmp_path_factory.mktemp("httpcloud"), "deltacloud-test-httpcloud",
                       {"httpcloud": "deltacloud_core.testing.http_cloud:HttpCloudDriver"}, {})


@pytest.fixture(scope="module")
def server(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with small shares (4 calls + 2 waiting per provider), metrics on the API port."""
    env = server_env(site, DELTACLOUD_MOCK_STORAGE=str(tmp_path_factory.mktemp("mock")),
                     DELTACLOUD_BULKHEADS=f"httpcloud={SHARE}", DELTACLOUD_BULKHEAD_QUEUE=str(QUEUE),
                     DELTACLOUD_BULKHEAD_WAIT="30", DELTACLOUD_BACKEND_TIMEOUT="50", DELTACLOUD_READ_RETRIES="2")
    with running_server(driver="mock", env=env, args=["--metrics-path", "/metrics"], timeout=BOUND) as url:
        yield url


@pytest.fixture(scope="module")
def impatient(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """A server whose backend timeout is 2 s, with metrics on their own port and JSON logs."""
    log = tmp_path_factory.mktemp("impatient") / "deltacloudd.log"
    metrics_port = free_port()
    env = server_env(site, DELTACLOUD_MOCK_STORAGE=str(tmp_path_factory.mktemp("mock")),
                     DELTACLOUD_BACKEND_TIMEOUT="2")
    with running_server(driver="mock", env=env, log_path=log, timeout=BOUND,
                        args=["--metrics-port", str(metrics_port), "--log-format", "json", "--access-log"]) as url:
        yield url, f"http://127.0.0.1:{metrics_port}/metrics", log


@pytest.fixture
def backends() -> Iterator[tuple[SlowBackend, SlowBackend]]:
    first, second = SlowBackend().start(), SlowBackend().start()
    try:
        yield first, second
    finally:
        for backend in (first, second):
            backend.resume()
            backend.stop()


def cloud(server: str, backend: SlowBackend, method: str = "GET", path: str = "/api/instances",
          **kwargs: object) -> httpx.Response:
    headers = {"X-Deltacloud-Driver": "httpcloud", "X-Deltacloud-Provider": backend.url, "Accept": "application/json",
               **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.request(method, f"{server}{path}", headers=headers, auth=CLOUD_AUTH, timeout=BOUND, **kwargs)


def mock_list(server: str) -> httpx.Response:
    return httpx.get(f"{server}/api/instances", headers={"Accept": "application/json"}, auth=MOCK_AUTH, timeout=BOUND)


def seen(backend: SlowBackend, request: str) -> int:
    return int(backend.stats()["seen"].get(request, 0))


# -- bulkheads ---------------------------------------------------------------------------------------

def test_a_stalled_backend_fills_only_its_own_share(server, backends):
    stalled, other = backends
    stalled.stall()
    with ThreadPoolExecutor(SHARE + QUEUE) as pool:
        hung: list[Future[httpx.Response]] = [pool.submit(cloud, server, stalled) for _ in range(SHARE + QUEUE)]
        wait_until(lambda: seen(stalled, "GET /instances") == SHARE, "every slot of the stalled share taken")
        # The other provider of the same driver, and the mock, answer while those wait.
        assert cloud(server, other).status_code == 200
        assert mock_list(server).status_code == 200
        assert not any(f.done() for f in hung), "the stalled backend's requests answered before it resumed"
        stalled.resume()
        assert [f.result(timeout=BOUND).status_code for f in hung] == [200] * (SHARE + QUEUE)
    assert seen(stalled, "GET /instances") == SHARE + QUEUE


def test_a_full_share_answers_503_with_retry_after(server, backends):
    stalled, _other = backends
    stalled.stall()
    with ThreadPoolExecutor(SHARE + QUEUE + 1) as pool:
        in_flight = [pool.submit(cloud, server, stalled) for _ in range(SHARE)]
        wait_until(lambda: seen(stalled, "GET /instances") == SHARE, "every slot taken")
        # QUEUE of these wait for a slot; the one beyond is refused at once.
        beyond = [pool.submit(cloud, server, stalled) for _ in range(QUEUE + 1)]
        wait_until(lambda: any(f.done() for f in beyond), "a refusal")
        (refused,) = [f.result() for f in beyond if f.done()]
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) >= 1
        assert "DELTACLOUD_BULKHEADS" in refused.json()["message"]
        assert seen(stalled, "GET /instances") == SHARE  # the refused one never reached the backend
        stalled.resume()
        statuses = sorted(f.result(timeout=BOUND).status_code for f in in_flight + beyond)
        assert statuses == [200] * (SHARE + QUEUE) + [503]


# -- retries of reads --------------------------------------------------------------------------------

def test_reads_are_retried_after_the_backends_retry_after(server, backends):
    backend, _ = backends
    backend.fail(503, count=1, retry_after=1)
    started = time.monotonic()
    answer = cloud(server, backend)
    waited = time.monotonic() - started
    assert answer.status_code == 200
    assert seen(backend, "GET /instances") == 2
    assert waited >= 0.9, f"retried after {waited:.2f} s, before the backend's Retry-After of 1 s"


def test_a_longer_retry_after_goes_to_the_client(server, backends):
    backend, _ = backends
    backend.fail(429, count=1, retry_after=30)
    answer = cloud(server, backend)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "30"
    assert seen(backend, "GET /instances") == 1


def test_creates_are_never_retried_by_the_server(server, backends):
    backend, _ = backends
    backend.fail(503, count=1, retry_after=0)
    answer = cloud(server, backend, "POST", data={"image_id": "img", "name": "once"})
    assert answer.status_code == 503
    assert seen(backend, "POST /instances") == 1


# -- creates that are safe to retry --------------------------------------------------------------------

def test_an_idempotent_create_retried_after_a_504_makes_one_instance(impatient, backends):
    server, _metrics, _log = impatient
    backend, _ = backends
    key = uuid.uuid4().hex
    form = {"image_id": "img", "name": f"only-one-{key[:6]}"}
    backend.stall()
    first = cloud(server, backend, "POST", data=form, headers={"Idempotency-Key": key})
    assert first.status_code == 504
    message = first.json()["message"]
    assert "may still complete" in message and "Idempotency-Key" in message
    running = cloud(server, backend, "POST", data=form, headers={"Idempotency-Key": key})
    assert running.status_code == 409
    assert running.headers["Retry-After"] == "1"
    other = cloud(server, backend, "POST", data={**form, "name": "another"}, headers={"Idempotency-Key": key})
    assert other.status_code == 422
    backend.resume()  # the first create now happens
    answers: list[httpx.Response] = []

    def replayed() -> bool:
        answers.append(cloud(server, backend, "POST", data=form, headers={"Idempotency-Key": key}))
        return answers[-1].status_code != 409

    wait_until(replayed, "the first create's answer")
    final = answers[-1]
    assert final.status_code == 201
    assert final.headers["Idempotent-Replayed"] == "true"
    assert final.json()["instance"]["name"] == form["name"]
    assert seen(backend, "POST /instances") == 1
    names = [i["name"] for i in cloud(server, backend).json()["instances"]]
    assert names.count(form["name"]) == 1


def test_a_504_without_a_key_says_how_to_retry_safely(impatient, backends):
    server, _metrics, _log = impatient
    backend, _ = backends
    backend.stall()
    answer = cloud(server, backend, "POST", data={"image_id": "img"})
    assert answer.status_code == 504
    message = answer.json()["message"]
    assert "may still complete" in message and "Idempotency-Key" in message


# -- metrics and logs ----------------------------------------------------------------------------------

def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(found: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and all((k, labels[k]) in ls for k in labels))


def test_metrics_parse_and_count_what_was_done(server, backends):
    backend, _ = backends
    provider = backend.url.replace("http://", f"http://{CLOUD_AUTH[0]}:{CLOUD_AUTH[1]}@")
    headers = {"X-Deltacloud-Provider": provider}
    before = samples(httpx.get(f"{server}/metrics", timeout=BOUND).text)
    for _ in range(3):
        assert cloud(server, backend, headers=headers).status_code == 200
    backend.fail(503, count=1, retry_after=0)
    assert cloud(server, backend, headers=headers).status_code == 200  # retried once
    assert mock_list(server).status_code == 200
    reply = httpx.get(f"{server}/metrics", timeout=BOUND)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    assert CLOUD_AUTH[1] not in reply.text and "mockpassword" not in reply.text
    after = samples(reply.text)
    label = backend.url  # the provider without its user and password

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("deltacloud_requests_total", route="/api/instances", driver="httpcloud", status="200") == 4
    assert grew("deltacloud_requests_total", route="/api/instances", driver="mock", status="200") == 1
    assert grew("deltacloud_backend_calls_total", driver="httpcloud", provider=label, operation="list_instances",
                outcome="ok") == 4
    assert grew("deltacloud_backend_calls_total", driver="httpcloud", provider=label, outcome="503") == 1
    assert grew("deltacloud_backend_retries_total", driver="httpcloud", provider=label, reason="503") == 1
    assert grew("deltacloud_backend_call_duration_seconds_count", driver="httpcloud", provider=label) == 5
    assert value(after, "deltacloud_bulkhead_limit", driver="httpcloud", provider=label) == SHARE
    assert value(after, "deltacloud_bulkhead_in_flight", driver="httpcloud", provider=label) == 0


def test_rejections_and_idempotency_are_counted_on_the_metrics_port(impatient, backends):
    server, metrics_url, _log = impatient
    backend, _ = backends
    before = samples(httpx.get(metrics_url, timeout=BOUND).text)
    key = uuid.uuid4().hex
    for _ in range(2):
        created = cloud(server, backend, "POST", data={"image_id": "i"}, headers={"Idempotency-Key": key})
        assert created.status_code == 201
    after = samples(httpx.get(metrics_url, timeout=BOUND).text)
    assert value(after, "deltacloud_idempotency_requests_total", result="new") - \
        value(before, "deltacloud_idempotency_requests_total", result="new") == 1
    assert value(after, "deltacloud_idempotency_requests_total", result="replayed") - \
        value(before, "deltacloud_idempotency_requests_total", result="replayed") == 1


def test_json_logs_carry_the_request_id_and_no_credentials(impatient, backends):
    import json

    server, _metrics, log = impatient
    backend, _ = backends
    answer = cloud(server, backend, path="/api/instances?secret_token=abc")
    request_id = answer.headers["X-Request-Id"]
    lines: list[dict] = []

    def logged() -> bool:
        lines[:] = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return any(line.get("request_id") == request_id for line in lines)

    wait_until(logged, "the access log line of the request")
    (entry,) = [line for line in lines if line.get("request_id") == request_id]
    assert entry["logger"] == "deltacloud.access"
    assert (entry["method"], entry["path"], entry["status"], entry["driver"]) == ("GET", "/api/instances", 200,
                                                                                  "httpcloud")
    assert entry["provider"] == backend.url
    text = log.read_text()
    assert CLOUD_AUTH[1] not in text and "secret_token" not in text


def test_with_several_workers_the_metrics_port_sums_them(site, tmp_path):
    metrics_port = free_port()
    env = server_env(site, DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    with running_server(driver="mock", workers=2, env=env, timeout=BOUND,
                        args=["--metrics-port", str(metrics_port)]) as url:
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        before = value(samples(httpx.get(metrics_url, timeout=BOUND).text), "deltacloud_requests_total",
                       route="/api/instances", driver="mock")
        for _ in range(20):  # new connections: the kernel spreads them over both workers
            with httpx.Client(timeout=BOUND) as fresh:
                answer = fresh.get(f"{url}/api/instances", headers={"Accept": "application/json"}, auth=MOCK_AUTH)
                assert answer.status_code == 200
        after = samples(httpx.get(metrics_url, timeout=BOUND).text)
        assert value(after, "deltacloud_requests_total", route="/api/instances", driver="mock") - before == 20
