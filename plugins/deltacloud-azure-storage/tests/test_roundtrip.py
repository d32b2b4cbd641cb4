"""256 MiB up through a real Deltacloud server (deltacloudd, uvicorn) to Azurite and back, byte for
byte, with the server's memory staying flat."""

from __future__ import annotations

import os

import httpx
import pytest
from azurite_server import ACCOUNT, KEY
from conftest import new_name
from deltacloud_server import DeltacloudServer, MiB, Payload, download, upload

SIZE = 256 * MiB
#: How much the server's peak RSS may grow while it moves 256 MiB (blocks in flight + slack).
MAX_GROWTH_MIB = 96


@pytest.fixture(scope="module")
def server(azurite):
    with DeltacloudServer(azurite.url) as running:
        yield running


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc for the memory figures")
def test_256_mib_round_trip_is_byte_identical_in_flat_memory(server, sdk):
    bucket = new_name("rt")
    auth = (ACCOUNT, KEY)
    with httpx.Client(base_url=server.url, auth=auth, timeout=httpx.Timeout(120.0)) as client:
        assert client.post("/api/buckets", data={"name": bucket}, headers={"Accept": "application/json"}
                           ).status_code == 201
        try:
            # Warm up (imports, client, thread pools) before taking the baseline.
            upload(client, f"/api/buckets/{bucket}/warmup", Payload(MiB, seed=2))
            download(client, f"/api/buckets/{bucket}/warmup/content")
            before = server.memory()

            payload = Payload(SIZE, seed=42)
            up_seconds = upload(client, f"/api/buckets/{bucket}/big.bin", payload)
            size, digest, down_seconds = download(client, f"/api/buckets/{bucket}/big.bin/content")
            after = server.memory()
            stored = sdk.get_blob_client(bucket, "big.bin").get_blob_properties().size
        finally:
            sdk.delete_container(bucket)

    assert payload.sent == SIZE
    assert size == SIZE
    assert stored == SIZE
    assert digest == payload.sha256.hexdigest()
    growth_mib = (after["VmHWM"] - before["VmHWM"]) / 1024
    print(f"\n256 MiB round trip: up {SIZE / MiB / up_seconds:.0f} MiB/s, down {SIZE / MiB / down_seconds:.0f} MiB/s; "
          f"server VmHWM {before['VmHWM'] / 1024:.0f} -> {after['VmHWM'] / 1024:.0f} MiB")
    assert growth_mib < MAX_GROWTH_MIB, f"the server's peak memory grew by {growth_mib:.0f} MiB"
