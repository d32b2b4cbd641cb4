"""A real server (``deltacloudd -i openstack -P <test cloud>``) over HTTP, in XML and JSON.

The instance cycle records every state the server shows while Nova works and checks that each
change is a transition ``GET /api/instance_states`` announces: the machine is what Nova does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest
from openstack_support import wait_until

from deltacloud_openstack.states import INSTANCE_STATES

EXPECTED_COLLECTIONS = {"addresses", "buckets", "drivers", "firewalls", "hardware_profiles", "images",
                        "instance_states", "instances", "keys", "network_interfaces", "networks", "realms",
                        "storage_snapshots", "storage_volumes", "subnets"}


def xml(reply: httpx.Response) -> ET.Element:
    assert reply.headers["content-type"] == "application/xml", reply.text[:300]
    return ET.fromstring(reply.content)


# -- entry point and collections ----------------------------------------------------------------------


def test_entry_point_xml(http, cloud):
    reply = http.get("", params={"format": "xml"})
    assert reply.status_code == 200
    root = xml(reply)
    assert (root.tag, root.get("driver"), root.get("version")) == ("api", "openstack", "1.1.3")
    assert root.get("provider") == cloud.provider  # a URL provider keeps its case
    assert {link.get("rel") for link in root.findall("link")} == EXPECTED_COLLECTIONS
    instances = next(link for link in root.findall("link") if link.get("rel") == "instances")
    assert [f.get("name") for f in instances.findall("feature")] == [
        "user_name", "user_data", "user_files", "authentication_key", "authentication_password"]


def test_entry_point_json(http):
    reply = http.get("", params={"format": "json"})
    assert reply.status_code == 200
    api = reply.json()["api"]
    assert api["driver"] == "openstack"
    assert {link["rel"] for link in api["links"]} == EXPECTED_COLLECTIONS


def test_entry_point_needs_credentials(api_url):
    assert httpx.get(api_url, params={"format": "json"}).status_code == 401


def test_force_auth_checks_the_password_with_keystone(api_url, demo):
    assert httpx.get(api_url, params={"force_auth": "1"}, auth=(demo.user, demo.password)).status_code == 200
    refused = httpx.get(api_url, params={"force_auth": "1"}, auth=(demo.user, "wrong"))
    assert (refused.status_code, refused.text) == (401, "Authentication failed")


def test_collections_need_credentials(api_url, demo):
    reply = httpx.get(f"{api_url}/instances", params={"format": "json"})
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith('Basic realm="openstack-deltacloud@')
    wrong = httpx.get(f"{api_url}/realms", params={"format": "json"}, auth=(demo.user, "wrong"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "Deltacloud::Exceptions::AuthenticationFailure"


@pytest.mark.parametrize("collection", sorted(EXPECTED_COLLECTIONS - {"drivers", "instance_states"}))
def test_every_collection_lists_in_xml_and_json(http, collection):
    as_json = http.get(f"/{collection}", params={"format": "json"})
    assert as_json.status_code == 200, as_json.text[:300]
    assert isinstance(as_json.json()[collection], list)
    as_xml = http.get(f"/{collection}", params={"format": "xml"})
    assert as_xml.status_code == 200, as_xml.text[:300]
    assert xml(as_xml).tag == collection


def test_lists_show_the_cloud(http, cloud):
    realms = http.get("/realms", params={"format": "json"}).json()["realms"]
    assert [r["id"] for r in realms] == ["nova"]
    profiles = http.get("/hardware_profiles", params={"format": "json"}).json()["hardware_profiles"]
    assert {p["id"] for p in profiles} == set(cloud.flavors)
    image = http.get(f"/images/{cloud.image_id}", params={"format": "xml"})
    assert xml(image).findtext("name") == "cirros-fake"
    assert xml(image).findtext("state") == "AVAILABLE"
    missing = http.get("/images/00000000-0000-0000-0000-000000000000", params={"format": "json"})
    assert missing.status_code == 404


def test_driver_lists_the_catalogue_regions(http, cloud):
    shown = xml(http.get("/drivers/openstack", params={"format": "xml"}))
    assert [p.get("id") for p in shown.findall("provider")] == [cloud.region]


def test_errors_keep_the_service_message(http):
    reply = http.post("/keys", params={"format": "json"}, data={"name": "bad", "public_key": "not a key"})
    assert reply.status_code == 400
    assert "Keypair data is invalid" in reply.json()["message"]


# -- instance states ----------------------------------------------------------------------------------


def machine_from_json(states: list[dict]) -> set[tuple[str, str, str | None]]:
    return {(s["name"], t["to"], t.get("action")) for s in states for t in s["transitions"]}


def test_instance_states_are_the_drivers_machine(api_url):
    reply = httpx.get(f"{api_url}/instance_states", params={"format": "json"})  # public
    assert reply.status_code == 200
    served = machine_from_json(reply.json())
    assert served == {(t.source, t.to, t.action) for t in INSTANCE_STATES.transitions}
    as_xml = xml(httpx.get(f"{api_url}/instance_states", params={"format": "xml"}))
    assert [s.get("name") for s in as_xml.findall("state")] == list(INSTANCE_STATES.states)


class Observer:
    """Polls an instance over HTTP and checks every change of state against the served machine."""

    def __init__(self, http: httpx.Client, fmt: str, instance_id: str, machine: set) -> None:
        self.http, self.fmt, self.id, self.machine = http, fmt, instance_id, machine
        self.history: list[str] = []

    def look(self) -> tuple[str, list[str]]:
        reply = self.http.get(f"/instances/{self.id}", params={"format": self.fmt})
        if reply.status_code == 404:
            return "gone", []
        assert reply.status_code == 200, reply.text[:300]
        if self.fmt == "json":
            doc = reply.json()["instance"]
            return doc["state"].lower(), [a["rel"] for a in doc.get("actions") or ()]
        doc = xml(reply)
        return doc.findtext("state").lower(), [a.get("rel") for a in doc.find("actions") or ()]

    def record(self, state: str, action: str | None = None) -> None:
        if self.history and self.history[-1] != state:
            before = self.history[-1]
            allowed = {(before, to) for (src, to, act) in self.machine
                       if src == before and (act is None or act == action)}
            assert (before, state) in allowed or (state == "gone" and action == "destroy"), (
                f"{before} -> {state} (after {action}) is no transition of /api/instance_states; "
                f"history {self.history}")
        if not self.history or self.history[-1] != state:
            self.history.append(state)

    def until(self, final: str, action: str | None = None) -> list[str]:
        def probe() -> tuple[str, list[str]]:
            state, actions = self.look()
            self.record(state, action)
            return state, actions

        _, actions = wait_until(probe, lambda s: s[0] == final, what=f"instance {self.id} {final}", timeout=60)
        return [a for a in actions if a in ("reboot", "start", "stop", "destroy")]

    def act(self, action: str) -> httpx.Response:
        if action == "destroy":
            reply = self.http.delete(f"/instances/{self.id}", params={"format": self.fmt})
            assert reply.status_code == 204, reply.text[:300]
            return reply
        reply = self.http.post(f"/instances/{self.id}/{action}", params={"format": self.fmt})
        assert reply.status_code == 202, reply.text[:300]
        state = (reply.json()["state"] if self.fmt == "json" else xml(reply).findtext("state")).lower()
        self.record(state, action)
        return reply


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_create_stop_start_destroy_cycle(http, api_url, cloud, fmt):
    machine = machine_from_json(httpx.get(f"{api_url}/instance_states", params={"format": "json"}).json())
    created = http.post("/instances", params={"format": fmt},
                        data={"image_id": cloud.image_id, "hwp_id": "m1.tiny", "name": f"http-{fmt}"})
    assert created.status_code == 201, created.text[:300]
    if fmt == "json":
        doc = created.json()["instance"]
        instance_id, state = doc["id"], doc["state"]
    else:
        doc = xml(created)
        instance_id, state = doc.get("id"), doc.findtext("state")
    assert created.headers["location"].endswith(f"/api/instances/{instance_id}")
    observer = Observer(http, fmt, instance_id, machine)
    try:
        observer.history.append("start")
        observer.record(state.lower(), "create")
        assert observer.until("running") == ["reboot", "stop", "destroy"]

        refused = http.post(f"/instances/{instance_id}/start", params={"format": fmt})
        assert refused.status_code == 405

        observer.act("stop")
        assert observer.until("stopped", "stop") == ["start", "destroy"]
        observer.act("start")
        observer.until("running", "start")
        observer.act("reboot")
        observer.until("running", "reboot")
        if fmt == "json":  # destroy a stopped server in JSON, a running one in XML
            observer.act("stop")
            observer.until("stopped", "stop")
        observer.act("destroy")
        observer.until("gone", "destroy")
    finally:
        http.delete(f"/instances/{instance_id}")
    assert observer.history[0:3] == ["start", "pending", "running"]
    assert "stopping" in observer.history or "stopped" in observer.history


def test_instance_actions_on_missing_and_bad_creates(http, cloud):
    for method, path in (("POST", "/instances/nope/stop"), ("POST", "/instances/nope/start"),
                         ("DELETE", "/instances/nope")):
        reply = http.request(method, path, params={"format": "json"})
        assert reply.status_code == 403, (method, path, reply.text[:200])
    assert http.get("/instances/nope", params={"format": "json"}).status_code == 404
    unknown_profile = http.post("/instances", params={"format": "json"},
                                data={"image_id": cloud.image_id, "hwp_id": "m1.huge"})
    assert unknown_profile.status_code == 400
    unknown_image = http.post("/instances", params={"format": "json"},
                              data={"image_id": "00000000-0000-0000-0000-000000000000", "hwp_id": "m1.tiny"})
    assert unknown_image.status_code == 400
    assert "image" in unknown_image.json()["message"].lower()


def test_blob_streams_through_the_server(http):
    bucket = "test-http-bucket"
    assert http.post("/buckets", params={"format": "json"}, data={"name": bucket}).status_code == 201
    try:
        body = bytes(range(256)) * 4096  # 1 MiB
        put = http.put(f"/buckets/{bucket}/data.bin", params={"format": "json"}, content=body,
                       headers={"Content-Type": "application/octet-stream", "X-Deltacloud-Blobmeta-Owner": "tests"})
        assert put.status_code == 200, put.text[:300]
        assert put.json()["blob"]["user_metadata"] == {"owner": "tests"}
        got = http.get(f"/buckets/{bucket}/data.bin/content")
        assert (got.status_code, got.content) == (200, body)
        assert got.headers["content-length"] == str(len(body))
        head = http.head(f"/buckets/{bucket}/data.bin", params={"format": "json"})
        assert head.status_code == 204
        assert head.headers["x-deltacloud-blobmeta-owner"] == "tests"
        assert http.delete(f"/buckets/{bucket}/data.bin", params={"format": "json"}).status_code == 204
    finally:
        http.delete(f"/buckets/{bucket}/data.bin")
        assert http.delete(f"/buckets/{bucket}", params={"format": "json"}).status_code == 204
