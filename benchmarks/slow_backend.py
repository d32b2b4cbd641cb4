"""Many slow calls at once, and one slow cloud never stalls the others (issue 21).

    .venv/bin/python benchmarks/slow_backend.py                 # every scenario, about 4 minutes
    .venv/bin/python benchmarks/slow_backend.py --seconds 5     # shorter rounds
    .venv/bin/python benchmarks/slow_backend.py --mechanisms    # also the mechanisms compared

What runs, all on 127.0.0.1 (``deltacloud_core.testing.slow_backend``: a loopback cloud endpoint
that answers after a fixed latency and does almost no work itself; each in its own process):

* **Many slow calls at once**: ``wrk -c200`` and ``-c500`` on ``GET /api/instances`` through
  ``deltacloudd`` (one worker, then ``--workers 2``) to a backend answering in 300 ms, driver
  ``httpcloud`` (plain ``def`` methods over ``http.client``: a sync SDK's driver, in worker
  threads), the default bulkheads. The limit each figure is judged against is measured in the
  same run: the backend's own latency (wrk straight to the backend), so throughput /
  (concurrency / latency) and p99 / latency are the ratios.
* **Ceilings**: a bare asyncio HTTP client in its own Python process straight to the backend, 200
  and 500 concurrent: what one Python process gets through on this machine at this moment, with
  none of the server's work. On a shared machine this, not the mechanism, is what bounds p99 at 500.
* **One stalled backend**: a second backend is stalled (it accepts requests and never answers),
  200 clients wait on it through the server, and the mock's ``GET /api/instances`` (10 clients)
  is measured beside them, against the same load without the stalled one (the unloaded p99,
  measured in alternating rounds, best of each).
* ``--mechanisms``: the same 200/500 runs with the share cut to 64 calls (what the old single
  pool of 64 threads allowed), with ``httpcloud-async`` (``async def`` methods over asyncio
  streams: no thread at all) and with ``httpcloud-async`` over ``httpx.AsyncClient``: the
  comparison that chose the mechanism (docs/benchmarks.md).

Prints one markdown table; ``--json FILE`` keeps the rows.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from deltacloud_core.drivers import DRIVER_GROUP
from deltacloud_core.testing.server import free_port, running_server

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import ensure_wrk  # noqa: E402 - the load generator of make bench

LATENCY = 0.3
MOCK_AUTH = "Basic " + base64.b64encode(b"mockuser:mockpassword").decode("ascii")
CLOUD_AUTH = "Basic " + base64.b64encode(b"user:secret").decode("ascii")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class Row:
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    limit: str
    ratios: str
    holds: str


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(url: str, connections: int, seconds: float, headers: dict[str, str], threads: int = 2) -> dict[str, float]:
    binary = ensure_wrk()
    if binary is None:
        sys.exit("wrk is needed (apt-get install wrk)")
    cmd = [binary, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "30s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 120).stdout
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                                                        r"timeout (\d+)"):
        found = re.search(pattern, out)
        if found:
            errors += sum(int(g) for g in found.groups())
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
            "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)), "errors": errors}


@contextmanager
def backend(latency: float):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "deltacloud_core.testing.slow_backend", "--port", str(port),
                                "--latency", str(latency)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        if "listening" not in line:
            raise RuntimeError(f"the backend did not start: {line}")
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            process.wait(timeout=10)


def driver_site(root: Path) -> Path:
    """The two HTTP cloud drivers as installed drivers (a dist-info with entry points)."""
    site = root / "site-httpcloud"
    info = site / "deltacloud_bench_httpcloud-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: deltacloud-bench-httpcloud\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{DRIVER_GROUP}]\nhttpcloud = deltacloud_core.testing.http_cloud:HttpCloudDriver\n"
        "httpcloud-async = deltacloud_core.testing.http_cloud:AsyncHttpCloudDriver\n")
    return site


def server_env(site: Path, store: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELTACLOUD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(site), env.get("PYTHONPATH", ""))))
    env["DELTACLOUD_MOCK_STORAGE"] = str(store)
    env.update(extra)
    return env


async def _direct(url: str, connections: int, seconds: float) -> dict[str, float]:
    from deltacloud_core.testing.http_cloud import _StreamPool

    pool = _StreamPool("127.0.0.1", int(url.rsplit(":", 1)[1]))
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await pool.request("GET", "/instances", None)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(connections)))
    latencies.sort()
    return {"rps": len(latencies) / seconds, "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000, "errors": 0}


def direct_client(url: str, connections: int, seconds: float) -> dict[str, float]:
    """A bare asyncio HTTP client in its own Python process straight to the backend: what one Python
    process can get through on this machine now, with nothing of the server's work (a ceiling)."""
    out = subprocess.run([sys.executable, __file__, "--direct", url, str(connections), str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 120).stdout
    return json.loads(out.strip().splitlines()[-1])


def backend_latency(url: str, seconds: float) -> dict[str, float]:
    """The backend alone: the limit the server's figures are judged against."""
    return wrk(f"{url}/instances", 200, seconds, {})


def cloud_headers(driver: str, provider: str) -> dict[str, str]:
    return {"Authorization": CLOUD_AUTH, "Accept": "application/json", "X-Deltacloud-Driver": driver,
            "X-Deltacloud-Provider": provider}


def ceilings(rows: list[Row], url: str, latency_ms: float, seconds: float) -> None:
    for connections in (200, 500):
        result = direct_client(url, connections, seconds)
        limit_rps = connections / (latency_ms / 1000)
        rows.append(Row(f"ceiling: a bare asyncio client process straight to the backend, {connections} concurrent",
                        result["rps"], result["p50"], result["p99"], 0, f"{limit_rps:,.0f} req/s",
                        f"throughput {result['rps'] / limit_rps:.2f}, p99 {result['p99'] / latency_ms:.2f}x latency",
                        ""))


def many_slow(rows: list[Row], server: str, provider: str, driver: str, label: str, latency_ms: float,
              seconds: float) -> None:
    for connections in (200, 500):
        result = wrk(f"{server}/api/instances", connections, seconds, cloud_headers(driver, provider))
        limit_rps = connections / (latency_ms / 1000)
        throughput, tail = result["rps"] / limit_rps, result["p99"] / latency_ms
        holds = "yes" if throughput >= 0.6 and tail <= 2.0 and result["errors"] == 0 else "no"
        rows.append(Row(f"{label}, {connections} concurrent GET /api/instances, 300 ms backend", result["rps"],
                        result["p50"], result["p99"], int(result["errors"]),
                        f"{limit_rps:,.0f} req/s = {connections} / {latency_ms:.0f} ms",
                        f"throughput {throughput:.2f}, p99 {tail:.2f}x latency", holds))


async def _hold(port: int, provider: str, clients: int, stop: asyncio.Event) -> None:
    """``clients`` requests to the stalled provider, each waiting for its answer (which never comes)."""
    request = (f"GET /api/instances HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {CLOUD_AUTH}\r\n"
               f"Accept: application/json\r\nX-Deltacloud-Driver: httpcloud\r\n"
               f"X-Deltacloud-Provider: {provider}\r\n\r\n").encode()
    writers = []
    for _ in range(clients):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        writers.append(writer)
    await stop.wait()
    for writer in writers:
        writer.close()


@contextmanager
def stalled_load(server: str, provider: str, clients: int):
    port = int(server.rsplit(":", 1)[1])
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    import threading

    def run() -> None:
        loop.run_until_complete(_hold(port, provider, clients, stop))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)


def stalled(rows: list[Row], server: str, stalled_provider: str, stall_process: subprocess.Popen, seconds: float,
            rounds: int) -> None:
    mock = {"Authorization": MOCK_AUTH, "Accept": "application/json"}
    quiet, loaded = [], []
    stall_process.send_signal(signal.SIGSTOP)  # accepts connections (the kernel's backlog), never answers
    try:
        for _ in range(rounds):
            quiet.append(wrk(f"{server}/api/instances", 10, seconds, mock, threads=1))
            with stalled_load(server, stalled_provider, 200):
                loaded.append(wrk(f"{server}/api/instances", 10, seconds, mock, threads=1))
    finally:
        stall_process.send_signal(signal.SIGCONT)
    best_quiet = min(quiet, key=lambda r: r["p99"])
    best_loaded = min(loaded, key=lambda r: r["p99"])
    ratio = best_loaded["p99"] / best_quiet["p99"]
    rows.append(Row("mock GET /api/instances, 10 clients, unloaded (baseline)", best_quiet["rps"], best_quiet["p50"],
                    best_quiet["p99"], int(best_quiet["errors"]), "", "", ""))
    rows.append(Row("the same, while 200 clients wait on a stalled httpcloud backend", best_loaded["rps"],
                    best_loaded["p50"], best_loaded["p99"], int(best_loaded["errors"]),
                    f"p99 <= 2x unloaded ({2 * best_quiet['p99']:.2f} ms)", f"p99 {ratio:.2f}x unloaded",
                    "yes" if ratio <= 2.0 and best_loaded["errors"] == 0 else "no"))


def table(rows: list[Row]) -> str:
    out = ["| Scenario | req/s | p50 | p99 | errors | Limit (same run) | Ratios | Holds |",
           "|---|---:|---:|---:|---:|---|---|---|"]
    for r in rows:
        out.append(f"| {r.scenario} | {r.rps:,.0f} | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms | {r.errors} | {r.limit} "
                   f"| {r.ratios} | {r.holds} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the stalled scenario")
    parser.add_argument("--mechanisms", action="store_true", help="also the old 64-call share and the async driver")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--direct", nargs=3, metavar=("URL", "N", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.direct:
        url, connections, seconds = args.direct
        print(json.dumps(asyncio.run(_direct(url, int(connections), float(seconds)))))
        return 0
    rows: list[Row] = []
    started = time.monotonic()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dc-slow-bench-")))
        site = driver_site(tmp)
        slow_url, _slow = stack.enter_context(backend(LATENCY))
        stall_url, stall_process = stack.enter_context(backend(0.0))
        alone = backend_latency(slow_url, args.seconds)
        latency_ms = alone["p50"]
        rows.append(Row("the backend alone (wrk straight to it), 200 concurrent: the limit's latency", alone["rps"],
                        alone["p50"], alone["p99"], int(alone["errors"]), "", "", ""))
        ceilings(rows, slow_url, latency_ms, args.seconds)
        configs: list[tuple[str, str, dict[str, str], int]] = [
            ("httpcloud (plain def, worker threads), default bulkheads, 1 worker", "httpcloud", {}, 1),
            ("httpcloud, default bulkheads, --workers 2", "httpcloud", {}, 2)]
        if args.mechanisms:
            configs += [("httpcloud, share cut to 64 calls (the old pool's bound), 1 worker", "httpcloud",
                         {"DELTACLOUD_BULKHEAD_LIMIT": "64", "DELTACLOUD_BULKHEAD_QUEUE": "1000",
                          "DELTACLOUD_BULKHEAD_WAIT": "60"}, 1),
                        ("httpcloud-async (async def, asyncio streams), 1 worker", "httpcloud-async", {}, 1),
                        ("httpcloud-async over httpx.AsyncClient, 1 worker", "httpcloud-async",
                         {"HTTPCLOUD_CLIENT": "httpx"}, 1)]
        for label, driver, extra, workers in configs:
            env = server_env(site, tmp / f"mock-{driver}-{len(rows)}", **extra)
            with running_server(driver="mock", env=env, workers=workers, args=["--log-level", "warning"]) as server:
                wrk(f"{server}/api/instances", 50, 2, cloud_headers(driver, slow_url))  # warm-up: threads, pools
                many_slow(rows, server, slow_url, driver, label, latency_ms, args.seconds)
                if driver == "httpcloud" and not extra and workers == 1:
                    stalled(rows, server, stall_url, stall_process, args.seconds, args.rounds)
    print(table(rows))
    print(f"\n{time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.1f}; wrk "
          f"{shutil.which('wrk')}; backend latency {LATENCY * 1000:.0f} ms")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
