"""Big accounts are listed in full: Nova's and Cinder's markers, Neutron's ``next`` links followed to the end.

The test cloud lists at most 25 servers, 10 volumes and 25 Neutron objects a page (openstack-up.sh
sets the services' max limits), so the accounts it can make in a few seconds take several pages:
one ``POST /servers`` with ``min_count`` makes :data:`SERVERS` servers in ~3 s on this machine
(100 took 7.8 s), Cinder makes ~1-2.5 volumes a second (50 took 20 s, one at a time or eight at
once), Neutron a security group in ~0.35 s (a floating IP or a port takes 1.3-2.8 s there: each
allocates an address). A listing that stopped after its first page would count 25, 10 and 25.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from openstack_support import wait_until

#: Servers, volumes and security groups of the big account (the admin project has no quotas).
SERVERS = 40
VOLUMES = 15
FIREWALLS = 30
PAGE = {"servers": 25, "volumes": 10, "neutron": 25}


def _in_parallel(step, items) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(step, items))


def _big_servers(admin_sdk) -> list[str]:
    return [s.id for s in admin_sdk.compute.servers(name="^dc-big")]


@pytest.fixture
def big_account(admin_sdk, cloud):
    """SERVERS servers, VOLUMES volumes and FIREWALLS security groups in the admin project, made with
    openstacksdk directly; all deleted afterwards. The servers ask for more disk than the fake
    hypervisor has: the scheduler refuses them at once (ERROR, listed like any other), so the one
    compute host builds nothing and Nova deletes them without it."""
    flavor = admin_sdk.compute.create_flavor(id="test.big-account", name="test.big-account", ram=64, vcpus=1,
                                             disk=10**6)
    volumes: list[str] = []
    groups: list[str] = []
    try:
        reply = admin_sdk.compute.post("/servers", microversion="2.46", json={"server": {
            "name": "dc-big", "imageRef": cloud.image_id, "flavorRef": flavor.id, "networks": "none",
            "min_count": SERVERS, "max_count": SERVERS}})
        assert reply.status_code == 202, reply.text
        for n in range(VOLUMES):
            made = admin_sdk.block_storage.post("/volumes", json={"volume": {"size": 1, "name": f"dc-big-{n}"}})
            assert made.status_code == 202, made.text
            volumes.append(made.json()["volume"]["id"])
        for n in range(FIREWALLS):
            made = admin_sdk.network.post("/security-groups", json={"security_group": {"name": f"dc-big-{n}"}})
            assert made.status_code == 201, made.text
            groups.append(made.json()["security_group"]["id"])
        yield {"servers": set(_big_servers(admin_sdk)), "volumes": set(volumes), "firewalls": set(groups)}
    finally:  # what was made, also when making the account failed half-way
        _in_parallel(lambda i: admin_sdk.compute.delete(f"/servers/{i}"), _big_servers(admin_sdk))
        _in_parallel(lambda i: admin_sdk.network.delete(f"/security-groups/{i}"), groups)
        for volume in volumes:
            wait_until(lambda v=volume: admin_sdk.block_storage.get(f"/volumes/{v}").json().get("volume", {}),
                       lambda v: v.get("status") != "creating", what=f"volume {volume} to be made")
        _in_parallel(lambda i: admin_sdk.block_storage.delete(f"/volumes/{i}"), volumes)
        wait_until(lambda: _big_servers(admin_sdk), lambda left: not left, what="the big account's servers to go",
                   timeout=300, interval=1.0)
        admin_sdk.compute.delete_flavor(flavor, ignore_missing=True)


def test_every_server_volume_and_firewall_of_a_big_account(big_account, admin_driver, api_url, cloud):
    assert len(big_account["servers"]) == SERVERS > PAGE["servers"]
    listed = [i for i in admin_driver.list_instances() if i.name and i.name.startswith("dc-big")]
    assert {i.id for i in listed} == big_account["servers"]
    assert len(listed) == SERVERS
    volumes = [v for v in admin_driver.list_storage_volumes() if (v.name or "").startswith("dc-big-")]
    assert {v.id for v in volumes} == big_account["volumes"]
    assert len(volumes) == VOLUMES > PAGE["volumes"]
    firewalls = [f for f in admin_driver.list_firewalls() if (f.name or "").startswith("dc-big-")]
    assert {f.id for f in firewalls} == big_account["firewalls"]
    assert len(firewalls) == FIREWALLS > PAGE["neutron"]
    admin = cloud.credentials("admin")
    with httpx.Client(base_url=api_url, auth=(admin.user, admin.password), timeout=120) as http:
        instances = http.get("/instances", params={"format": "json"}).json()["instances"]
        assert len([i for i in instances if i["name"].startswith("dc-big")]) == SERVERS
        volumes = http.get("/storage_volumes", params={"format": "json"}).json()["storage_volumes"]
        assert len([v for v in volumes if (v.get("name") or "").startswith("dc-big-")]) == VOLUMES
