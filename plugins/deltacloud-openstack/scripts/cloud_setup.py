"""Fill a freshly started test cloud and check it really works (run by openstack-up.sh).

Runs on Debian's /usr/bin/python3, where the OpenStack services' own libraries live
(keystoneauth1, keystoneclient, openstacksdk); the project's venv is not involved.

    cloud_setup.py register BASE_DIR   service users, catalogue, test users/projects/domain
    cloud_setup.py finish BASE_DIR     image, flavors, networks (an external "public" one, the admin
                                       project's "private" one and a router between them), quotas,
                                       wait for compute/volume/object storage
    cloud_setup.py smoke BASE_DIR      boot and delete one server on "private", one volume and one
                                       container, write cloud.json

Every wait is a bounded poll; a service that never comes up is reported with its name.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

AUTH_URL = "http://127.0.0.1:5000/v3"
REGION = "RegionOne"
ADMIN = {"user": "admin", "password": "secret", "project": "admin"}
DEMO = {"user": "demo", "password": "demopass", "project": "demo"}
#: A user, project and domain other than Default, for the ``domain/user@project`` syntax.
DOMAIN_USER = {"user": "dcuser", "password": "dcpass", "project": "dcproject", "domain": "dcdomain"}
SERVICE_PASSWORD = "secret"
FLAVORS = (("m1.tiny", 512, 1, 1), ("m1.small", 2048, 2, 20))
IMAGE_NAME = "cirros-fake"
#: The external network floating IPs come from, and the admin project's own network behind a router.
PUBLIC = {"name": "public", "cidr": "172.24.4.0/24"}
PRIVATE = {"name": "private", "cidr": "10.0.0.0/24"}
#: The admin project may hold a big account (the tests' thousands of servers, volumes, addresses).
BIG_QUOTAS = {"instances": -1, "cores": -1, "ram": -1, "volumes": -1, "gigabytes": -1, "snapshots": -1,
              "floatingip": -1, "port": -1, "network": -1, "subnet": -1, "router": -1, "security_group": -1,
              "security_group_rule": -1}

SERVICES = (
    ("nova", "nova", "compute", "http://127.0.0.1:8774/v2.1"),
    ("placement", "placement", "placement", "http://127.0.0.1:8778"),
    ("glance", "glance", "image", "http://127.0.0.1:9292"),
    ("neutron", "neutron", "network", "http://127.0.0.1:9696"),
    ("cinder", "cinderv3", "volumev3", "http://127.0.0.1:8776/v3/%(project_id)s"),
    ("cinder", "cinder", "block-storage", "http://127.0.0.1:8776/v3/%(project_id)s"),
    ("swift", "swift", "object-store", "http://127.0.0.1:8080/v1/AUTH_%(project_id)s"),
)


def log(message: str) -> None:
    print(f"cloud_setup: {message}", flush=True)


def wait_for(what: str, check, timeout: float, interval: float = 0.3):
    """Poll ``check()`` until it returns something true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:
            last = exc
        time.sleep(interval)
    reason = f" (last error: {last})" if last else ""
    raise SystemExit(f"cloud_setup: {what} not ready after {timeout:.0f} s{reason}")


def admin_session():
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    return session.Session(auth=v3.Password(
        auth_url=AUTH_URL, username=ADMIN["user"], password=ADMIN["password"], project_name=ADMIN["project"],
        user_domain_id="default", project_domain_id="default"))


def register() -> None:
    from keystoneclient.v3 import client

    ks = client.Client(session=admin_session())
    default = ks.domains.get("default")
    service_project = ks.projects.create("service", default)
    admin_role = ks.roles.find(name="admin")
    member_role = ks.roles.find(name="member")
    # cinder lets nova detach a volume only when nova sends a token with this role (CVE-2023-2088).
    service_role = ks.roles.create("service")
    users = {}
    for user, name, service_type, url in SERVICES:
        if user not in users:
            users[user] = account = ks.users.create(user, domain=default, password=SERVICE_PASSWORD)
            ks.roles.grant(admin_role, user=account, project=service_project)
            ks.roles.grant(service_role, user=account, project=service_project)
        service = ks.services.create(name, type=service_type)
        for interface in ("public", "internal", "admin"):
            ks.endpoints.create(service, url, interface=interface, region=REGION)
    # A plain member with a default project (so "demo" alone scopes to it).
    demo_project = ks.projects.create(DEMO["project"], default)
    demo = ks.users.create(DEMO["user"], domain=default, password=DEMO["password"],
                           default_project=demo_project)
    ks.roles.grant(member_role, user=demo, project=demo_project)
    # A user in another domain.
    domain = ks.domains.create(DOMAIN_USER["domain"])
    project = ks.projects.create(DOMAIN_USER["project"], domain)
    other = ks.users.create(DOMAIN_USER["user"], domain=domain, password=DOMAIN_USER["password"])
    ks.roles.grant(member_role, user=other, project=project)
    log("catalogue, service users and test users registered")


def connect():
    import openstack

    return openstack.connect(auth_url=AUTH_URL, username=ADMIN["user"], password=ADMIN["password"],
                             project_name=ADMIN["project"], user_domain_name="Default",
                             project_domain_name="Default", region_name=REGION)


def networks(conn) -> dict[str, str]:
    """public (external, flat), private (the admin project's, vxlan) and router1 between them.
    Safe to call again after a failure half-way (it finds what it made before)."""
    net = conn.network
    public = net.find_network(PUBLIC["name"]) or net.create_network(
        name=PUBLIC["name"], is_router_external=True, provider_network_type="flat",
        provider_physical_network="public")
    public_subnet = net.find_subnet("public-subnet") or net.create_subnet(
        network_id=public.id, name="public-subnet", ip_version=4, cidr=PUBLIC["cidr"], enable_dhcp=False)
    private = net.find_network(PRIVATE["name"]) or net.create_network(name=PRIVATE["name"])
    private_subnet = net.find_subnet("private-subnet") or net.create_subnet(
        network_id=private.id, name="private-subnet", ip_version=4, cidr=PRIVATE["cidr"])
    router = net.find_router("router1")
    if router is None:
        router = net.create_router(name="router1", external_gateway_info={"network_id": public.id})
        net.add_interface_to_router(router, subnet_id=private_subnet.id)
    return {"public_network_id": public.id, "public_subnet_id": public_subnet.id, "private_network_id": private.id,
            "private_subnet_id": private_subnet.id, "router_id": router.id}


def finish(base: Path) -> None:
    conn = connect()
    conn.image.create_image(name=IMAGE_NAME, data=io.BytesIO(b"\0" * 1048576), disk_format="raw",
                                    container_format="bare", visibility="public")
    for name, ram, vcpus, disk in FLAVORS:
        conn.compute.create_flavor(id=name, name=name, ram=ram, vcpus=vcpus, disk=disk)
    log("image and flavors created")
    net = wait_for("neutron", lambda: networks(conn), 60)
    (base / "networks.json").write_text(json.dumps(net, indent=2) + "\n")
    project = conn.identity.find_project(ADMIN["project"])
    nova = {k: v for k, v in BIG_QUOTAS.items() if k in ("instances", "cores", "ram")}
    cinder = {k: v for k, v in BIG_QUOTAS.items() if k in ("volumes", "gigabytes", "snapshots")}
    neutron = {k: v for k, v in BIG_QUOTAS.items() if k not in nova and k not in cinder}
    conn.compute.put(f"/os-quota-sets/{project.id}", json={"quota_set": nova}).raise_for_status()
    conn.block_storage.put(f"/os-quota-sets/{project.id}", json={"quota_set": cinder}).raise_for_status()
    conn.network.put(f"/quotas/{project.id}", json={"quota": neutron}).raise_for_status()
    log("networks, router and the admin project's quotas set")

    def service_up(binary: str, proxy) -> bool:
        services = proxy.get("/os-services").json()["services"]
        return any(s["binary"] == binary and s["state"] == "up" and s["status"] == "enabled" for s in services)

    wait_for("nova-compute", lambda: service_up("nova-compute", conn.compute), 120)
    wait_for("cinder-volume", lambda: service_up("cinder-volume", conn.block_storage), 120)
    wait_for("placement resource provider",
             lambda: conn.placement.get("/resource_providers").json()["resource_providers"], 120)
    log("compute and volume services report in")
    (base / "compute-ready").write_text("yes\n")


def smoke(base: Path) -> None:
    """Boot a server and create a volume and a container: the cloud is up when they work."""
    conn = connect()
    image = next(conn.image.images(name=IMAGE_NAME))
    net = json.loads((base / "networks.json").read_text())

    def boot():
        server = conn.compute.create_server(name="smoke", image_id=image.id, flavor_id="m1.tiny",
                                            networks=[{"uuid": net["private_network_id"]}])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            server = conn.compute.get_server(server.id)
            if server.status == "ACTIVE":
                if not server.addresses.get(PRIVATE["name"]):
                    raise SystemExit(f"cloud_setup: smoke server has no address on private: {server.addresses}")
                conn.compute.delete_server(server)
                return True
            if server.status == "ERROR":
                fault = (server.fault or {}).get("message", "")
                conn.compute.delete_server(server)
                if "No valid host" in fault:  # the scheduler has not seen the compute host yet
                    return False
                raise SystemExit(f"cloud_setup: smoke server went to ERROR: {fault}")
            time.sleep(0.2)
        raise SystemExit("cloud_setup: smoke server never became ACTIVE")

    wait_for("scheduling a server", boot, 90, interval=1.0)

    def volume():
        vol = conn.block_storage.create_volume(size=1, name="smoke")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            vol = conn.block_storage.get_volume(vol.id)
            if vol.status in ("available", "error"):
                conn.block_storage.delete_volume(vol)
                return vol.status == "available"
            time.sleep(0.2)
        raise SystemExit("cloud_setup: smoke volume never became available")

    wait_for("creating a volume", volume, 90, interval=1.0)

    def swift():
        conn.object_store.create_container(name="smoke")
        conn.object_store.delete_container("smoke")
        return True

    wait_for("object storage", swift, 60)
    log("a server booted, a volume and a container were created: the cloud works")
    info = {
        "auth_url": AUTH_URL, "region": REGION, "admin": ADMIN, "demo": DEMO, "domain_user": DOMAIN_USER,
        "image_id": image.id, "image_name": IMAGE_NAME, "flavors": [f[0] for f in FLAVORS],
        "base_dir": str(base), **net,
    }
    (base / "cloud.json").write_text(json.dumps(info, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("register", "finish", "smoke"):
        raise SystemExit("usage: cloud_setup.py register|finish|smoke BASE_DIR")
    command, base_dir = sys.argv[1], Path(sys.argv[2])
    if command == "register":
        register()
    elif command == "finish":
        finish(base_dir)
    else:
        smoke(base_dir)
