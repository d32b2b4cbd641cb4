"""Events against polling on one ec2 account over moto, in one run (not a test).

    .venv/bin/python benchmarks/events_vs_polling.py [--clients 1000] [--seconds 60]

Scenario *events*: N subscribers of ``GET /api/events?collection=instances``. Scenario *polling*:
N clients each ``GET /api/instances`` every 2 s (the seeds' Listing 1). In both, the instance is
stopped or started through the API every 10 s; a client has "seen" a change when its stream (or
its next listing) shows the new state. Reported per scenario: moto's ``DescribeInstances`` calls
per minute (from moto's own request recording), change-to-delivery latency p50/p99, the server's
peak RSS (its process tree). Each scenario gets a fresh server on a free port; everything is on
127.0.0.1 and every loop is bounded by ``--seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from deltacloud_core.testing.server import running_server

REPO = Path(__file__).resolve().parents[1]
AUTH = ("AKIADELTACLOUDTEST01", "deltacloud/test/secret/key/000000000000000")
IMAGE = "ami-dc0001"


def _moto_module():
    path = REPO / "plugins" / "deltacloud-ec2" / "tests" / "moto_process.py"
    spec = importlib.util.spec_from_file_location("bench_moto_process", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def listings(recording: Path) -> int:
    count = 0
    if not recording.exists():
        return 0
    for line in recording.read_text().splitlines():
        entry = json.loads(line)
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        if "Action=DescribeInstances" in body:
            count += 1
    return count


def rss(pid: int) -> int:
    try:
        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
    except psutil.Error:
        return 0


def server_pid(port: int) -> int:
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
            return int(conn.pid)
    return 0


async def subscriber(url: str, seen: dict[str, list[float]], stop: asyncio.Event, ready: list[int]) -> None:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    token = base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()
    writer.write(f"GET /api/events?collection=instances HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 f"Accept: text/event-stream\r\nAuthorization: Basic {token}\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"subscribe failed: {status!r}")
    ready.append(1)
    try:
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(reader.readline(), 1.0)
            except TimeoutError:
                continue
            if not line:
                return
            if line.startswith(b"data: ") and b'"to":' in line:
                state = json.loads(line[6:])["to"]
                seen.setdefault(state, []).append(time.monotonic())
    finally:
        writer.close()


async def poller(client: httpx.AsyncClient, seen: dict[str, list[float]], stop: asyncio.Event,
                 offset: float) -> None:
    await asyncio.sleep(offset)
    last = None
    while not stop.is_set():
        started = time.monotonic()
        try:
            answer = await client.get("/api/instances", headers={"Accept": "application/json"})
            states = [i["state"] for i in answer.json()["instances"]]
        except (httpx.HTTPError, ValueError, KeyError):
            states = []
        if states and states[0] != last:
            if last is not None:
                seen.setdefault(states[0], []).append(time.monotonic())
            last = states[0]
        await asyncio.sleep(max(0.0, 2.0 - (time.monotonic() - started)))


async def scenario(kind: str, url: str, clients: int, seconds: float, recording: Path, pid: int) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=url, auth=AUTH, timeout=60,
                                 limits=httpx.Limits(max_connections=clients + 10)) as api:
        iid = (await api.post("/api/instances", data={"image_id": IMAGE, "hwp_id": "m1.large"},
                              headers={"Accept": "application/json"})).json()["instance"]["id"]
        stop = asyncio.Event()
        seen: dict[str, list[float]] = {}
        ready: list[int] = []
        if kind == "events":
            tasks = [asyncio.create_task(subscriber(url, seen, stop, ready)) for _ in range(clients)]
            deadline = time.monotonic() + 120
            while len(ready) < clients and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
        else:
            tasks = [asyncio.create_task(poller(api, seen, stop, 2.0 * i / clients)) for i in range(clients)]
            await asyncio.sleep(2.0)
        before, started = listings(recording), time.monotonic()
        changes: list[tuple[str, float]] = []
        peak = 0
        state = "RUNNING"
        while time.monotonic() - started < seconds:
            await asyncio.sleep(min(10.0, max(0.0, seconds - (time.monotonic() - started))))
            if time.monotonic() - started >= seconds - 5:
                break
            action = "stop" if state == "RUNNING" else "start"
            await api.post(f"/api/instances/{iid}/{action}", headers={"Accept": "application/json"})
            state = "STOPPED" if action == "stop" else "RUNNING"
            changes.append((state, time.monotonic()))
            peak = max(peak, rss(pid))
        await asyncio.sleep(4.0)  # the last change's deliveries
        elapsed = time.monotonic() - started
        calls = listings(recording) - before
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies: list[float] = []
    for wanted, at in changes:
        arrivals = sorted(t - at for t in seen.get(wanted, []) if t >= at)
        latencies += arrivals[:clients]
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    return {"calls_per_min": calls * 60 / elapsed, "p50": pct(0.5), "p99": pct(0.99), "rss_mb": peak / 2**20,
            "deliveries": len(latencies), "expected": len(changes) * clients}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    moto_process = _moto_module()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for kind in ("events", "polling"):
            recording = base / f"{kind}.jsonl"
            moto = moto_process.MotoServer(base / f"moto-{kind}.log", extra_env={
                "MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(recording)}).start()
            try:
                env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELTACLOUD_"))}
                env.update({"AWS_ENDPOINT_URL": moto.url,
                            "DELTACLOUD_EVENTS_MAX_PER_CREDENTIALS": str(args.clients + 10)})
                with running_server(driver="ec2", env=env, timeout=90) as url:
                    pid = server_pid(int(url.rsplit(":", 1)[1]))
                    results[kind] = asyncio.run(scenario(kind, url, args.clients, args.seconds, recording, pid))
            finally:
                moto.stop()
    print(f"\n{args.clients} clients on one ec2 account over moto, {args.seconds:g} s each\n")
    print("| scenario | DescribeInstances / min | latency p50 (s) | p99 (s) | deliveries | server RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for kind, r in results.items():
        print(f"| {kind} | {r['calls_per_min']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
              f"{r['deliveries']:.0f}/{r['expected']:.0f} | {r['rss_mb']:.0f} |")
    ratio = results["polling"]["calls_per_min"] / max(results["events"]["calls_per_min"], 1e-9)
    print(f"\nbackend calls: polling / events = {ratio:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
