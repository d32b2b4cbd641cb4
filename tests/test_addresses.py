"""``/api/addresses`` over HTTP on the mock driver (API.md §9.10, FORMATS.md §11, MOCK.md §5)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

BASE = "http://127.0.0.1:3001/api"
HTML = {"Accept": "text/html"}
PLAIN = "text/html;charset=utf-8"


def _state(client) -> tuple:
    """What the address operations may change: every address and every instance (JSON)."""
    return (client.get("/api/addresses?format=json").json(), client.get("/api/instances?format=json").json())


def _public(client, instance: str) -> list[dict]:
    return client.get(f"/api/instances/{instance}?format=json").json()["instance"]["public_addresses"]


# -- reading ---------------------------------------------------------------------------------

def test_index_xml(client):
    r = client.get("/api/addresses?format=xml")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/xml"
    assert "x-backend-runtime" in r.headers
    root = ET.fromstring(r.content)
    assert root.tag == "addresses"
    ids = [a.get("id") for a in root.findall("address")]
    assert ids == ["192.168.0.1", "192.168.0.2", "192.168.0.3", "192.168.0.4"]
    first = root.find("address")
    assert first.get("href") == f"{BASE}/addresses/192.168.0.1"
    assert first.findtext("ip") == "192.168.0.1"
    links = [(link.get("rel"), link.get("method"), link.get("href")) for link in first.find("actions")]
    assert links == [("destroy", "delete", f"{BASE}/addresses/192.168.0.1"),
                     ("associate", "post", f"{BASE}/addresses/192.168.0.1/associate")]
    assert first.find("instance") is None


def test_index_json(client):
    r = client.get("/api/addresses?format=json")
    assert r.status_code == 200
    assert r.json()["addresses"][1] == {"id": "192.168.0.2", "href": f"{BASE}/addresses/192.168.0.2",
                                        "associated": False}
    assert len(r.json()["addresses"]) == 4


def test_index_filter_id(client):
    assert [a["id"] for a in client.get("/api/addresses?format=json&id=192.168.0.3").json()["addresses"]] == [
        "192.168.0.3"]


def test_index_html(client):
    r = client.get("/api/addresses", headers=HTML)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.text.startswith("<!DOCTYPE html>")
    assert "192.168.0.4" in r.text


@pytest.mark.parametrize("fmt", ["xml", "json", "html"])
def test_show(client, fmt):
    r = client.get(f"/api/addresses/192.168.0.1?format={fmt}")
    assert r.status_code == 200
    assert "x-backend-runtime" in r.headers
    if fmt == "xml":
        assert r.text.startswith("<?xml")
        assert ET.fromstring(r.content).get("id") == "192.168.0.1"
    elif fmt == "json":
        assert r.json() == {"address": {"id": "192.168.0.1", "href": f"{BASE}/addresses/192.168.0.1",
                                        "associated": False}}
    else:
        assert "192.168.0.1" in r.text


@pytest.mark.parametrize("fmt", ["xml", "json", "html"])
def test_show_unknown_is_404(client, fmt):
    r = client.get(f"/api/addresses/10.20.30.40?format={fmt}")
    assert r.status_code == 404
    if fmt == "json":
        assert r.json()["message"] == "Not Found"


@pytest.mark.parametrize("path", ["/api/addresses", "/api/addresses/192.168.0.1"])
def test_needs_credentials(anon, path):
    r = anon.get(path + "?format=xml")
    assert r.status_code == 401
    assert "www-authenticate" in r.headers


# -- create ----------------------------------------------------------------------------------

def test_create_xml(client):
    r = client.post("/api/addresses?format=xml")
    assert r.status_code == 201
    assert r.headers["location"] == f"{BASE}/addresses/192.168.0.5"
    assert "etag" in r.headers
    root = ET.fromstring(r.content)
    assert (root.tag, root.get("id"), root.findtext("ip")) == ("address", "192.168.0.5", "192.168.0.5")
    assert client.get("/api/addresses/192.168.0.5?format=json").status_code == 200


def test_create_json_then_next(client):
    assert client.post("/api/addresses?format=json").json()["address"]["id"] == "192.168.0.5"
    r = client.post("/api/addresses", params={"format": "json"})
    assert r.status_code == 201
    assert r.json() == {"address": {"id": "192.168.0.6", "href": f"{BASE}/addresses/192.168.0.6",
                                    "associated": False}}
    assert r.headers["location"] == f"{BASE}/addresses/192.168.0.6"


def test_create_html(client):
    r = client.post("/api/addresses", headers=HTML)
    assert r.status_code == 201
    assert "192.168.0.5" in r.text


def test_create_needs_credentials(anon, client):
    before = _state(client)
    assert anon.post("/api/addresses?format=xml").status_code == 401
    assert _state(client) == before


# -- associate / disassociate ----------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "content_type"), [("xml", "application/xml"), ("json", "application/json")])
def test_associate_is_202_with_an_empty_body(client, fmt, content_type):
    r = client.post(f"/api/addresses/192.168.0.1/associate?format={fmt}", data={"instance_id": "inst2"})
    assert r.status_code == 202
    assert r.content == b""
    assert r.headers["content-type"] == content_type
    assert r.headers["content-length"] == "0"
    assert "etag" not in r.headers
    assert "x-backend-runtime" not in r.headers


def test_associated_address_and_instance(client):
    client.post("/api/addresses/192.168.0.2/associate?format=xml", data={"instance_id": "inst2"})
    root = ET.fromstring(client.get("/api/addresses/192.168.0.2?format=xml").content)
    rels = [link.get("rel") for link in root.find("actions")]
    assert rels == ["destroy", "disassociate"]
    assert root.find("actions/link[@rel='disassociate']").get("href") == (
        f"{BASE}/addresses/192.168.0.2/disassociate")
    instance = root.find("instance")
    assert (instance.get("id"), instance.get("href")) == ("inst2", f"{BASE}/instances/inst2")
    assert client.get("/api/addresses/192.168.0.2?format=json").json()["address"] == {
        "id": "192.168.0.2", "href": f"{BASE}/addresses/192.168.0.2", "associated": True, "instance_id": "inst2"}

    assert _public(client, "inst2") == [{"address": "192.168.0.2", "type": "ipv4"}]
    inst = ET.fromstring(client.get("/api/instances/inst2?format=xml").content)
    addresses = inst.findall("public_addresses/address")
    assert [(a.text, a.get("type")) for a in addresses] == [("192.168.0.2", "ipv4")]


def test_disassociate_restores_the_hostname(client):
    client.post("/api/addresses/192.168.0.3/associate", params={"format": "xml", "instance_id": "inst1"})
    r = client.post("/api/addresses/192.168.0.3/disassociate?format=json")
    assert r.status_code == 202
    assert r.content == b""
    assert r.headers["content-type"] == "application/json"
    assert _public(client, "inst1") == [{"address": "img3.inst1.public.com", "type": "hostname"}]
    assert client.get("/api/addresses/192.168.0.3?format=json").json()["address"]["associated"] is False


def test_associate_in_use_is_403_and_changes_nothing(client):
    client.post("/api/addresses/192.168.0.1/associate?format=xml", data={"instance_id": "inst2"})
    before = _state(client)
    r = client.post("/api/addresses/192.168.0.1/associate?format=json", data={"instance_id": "inst1"})
    assert r.status_code == 403
    body = r.json()
    assert body["error"] == "Deltacloud::Exceptions::ForbiddenError"
    assert "already associated" in body["message"]
    assert "inst2" in body["message"]
    assert _state(client) == before


def test_disassociate_when_free_is_403(client):
    before = _state(client)
    r = client.post("/api/addresses/192.168.0.4/disassociate?format=xml")
    assert r.status_code == 403
    root = ET.fromstring(r.content)
    assert root.tag == "error"
    assert "not associated" in root.findtext("message")
    assert _state(client) == before


@pytest.mark.parametrize(("method", "path", "data"), [
    ("POST", "/api/addresses/10.1.1.1/associate", {"instance_id": "inst1"}),
    ("POST", "/api/addresses/10.1.1.1/disassociate", {}),
    ("DELETE", "/api/addresses/10.1.1.1", {}),
    ("POST", "/api/addresses/192.168.0.1/associate", {"instance_id": "nope"}),
])
def test_unknown_address_or_instance_is_404(client, method, path, data):
    before = _state(client)
    r = client.request(method, path + "?format=json", data=data or None)
    assert r.status_code == 404
    assert r.json()["error"] == "Deltacloud::Exceptions::ObjectNotFound"
    assert _state(client) == before


def test_associate_without_instance_id_is_400(client, anon):
    before = _state(client)
    for c in (client, anon):  # checked before authentication
        r = c.post("/api/addresses/192.168.0.1/associate?format=xml")
        assert r.status_code == 400
        assert r.headers["content-type"] == PLAIN
        assert r.text == "Required parameter 'instance_id' not found in [format,id]"
    assert _state(client) == before


def test_associate_html_redirects_to_the_address(client):
    r = client.post("/api/addresses/192.168.0.1/associate", data={"instance_id": "inst0"}, headers=HTML,
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"{BASE}/addresses/192.168.0.1"
    r = client.post("/api/addresses/192.168.0.1/disassociate", headers=HTML, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"{BASE}/addresses/192.168.0.1"


def test_associate_form(client, anon):
    r = client.get("/api/addresses/192.168.0.1/associate", headers=HTML)
    assert r.status_code == 200
    assert 'name="instance_id"' in r.text
    assert "inst3" in r.text
    assert anon.get("/api/addresses/192.168.0.1/associate", headers=HTML).status_code == 401
    assert client.get("/api/addresses/192.168.0.1/associate?format=xml").status_code == 406


# -- destroy ---------------------------------------------------------------------------------

def test_destroy(client):
    r = client.delete("/api/addresses/192.168.0.4?format=xml")
    assert r.status_code == 204
    assert r.content == b""
    assert "content-type" not in r.headers
    assert client.get("/api/addresses/192.168.0.4?format=xml").status_code == 404
    assert client.delete("/api/addresses/192.168.0.4?format=xml").status_code == 404


def test_destroy_associated_is_403(client):
    client.post("/api/addresses/192.168.0.1/associate?format=xml", data={"instance_id": "inst2"})
    before = _state(client)
    r = client.delete("/api/addresses/192.168.0.1?format=json")
    assert r.status_code == 403
    assert "disassociate it first" in r.json()["message"]
    assert _state(client) == before


def test_destroy_html_redirects_to_the_list(client):
    r = client.post("/api/addresses/192.168.0.2", data={"_method": "delete"}, headers=HTML,
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"{BASE}/addresses"


# -- OPTIONS / HEAD --------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "allow"), [
    ("/api/addresses", "OPTIONS,GET,POST,DELETE"),
    ("/api/addresses/show", "id:string:required"),
    ("/api/addresses/192.168.0.1/associate", "id:string:required,instance_id:string:required"),
    ("/api/addresses/192.168.0.1/disassociate", "id:string:required"),
])
def test_options(anon, path, allow):
    r = anon.options(path)
    assert r.status_code == 200
    assert r.headers["allow"] == allow


def test_head_of_an_action_path(anon):
    assert anon.head("/api/addresses/192.168.0.1/disassociate").status_code == 200
