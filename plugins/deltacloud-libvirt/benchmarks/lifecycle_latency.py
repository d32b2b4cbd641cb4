"""Create-to-RUNNING and stop-to-STOPPED latency: through deltacloudd against libvirt-python directly.

A benchmark, not a test (it asserts nothing). One run starts the tests' own libvirtd with QEMU
(tests/libvirtd.py: SASL on loopback TCP, a blank qcow2 image), then measures on that same daemon, in
the same run, alternating the two ways so that the machine's load falls on both alike:

* **direct**: libvirt-python on one SASL connection does what the driver does (an overlay volume
  backed by the image, ``defineXML`` of the same domain XML, ``create``; then ``destroy`` for stop,
  since the blank guest ignores ACPI and the server is run with a zero grace period);
* **server**: ``POST /api/instances`` then polls ``GET /api/instances/:id`` until RUNNING; ``POST
  .../stop`` then polls until STOPPED (``DELTACLOUD_LIBVIRT_STOP_GRACE=0``: powered off at once).

Reports the median of N (default 20) of each, and the ratio server/direct.

    .venv/bin/python plugins/deltacloud-libvirt/benchmarks/lifecycle_latency.py [--rounds 20]

Needs root and the Debian packages of debian-packages.txt (like the real suite).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from deltacloud_core.testing.server import running_server  # noqa: E402

from deltacloud_libvirt.domain_xml import DomainSpec, domain_xml, overlay_volume_xml  # noqa: E402
from tests.libvirtd import IMAGE, PASSWORD, USER, start  # noqa: E402

POLL = 0.02


def direct_round(conn, arch: str, domain_type: str) -> tuple[float, float]:
    images = conn.storagePoolLookupByName("deltacloud-images")
    instances = conn.storagePoolLookupByName("deltacloud-instances")
    image = images.storageVolLookupByName(IMAGE)
    instance_id = str(uuid.uuid4())
    started = time.perf_counter()
    disk = instances.createXML(overlay_volume_xml(f"{instance_id}-disk.qcow2", image.info()[1], image.path(),
                                                  "qcow2"), 0)
    spec = DomainSpec(name=f"bench-{instance_id[:8]}", uuid=instance_id, domain_type=domain_type, arch=arch,
                      vcpus=1, memory_mib=256, root_path=disk.path(), metadata={"image": IMAGE})
    domain = conn.defineXML(domain_xml(spec))
    domain.create()
    while domain.state()[0] != 1:  # VIR_DOMAIN_RUNNING (create returns once it runs: no wait in practice)
        time.sleep(POLL)
    created = time.perf_counter() - started
    started = time.perf_counter()
    domain.destroy()
    while domain.state()[0] != 5:  # VIR_DOMAIN_SHUTOFF
        time.sleep(POLL)
    stopped = time.perf_counter() - started
    domain.undefine()
    disk.delete(0)
    return created, stopped


def _instance(reply: httpx.Response) -> dict:
    """The instance of a JSON answer (wrapped in ``instance`` by show and create, bare after an action)."""
    document = reply.json()
    return document.get("instance", document)


def server_round(client: httpx.Client) -> tuple[float, float]:
    started = time.perf_counter()
    reply = client.post("/api/instances", data={"image_id": IMAGE, "hwp_id": "default", "hwp_memory": "256"})
    reply.raise_for_status()
    instance = _instance(reply)
    instance_id = instance["id"]
    state = instance["state"]
    while state != "RUNNING":
        time.sleep(POLL)
        state = _instance(client.get(f"/api/instances/{instance_id}"))["state"]
    created = time.perf_counter() - started
    started = time.perf_counter()
    reply = client.post(f"/api/instances/{instance_id}/stop")
    reply.raise_for_status()
    state = _instance(reply)["state"]
    while state != "STOPPED":
        time.sleep(POLL)
        state = _instance(client.get(f"/api/instances/{instance_id}"))["state"]
    stopped = time.perf_counter() - started
    client.delete(f"/api/instances/{instance_id}").raise_for_status()
    return created, stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "deltacloud-libvirt" / "qemu"
    with tempfile.TemporaryDirectory(prefix="dc-libvirt-bench-") as base:
        daemon = start(Path(base), cache)
        try:
            conn = daemon.open()
            from deltacloud_libvirt.base import LibvirtBase

            arch, domain_type = LibvirtBase._guest_choice(conn.getCapabilities(), conn.getInfo()[0])
            env = {**os.environ, "DELTACLOUD_LIBVIRT_NETWORK": "none", "DELTACLOUD_LIBVIRT_STOP_GRACE": "0"}
            with running_server(driver="libvirt", provider=daemon.uri, env=env) as url, \
                    httpx.Client(base_url=url, auth=(USER, PASSWORD), headers={"Accept": "application/json"},
                                 timeout=60) as client:
                server_round(client)  # warm-up: the server's connection and imports
                direct_round(conn, arch, domain_type)
                results: dict[str, list[tuple[float, float]]] = {"direct": [], "server": []}
                for _ in range(args.rounds):
                    results["direct"].append(direct_round(conn, arch, domain_type))
                    results["server"].append(server_round(client))
            conn.close()
        finally:
            daemon.stop()
    print(f"libvirt lifecycle latency, median of {args.rounds} ({domain_type} domains, 256 MiB, same libvirtd)")
    print(f"{'':24}{'direct (ms)':>14}{'server (ms)':>14}{'ratio':>8}")
    for index, label in ((0, "create -> RUNNING"), (1, "stop -> STOPPED")):
        direct = statistics.median(r[index] for r in results["direct"]) * 1000
        server = statistics.median(r[index] for r in results["server"]) * 1000
        print(f"{label:24}{direct:14.1f}{server:14.1f}{server / direct:8.2f}")


if __name__ == "__main__":
    main()
