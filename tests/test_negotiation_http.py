"""Content negotiation (API.md §3), driver/provider selection (§4), routing details and the response
headers of §2 step 10 (FORMATS.md §H), plus TESTSUITE E: what real clients send."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET

import pytest
from support.asgi import asgi_request

BASE = "http://127.0.0.1:3001"
PLAIN = "text/html;charset=utf-8"
CONTENT_TYPES = {"xml": "application/xml", "json": "application/json", "html": "text/html"}


def format_of(response) -> str:
    content_type = response.headers.get("content-type")
    for fmt, value in CONTENT_TYPES.items():
        if content_type == value:
            return fmt
    raise AssertionError(f"not a document: {response.status_code} {content_type!r}")


def assert_first_stage_406(response) -> None:
    assert response.status_code == 406
    assert response.content == b""
    assert "content-type" not in response.headers


def assert_second_stage_406(response) -> None:
    assert response.status_code == 406
    assert response.content == b""
    assert response.headers["content-type"] == PLAIN
    assert response.headers["content-length"] == "0"
    assert response.headers["server"] == "Apache-Deltacloud/1.1.3"
    assert response.headers["x-deltacloud-driver"] == "mock"


# -- §3 negotiation -------------------------------------------------------------------------------

ACCEPT_CASES = [
    ("application/xml", "xml"),
    ("text/xml", "xml"),
    ("application/json", "json"),
    ("text/html", "html"),
    ("application/xhtml+xml", "html"),
    ("*/*", "html"),
    ("", "xml"),
    # ties in q: the later-listed type wins (verified against the original)
    ("application/json, application/xml", "xml"),
    ("application/xml, application/json", "json"),
    ("text/html, application/json", "json"),
    ("application/json, text/html", "html"),
    ("application/json, */*", "html"),
    ("*/*, application/json", "json"),
    ("application/json;q=0.5, application/xml;q=0.5", "xml"),
    ("application/json;q=0.9, application/xml;q=0.8", "json"),
    ("application/json;q=0.9, application/xml;q=0.8, text/html;q=0.1, text/xml;q=0.2", "json"),
    ("*/*; q=0.5, application/xml", "xml"),  # RestClient's default
    ("application/json;q=0, application/xml", "xml"),  # q=0 is "not acceptable" (RFC 9110; a deviation)
    ("application/json; q=0.5", "json"),  # a space before q is fine
    ("image/png, application/json", "json"),  # png is a format, but not the entry point's
    ("application/unknown, application/json", "json"),
]


class TestAccept:
    @pytest.mark.parametrize(("accept", "fmt"), ACCEPT_CASES)
    def test_instances(self, client, accept, fmt):
        response = client.get("/api/instances", headers={"Accept": accept})
        assert response.status_code == 200
        assert format_of(response) == fmt

    @pytest.mark.parametrize(("accept", "fmt"), ACCEPT_CASES[:8])
    def test_entry_point(self, anon, accept, fmt):
        response = anon.get("/api", headers={"Accept": accept})
        assert response.status_code == 200
        assert format_of(response) == fmt

    def test_no_accept_header_is_xml(self, client):
        request = client.build_request("GET", "/api/instances")
        del request.headers["accept"]
        response = client.send(request)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/xml"

    @pytest.mark.parametrize("accept", ["application/unknown", "application/*", "text/*", "foo"])
    def test_unacceptable_is_empty_406(self, client, accept):
        assert_first_stage_406(client.get("/api/instances", headers={"Accept": accept}))
        assert_first_stage_406(client.get("/api", headers={"Accept": accept}))

    def test_format_the_route_lacks_is_second_stage_406(self, client):
        assert_second_stage_406(client.get("/api/instances", headers={"Accept": "image/png"}))
        assert_second_stage_406(client.get("/api/instances?format=png"))

    @pytest.mark.parametrize("accept", ["text/html; charset=utf-8", "application/json ; charset=utf-8",
                                        "text/html;level=1;q=0.4, application/json;q=0.2"])
    def test_parameters_other_than_q_are_ignored(self, client, accept):
        """Recommended (API.md §3): strip non-q parameters; the original answered 500/406."""
        response = client.get("/api/instances", headers={"Accept": accept})
        assert response.status_code == 200
        assert format_of(response) == ("json" if accept.startswith("application/json") else "html")

    @pytest.mark.parametrize("accept", [";;;", ",,,", "application/json;q=abc", "text/html;q=", "/", "a/b/c;=;"])
    def test_malformed_accept_never_500(self, client, accept):
        response = client.get("/api/instances", headers={"Accept": accept})
        assert response.status_code in (200, 406)


class TestFormatParameter:
    @pytest.mark.parametrize("fmt", ["xml", "json", "html"])
    @pytest.mark.parametrize("accept", ["application/xml", "application/json", "text/html", "*/*"])
    def test_format_beats_accept(self, client, fmt, accept):
        response = client.get(f"/api/instances?format={fmt}", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"] == CONTENT_TYPES[fmt]

    @pytest.mark.parametrize("value", ["XML", "", "noformat", "Json", "xml "])
    def test_unknown_format_is_empty_406(self, client, value):
        assert_first_stage_406(client.get(f"/api/instances?format={value}", headers={"Accept": "application/xml"}))

    def test_last_repeated_format_counts(self, client):
        response = client.get("/api/instances?format=json&format=xml")
        assert response.headers["content-type"] == "application/xml"

    def test_format_in_a_form_body_does_not_count(self, client):
        response = client.post("/api/instances", data={"image_id": "img1", "format": "json"},
                               headers={"Accept": "application/xml"})
        assert response.status_code == 201
        assert response.headers["content-type"] == "application/xml"

    def test_exact_content_types(self, client):
        for fmt, content_type in CONTENT_TYPES.items():
            assert client.get(f"/api/realms?format={fmt}").headers["content-type"] == content_type


# -- §4 driver and provider selection -------------------------------------------------------------

def api_root(response) -> ET.Element:
    assert response.status_code == 200, response.text[:300]
    return ET.fromstring(response.content)


class TestDriverSelection:
    def test_matrix_provider_on_the_entry_point(self, client):
        for provider in ("test1", "test2"):
            response = client.get(f"/api;driver=mock;provider={provider}?format=xml")
            assert api_root(response).get("provider") == provider
            assert response.headers["x-deltacloud-provider"] == provider
            assert response.headers["x-deltacloud-driver"] == "mock"

    def test_matrix_driver_without_credentials(self, anon):
        response = anon.get("/api;driver=mock?format=xml")
        assert api_root(response).get("driver") == "mock"

    def test_matrix_in_the_middle_of_the_path(self, client):
        response = client.get("/api;driver=mock/instances?format=xml")
        assert response.status_code == 200
        assert ET.fromstring(response.content).tag == "instances"
        response = client.get("/api;provider=foo/instances?format=json")
        assert response.status_code == 200
        assert response.headers["x-deltacloud-provider"] == "foo"

    def test_provider_in_json_entry_point(self, client):
        assert client.get("/api;provider=someprovider?format=json").json()["api"]["provider"] == "someprovider"
        assert client.get("/api?format=json").json()["api"]["provider"] == "default"

    def test_only_the_api_segment_selects(self, client):
        response = client.get("/api/instances;driver=nosuch?format=xml")
        assert response.status_code == 200
        assert response.headers["x-deltacloud-driver"] == "mock"

    def test_matrix_beats_header(self, client):
        response = client.get("/api;driver=mock?format=xml", headers={"X-Deltacloud-Driver": "nosuch"})
        assert api_root(response).get("driver") == "mock"
        response = client.get("/api;provider=m1?format=xml", headers={"X-Deltacloud-Provider": "h1"})
        assert api_root(response).get("provider") == "m1"

    def test_headers_select(self, client):
        response = client.get("/api?format=xml", headers={"X-Deltacloud-Driver": "mock",
                                                           "X-Deltacloud-Provider": "someprovider"})
        assert api_root(response).get("provider") == "someprovider"
        assert response.headers["x-deltacloud-driver"] == "mock"
        assert response.headers["x-deltacloud-provider"] == "someprovider"

    def test_values_are_lower_cased(self, client):
        response = client.get("/api?format=xml", headers={"X-Deltacloud-Driver": "MOCK",
                                                           "X-Deltacloud-Provider": "EU-West-1"})
        root = api_root(response)
        assert root.get("driver") == "mock" and root.get("provider") == "eu-west-1"
        assert response.headers["x-deltacloud-driver"] == "mock"
        assert response.headers["x-deltacloud-provider"] == "eu-west-1"
        response = client.get("/api;driver=Mock;provider=US-East?format=xml")
        root = api_root(response)
        assert root.get("driver") == "mock" and root.get("provider") == "us-east"

    def test_selection_does_not_stick(self, client):
        assert client.get("/api;provider=sticky?format=xml").headers["x-deltacloud-provider"] == "sticky"
        assert client.get("/api?format=xml", headers={"X-Deltacloud-Provider": "sticky2"}).status_code == 200
        response = client.get("/api?format=xml")
        assert "x-deltacloud-provider" not in response.headers
        assert response.headers["x-deltacloud-driver"] == "mock"
        assert "provider" not in api_root(response).attrib

    def test_matrix_params_show_up_as_hash_parameters(self, client):
        response = client.get("/api/instances/nope;foo=bar?format=xml")
        assert response.status_code == 404
        params = {p.get("name"): (p.text or "").strip() for p in ET.fromstring(response.content).iter("param")}
        assert params == {"format": '"xml"', "nope": '{"foo"=>"bar"}', "id": '"nope"'}


# -- routing details ------------------------------------------------------------------------------

class TestRouting:
    @pytest.mark.parametrize("path", ["/api/instances/", "/api/instances/inst1/", "/api/realms/", "/api/drivers/",
                                      "/api/images/img1/", "/api/keys/"])
    def test_trailing_slash_is_404(self, client, path):
        response = client.get(path, headers={"Accept": "application/xml"})
        assert response.status_code == 404
        assert response.headers["x-cascade"] == "pass"
        assert response.headers["content-type"] == PLAIN

    @pytest.mark.parametrize("fmt", ["xml", "json", "html"])
    def test_unknown_path_is_the_framework_404_in_every_format(self, client, fmt):
        response = client.get(f"/api/nosuchthing?format={fmt}")
        assert response.status_code == 404
        assert response.headers["x-cascade"] == "pass"
        assert response.headers["content-type"] == PLAIN
        assert response.headers["x-deltacloud-driver"] == "mock"

    def test_doubled_slash_is_collapsed(self, client):
        single = client.get("/api/instances?format=xml")
        double = client.get("/api//instances?format=xml")
        assert double.status_code == 200
        assert double.content == single.content
        member = client.get("/api//instances//inst1?format=json")
        assert member.status_code == 200
        assert member.json()["instance"]["id"] == "inst1"

    def test_method_override_field(self, client):
        response = client.post("/api/instances/nope?format=json", data={"_method": "delete"})
        assert response.status_code == 403
        assert response.json()["message"] == "Forbidden"

    def test_method_override_header(self, client):
        response = client.post("/api/instances/nope?format=json", headers={"X-HTTP-Method-Override": "DELETE"})
        assert response.status_code == 403

    def test_method_override_destroys(self, client):
        assert client.post("/api/instances/inst1/stop?format=xml").status_code == 202
        response = client.post("/api/instances/inst1?format=xml", data={"_method": "delete"})
        assert response.status_code == 204
        assert client.get("/api/instances/inst1?format=xml").status_code == 404

    def test_html_form_delete_redirects(self, client):
        assert client.post("/api/keys?format=xml", data={"name": "html-key"}).status_code == 201
        response = client.post("/api/keys/html-key", data={"_method": "delete"}, headers={"Accept": "text/html"},
                               follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].endswith("/api/keys")
        assert client.get("/api/keys/html-key?format=xml").status_code == 404

    def test_html_delete_over_http_1_0_is_302(self, client, app):
        assert client.post("/api/instances/inst1/stop?format=xml").status_code == 202
        reply = asgi_request(app, "DELETE", "/api/instances/inst1",
                             headers=[("Host", "127.0.0.1:3001"), ("Accept", "text/html"),
                                      ("Authorization", "Basic bW9ja3VzZXI6bW9ja3Bhc3N3b3Jk")],
                             http_version="1.0")
        assert reply.status == 302
        assert reply.headers["location"].endswith("/api/instances")

    @pytest.mark.parametrize("http_version", ["1.0", "1.1"])
    def test_request_without_host_header_is_400(self, anon, app, http_version):
        reply = asgi_request(app, "GET", "/api?format=xml", headers=[("Accept", "application/xml")],
                             http_version=http_version)
        assert reply.status == 400
        assert reply.body == b"Unable to find HTTP Host header"
        assert reply.headers["content-type"] == PLAIN
        assert reply.headers["server"] == "Apache-Deltacloud/1.1.3"
        assert reply.headers["x-deltacloud-driver"] == "mock"
        assert "etag" not in reply.headers

    def test_host_header_builds_the_urls(self, app):
        reply = asgi_request(app, "GET", "/api?format=json", headers=[("Host", "cloud.example.com:8080")])
        assert reply.status == 200
        links = json.loads(reply.body)["api"]["links"]
        assert all(link["href"].startswith("http://cloud.example.com:8080/api/") for link in links)


# -- §2 step 10: response headers -----------------------------------------------------------------

class TestResponseHeaders:
    @pytest.mark.parametrize("path", ["/api?format=xml", "/api/instances?format=json", "/api/realms/us?format=xml",
                                      "/api/instance_states?format=json", "/api/drivers?format=xml",
                                      "/api/hardware_profiles?format=html"])
    def test_etag_is_md5_of_the_body(self, client, path):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["etag"] == hashlib.md5(response.content).hexdigest()
        assert response.headers["cache-control"] == "max-age=0, private, must-revalidate"
        assert response.headers["server"] == "Apache-Deltacloud/1.1.3"
        assert response.headers["x-deltacloud-driver"] == "mock"
        assert "date" in response.headers

    def test_conditional_get_answers_304(self, client):
        # The original answered 200 every time; issue 21 made polling cheap (tests/test_conditional_get.py).
        etag = client.get("/api/instances?format=xml").headers["etag"]
        for value in (etag, f'"{etag}"'):
            response = client.get("/api/instances?format=xml", headers={"If-None-Match": value})
            assert response.status_code == 304
            assert not response.content

    def test_201_has_etag_and_location(self, client):
        response = client.post("/api/keys?format=json", data={"name": "etag-key"})
        assert response.status_code == 201
        assert response.headers["etag"] == hashlib.md5(response.content).hexdigest()
        assert response.headers["location"] == f"{BASE}/api/keys/etag-key"
        assert "x-backend-runtime" not in response.headers  # not on create

    def test_202_and_204_have_no_etag(self, client):
        stopped = client.post("/api/instances/inst1/stop?format=xml")
        assert stopped.status_code == 202
        assert "etag" not in stopped.headers and "cache-control" not in stopped.headers
        destroyed = client.delete("/api/instances/inst1?format=xml")
        assert destroyed.status_code == 204
        for header in ("etag", "content-type", "content-length"):
            assert header not in destroyed.headers
        assert destroyed.headers["server"] == "Apache-Deltacloud/1.1.3"

    @pytest.mark.parametrize(("method", "path", "status"), [
        ("GET", "/api/instances/nope?format=xml", 404),
        ("POST", "/api/instances/nope/stop?format=xml", 403),
        ("GET", "/api/realms/501?format=json", 501),
        ("POST", "/api/keys?format=xml", 400),
    ])
    def test_errors_have_no_etag(self, client, method, path, status):
        response = client.request(method, path)
        assert response.status_code == status
        assert "etag" not in response.headers and "cache-control" not in response.headers

    @pytest.mark.parametrize(("path", "present"), [
        ("/api/instances?format=xml", True),
        ("/api/instances/inst1?format=xml", True),
        ("/api/instances/nope?format=xml", True),  # a show that ends in 404
        ("/api/images?format=json", True),
        ("/api/realms/us?format=json", True),
        ("/api/keys/test-key?format=json", True),
        ("/api/hardware_profiles?format=json", True),
        ("/api?format=xml", False),
        ("/api/instance_states?format=xml", False),
    ])
    def test_backend_runtime(self, client, path, present):
        response = client.get(path)
        assert ("x-backend-runtime" in response.headers) == present
        if present:
            assert float(response.headers["x-backend-runtime"]) >= 0

    def test_no_backend_runtime_on_403_405(self, client):
        assert "x-backend-runtime" not in client.post("/api/instances/nope/stop?format=xml").headers
        refused = client.post("/api/instances/inst1/start?format=xml")
        assert refused.status_code == 405
        assert "x-backend-runtime" not in refused.headers
        assert "allow" not in refused.headers

    def test_head_lacks_etag_and_cache_control(self, client):
        response = client.head("/api/instances/inst1", headers={"Accept": "application/json"})
        assert response.status_code == 200
        assert "etag" not in response.headers and "cache-control" not in response.headers
        assert response.headers["content-type"] == "application/json"


# -- TESTSUITE E: what real clients send ----------------------------------------------------------

class TestClientHabits:
    @pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded"])
    def test_instance_create_from_the_query_string(self, client, content_type):
        headers = {"Accept": "application/xml"}
        if content_type:
            headers["Content-Type"] = content_type
        response = client.post("/api/instances?image_id=img2&hwp_id=m1-large&name=qs1", headers=headers,
                               content=b"")
        assert response.status_code == 201, response.text[:300]
        root = ET.fromstring(response.content)
        assert root.findtext("name") == "qs1"
        assert root.find("image").get("id") == "img2"
        assert root.find("hardware_profile").get("id") == "m1-large"

    @pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded"])
    def test_key_create_from_the_query_string(self, client, content_type):
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        response = client.post("/api/keys?name=qs-key", headers=headers, content=b"")
        assert response.status_code == 201
        assert response.json()["key"]["id"] == "qs-key"

    def test_image_create_from_the_query_string(self, client):
        response = client.post("/api/images?instance_id=inst1&name=qs-img", headers={"Accept": "application/xml"})
        assert response.status_code == 201
        assert ET.fromstring(response.content).get("id") == "qs-img"

    def test_multipart_create(self, client):
        response = client.post("/api/keys?format=json", files={"name": (None, "mp-key")})
        assert response.status_code == 201
        assert response.json()["key"]["id"] == "mp-key"

    def test_python_client_flow(self, client):
        """The 2013 Python client: JSON only, follows absolute links, reads the bare 202 object."""
        links = {link["rel"]: link["href"] for link in client.get("/api?format=json").json()["api"]["links"]}
        assert all(href.startswith("http://") for href in links.values())
        created = client.post(links["instances"] + "?format=json", data={"image_id": "img1"})
        assert created.status_code == 201
        instance = created.json()["instance"]
        stop = next(a for a in instance["actions"] if a["rel"] == "stop")
        stopped = client.request(stop["method"].upper(), stop["href"] + "?format=json")
        assert stopped.status_code == 202
        assert stopped.json()["state"] == "STOPPED"
        destroy = next(a for a in stopped.json()["actions"] if a["rel"] == "destroy")
        assert client.request(destroy["method"].upper(), destroy["href"] + "?format=json").status_code == 204
