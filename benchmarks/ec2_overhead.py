"""What the server adds to ``GET /api/instances`` on the ec2 driver, over calling boto3 directly.

    .venv/bin/python benchmarks/ec2_overhead.py                     # 600 rounds, 5 instances
    .venv/bin/python benchmarks/ec2_overhead.py --rounds 2000 --instances 50

Needs ``pip install -e 'plugins/deltacloud-ec2[test]'`` (boto3, moto). One run starts its own
``moto_server`` on a free loopback port, creates the instances there and measures, in
interleaved rounds:

* **boto3**: ``describe_instances`` (the very request the driver sends) on an already-built
  client, as a program calling AWS itself would;
* **driver**: ``EC2Driver(...).list_instances()`` called directly, as the server's worker
  thread calls it (a new driver per request, the cached client, the models built);
* **in process**: the server app called directly as ASGI (no sockets): request prelude, driver
  lookup, the hop to a worker thread, the driver's call on its cached client, building the
  documents, JSON rendering, headers;
* **over HTTP**: the server in its own process, started as ``deltacloudd -i ec2`` starts it
  (uvicorn, uvloop, httptools; ``benchmarks/ec2_timed_server.py``), asked over a keep-alive
  loopback connection by a minimal client (one prepared request, the answer read by its
  length): all of the above plus HTTP parsing and the socket round trip. The server reports
  how long its own ``describe_instances`` took (a header only this benchmark adds).

moto answers in ~10 ms with a spread of several ms from call to call, which would drown a
sub-millisecond difference between two separate calls. So the *overhead* of a request is
measured inside it: its latency minus the time its own ``describe_instances`` took, timed with
botocore's ``provide-client-params`` and ``after-call`` events (the first and last thing a boto3
call does). The overhead of the boto3 baseline itself, so measured, is ~0. The medians of
the raw latencies are printed too, as a cross-check.

Target: median overhead under 1 ms per request once the client is cached. This is a
benchmark, not a test: it reports and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins" / "deltacloud-ec2" / "tests"))

ACCESS_KEY, SECRET_KEY = "AKIADELTACLOUDBENCH1", "benchmark/secret"
AUTH = "Basic " + base64.b64encode(f"{ACCESS_KEY}:{SECRET_KEY}".encode()).decode()
#: What ``list_instances`` asks for (every instance that is not terminated).
LIVE = [{"Name": "instance-state-name", "Values": ["pending", "running", "shutting-down", "stopping", "stopped"]}]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values_ms: list[float]) -> str:
    return f"median {statistics.median(values_ms):7.3f} ms   p99 {percentile(values_ms, 0.99):7.3f} ms"


class BotoTimer:
    """Times every ``DescribeInstances`` a client makes, from its first to its last event."""

    def __init__(self, client: object) -> None:
        self.last = 0.0
        self._started = 0.0
        events = client.meta.events  # type: ignore[attr-defined]
        events.register_first("provide-client-params.ec2.DescribeInstances", self._start)
        events.register_last("after-call.ec2.DescribeInstances", self._stop)

    def _start(self, **_kwargs: object) -> None:
        self._started = time.perf_counter()

    def _stop(self, **_kwargs: object) -> None:
        self.last = time.perf_counter() - self._started


def asgi_scope(path: str) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1:3001"), (b"authorization", AUTH.encode()),
                    (b"accept", b"application/json")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 3001),
    }


async def asgi_get(app: object, scope: dict, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            if headers is not None:
                headers.update((k.decode().lower(), v.decode()) for k, v in message.get("headers", ()))
        else:
            chunks.append(message.get("body", b""))

    await app(dict(scope), receive, send)  # type: ignore[operator]
    return status, b"".join(chunks)


def start_server(port: int, moto_url: str, log: Path) -> subprocess.Popen:
    """``benchmarks/ec2_timed_server.py`` in its own process, with deltacloudd's uvicorn settings."""
    import importlib.util

    command = [sys.executable, "-m", "uvicorn", "benchmarks.ec2_timed_server:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--no-server-header",
               "--no-date-header", "--proxy-headers", "--log-level", "warning",
               "--loop", "uvloop" if importlib.util.find_spec("uvloop") else "auto",
               "--http", "httptools" if importlib.util.find_spec("httptools") else "auto"]
    env = {**os.environ, "API_DRIVER": "ec2", "AWS_ENDPOINT_URL": moto_url,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            client = RawHttpClient(port, "/api")
        except OSError:
            time.sleep(0.05)
            continue
        client.close()
        return proc
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


class RawHttpClient:
    """A keep-alive HTTP/1.1 client on a plain socket: one prepared request, the answer read by
    its ``Content-Length``. ``http.client`` spends ~0.1 ms of Python per request building and
    parsing; that is the client's cost, not the server's, and would count as overhead here."""

    def __init__(self, port: int, path: str) -> None:
        import socket

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {AUTH}\r\n"
                        "Accept: application/json\r\n\r\n").encode()

    def get(self, headers: dict[str, str] | None = None) -> bytes:
        self.sock.sendall(self.request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = lines[0].split(b" ", 2)[1]
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower().decode()] = value.strip().decode()
        length = int(fields["content-length"])
        if headers is not None:
            headers.update(fields)
        while len(body) < length:
            body += self.sock.recv(65536)
        assert status == b"200", (status, body[:300])
        return body

    def close(self) -> None:
        self.sock.close()


def run_on_uvloop(coro: object) -> int:
    """The in-process requests run on uvloop, as ``deltacloudd`` serves them."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    return uvloop.run(coro)  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="rounds of blocks (default 30)")
    parser.add_argument("--block", type=int, default=21,
                        help="consecutive requests per path and round, the first not counted (default 21)")
    parser.add_argument("--idle-rounds", type=int, default=200,
                        help="rounds of single requests, boto3 and the server in turn (default 200)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured rounds first (default 50)")
    parser.add_argument("--instances", type=int, default=5, help="instances in moto (default 5)")
    args = parser.parse_args()

    from moto_process import MotoServer, free_port

    with tempfile.TemporaryDirectory() as tmp:
        moto = MotoServer(Path(tmp) / "moto.log").start()
        server = None
        try:
            os.environ["AWS_ENDPOINT_URL"] = moto.url
            from deltacloud_ec2 import EC2Driver

            from deltacloud_core import Credentials
            from deltacloud_core.web import Settings, create_app

            # The server's own cached client: the baseline calls it directly, the server through the app.
            client = EC2Driver(credentials=Credentials(ACCESS_KEY, SECRET_KEY)).ec2.raw
            client.run_instances(ImageId="ami-dc0001", InstanceType="m1.small", MinCount=args.instances,
                                 MaxCount=args.instances)
            timer = BotoTimer(client)
            app = create_app(Settings(default_driver="ec2"))
            port = free_port()
            server = start_server(port, moto.url, Path(tmp) / "server.log")
            conn = RawHttpClient(port, "/api/instances")
            scope = asgi_scope("/api/instances")
            credentials = Credentials(ACCESS_KEY, SECRET_KEY)
            paths = ("boto3", "driver", "in process", "over HTTP")
            latency: dict[str, list[float]] = {p: [] for p in paths}
            overhead: dict[str, list[float]] = {p: [] for p in paths}
            #: In-process requests split at the driver call (the app's X-Backend-Runtime header).
            split: dict[str, list[float]] = {"driver call beyond boto3 (incl. thread hop)": [],
                                             "app around the driver call": []}
            idle_overhead: dict[str, list[float]] = {"boto3": [], "over HTTP": []}

            async def one(path: str) -> tuple[float, float, dict[str, str]]:
                """(latency, its own describe_instances time, answer headers) of one request."""
                headers: dict[str, str] = {}
                t0 = time.perf_counter()
                if path == "boto3":
                    client.describe_instances(Filters=LIVE)
                elif path == "driver":
                    EC2Driver(credentials=credentials).list_instances()
                elif path == "in process":
                    await asgi_get(app, scope, headers)
                else:
                    conn.get(headers)
                elapsed = time.perf_counter() - t0
                return elapsed, float(headers.pop("x-bench-boto-seconds", timer.last)), headers

            async def run() -> int:
                status, body = await asgi_get(app, scope)
                assert status == 200, body[:300]
                size = len(conn.get())
                for _ in range(args.warmup):
                    for path in paths:
                        await one(path)
                # Steady state: a block of consecutive requests per path, the paths in turn.
                for _ in range(args.rounds):
                    for path in paths:
                        for k in range(args.block):
                            elapsed, own_call, headers = await one(path)
                            if k == 0 and args.block > 1:
                                continue  # the first of a block wakes up a process that idled
                            latency[path].append(elapsed * 1e3)
                            overhead[path].append((elapsed - own_call) * 1e3)
                            if path == "in process":
                                backend = float(headers["x-backend-runtime"])
                                split["driver call beyond boto3 (incl. thread hop)"].append(
                                    (backend - own_call) * 1e3)
                                split["app around the driver call"].append((elapsed - backend) * 1e3)
                # After idling: one request per path in turn (each waits ~45 ms for the others).
                for _ in range(args.idle_rounds):
                    for path in ("boto3", "over HTTP"):
                        elapsed, own_call, _headers = await one(path)
                        idle_overhead[path].append((elapsed - own_call) * 1e3)
                return size

            size = run_on_uvloop(run())
            conn.close()
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
            moto.stop()

    counted = args.block - 1 if args.block > 1 else 1
    print(f"GET /api/instances, JSON, {args.instances} instances ({size} bytes), against moto_server on loopback; "
          f"{args.rounds} rounds of {counted} counted consecutive requests per path, the paths in turn")
    print("latency per request")
    for path in paths:
        print(f"  {path:11} {summary(latency[path])}")
    print("added latency per request (its latency minus its own describe_instances call)")
    for path in paths:
        median = statistics.median(overhead[path])
        verdict = "" if path in ("boto3", "driver") else (
            "   meets the < 1 ms median target" if median < 1.0 else "   MISSES the < 1 ms median target")
        print(f"  {path:11} {summary(overhead[path])}{verdict}")
    print("the in-process added latency, split at the driver call")
    for label, values in split.items():
        print(f"  {label:46} {summary(values)}")
    base = statistics.median(latency["boto3"])
    print("cross-check, median latency minus boto3's median latency: "
          + ", ".join(f"{p} {statistics.median(latency[p]) - base:+.3f} ms" for p in paths[1:]))
    if args.idle_rounds:
        print(f"added latency after idling ({args.idle_rounds} rounds of one boto3 call and one request to the "
              "server in turn; the server's process sleeps in between)")
        for path, values in idle_overhead.items():
            print(f"  {path:11} {summary(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
