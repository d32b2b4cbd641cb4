"""``deltacloudd -i ec2`` (against moto) answers the same client checks as ``deltacloudd -i mock``.

Both servers run as real processes on free loopback ports; the checks talk HTTP to them the way
the original's black-box suite does (TESTSUITE.md A.1-A.5), for the collections both drivers
have: the entry point, every listing, an instance created, stopped and destroyed, a bucket with
a blob and its metadata.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from conftest import AUTH
from moto_process import MotoServer

from deltacloud_core.testing.server import running_server

START_TIMEOUT = 30.0
SETTLE_TIMEOUT = 30.0
PUBLIC = {"drivers", "hardware_profiles", "instance_states"}


@dataclass
class Server:
    driver: str
    url: str
    auth: tuple[str, str]

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=["mock", "ec2"])
def server(request: pytest.FixtureRequest, moto_server: MotoServer,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    driver = request.param
    base = tmp_path_factory.mktemp(f"deltacloudd-{driver}")
    env = {**os.environ, "DELTACLOUD_MOCK_STORAGE": str(base / "mock-data")}
    auth = ("mockuser", "mockpassword") if driver == "mock" else AUTH
    if driver == "ec2":
        moto_server.reset()
    with running_server(driver=driver, env=env, timeout=START_TIMEOUT, log_path=base / "deltacloudd.log") as url:
        yield Server(driver, url, auth)


def poll(read: Callable[[], str], done: Callable[[str], bool]) -> str:
    """Read until ``done`` (bounded by SETTLE_TIMEOUT); the pause is the request itself."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    value = read()
    while not done(value):
        assert time.monotonic() < deadline, f"still '{value}' after {SETTLE_TIMEOUT} s"
        value = read()
    return value


# -- the checks ------------------------------------------------------------------------------------

def test_entry_point(server: Server):
    with server.client() as http:
        reply = http.get("/api", headers={"Accept": "application/xml"})
        assert reply.status_code == 200
        assert reply.headers["server"] == "Apache-Deltacloud/1.1.3"
        assert reply.headers["x-deltacloud-driver"] == server.driver
        assert "etag" in reply.headers
        root = ET.fromstring(reply.content)
        assert (root.tag, root.get("driver"), root.get("version")) == ("api", server.driver, "1.1.3")
        links = root.findall("link")
        assert links and all(link.get("href", "").startswith("http") and link.get("rel") for link in links)
        assert root.findall("link/feature") and all(f.get("name") for f in root.findall("link/feature"))
        names = {f.get("name") for f in root.findall("link/feature")}
        assert ("user_name" in names) == (server.driver == "mock")
        as_json = http.get("/api?format=json", headers={"Accept": "application/xml"})
        assert as_json.headers["content-type"] == "application/json"
        assert http.get("/api?force_auth=1").status_code == 401
        assert http.get("/api?force_auth=1", auth=server.auth).status_code == 200
        drivers = ET.fromstring(http.get("/api/drivers", headers={"Accept": "application/xml"}).content)
        assert root.get("driver") in {d.findtext("name").lower() for d in drivers.findall("driver")}


def _collections(http: httpx.Client) -> list[str]:
    root = ET.fromstring(http.get("/api", headers={"Accept": "application/xml"}).content)
    return [link.get("rel") for link in root.findall("link")]


def test_listings(server: Server):
    with server.client(auth=server.auth) as http:
        for name in _collections(http):
            reply = http.get(f"/api/{name}", headers={"Accept": "application/xml"})
            assert reply.status_code == 200, (name, reply.text[:300])
            assert "etag" in reply.headers
            root = ET.fromstring(reply.content)
            assert root.tag == ("states" if name == "instance_states" else name)
            as_json = http.get(f"/api/{name}", headers={"Accept": "application/json"})
            assert as_json.headers["content-type"] == "application/json"
            as_json.json()
            if name != "instance_states":
                for member in root:
                    assert member.get("href", "").startswith("http") and member.get("href").endswith(member.get("id"))
                    assert http.get(member.get("href"), headers={"Accept": "application/xml"}).status_code == 200
            if name not in PUBLIC:
                anonymous = httpx.get(f"{server.url}/api/{name}", headers={"Accept": "application/xml"})
                assert anonymous.status_code == 401, name


def test_instance_create_stop_destroy(server: Server):
    with server.client(auth=server.auth, headers={"Accept": "application/xml"}) as http:
        images = ET.fromstring(http.get("/api/images").content)
        image = images.find("image")
        assert image is not None and image.findall("hardware_profiles/hardware_profile")
        created = http.post("/api/instances", data={"image_id": image.get("id")})
        assert created.status_code == 201, created.text
        assert created.headers["location"].startswith("http")
        inst = ET.fromstring(created.content)
        inst_id = inst.get("id")
        assert inst.find("image").get("id") == image.get("id")

        def state() -> str:
            return ET.fromstring(http.get(f"/api/instances/{inst_id}").content).findtext("state") or ""

        assert poll(state, lambda s: s != "PENDING") == "RUNNING"
        shown = ET.fromstring(http.get(f"/api/instances/{inst_id}").content)
        for element in ("realm", "image", "hardware_profile"):
            assert len(shown.findall(element)) == 1 and shown.find(element).get("href").endswith(
                shown.find(element).get("id"))
        assert shown.findtext("owner_id") and shown.find("storage_volumes") is not None
        assert all(a.get("type") and a.text.strip() for a in shown.findall("public_addresses/address"))
        assert http.delete(f"/api/instances/{inst_id}").status_code == 405
        assert http.post(f"/api/instances/{inst_id}/stop").status_code == 202
        assert poll(state, lambda s: s not in ("RUNNING", "STOPPING")) == "STOPPED"
        assert http.delete(f"/api/instances/{inst_id}").status_code == 204
        assert http.post("/api/instances/nope/stop").status_code == 403


def test_bucket_and_blobs(server: Server):
    name = f"parity-{server.driver}-bucket"
    with server.client(auth=server.auth, headers={"Accept": "application/xml"}) as http:
        created = http.post("/api/buckets", data={"name": name})
        assert created.status_code == 201, created.text
        assert ET.fromstring(created.content).findtext("name") == name
        put = http.put(f"/api/buckets/{name}/{name}-blob", content=b"This is the test blob content",
                       headers={"Content-Type": "text/plain", "X-Deltacloud-Blobmeta-Version": "1.0",
                                "X-Deltacloud-Blobmeta-Author": "herpyderp"})
        assert put.status_code == 200, put.text
        blob = ET.fromstring(http.get(f"/api/buckets/{name}/{name}-blob").content)
        assert blob.findtext("bucket") == name and blob.findtext("content_length") == "29"
        assert blob.find("content").get("href").endswith("/content")
        head = http.head(f"/api/buckets/{name}/{name}-blob")
        assert head.status_code == 204 and head.headers["x-deltacloud-blobmeta-author"] == "herpyderp"
        updated = http.post(f"/api/buckets/{name}/{name}-blob", headers={"X-Deltacloud-Blobmeta-Version": "2.5"})
        assert updated.status_code == 204 and updated.headers["x-deltacloud-blobmeta-version"] == "2.5"
        content = http.get(f"/api/buckets/{name}/{name}-blob/content")
        assert content.content == b"This is the test blob content"
        listed = ET.fromstring(http.get(f"/api/buckets/{name}").content)
        assert [b.get("id") for b in listed.findall("blob")] == [f"{name}-blob"]
        assert http.delete(f"/api/buckets/{name}/{name}-blob").status_code == 204
        assert http.delete(f"/api/buckets/{name}").status_code == 204
