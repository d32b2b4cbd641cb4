"""A real ``deltacloudd -i vsphere -P <simulator>``: the conformance kit's HTTP checks (life cycle
included) over the network, and the provider policy's answer to a host the operator did not list."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from conftest import Seeded
from deltacloud_core.testing import ApiConformance, ConformanceSettings
from deltacloud_core.testing.server import running_server
from deltacloud_core.testing.settings import overrides_from_config
from test_conformance import SETTINGS, launch_params

from deltacloud_vsphere import VSphereDriver


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "DELTACLOUD_"))}
    return {**env, **extra}


@pytest.fixture(scope="module")
def server(vcsim: Seeded) -> Iterator[str]:
    """``deltacloudd -i vsphere -P <simulator URL>`` on a free loopback port."""
    with running_server(driver="vsphere", provider=vcsim.provider, env=_env(), ready_path="/api/instance_states",
                        timeout=60) as url:
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


def test_provider_the_operator_did_not_list_is_refused(vcsim: Seeded) -> None:
    """With DELTACLOUD_PROVIDERS_VSPHERE set, a vCenter outside the list is a 403 naming the
    setting, before any connection; the listed (and the default) one works."""
    other = "vcenter.other.example;DC0"
    listed = f"{vcsim.provider.rsplit(':', 1)[0]}:*"  # http://127.0.0.1:* : any port of the simulator's host
    env = _env(DELTACLOUD_PROVIDERS_VSPHERE=listed)
    auth = (vcsim.sim.user, vcsim.sim.password)
    with running_server(driver="vsphere", env=env, ready_path="/api/instance_states", timeout=60) as url:
        refused = httpx.get(f"{url}/api/realms", params={"format": "json"}, auth=auth,
                            headers={"X-Deltacloud-Provider": other})
        assert refused.status_code == 403, refused.text
        assert "DELTACLOUD_PROVIDERS_VSPHERE" in refused.json()["message"], refused.text
        allowed = httpx.get(f"{url}/api/realms", params={"format": "json"}, auth=auth,
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
