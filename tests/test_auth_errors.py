"""Authentication (API.md §5) and the error answers (API.md §6, FORMATS.md §E): 400, 401, 403, 404,
405, 406, 412, 500 (unknown driver) and the injected 500/501/502/504 of the mock realms."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from deltacloud_core import Driver, Realm

PLAIN = "text/html;charset=utf-8"
CHALLENGE = 'Basic realm="mock-deltacloud@"'
UNAUTHORIZED_JSON = {"code": 401, "message": "Unauthorized", "error": "Deltacloud::Exceptions::AuthenticationFailure"}
BAD_AUTH = ("mockuser", "wrong")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def error_doc(response) -> ET.Element:
    """The standard XML error document (FORMATS.md §E.1), checked for its fixed parts."""
    assert response.headers["content-type"] == "application/xml"
    assert response.text.startswith("<?xml version='1.0' encoding='utf-8' ?>")
    root = ET.fromstring(response.content)
    assert root.tag == "error"
    assert root.get("status") == str(response.status_code)
    assert [child.tag for child in root] == ["backend", "code", "message", "backtrace", "request"]
    assert root.findtext("code") == str(response.status_code)
    return root


def message_of(root: ET.Element) -> str:
    return (root.findtext("message") or "").strip()


def request_params(root: ET.Element) -> list[tuple[str, str]]:
    return [(p.get("name"), (p.text or "").strip()) for p in root.findall("request/param")]


# -- 401 ------------------------------------------------------------------------------------------

NEEDS_CREDENTIALS = [
    ("GET", "/api/realms"), ("GET", "/api/realms/us"),
    ("GET", "/api/images"), ("GET", "/api/images/img1"), ("POST", "/api/images?instance_id=inst1&name=x"),
    ("DELETE", "/api/images/img1"),
    ("GET", "/api/instances"), ("GET", "/api/instances/inst1"), ("POST", "/api/instances?image_id=img1"),
    ("POST", "/api/instances/inst1/stop"), ("POST", "/api/instances/inst1/reboot"),
    ("POST", "/api/instances/inst1/start"), ("DELETE", "/api/instances/inst1"),
    ("GET", "/api/keys"), ("GET", "/api/keys/test-key"), ("POST", "/api/keys?name=k"),
    ("DELETE", "/api/keys/test-key"),
]

PUBLIC = [
    ("GET", "/api"), ("GET", "/api/"), ("OPTIONS", "/api"), ("HEAD", "/api"),
    ("GET", "/api/hardware_profiles"), ("GET", "/api/hardware_profiles/m1-small"),
    ("GET", "/api/instance_states"), ("GET", "/api/drivers"), ("GET", "/api/drivers/mock"),
    ("OPTIONS", "/api/instances"), ("OPTIONS", "/api/instances/create"), ("OPTIONS", "/api/keys/index"),
    ("HEAD", "/api/instances/inst1/reboot"),
]


class TestAuthentication:
    @pytest.mark.parametrize(("method", "path"), NEEDS_CREDENTIALS)
    def test_missing_credentials_is_401_with_challenge(self, anon, method, path):
        response = anon.request(method, path, headers={"Accept": "application/json"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == CHALLENGE
        assert response.headers["x-deltacloud-driver"] == "mock"  # test_setup.rb reads it from the 401
        assert response.json() == UNAUTHORIZED_JSON

    @pytest.mark.parametrize(("method", "path"), PUBLIC)
    def test_public_routes(self, anon, method, path):
        response = anon.request(method, path, headers={"Accept": "application/xml"})
        assert response.status_code == 200

    @pytest.mark.parametrize("path", ["/api/keys/new", "/api/images/new?instance_id=inst1"])
    def test_static_forms_are_public(self, anon, path):
        assert anon.get(path, headers={"Accept": "text/html"}).status_code == 200

    def test_401_xml_document(self, anon):
        response = anon.get("/api/instances?format=xml")
        assert response.status_code == 401
        root = error_doc(response)
        assert root.get("url") == "/api/instances"
        assert root.find("backend").attrib == {"driver": "mock", "provider": "default"}
        assert message_of(root) == "Unauthorized"
        assert request_params(root) == [("format", '"xml"')]
        assert "etag" not in response.headers

    def test_401_html(self, anon):
        response = anon.get("/api/instances", headers={"Accept": "text/html"})
        assert response.status_code == 401
        assert response.headers["content-type"] == "text/html"
        assert response.headers["www-authenticate"] == CHALLENGE

    def test_wrong_credentials_on_an_index_is_generic_unauthorized(self, anon):
        response = anon.get("/api/instances?format=json", auth=BAD_AUTH)
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED_JSON

    @pytest.mark.parametrize(("method", "path"), [
        ("GET", "/api/instances/inst1"), ("GET", "/api/realms/us"), ("GET", "/api/keys/test-key"),
        ("POST", "/api/instances/inst1/stop"), ("POST", "/api/keys?name=badauth-key"),
        ("POST", "/api/instances?image_id=img1")])
    def test_wrong_credentials_elsewhere_is_the_drivers_message(self, anon, method, path):
        response = anon.request(method, path, headers={"Accept": "application/json"}, auth=BAD_AUTH)
        assert response.status_code == 401
        assert response.json() == {"code": 401, "message": "Authentication Failure",
                                   "error": "Deltacloud::Exceptions::AuthenticationFailure"}

    def test_wrong_credentials_also_get_the_challenge(self, anon):
        """Recommended (API.md §5): WWW-Authenticate on every 401; the original sent none here."""
        response = anon.get("/api/instances?format=xml", auth=BAD_AUTH)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == CHALLENGE

    def test_non_basic_authorization_is_missing_credentials(self, anon):
        response = anon.get("/api/instances?format=json", headers={"Authorization": "Bearer abc"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == CHALLENGE

    @pytest.mark.parametrize("action", ["stop", "start", "reboot"])
    def test_credentials_are_checked_before_the_lookup(self, anon, action):
        response = anon.post(f"/api/instances/nope/{action}?format=xml")
        assert response.status_code == 401
        assert anon.delete("/api/instances/nope?format=xml").status_code == 401

    @pytest.mark.parametrize("headers", [{"Authorization": "Basic Og=="}, basic("mockuser", "wrong"), {}])
    def test_entry_point_answers_whatever_the_credentials(self, anon, headers):
        response = anon.get("/api?format=xml", headers=headers)
        assert response.status_code == 200
        assert ET.fromstring(response.content).tag == "api"


class TestForceAuth:
    def test_no_credentials(self, anon):
        response = anon.get("/api?force_auth=1&format=xml")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == CHALLENGE
        root = error_doc(response)
        assert root.get("url") == "/api"
        assert ("force_auth", '"1"') in request_params(root)
        assert message_of(root) == "Unauthorized"

    @pytest.mark.parametrize("query", ["force_auth=1", "force_auth=true", "force_auth="])
    def test_wrong_credentials_is_plain_text(self, anon, query):
        response = anon.get(f"/api?{query}&format=xml", auth=BAD_AUTH)
        assert response.status_code == 401
        assert response.text == "Authentication failed"
        assert response.headers["content-type"] == PLAIN
        assert "www-authenticate" not in response.headers

    def test_empty_basic_credentials_fail(self, anon):
        response = anon.get("/api?force_auth=true&format=xml", headers={"Authorization": "Basic Og=="})
        assert response.status_code == 401

    @pytest.mark.parametrize("query", ["force_auth=1", "force_auth=true", "force_auth="])
    def test_valid_credentials(self, client, query):
        response = client.get(f"/api?{query}&format=xml")
        assert response.status_code == 200
        assert ET.fromstring(response.content).get("driver") == "mock"

    def test_json_flavour(self, anon):
        response = anon.get("/api?force_auth=1&format=json")
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED_JSON


# -- 400 ------------------------------------------------------------------------------------------

class TestMissingParameter:
    @pytest.mark.parametrize(("method", "path", "data", "text"), [
        ("POST", "/api/instances?format=xml", b"", "Required parameter 'image_id' not found in [format]"),
        ("POST", "/api/instances?format=json", b"name=x&realm_id=us",
         "Required parameter 'image_id' not found in [format,name,realm_id]"),
        ("POST", "/api/keys", None, "Required parameter 'name' not found in []"),
        ("POST", "/api/keys?format=json", None, "Required parameter 'name' not found in [format]"),
        ("POST", "/api/images?format=json", b"name=x", "Required parameter 'instance_id' not found in [format,name]"),
        ("POST", "/api/instances/inst1/run?format=xml", None, "Required parameter 'cmd' not found in [format,id]"),
        ("POST", "/api/instances/inst1/run?format=xml", b"ip=1.2.3.4",
         "Required parameter 'cmd' not found in [format,ip,id]"),
    ])
    @pytest.mark.parametrize("who", ["client", "anon"])
    def test_plain_text(self, request, who, method, path, data, text):
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if data is not None else {}
        response = request.getfixturevalue(who).request(method, path, content=data, headers=headers)
        if who == "anon" and data:  # a body without credentials: 401 before it is read (a deviation)
            assert response.status_code == 401
            return
        assert response.status_code == 400
        assert response.text == text
        assert response.headers["content-type"] == PLAIN
        assert "etag" not in response.headers
        assert response.headers["x-deltacloud-driver"] == "mock"

    def test_validation_failure_is_an_error_document(self, client):
        response = client.post("/api/instances?format=xml", data={"image_id": "img1", "hwp_id": "nope"})
        assert response.status_code == 400
        root = error_doc(response)
        assert message_of(root) == "Hardware profile 'nope' does not exists."
        assert request_params(root) == [("format", '"xml"'), ("image_id", '"img1"'), ("hwp_id", '"nope"')]


# -- 403, 404, 405 --------------------------------------------------------------------------------

class TestForbidden:
    @pytest.mark.parametrize(("method", "path", "url"), [
        ("POST", "/api/instances/nope/stop", "/api/instances/nope/stop"),
        ("POST", "/api/instances/nope/start", "/api/instances/nope/start"),
        ("POST", "/api/instances/nope/reboot", "/api/instances/nope/reboot"),
        ("DELETE", "/api/instances/nope", "/api/instances/nope")])
    def test_action_on_unknown_instance(self, client, method, path, url):
        response = client.request(method, f"{path}?format=xml")
        assert response.status_code == 403
        root = error_doc(response)
        assert root.get("url") == url
        assert message_of(root) == "Forbidden"
        assert request_params(root) == [("format", '"xml"'), ("id", '"nope"')]
        assert "x-backend-runtime" not in response.headers

    def test_duplicate_key_xml(self, client):
        response = client.post("/api/keys?format=xml", data={"name": "test-key"})
        assert response.status_code == 403
        root = error_doc(response)
        assert root.get("url") == "/api/keys"
        assert message_of(root) == "Key with same name already exists"


class TestNotFound:
    @pytest.mark.parametrize("path", ["/api/instances/nope", "/api/images/nope", "/api/realms/nope",
                                      "/api/keys/nope", "/api/hardware_profiles/nope"])
    def test_show_unknown(self, client, path):
        response = client.get(f"{path}?format=xml")
        assert response.status_code == 404
        root = error_doc(response)
        assert root.get("url") == path
        assert message_of(root) == "Not Found"
        assert request_params(root) == [("format", '"xml"'), ("id", '"nope"')]
        assert float(response.headers["x-backend-runtime"]) >= 0
        json_response = client.get(f"{path}?format=json")
        assert json_response.status_code == 404
        assert json_response.json() == {"code": 404, "message": "Not Found",
                                        "error": "Deltacloud::Exceptions::ObjectNotFound"}

    def test_html(self, client):
        response = client.get("/api/instances/nope", headers={"Accept": "text/html"})
        assert response.status_code == 404
        assert response.headers["content-type"] == "text/html"

    def test_error_document_without_parameters(self, client):
        response = client.get("/api/instances/nope", headers={"Accept": "application/xml"})
        assert response.status_code == 404
        assert request_params(error_doc(response)) == [("id", '"nope"')]

    def test_matrix_provider_shows_in_the_document(self, client):
        response = client.get("/api;driver=mock;provider=p9/instances/nope?format=xml")
        assert response.status_code == 404
        root = error_doc(response)
        assert root.find("backend").attrib == {"driver": "mock", "provider": "p9"}
        assert response.headers["x-deltacloud-provider"] == "p9"
        assert [name for name, _ in request_params(root)] == ["format", "api", "id"]


class TestMethodNotAllowed:
    @pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/instances/inst1"),
                                                  ("POST", "/api/instances/inst1/start")])
    def test_on_a_running_instance(self, client, method, path):
        response = client.request(method, f"{path}?format=xml")
        assert response.status_code == 405
        root = error_doc(response)
        assert message_of(root) == "Method Not Allowed"
        assert root.get("url") == path
        assert request_params(root) == [("format", '"xml"'), ("id", '"inst1"')]
        assert "allow" not in response.headers and "x-backend-runtime" not in response.headers
        json_response = client.request(method, f"{path}?format=json")
        assert json_response.json() == {"code": 405, "message": "Method Not Allowed",
                                        "error": "Deltacloud::Exceptions::MethodNotAllowed"}

    def test_on_a_stopped_instance(self, client):
        assert client.post("/api/instances/inst2/stop?format=xml").status_code == 202
        for action in ("stop", "reboot"):
            assert client.post(f"/api/instances/inst2/{action}?format=json").status_code == 405, action
        assert client.get("/api/instances/inst2?format=json").json()["instance"]["state"] == "STOPPED"


# -- 406 ------------------------------------------------------------------------------------------

class TestNotAcceptable:
    def test_first_stage(self, client):
        response = client.get("/api/instances?format=noformat", headers={"Accept": "application/json"})
        assert response.status_code == 406
        assert response.content == b""
        assert "content-type" not in response.headers

    def test_second_stage_has_the_deltacloud_headers(self, client):
        response = client.get("/api/keys/new", headers={"Accept": "application/json"})
        assert response.status_code == 406
        assert response.content == b""
        assert response.headers["content-type"] == PLAIN
        assert response.headers["server"] == "Apache-Deltacloud/1.1.3"
        assert response.headers["x-deltacloud-driver"] == "mock"


# -- 500/501/502/504 ------------------------------------------------------------------------------

class TestServerErrors:
    @pytest.mark.parametrize(("how", "path"), [
        ("header", "/api"), ("header", "/api/instances"), ("header", "/api/realms/us"),
        ("matrix", "/api"), ("matrix", "/api/instances")])
    @pytest.mark.parametrize("who", ["client", "anon"])
    def test_unknown_driver(self, request, how, path, who):
        http = request.getfixturevalue(who)
        if how == "header":
            response = http.get(f"{path}?format=json", headers={"X-Deltacloud-Driver": "nosuch"})
        else:
            response = http.get(path.replace("/api", "/api;driver=nosuch", 1) + "?format=json")
        assert response.status_code == 400  # the original's 500: see UNRECORDED_DEVIATIONS in test_golden
        assert response.headers["x-deltacloud-driver"] == "nosuch"
        document = response.json()
        assert list(document) == ["code", "message", "error"]
        assert document["code"] == 400
        assert document["error"] == "Deltacloud::Exceptions::ValidationFailure"
        assert document["message"].startswith("Driver 'nosuch' is not available (")
        assert "pip install deltacloud-nosuch" in document["message"] and "mock" in document["message"]

    def test_unknown_driver_xml(self, client):
        response = client.get("/api/instances?format=xml", headers={"X-Deltacloud-Driver": "nosuch"})
        assert response.status_code == 400
        root = error_doc(response)
        assert root.find("backend").attrib == {"driver": "nosuch", "provider": "default"}
        assert message_of(root).startswith("Driver 'nosuch' is not available (")

    @pytest.mark.parametrize(("path", "status", "message", "error"), [
        ("/api/realms/500", 500, "DeltacloudErrorMessage", "BackendError"),
        ("/api/realms/501", 501, "NotImplementedMessage", "NotImplemented"),
        ("/api/realms/502", 502, "ProviderErrorMessage", "ProviderError"),
        ("/api/realms/504", 504, "ProviderTimeoutMessage", "ProviderTimeout"),
        ("/api/realms?id=500", 500, "Internal Server Error", "BackendError"),
        ("/api/realms?id=501", 501, "Not Supported", "NotImplemented"),
        ("/api/realms?id=502", 502, "Backend Server Error", "ProviderError"),
        ("/api/realms?id=504", 504, "Gateway Timeout", "ProviderTimeout"),
    ])
    def test_injected_driver_errors(self, client, path, status, message, error):
        separator = "&" if "?" in path else "?"
        response = client.get(f"{path}{separator}format=json")
        assert response.status_code == status
        assert response.json() == {"code": status, "message": message, "error": f"Deltacloud::Exceptions::{error}"}
        xml_response = client.get(f"{path}{separator}format=xml")
        assert xml_response.status_code == status
        assert message_of(error_doc(xml_response)) == message

    def test_index_error_lists_query_params_in_order(self, client):
        response = client.get("/api/realms?id=502&format=xml")
        assert request_params(error_doc(response)) == [("id", '"502"'), ("format", '"xml"')]
        assert "x-backend-runtime" not in response.headers


# -- 412 with a driver that lacks capabilities ----------------------------------------------------

class RealmsOnlyDriver(Driver):
    """An in-test driver that supports realms and nothing else (no profiles, no state machine)."""

    DISPLAY_NAME = "Tiny"

    def list_realms(self, **filters: str) -> list[Realm]:
        self.credentials  # noqa: B018 - asking for them is what makes the operation need them
        realms = [Realm(id="r1", name="Realm One")]
        return [r for r in realms if not filters.get("id") or r.id == filters["id"]]


MISSING = "The required capability to execute this operation is missing"


@pytest.fixture
def tiny(app):
    app.drivers.register("tiny", RealmsOnlyDriver)
    return {"X-Deltacloud-Driver": "tiny"}


class TestCapabilityMissing:
    def test_entry_point_lists_only_what_the_driver_supports(self, anon, tiny):
        root = ET.fromstring(anon.get("/api?format=xml", headers=tiny).content)
        assert root.get("driver") == "tiny"
        assert [link.get("rel") for link in root.findall("link")] == ["drivers", "realms"]
        allow = anon.options("/api", headers=tiny).headers["allow"]
        assert allow == "Deltacloud::Rabbit::DriversCollection,Deltacloud::Rabbit::RealmsCollection"

    @pytest.mark.parametrize(("method", "path", "expect"), [
        ("GET", "/api/keys", "keys"), ("GET", "/api/keys/test-key", "keys"), ("POST", "/api/keys", "create_key"),
        ("GET", "/api/instances", "instances"), ("GET", "/api/instances/inst1", "instances"),
        ("POST", "/api/instances", "create_instance"), ("POST", "/api/instances/inst1/stop", "stop_instance"),
        ("DELETE", "/api/instances/inst1", "destroy_instance"), ("GET", "/api/images", "images"),
        ("POST", "/api/images", "create_image"), ("DELETE", "/api/keys/test-key", "destroy_key")])
    @pytest.mark.parametrize("fmt", ["xml", "json"])
    @pytest.mark.parametrize("who", ["client", "anon"])
    def test_412(self, request, tiny, who, method, path, expect, fmt):
        """Before authentication and before parameter validation (API.md §2 step 7)."""
        response = request.getfixturevalue(who).request(method, f"{path}?format={fmt}", headers=tiny)
        assert response.status_code == 412
        assert response.text == MISSING
        assert response.headers["expect"] == expect
        assert response.headers["content-type"] == PLAIN
        assert response.headers["x-deltacloud-driver"] == "tiny"
        assert response.headers["server"] == "Apache-Deltacloud/1.1.3"
        for header in ("etag", "x-backend-runtime", "www-authenticate"):
            assert header not in response.headers

    @pytest.mark.parametrize("path", ["/api/hardware_profiles", "/api/instance_states"])
    def test_412_for_static_capabilities(self, anon, tiny, path):
        response = anon.get(f"{path}?format=xml", headers=tiny)
        assert response.status_code == 412
        assert response.text == MISSING

    def test_routes_without_a_capability_check(self, anon, tiny):
        assert anon.options("/api/keys", headers=tiny).status_code == 200
        assert anon.get("/api/keys/new", headers={**tiny, "Accept": "text/html"}).status_code == 200
        assert anon.get("/api/drivers?format=xml", headers=tiny).status_code == 200

    def test_supported_collection_works_and_challenges_for_the_driver(self, anon, tiny):
        response = anon.get("/api/realms?format=xml", headers=tiny)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="tiny-deltacloud@"'
        response = anon.get("/api/realms?format=json", headers=tiny, auth=("any", "thing"))
        assert response.status_code == 200
        assert [r["id"] for r in response.json()["realms"]] == ["r1"]
