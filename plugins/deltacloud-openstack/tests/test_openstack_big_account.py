"""Big accounts are listed in full: Nova's and Cinder's markers, Neutron's ``next`` links followed to the end.

The test cloud lists at most 25 servers, 10 volumes and 25 Neutron objects a page (openstack-up.sh
sets the services' max limits), so the accounts it can make in a few seconds take several pages:
one ``POST /servers`` with ``min_count`` makes :data:`SERVERS` servers in ~3 s on this machine
(100 took 7.8 s), Cinder makes ~2.5 volumes a second (50 took 20 s, one at a time or eight at
once), Neutron a floating IP in ~0.2 s. A listing that stopped after its first page would count
25, 10 and 25.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from openstack_support import wait_until

#: Servers, volumes and floating IPs of the big account (the admin project has no quotas).
SERVERS = 40
VOLUMES = 15
ADDRESSES = 30
PAGE = {"servers": 25, "volumes": 10, "neutron": 25}


def _in_parallel(step, items) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(step, items))


@pytest.fixture
def big_account(admin_sdk, cloud):
    """SERVERS servers (no network: Neutron is not what is measured), VOLUMES volumes and ADDRESSES
    floating IPs in the admin project, made with openstacksdk directly; all deleted afterwards."""
    reply = admin_sdk.compute.post("/servers", microversion="2.46", json={"server": {
        "name": "dc-big", "imageRef": cloud.image_id, "flavorRef": "m1.tiny", "networks": "none",
        "min_count": SERVERS, "max_count": SERVERS}})
    assert reply.status_code == 202, reply.text
    volumes = []
    for n in range(VOLUMES):
        made = admin_sdk.block_storage.post("/volumes", json={"volume": {"size": 1, "name": f"dc-big-{n}"}})
        assert made.status_code == 202, made.text
        volumes.append(made.json()["volume"]["id"])
    addresses = []
    for _ in range(ADDRESSES):
        made = admin_sdk.network.post("/floatingips", json={"floatingip": {
            "floating_network_id": cloud.public_network_id}})
        assert made.status_code == 201, made.text
        addresses.append(made.json()["floatingip"]["id"])
    servers = [s.id for s in admin_sdk.compute.servers(name="^dc-big")]
    try:
        yield {"servers": set(servers), "volumes": set(volumes)}
    finally:
        _in_parallel(lambda i: admin_sdk.compute.delete(f"/servers/{i}"), servers)
        _in_parallel(lambda i: admin_sdk.network.delete(f"/floatingips/{i}"), addresses)
        for volume in volumes:
            wait_until(lambda v=volume: admin_sdk.block_storage.get(f"/volumes/{v}").json().get("volume", {}),
                       lambda v: v.get("status") != "creating", what=f"volume {volume} to be made")
        _in_parallel(lambda i: admin_sdk.block_storage.delete(f"/volumes/{i}"), volumes)
        wait_until(lambda: [s.id for s in admin_sdk.compute.servers(name="^dc-big")], lambda left: not left,
                   what="the big account's servers to go", timeout=180)


def test_every_server_volume_and_address_of_a_big_account(big_account, admin_driver, api_url, cloud):
    assert len(big_account["servers"]) == SERVERS > PAGE["servers"]
    listed = [i for i in admin_driver.list_instances() if i.name and i.name.startswith("dc-big")]
    assert {i.id for i in listed} == big_account["servers"] and len(listed) == SERVERS
    volumes = [v for v in admin_driver.list_storage_volumes() if (v.name or "").startswith("dc-big-")]
    assert {v.id for v in volumes} == big_account["volumes"] and len(volumes) == VOLUMES > PAGE["volumes"]
    assert len(admin_driver.list_addresses()) >= ADDRESSES > PAGE["neutron"]
    admin = cloud.credentials("admin")
    with httpx.Client(base_url=api_url, auth=(admin.user, admin.password), timeout=120) as http:
        instances = http.get("/instances", params={"format": "json"}).json()["instances"]
        assert len([i for i in instances if i["name"].startswith("dc-big")]) == SERVERS
        volumes = http.get("/storage_volumes", params={"format": "json"}).json()["storage_volumes"]
        assert len([v for v in volumes if (v.get("name") or "").startswith("dc-big-")]) == VOLUMES
