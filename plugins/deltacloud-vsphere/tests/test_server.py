"""A real ``deltacloudd -i vsphere -P <simulator>``: the conformance kit's HTTP checks (life cycle
included) over the network, and the provider policy's answer to a host the operator did not list."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from xml.etree import ElementTree

import httpx
import pytest
from conftest import LOOPBACK_PROVIDERS, Seeded, admin_of, iso_image, server_env
from deltacloud_core.testing import ApiConformance, ConformanceSettings
from deltacloud_core.testing.server import running_server
from deltacloud_core.testing.settings import overrides_from_config
from test_conformance import SETTINGS, launch_params

from deltacloud_vsphere import VSphereDriver


@pytest.fixture(scope="module")
def server(vcsim: Seeded) -> Iterator[str]:
    """``deltacloudd -i vsphere -P <simulator URL>`` on a free loopback port (no operator's list)."""
    with running_server(driver="vsphere", provider=vcsim.provider, env=server_env(),
                        ready_path="/api/instance_states", timeout=60) as url:
        yield url


class TestVSphereServer(ApiConformance):
    settings = SETTINGS

    @pytest.fixture
    def driver(self, vcsim: Seeded) -> VSphereDriver:
        return vcsim.driver()

    @pytest.fixture
    def conformance_settings(self, request, vcsim: Seeded) -> ConformanceSettings:
        return self.settings.replace(instance_params=launch_params(vcsim), **overrides_from_config(request.config))

    @pytest.fixture
    def http_client(self, server: str, vcsim: Seeded) -> Iterator[httpx.Client]:
        """The kit's HTTP checks go to the real server (the default provider: no header needed)."""
        with httpx.Client(base_url=server, auth=(vcsim.sim.user, vcsim.sim.password), timeout=60) as client:
            yield client


def test_entry_point_of_the_server_lists_the_vsphere_collections(server: str, vcsim: Seeded) -> None:
    reply = httpx.get(f"{server}/api", params={"format": "json"}, auth=(vcsim.sim.user, vcsim.sim.password))
    assert reply.status_code == 200, reply.text
    rels = {link["rel"] for link in reply.json()["api"]["links"]}
    assert {"realms", "images", "instances", "hardware_profiles", "storage_volumes", "metrics"} <= rels, rels
    features = {f["name"] for link in reply.json()["api"]["links"] if link["rel"] == "instances"
                for group in link.get("features", ()) for f in group}
    assert {"user_name", "user_data", "user_iso"} <= features, features


def test_force_auth_asks_vcenter(server: str, vcsim: Seeded) -> None:
    good = httpx.get(f"{server}/api", params={"force_auth": "1"}, auth=(vcsim.sim.user, vcsim.sim.password))
    assert good.status_code == 200, good.text
    bad = httpx.get(f"{server}/api", params={"force_auth": "1", "format": "json"}, auth=(vcsim.sim.user, "wrong"))
    assert bad.status_code == 401, bad.text


def test_provider_the_operator_did_not_list_is_refused(shared_server: str, vcsim: Seeded) -> None:
    """With DELTACLOUD_PROVIDERS_VSPHERE set (the shared server lists the loopback simulators), a
    vCenter outside the list is a 403 naming the setting, before any connection; a listed one works."""
    auth = (vcsim.sim.user, vcsim.sim.password)
    elsewhere = vcsim.provider.replace("127.0.0.1", "localhost")  # the same simulator, by a name not listed
    for other in ("vcenter.other.example;DC0", "https://10.1.2.3/sdk", elsewhere):
        refused = httpx.get(f"{shared_server}/api/realms", params={"format": "json"}, auth=auth,
                            headers={"X-Deltacloud-Provider": other})
        assert refused.status_code == 403, (other, refused.text)
        assert "DELTACLOUD_PROVIDERS_VSPHERE" in refused.json()["message"], refused.text
    allowed = httpx.get(f"{shared_server}/api/realms", params={"format": "json"}, auth=auth,
                        headers={"X-Deltacloud-Provider": vcsim.provider})
    assert allowed.status_code == 200, allowed.text
    assert {r["name"] for r in allowed.json()["realms"]} == {"DC0_C0", "DC0_H0"}


def test_client_named_provider_is_refused_without_the_operators_list(server: str, vcsim: Seeded) -> None:
    """Without DELTACLOUD_PROVIDERS_VSPHERE only the default provider is used: the server never logs
    in anywhere a client names (a metadata address, another vCenter, the simulator under another name)."""
    for provider in ("169.254.169.254;DC0", "https://169.254.169.254/sdk", "vcenter.example.com",
                     vcsim.provider.replace("127.0.0.1", "localhost")):
        reply = httpx.get(f"{server}/api/realms", params={"format": "json"}, auth=(vcsim.sim.user, vcsim.sim.password),
                          headers={"X-Deltacloud-Provider": provider})
        assert reply.status_code == 403, (provider, reply.text)
        assert "DELTACLOUD_PROVIDERS_VSPHERE" in reply.json()["message"]


def test_create_over_http_with_user_data_and_user_iso(server: str, vcsim: Seeded) -> None:
    """The parameters as a client sends them: base64 user data, a base64 gzipped ISO, sizes."""
    auth = (vcsim.sim.user, vcsim.sim.password)
    user_iso = base64.b64encode(gzip.compress(iso_image(b"over http"))).decode()
    reply = httpx.post(f"{server}/api/instances", auth=auth, headers={"Accept": "application/json"}, data={
        "image_id": vcsim.template, "realm_id": vcsim.host, "hwp_id": "default", "hwp_cpu": "2", "hwp_memory": "256",
        "name": "from-http", "user_data": base64.b64encode(b"#cloud-config\n").decode(), "user_iso": user_iso},
        timeout=60)
    assert reply.status_code == 201, reply.text
    doc = reply.json()["instance"]
    assert (doc["name"], doc["state"], doc["realm"]["id"]) == ("from-http", "RUNNING", vcsim.host)
    with admin_of(vcsim.sim) as admin:
        config = admin.extra_config(doc["id"])
        assert base64.b64decode(config["guestinfo.userdata"]) == b"#cloud-config\n"
        assert config["deltacloud.user-iso"].startswith("[LocalDS_0] deltacloud-iso/from-http-")
        assert admin.by_id(doc["id"]).config.hardware.numCPU == 2
    json = {"Accept": "application/json"}
    stopped = httpx.post(f"{server}/api/instances/{doc['id']}/stop", auth=auth, headers=json)
    assert stopped.status_code == 202, stopped.text
    assert stopped.json()["state"] == "STOPPED"
    assert httpx.delete(f"{server}/api/instances/{doc['id']}", auth=auth, headers=json).status_code == 204
    assert httpx.get(f"{server}/api/instances/{doc['id']}", auth=auth, headers=json).status_code == 404


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"image_id": "vm-99999"}, 400, "Image 'vm-99999' does not exist"),
    ({"hwp_id": "default", "hwp_cpu": "64"}, 400, "out of range"),
    ({"hwp_id": "default", "hwp_memory": "1022"}, 400, "multiple of 4 MiB"),
    ({"user_iso": "bm90IGFuIGlzbw=="}, 400, "not an ISO 9660 image"),
])
def test_bad_create_over_http(server: str, vcsim: Seeded, params, status, words) -> None:
    reply = httpx.post(f"{server}/api/instances", auth=(vcsim.sim.user, vcsim.sim.password),
                       headers={"Accept": "application/json"}, data={"image_id": vcsim.template, **params})
    assert reply.status_code == status, reply.text
    assert words in reply.json()["message"]


def test_destroy_of_a_running_instance_is_405(server: str, vcsim: Seeded) -> None:
    running = next(i for i in vcsim.driver().list_instances() if i.state == "RUNNING")
    reply = httpx.delete(f"{server}/api/instances/{running.id}", auth=(vcsim.sim.user, vcsim.sim.password),
                         headers={"Accept": "application/json"})
    assert reply.status_code == 405, reply.text


def test_driver_document_lists_the_providers(server: str, shared_server: str, vcsim: Seeded) -> None:
    """/api/drivers/vsphere, XML and JSON: the server's default provider with its SDK URL, or the
    operator's patterns."""

    def providers(url: str) -> list[tuple[str | None, list[str | None]]]:
        reply = httpx.get(f"{url}/api/drivers/vsphere", params={"format": "xml"})
        assert reply.status_code == 200, reply.text
        root = ElementTree.fromstring(reply.content)
        assert root.findtext("name") == "VSphere"
        listed = [(p.get("id"), [e.text for e in p.iter("entrypoint")]) for p in root.iter("provider")]
        as_json = httpx.get(f"{url}/api/drivers/vsphere", params={"format": "json"}).json()["driver"]
        assert [(p["id"], list(p.get("entrypoints", {}).values())) for p in as_json["providers"]] == listed
        return listed

    sdk = vcsim.provider  # the simulator's URL is already the SDK's (http://127.0.0.1:PORT/sdk)
    assert providers(server) == [(vcsim.provider, [sdk])]
    assert providers(shared_server) == [(p, [p]) for p in LOOPBACK_PROVIDERS.split()]
