"""Memory of the server while a 1 GiB blob goes up and comes back down (a benchmark, not a test).

Starts ``deltacloudd`` (one worker, mock driver, a temporary ``DELTACLOUD_MOCK_STORAGE``) on a
free loopback port, then:

1. a small warm-up upload and download (so every code path is imported), and the baseline
   resident set size of the server process (``VmRSS`` in ``/proc/<pid>/status``);
2. ``PUT /api/buckets/<b>/<blob>`` of 1 GiB streamed from a generator (chunked, never held
   in memory by the client either), while a sampler thread records the server's RSS;
3. ``GET .../content`` streamed back, its sha256 compared with the upload's.

It prints the baseline, the peak RSS during each transfer (sampled, and the kernel's
high-water mark ``VmHWM`` where it could be reset through ``clear_refs``) and the peak growth
in MiB. Streaming both ways means the growth stays within a few tens of MiB whatever the
blob's size.

    .venv/bin/python benchmarks/blob_memory.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from deltacloud_core.testing.server import free_port

AUTH = ("mockuser", "mockpassword")
CHUNK = 1024 * 1024


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (uvicorn may run the app in a child)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    return sum(status_kib(p, "VmRSS") for p in descendants(pid))


def reset_hwm(pid: int) -> bool:
    """Reset the kernel's peak-RSS mark (``echo 5 > /proc/<pid>/clear_refs``); False if not allowed."""
    ok = True
    for p in descendants(pid):
        try:
            Path(f"/proc/{p}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


def hwm_kib(pid: int) -> int:
    return sum(status_kib(p, "VmHWM") for p in descendants(pid))


class Sampler:
    """Polls the server's RSS every few milliseconds and keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self.peak = rss_kib(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, rss_kib(self.pid))


def payload(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
    """``size`` bytes in 1 MiB chunks: a random block, each chunk stamped with its number."""
    block = bytearray(os.urandom(CHUNK))
    sent = 0
    number = 0
    while sent < size:
        block[:8] = number.to_bytes(8, "big")
        chunk = bytes(block[: min(CHUNK, size - sent)])
        digest.update(chunk)
        sent += len(chunk)
        number += 1
        yield chunk


def start_server(storage: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DELTACLOUD_MOCK_STORAGE": str(storage)}
    proc = subprocess.Popen([sys.executable, "-m", "deltacloud_core.cli", "-p", str(port), "--workers", "1",
                             "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/api", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"server did not start: {proc.communicate()[1].decode(errors='replace')}")
        time.sleep(0.1)


def mib(kib: int) -> float:
    return kib / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="blob size in MiB (default 1024 = 1 GiB)")
    args = parser.parse_args()
    size = args.size_mib * CHUNK

    with tempfile.TemporaryDirectory(prefix="dc-blob-bench-") as tmp:
        proc, url = start_server(Path(tmp) / "mock")
        pid = proc.pid
        try:
            with httpx.Client(base_url=url, auth=AUTH, timeout=600) as http:
                assert http.post("/api/buckets?format=json", data={"name": "bench"}).status_code == 201
                # warm-up: every code path of upload and download runs once
                warm = hashlib.sha256()
                assert http.put("/api/buckets/bench/warm?format=json",
                                content=payload(4 * CHUNK, warm)).status_code == 200
                with http.stream("GET", "/api/buckets/bench/warm/content") as response:
                    for _ in response.iter_bytes():
                        pass
                time.sleep(0.5)
                baseline = rss_kib(pid)
                hwm_ok = reset_hwm(pid)

                sent = hashlib.sha256()
                started = time.perf_counter()
                with Sampler(pid) as up:
                    response = http.put("/api/buckets/bench/big?format=json", content=payload(size, sent),
                                        headers={"Content-Type": "application/octet-stream"})
                up_seconds = time.perf_counter() - started
                assert response.status_code == 200, response.text[:300]
                assert response.json()["blob"]["content_length"] == size
                up_hwm = hwm_kib(pid) if hwm_ok else 0

                hwm_ok = hwm_ok and reset_hwm(pid)
                received = hashlib.sha256()
                length = 0
                started = time.perf_counter()
                with Sampler(pid) as down, http.stream("GET", "/api/buckets/bench/big/content") as response:
                    assert response.status_code == 200
                    for chunk in response.iter_bytes():
                        received.update(chunk)
                        length += len(chunk)
                down_seconds = time.perf_counter() - started
                down_hwm = hwm_kib(pid) if hwm_ok else 0
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    same = received.hexdigest() == sent.hexdigest() and length == size
    peak = max(up.peak, down.peak, up_hwm, down_hwm)
    print(f"blob size:           {args.size_mib} MiB")
    print(f"server RSS baseline: {mib(baseline):8.1f} MiB")
    print(f"upload:   {up_seconds:6.1f} s  peak RSS {mib(up.peak):8.1f} MiB (sampled)"
          + (f", VmHWM {mib(up_hwm):8.1f} MiB" if up_hwm else ""))
    print(f"download: {down_seconds:6.1f} s  peak RSS {mib(down.peak):8.1f} MiB (sampled)"
          + (f", VmHWM {mib(down_hwm):8.1f} MiB" if down_hwm else ""))
    print(f"sha256 round trip:   {'identical' if same else 'DIFFERENT'} ({sent.hexdigest()[:16]}...)")
    print(f"peak RSS growth:     {mib(peak - baseline):8.1f} MiB")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
