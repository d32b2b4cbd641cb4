"""``GET /api/instances`` of a big EC2 account through the server, against the same boto3 calls directly.

    .venv/bin/python benchmarks/ec2_big_account.py                 # 5,000 instances, 5 rounds
    .venv/bin/python benchmarks/ec2_big_account.py --instances 1000 --rounds 9

Needs ``pip install -e 'plugins/deltacloud-ec2[test]'`` (boto3, moto). One run starts its own
``moto_server`` on a free loopback port and makes the account there (``--instances`` in
reservations of ``--per-reservation``; moto makes ~100 instances a second on a 2-core machine),
then a server in its own process as ``deltacloudd -i ec2`` runs it (uvicorn, uvloop, httptools;
``benchmarks/ec2_timed_server.py``), and measures, round after round, the paths in turn:

* **boto3**: the very calls the driver makes, on an already-built client, as a program calling
  AWS itself would: ``describe_instances`` of the live states, every page followed by
  ``NextToken``. moto pages by reservation; ``--page`` reservations a page (default 10, i.e. 1,000
  instances a page, as AWS pages them) for both this path and the server
  (``DELTACLOUD_EC2_PAGE_SIZE``);
* **driver**: ``EC2Driver(...).list_instances()`` in this process (the models built);
* **over HTTP**: ``GET /api/instances`` in JSON over a keep-alive loopback connection, the
  answer read to its last byte.

Printed: the median of each path, the ratio of the server's median to boto3's (target: at most
1.20, the server adds at most 20%), and where the difference goes (the driver's work beyond
boto3; the rest: documents, JSON, HTTP). Wall-clock times swing by tens of seconds on a shared
machine, so the CPU time each process spent per request is printed too (moto's, this process's,
the server's, from ``/proc``): it does not depend on what else runs. The counts are checked
(every path sees every instance). This is a benchmark, not a test: it reports and exits 0.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins" / "deltacloud-ec2" / "tests"))
sys.path.insert(0, str(ROOT))

ACCESS_KEY, SECRET_KEY = "AKIADELTACLOUDBENCH2", "benchmark/secret"
AUTH = "Basic " + base64.b64encode(f"{ACCESS_KEY}:{SECRET_KEY}".encode()).decode()
#: What ``list_instances`` asks for (every instance that is not terminated).
LIVE = [{"Name": "instance-state-name", "Values": ["pending", "running", "shutting-down", "stopping", "stopped"]}]
TARGET = 1.20


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process so far: this one (None) or ``pid``, from /proc."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_get(port: int, path: str) -> bytes:
    """One GET on a fresh keep-alive-less connection, the body read by its Content-Length."""
    with socket.create_connection(("127.0.0.1", port), timeout=600) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {AUTH}\r\n"
                      "Accept: application/json\r\nConnection: close\r\n\r\n").encode())
        data = bytearray()
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        head, _, rest = bytes(data).partition(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                      if line.lower().startswith(b"content-length:"))
        body = bytearray(rest)
        while len(body) < length:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            body += chunk
    if status != b"200":
        raise RuntimeError(f"GET {path}: {status.decode()} {bytes(body[:300])!r}")
    return bytes(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=5000, help="instances in the account (default 5000)")
    parser.add_argument("--per-reservation", type=int, default=100, help="instances per reservation (default 100)")
    parser.add_argument("--page", type=int, default=10, help="reservations a page (default 10)")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds of each path (default 5)")
    args = parser.parse_args()

    from ec2_overhead import start_server
    from moto_process import MotoServer, free_port

    with tempfile.TemporaryDirectory() as tmp:
        moto = MotoServer(Path(tmp) / "moto.log").start()
        server = None
        try:
            os.environ["AWS_ENDPOINT_URL"] = moto.url
            os.environ["DELTACLOUD_EC2_PAGE_SIZE"] = str(args.page)
            # moto takes tens of seconds for 5,000 instances, more than a minute on a busy machine:
            # beyond the server's default backend timeout (60 s), which is not what is measured.
            os.environ.setdefault("DELTACLOUD_BACKEND_TIMEOUT", "1800")
            from deltacloud_ec2 import EC2Driver

            from deltacloud_core import Credentials

            credentials = Credentials(ACCESS_KEY, SECRET_KEY)
            client = EC2Driver(credentials=credentials).ec2.raw
            started = time.perf_counter()
            left = args.instances
            while left > 0:
                count = min(left, args.per_reservation)
                client.run_instances(ImageId="ami-dc0001", InstanceType="t3.micro", MinCount=count, MaxCount=count)
                left -= count
            made = time.perf_counter() - started
            port = free_port()
            server = start_server(port, moto.url, Path(tmp) / "server.log")

            def boto3_direct() -> int:
                kwargs: dict = {"Filters": LIVE, "MaxResults": args.page}
                found = 0
                while True:
                    page = client.describe_instances(**kwargs)
                    found += sum(len(r.get("Instances") or ()) for r in page["Reservations"])
                    token = page.get("NextToken")
                    if not token:
                        return found
                    kwargs["NextToken"] = token

            def driver_direct() -> int:
                return len(EC2Driver(credentials=credentials).list_instances())

            sizes: list[int] = []

            def over_http() -> int:
                body = http_get(port, "/api/instances")
                sizes.append(len(body))
                return len(json.loads(body)["instances"])

            paths: dict[str, Callable[[], int]] = {"boto3": boto3_direct, "driver": driver_direct,
                                                   "over HTTP": over_http}
            times: dict[str, list[float]] = {name: [] for name in paths}
            processes = {"moto": moto.process.pid, "this process": None, "server": server.pid}
            cpu: dict[str, dict[str, list[float]]] = {name: {p: [] for p in processes} for name in paths}
            for name, path in paths.items():  # one unmeasured round: caches, connections, imports
                assert path() == args.instances, name
            for _ in range(args.rounds):
                for name, path in paths.items():
                    before = {p: cpu_seconds(pid) for p, pid in processes.items()}
                    t0 = time.perf_counter()
                    seen = path()
                    times[name].append(time.perf_counter() - t0)
                    for p, pid in processes.items():
                        cpu[name][p].append(cpu_seconds(pid) - before[p])
                    if seen != args.instances:
                        raise SystemExit(f"{name} saw {seen} instances of {args.instances}")
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
            moto.stop()

    medians = {name: statistics.median(values) for name, values in times.items()}
    pages = -(-args.instances // (args.per_reservation * args.page))
    print(f"GET /api/instances, JSON, {args.instances} instances ({sizes[-1]:,} bytes) in "
          f"{-(-args.instances // args.per_reservation)} reservations, {pages} pages of DescribeInstances, "
          f"against moto_server on loopback (made in {made:.0f} s); {args.rounds} rounds, the paths in turn")
    for name, values in times.items():
        spread = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:10} median {medians[name]:7.2f} s   ({spread})")
    ratio = medians["over HTTP"] / medians["boto3"]
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"server / boto3 = {ratio:.3f}   {verdict} the target (at most {TARGET:.2f})")
    print(f"where the difference goes: the driver beyond boto3 {medians['driver'] - medians['boto3']:+.2f} s, "
          f"documents + JSON + HTTP {medians['over HTTP'] - medians['driver']:+.2f} s "
          f"(per instance: {(medians['over HTTP'] - medians['boto3']) / args.instances * 1e6:.0f} us)")
    print("CPU seconds per request, median (moto answers; boto3 parses in this process or in the server)")
    for name in paths:
        parts = ", ".join(f"{p} {statistics.median(v):7.3f}" for p, v in cpu[name].items())
        print(f"  {name:10} {parts}")
    base = statistics.median(cpu["boto3"]["this process"])
    served = statistics.median(cpu["over HTTP"]["server"])
    print(f"the server's CPU per request beyond boto3's own: {served - base:+.3f} s "
          f"({(served - base) / args.instances * 1e6:.0f} us per instance)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
