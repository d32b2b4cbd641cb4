"""256 MiB through the Deltacloud server to Azurite and back, against the SDK straight on Azurite.

    .venv/bin/python plugins/deltacloud-azure-storage/benchmarks/azure_roundtrip.py [--size-mib 256]

One run starts one Azurite (npm, as the tests do) and one ``deltacloudd -i azure`` process, then
measures, on the same Azurite and the same machine:

* through the server: ``PUT /api/buckets/:b/:blob`` (streamed, Content-Length set) and
  ``GET .../content`` (streamed), with the server process's peak resident memory (``VmHWM``)
  before and after;
* the SDK directly: ``upload_blob`` from a stream with the driver's block size and
  concurrency, and ``download_blob().chunks()``.

The two alternate ``--repeat`` times (3) and the medians are reported, with every run.

Throughput is MiB/s of payload; the ratio is server / SDK (1.0 = no overhead). The bytes are
checked (sha256) in every direction. ``--json`` prints the figures as one JSON object.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import httpx  # noqa: E402
from azure.storage.blob import BlobServiceClient  # noqa: E402
from azurite_server import ACCOUNT, KEY, Azurite  # noqa: E402
from deltacloud_server import DeltacloudServer, MiB, Payload, download, upload  # noqa: E402

from deltacloud_azure_storage.client import ClientSettings  # noqa: E402


def through_server(client: httpx.Client, bucket: str, size: int, seed: int) -> dict[str, float]:
    payload = Payload(size, seed=seed)
    up = upload(client, f"/api/buckets/{bucket}/big.bin", payload)
    got, digest, down = download(client, f"/api/buckets/{bucket}/big.bin/content")
    same = digest == payload.sha256.hexdigest()
    if got != size or not same:
        raise SystemExit(f"server: {got} of {size} bytes came back, sha256 {'same' if same else 'differs'}")
    return {"up_s": up, "down_s": down}


def through_sdk(service: BlobServiceClient, bucket: str, size: int, seed: int,
                settings: ClientSettings) -> dict[str, float]:
    blob = service.get_blob_client(bucket, "sdk.bin")
    payload = Payload(size, seed=seed)
    started = time.perf_counter()
    blob.upload_blob(payload, length=size, overwrite=True, max_concurrency=settings.upload_concurrency)
    up = time.perf_counter() - started
    digest = hashlib.sha256()
    got = 0
    started = time.perf_counter()
    for chunk in blob.download_blob(max_concurrency=1).chunks():
        digest.update(chunk)
        got += len(chunk)
    down = time.perf_counter() - started
    if got != size or digest.hexdigest() != payload.sha256.hexdigest():
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
    settings = ClientSettings.from_env()
    runs: dict[str, list[float]] = {"server_up": [], "server_down": [], "sdk_up": [], "sdk_down": []}
    with Azurite() as azurite, DeltacloudServer(azurite.url) as server, httpx.Client(
            base_url=server.url, auth=(ACCOUNT, KEY), timeout=httpx.Timeout(600.0)) as client:
        service = BlobServiceClient(
            azurite.url, credential={"account_name": ACCOUNT, "account_key": KEY},
            max_single_put_size=settings.block_size, max_block_size=settings.block_size,
            max_single_get_size=settings.block_size, max_chunk_get_size=settings.block_size)
        bucket = f"bench-{secrets.token_hex(4)}"
        reply = client.post("/api/buckets", data={"name": bucket}, headers={"Accept": "application/json"})
        if reply.status_code != 201:
            raise SystemExit(f"POST /api/buckets: {reply.status_code} {reply.text[:300]}")
        # Warm up both paths (imports, clients, thread pools) before the baseline is taken.
        upload(client, f"/api/buckets/{bucket}/warmup", Payload(MiB, seed=2))
        download(client, f"/api/buckets/{bucket}/warmup/content")
        through_sdk(service, bucket, MiB, 3, settings)
        before = server.memory()
        for n in range(args.repeat):
            served = through_server(client, bucket, size, seed=100 + n)
            direct = through_sdk(service, bucket, size, 200 + n, settings)
            runs["server_up"].append(mib / served["up_s"])
            runs["server_down"].append(mib / served["down_s"])
            runs["sdk_up"].append(mib / direct["up_s"])
            runs["sdk_down"].append(mib / direct["down_s"])
        after = server.memory()
    figures: dict[str, object] = {
        "size_mib": mib, "repeat": args.repeat, "block_size_mib": settings.block_size / MiB,
        "upload_concurrency": settings.upload_concurrency, "cpus": os.cpu_count(),
        **{f"{name}_mib_s": statistics.median(values) for name, values in runs.items()},
        "server_hwm_before_mib": before["VmHWM"] / 1024, "server_hwm_after_mib": after["VmHWM"] / 1024,
        "runs_mib_s": {name: [round(v, 1) for v in values] for name, values in runs.items()},
    }
    figures["up_ratio"] = figures["server_up_mib_s"] / figures["sdk_up_mib_s"]  # type: ignore[operator]
    figures["down_ratio"] = figures["server_down_mib_s"] / figures["sdk_down_mib_s"]  # type: ignore[operator]
    if args.json:
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))
        return 0
    f = figures
    print(f"{mib:.0f} MiB each way, Azurite on loopback, blocks of {f['block_size_mib']:g} MiB, "
          f"{f['upload_concurrency']} in flight; median of {args.repeat} alternating runs, {f['cpus']} CPUs")
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
