"""256 MiB through the Deltacloud server to fake-gcs-server and back, against google-cloud-storage
straight on the same emulator.

    .venv/bin/python plugins/deltacloud-google/benchmarks/gcs_roundtrip.py [--size-mib 256] [--repeat 3]

One run starts one fake-gcs-server (filesystem backend, as the tests) and one ``deltacloudd -i
google`` process (a service-account key made for the run), then measures on the same emulator:

* through the server: ``PUT /api/buckets/:b/:blob`` (streamed, Content-Length set) and
  ``GET .../content`` (streamed), with the server's peak resident memory (``VmHWM``) after a
  warm-up and after all the runs;
* the SDK directly: ``upload_from_file`` (a resumable upload in chunks of the driver's size) and
  ``download_to_file`` (one streamed GET), from and to streams that are never held whole.

The two alternate ``--repeat`` times; medians are reported with every run. Throughput is MiB/s
of payload; the ratio is server / SDK (1.0 = no overhead). The bytes are checked (sha256) in
every direction. ``--json`` prints the figures as one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import httpx  # noqa: E402
from deltacloud_google.settings import Settings  # noqa: E402
from deltacloud_process import MiB, Payload, download, peak_kib, served, upload  # noqa: E402
from fake_gcs import FakeGcs  # noqa: E402
from keys import EMAIL, PROJECT, key_json  # noqa: E402


class _Sink:
    """A file object that hashes what is written to it and keeps nothing."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


def through_server(client: httpx.Client, bucket: str, size: int, seed: int) -> dict[str, float]:
    payload = Payload(size, seed=seed)
    up = upload(client, f"/api/buckets/{bucket}/big.bin", payload)
    got, digest, down = download(client, f"/api/buckets/{bucket}/big.bin/content")
    if got != size or digest != payload.sha256.hexdigest():
        raise SystemExit(f"server: {got} of {size} bytes came back, sha256 {'same' if digest else 'differs'}")
    return {"up_s": up, "down_s": down}


def through_sdk(sdk: Any, bucket: str, size: int, seed: int, settings: Settings) -> dict[str, float]:
    blob = sdk.bucket(bucket).blob("sdk.bin", chunk_size=settings.chunk_size)
    payload = Payload(size, seed=seed)
    started = time.perf_counter()
    blob.upload_from_file(payload, size=size, content_type="application/octet-stream")
    up = time.perf_counter() - started
    sink = _Sink()
    started = time.perf_counter()
    sdk.bucket(bucket).blob("sdk.bin").download_to_file(sink, raw_download=True)
    down = time.perf_counter() - started
    if sink.size != size or sink.sha256.hexdigest() != payload.sha256.hexdigest():
        raise SystemExit("through the SDK: the bytes differ")
    return {"up_s": up, "down_s": down}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3, help="round trips each way, alternating (median reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    size = args.size_mib * MiB
    mib = size / MiB
    settings = Settings.from_env()
    runs: dict[str, list[float]] = {"server_up": [], "server_down": [], "sdk_up": [], "sdk_down": []}
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with FakeGcs() as gcs, served(f"{PROJECT};endpoint={gcs.url}") as (url, pid), httpx.Client(
            base_url=url, auth=(EMAIL, key_json()), timeout=httpx.Timeout(600.0)) as client:
        sdk = storage.Client(project=PROJECT, credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": gcs.url})
        bucket = f"bench-{secrets.token_hex(4)}"
        sdk.create_bucket(bucket)
        # Warm up both paths (imports, clients, pools) before the baseline is taken.
        upload(client, f"/api/buckets/{bucket}/warmup", Payload(MiB, seed=2))
        download(client, f"/api/buckets/{bucket}/warmup/content")
        through_sdk(sdk, bucket, MiB, 3, settings)
        before = peak_kib(pid)
        for n in range(args.repeat):
            server_run = through_server(client, bucket, size, seed=100 + n)
            direct = through_sdk(sdk, bucket, size, 200 + n, settings)
            runs["server_up"].append(mib / server_run["up_s"])
            runs["server_down"].append(mib / server_run["down_s"])
            runs["sdk_up"].append(mib / direct["up_s"])
            runs["sdk_down"].append(mib / direct["down_s"])
        after = peak_kib(pid)
    figures: dict[str, object] = {
        "size_mib": mib, "repeat": args.repeat, "chunk_size_mib": settings.chunk_size / MiB, "cpus": os.cpu_count(),
        **{f"{name}_mib_s": statistics.median(values) for name, values in runs.items()},
        "server_hwm_before_mib": before / 1024, "server_hwm_after_mib": after / 1024,
        "runs_mib_s": {name: [round(v, 1) for v in values] for name, values in runs.items()},
    }
    figures["up_ratio"] = figures["server_up_mib_s"] / figures["sdk_up_mib_s"]  # type: ignore[operator]
    figures["down_ratio"] = figures["server_down_mib_s"] / figures["sdk_down_mib_s"]  # type: ignore[operator]
    if args.json:
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))
        return 0
    f = figures
    print(f"{mib:.0f} MiB each way, fake-gcs-server (filesystem) on loopback, chunks of {f['chunk_size_mib']:g} MiB; "
          f"median of {args.repeat} alternating runs, {f['cpus']} CPUs")
    print(f"{'':24}{'upload MiB/s':>14}{'download MiB/s':>16}")
    print(f"{'through deltacloudd':24}{f['server_up_mib_s']:>14.1f}{f['server_down_mib_s']:>16.1f}")
    print(f"{'SDK directly':24}{f['sdk_up_mib_s']:>14.1f}{f['sdk_down_mib_s']:>16.1f}")
    print(f"{'ratio server / SDK':24}{f['up_ratio']:>14.2f}{f['down_ratio']:>16.2f}")
    print(f"runs (MiB/s): {f['runs_mib_s']}")
    moved = 2 * mib * args.repeat
    print(f"server peak memory (VmHWM): {f['server_hwm_before_mib']:.0f} MiB after warm-up, "
          f"{f['server_hwm_after_mib']:.0f} MiB after moving {moved:.0f} MiB "
          f"(+{f['server_hwm_after_mib'] - f['server_hwm_before_mib']:.0f} MiB)")  # type: ignore[operator]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
