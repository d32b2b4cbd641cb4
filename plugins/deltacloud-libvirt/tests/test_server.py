"""``deltacloudd -i libvirt`` as an operator runs it, on the test driver: the provider policy (403 for a
URI the operator did not list), the refusal of URIs that ask for no credentials, the live provider list."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from deltacloud_core.testing.server import running_server

from .conftest import TEST_URI

ALLOWED = "test:///default"
#: The domain of tests/data/test-node.xml that the driver did not make.
OPERATOR_VM = "5ab39bd6-3f93-4c6b-9a2e-6a7d0a1c2b01"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    env = {**os.environ, "DELTACLOUD_PROVIDERS_LIBVIRT": ALLOWED,
           # Only the suite's node file may be used without libvirt credentials; test:///default is
           # allowed by the provider policy but asks for no credentials either.
           "DELTACLOUD_LIBVIRT_NO_AUTH_URIS": TEST_URI}
    with running_server(driver="libvirt", provider=TEST_URI, env=env) as url:
        yield url


def _get(url: str, path: str, provider: str | None = None, auth: tuple[str, str] | None = ("alice", "x")):
    headers = {"Accept": "application/json"}
    if provider:
        headers["X-Deltacloud-Provider"] = provider
    return httpx.get(f"{url}/api{path}", headers=headers, auth=auth, timeout=30)


def test_default_provider_answers(server):
    reply = _get(server, "/instances")
    assert reply.status_code == 200, reply.text
    assert "operator-vm" in {i["name"] for i in reply.json()["instances"]}


def test_a_uri_the_operator_did_not_list_is_403_naming_the_setting(server):
    reply = _get(server, "/instances", provider="qemu+ssh://root@kvm.example.com/system")
    assert reply.status_code == 403, reply.text
    assert "DELTACLOUD_PROVIDERS_LIBVIRT" in reply.text


def test_a_listed_uri_that_asks_for_no_credentials_is_403_unless_opted_in(server):
    # A show answer carries the driver's message (index answers carry the core's generic one).
    reply = _get(server, f"/instances/{OPERATOR_VM}", provider=ALLOWED)
    assert reply.status_code == 403, reply.text
    assert "DELTACLOUD_LIBVIRT_NO_AUTH_URIS" in reply.text
    assert "asked for no credentials" in reply.text


def test_credentials_are_required(server):
    reply = _get(server, "/instances", auth=None)
    assert reply.status_code == 401
    assert "basic" in reply.headers.get("www-authenticate", "").lower()


def test_live_provider_list_shows_the_allowed_uris(server):
    reply = httpx.get(f"{server}/api/drivers/libvirt", params={"format": "xml"}, auth=("alice", "x"), timeout=30)
    assert reply.status_code == 200, reply.text
    assert TEST_URI in reply.text
    assert ALLOWED in reply.text
