"""``/api/docs``: every collection and operation documented for the request's driver, in HTML by
default and in XML or JSON when asked for explicitly (API.md §11, with that deliberate change)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from test_html import API, BASE_URL, page

from deltacloud_core.drivers.base import Driver
from deltacloud_core.drivers.registry import DriverRegistry
from deltacloud_core.hardware import HardwareProfile, HardwareProperty

DOCS = f"{API}/docs"


@pytest.fixture
def app(mock_storage):
    from deltacloud_core.web import Settings, create_app

    class Sparse(Driver):
        """Instances with user_data only; one adjustable profile; no keys, no storage."""

        FEATURES = {"instances": ("user_data",)}
        HARDWARE_PROFILES = (HardwareProfile("tiny", (HardwareProperty.range("memory", 256, 1024, default=512),)),)

        def list_instances(self, **filters):
            return []

        def create_instance(self, **kwargs):
            raise NotImplementedError

    registry = DriverRegistry()
    registry.register("sparse", Sparse)
    return create_app(Settings(default_driver="mock"), drivers=registry)


def test_index_lists_every_collection_with_links(client, app):
    response = client.get("/api/docs", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html;charset=utf-8"
    parsed = page(response)
    for collection in app.collections:
        assert f"{DOCS}/{collection.name}" in parsed.links, collection.name
    assert f"{API}/openapi.json" in parsed.links
    assert f"{API}/openapi" in parsed.links
    assert "Hardware Profiles" in parsed.text and "Storage Snapshots" in parsed.text
    assert parsed.scripts == [f"{BASE_URL}/stylesheets/deltacloud.js"]


@pytest.mark.parametrize("accept", [None, "*/*", "text/html", "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_html_by_default(anon, accept):
    """No Accept header (which means XML elsewhere), */* and browsers get the page; the docs are public."""
    headers = {"Accept": accept} if accept else {}
    if accept is None:
        anon.headers.pop("accept", None)
    response = anon.get("/api/docs/instances", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html;charset=utf-8"
    assert response.text.startswith("<!DOCTYPE html>")
    assert "etag" in response.headers


def test_json_and_xml_when_asked(anon, app):
    doc = anon.get("/api/docs?format=json").json()["docs"]
    assert [c["name"] for c in doc["collections"]] == sorted((c.name for c in app.collections),
                                                             key=lambda n: n.replace("_", " ").title())
    assert doc["driver"] == "mock"
    by_name = {c["name"]: c for c in doc["collections"]}
    assert by_name["instances"]["supported"] is True
    assert by_name["firewalls"]["supported"] is False  # mock has none: 412 there
    response = anon.get("/api/docs/instances", headers={"Accept": "application/xml"})
    assert response.headers["content-type"] == "application/xml"
    root = ET.fromstring(response.content)
    assert root.tag == "collection" and root.get("name") == "instances"
    assert {op.get("name") for op in root.iter("operation")} >= {"index", "show", "create", "stop", "destroy"}
    response = anon.get("/api/docs/instances/create", headers={"Accept": "application/json"})
    assert response.json()["operation"]["method"] == "POST"


def test_unacceptable_format_is_406(anon):
    assert anon.get("/api/docs?format=png").status_code == 406


def test_collection_page(client):
    parsed = page(client.get("/api/docs/instances"))
    for op in ("index", "show", "create", "reboot", "start", "stop", "destroy", "run"):
        assert f"{DOCS}/instances/{op}" in parsed.links
    text = parsed.text
    assert "/api/instances/{id}/reboot" in text
    # Every catalogue feature of the collection, with what the current driver declares.
    for feature in ("user_name", "user_data", "sandboxing", "attach_snapshot"):
        assert feature in text
    assert f"{DOCS}/instances/new" in parsed.links  # the HTML form is documented too
    assert f"{API}/instances" in parsed.links


def test_operation_page_lists_parameters_with_features_and_profile_bounds(client):
    response = client.get("/api/docs/instances/create")
    parsed = page(response)
    text = parsed.text
    assert "POST" in text and "/api/instances" in text
    for name in ("image_id", "realm_id", "hwp_id", "keyname", "hwp_memory"):
        assert f"<code>{name}</code>" in response.text, name
    assert '<code>image_id</code><sup class="required"' in response.text
    # Feature parameters of mock (user_name adds name, user_data adds user_data).
    assert "<code>name</code>" in response.text and "from feature user_name of driver mock" in text
    # hwp_memory bounded per profile of mock.
    assert "m1-large: 7680 \u2013 15360 MB" in text
    assert "curl -u USER:PASSWORD" in text


def test_operation_page_follows_the_driver(client):
    text = page(client.get("/api;driver=sparse/docs/instances/create")).text
    assert "from feature user_data of driver sparse" in text
    assert "from feature user_name" not in text
    assert "tiny: 256 \u2013 1024 MB" in text
    assert "m1-large" not in text
    # What other drivers may add is named, not listed as a parameter.
    assert "Other drivers may add" in text and "feature user_name" in text


def test_support_follows_the_driver(anon):
    doc = anon.get("/api/docs/keys?format=json", headers={"X-Deltacloud-Driver": "sparse"}).json()["collection"]
    assert doc["supported"] is False
    assert all(op["supported"] is False for op in doc["operations"])
    doc = anon.get("/api/docs/keys?format=json").json()["collection"]
    assert doc["supported"] is True


def test_sub_collections(client):
    # The original documents blobs below a bucket id, and their operations as /api/docs/blobs/<op>.
    parsed = page(client.get("/api/docs/buckets/anything"))
    assert "<h1>Blobs" in parsed_html(client, "/api/docs/buckets/anything")
    assert f"{DOCS}/blobs/create" in parsed.links
    assert f"{DOCS}/blobs" in page(client.get("/api/docs/buckets")).links
    text = page(client.get("/api/docs/blobs/create")).text
    assert "blob_data" in text and "file part" in text


def parsed_html(client, path):
    return client.get(path).text


@pytest.mark.parametrize("path", ["/api/docs/nosuch", "/api/docs/instances/nosuch", "/api/docs/"])
def test_unknown_is_404(anon, path):
    response = anon.get(path)
    assert response.status_code == 404
    assert response.headers.get("x-cascade") == "pass"


def test_unknown_driver_still_documents(anon):
    response = anon.get("/api;driver=nosuch/docs/instances")
    assert response.status_code == 200
    assert "Driver-specific facts are left out" in response.text


def test_head_and_docs_not_shadowed(anon):
    assert anon.head("/api/docs").status_code == 200
    assert anon.head("/api/docs").content == b""


def test_a_plugin_template_overrides_the_docs_page(anon, app):
    from jinja2 import DictLoader

    app.renderers["html"].add_loader(DictLoader({
        "docs.html": '{% extends "layout.html" %}{% block content %}<h1>Our docs</h1>'
                     '{% for c in docs.collections %}<p>{{ c.name }}</p>{% endfor %}{% endblock %}'}))
    response = anon.get("/api/docs")
    assert "<h1>Our docs</h1>" in response.text
    assert "<p>instances</p>" in response.text
    assert "deltacloud.css" in response.text  # the core's layout around it
