"""Bad input is refused with the right status and document, and changes nothing.

Every case takes a snapshot of the mock cloud (``/api/instances`` and ``/api/keys`` in JSON)
before the bad request and compares it afterwards.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from starlette.testclient import TestClient

BASE_URL = "http://127.0.0.1:3001"
MOCK_AUTH = ("mockuser", "mockpassword")
PLAIN = "text/html;charset=utf-8"
FORMATS = ("xml", "json")


def snapshot(client: httpx.Client) -> tuple[object, object]:
    instances = client.get("/api/instances?format=json", auth=MOCK_AUTH)
    keys = client.get("/api/keys?format=json", auth=MOCK_AUTH)
    assert instances.status_code == 200, instances.text
    assert keys.status_code == 200, keys.text
    return instances.json(), keys.json()


@contextmanager
def unchanged(client: httpx.Client) -> Iterator[None]:
    before = snapshot(client)
    yield
    assert snapshot(client) == before, "the bad request changed the mock cloud"


def error_doc(response: httpx.Response, fmt: str) -> tuple[int, str, str | None]:
    """(code, message, error class or None for XML) of an error document."""
    if fmt == "json":
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        return body["code"], body["message"], body["error"]
    assert response.headers["content-type"] == "application/xml"
    root = ET.fromstring(response.content)
    assert root.tag == "error"
    assert root.get("status") == str(response.status_code)
    return int(root.findtext("code") or 0), (root.findtext("message") or "").strip(), None


def create(client: httpx.Client, fmt: str, **data: str) -> httpx.Response:
    return client.post(f"/api/instances?format={fmt}", data=data)


# -- unknown ids ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", ["/api/instances/nope", "/api/keys/nope", "/api/images/nope", "/api/realms/nope"])
def test_show_of_unknown_id_is_404(client, fmt, path):
    with unchanged(client):
        r = client.get(f"{path}?format={fmt}")
        assert r.status_code == 404, r.text
        code, message, _cls = error_doc(r, fmt)
        assert (code, message) == (404, "Not Found")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("method", "suffix"), [("POST", "/start"), ("POST", "/stop"), ("POST", "/reboot"),
                                                ("DELETE", "")])
def test_action_on_unknown_instance_is_403(client, fmt, method, suffix):
    with unchanged(client):
        r = client.request(method, f"/api/instances/nope{suffix}?format={fmt}")
        assert r.status_code == 403, r.text
        code, message, cls = error_doc(r, fmt)
        assert (code, message) == (403, "Forbidden")
        assert cls in (None, "Deltacloud::Exceptions::ForbiddenError")


def test_destroy_of_unknown_key_is_404(client):
    with unchanged(client):
        r = client.delete("/api/keys/nope?format=json")
        assert r.status_code == 404, r.text


def test_illegal_action_is_405_and_changes_nothing(client):
    with unchanged(client):
        for method, path in (("DELETE", "/api/instances/inst0"), ("POST", "/api/instances/inst0/start")):
            r = client.request(method, f"{path}?format=json")
            assert r.status_code == 405, r.text
            assert r.json()["message"] == "Method Not Allowed"


# -- missing required parameters ---------------------------------------------------------------------

@pytest.mark.parametrize(("path", "data", "text"), [
    ("/api/instances?format=xml", None, "Required parameter 'image_id' not found in [format]"),
    ("/api/instances?format=json", {"realm_id": "us", "hwp_id": "m1-small"},
     "Required parameter 'image_id' not found in [format,realm_id,hwp_id]"),
    ("/api/keys", None, "Required parameter 'name' not found in []"),
    ("/api/instances/inst1/run?format=json", None, "Required parameter 'cmd' not found in [format,id]"),
])
@pytest.mark.parametrize("who", ["client", "anon"])
def test_missing_required_parameter_is_400_plain_text_before_auth(request, client, who, path, data, text):
    sender = request.getfixturevalue(who)
    with unchanged(client):
        r = sender.post(path, data=data)
        if who == "anon" and data:  # a body without credentials: 401 before it is read (a deviation)
            assert r.status_code == 401, r.text
            return
        assert r.status_code == 400, r.text
        assert r.headers["content-type"] == PLAIN
        assert r.text == text


# -- invalid values ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("overrides", "expected"), [
    ({"hwp_memory": "99999"}, "7680..15360"),
    ({"hwp_memory": "7679"}, "7680..15360"),
    ({"hwp_memory": "15361"}, "7680..15360"),
    ({"hwp_memory": "lots"}, "7680..15360"),
    ({"hwp_cpu": "7"}, "1..6"),
    ({"hwp_cpu": "0"}, "1..6"),
    ({"hwp_storage": "900"}, "one of 850, 1024"),
    ({"hwp_architecture": "i386"}, "x86_64"),
    ({"hwp_gpu": "1"}, "gpu"),
])
def test_hardware_override_outside_the_profile_is_400(client, fmt, overrides, expected):
    with unchanged(client):
        r = create(client, fmt, image_id="img1", hwp_id="m1-large", **overrides)
        assert r.status_code == 400, r.text
        code, message, cls = error_doc(r, fmt)
        assert code == 400
        assert expected in message
        assert next(iter(overrides)) in message  # names the parameter
        assert cls in (None, "Deltacloud::Exceptions::ValidationFailure")


@pytest.mark.parametrize("value", ["NaN", "sNaN", "-nan"])
def test_not_a_number_override_is_400_not_500(client, value):
    with unchanged(client):
        r = create(client, "json", image_id="img1", hwp_id="m1-large", hwp_memory=value)
        assert r.status_code == 400, r.text
        assert "7680..15360" in r.json()["message"]


def test_override_without_a_profile_is_400(client):
    with unchanged(client):
        r = create(client, "json", image_id="img1", hwp_memory="8192")
        assert r.status_code == 400, r.text
        assert "hwp_id" in r.json()["message"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_hardware_profile_is_400(client, fmt):
    with unchanged(client):
        r = create(client, fmt, image_id="img1", hwp_id="nope")
        assert r.status_code == 400, r.text
        code, message, cls = error_doc(r, fmt)
        assert (code, message) == (400, "Hardware profile 'nope' does not exists.")
        assert cls in (None, "Deltacloud::Exceptions::ValidationFailure")


def test_boundaries_of_the_range_are_accepted(client):
    """The positive control of the range checks: both bounds create an instance."""
    for memory in ("7680", "15360"):
        r = create(client, "json", image_id="img1", hwp_id="m1-large", hwp_memory=memory, hwp_storage="1024.0")
        assert r.status_code == 201, r.text
        assert r.json()["instance"]["hardware_profile"]["properties"]["memory"] == memory


@pytest.mark.parametrize("user_data", ["abc", "é", "!!!!", "====", "aGVsbG8=!"])
def test_bad_base64_user_data_is_400(client, user_data):
    with unchanged(client):
        r = create(client, "json", image_id="img1", user_data=user_data)
        assert r.status_code == 400, (user_data, r.status_code, r.text[:200])
        assert "user_data" in r.json()["message"]


def test_wrapped_base64_user_data_is_accepted(client):
    """Ruby's Base64.encode64 wraps lines: newlines in user_data are not an error."""
    r = create(client, "json", image_id="img1", user_data="aGVsbG8g\nd29ybGQ=\n")
    assert r.status_code == 201, r.text


# -- driver selection ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["header", "matrix"])
@pytest.mark.parametrize(("method", "path", "data"), [
    ("GET", "", None), ("GET", "/instances", None), ("POST", "/instances", {"image_id": "img1"}),
])
def test_unknown_driver_is_400_naming_it(client, fmt, how, method, path, data):
    with unchanged(client):
        if how == "header":
            r = client.request(method, f"/api{path}?format={fmt}", data=data, headers={"X-Deltacloud-Driver": "nosuch"})
        else:
            r = client.request(method, f"/api;driver=nosuch{path}?format={fmt}", data=data)
        assert r.status_code == 400, r.text  # the original's 500 (UNRECORDED_DEVIATIONS in test_golden)
        assert r.headers["X-Deltacloud-Driver"] == "nosuch"
        code, message, _cls = error_doc(r, fmt)
        assert code == 400
        assert message.startswith("Driver 'nosuch' is not available")
        assert "pip install deltacloud-nosuch" in message


@pytest.mark.parametrize("path", ["/api;driver", "/api;driver/instances", "/api;=mock/instances",
                                  "/api;driver=mock;provider/realms"])
def test_malformed_matrix_parameters_are_400(client, path):
    with unchanged(client):
        r = client.get(f"{path}?format=json")
        assert r.status_code == 400, r.text
        assert "matrix" in r.json()["message"].lower()


def test_malformed_matrix_on_a_create_creates_nothing(client):
    with unchanged(client):
        r = client.post("/api;driver/instances?format=xml", data={"image_id": "img1"})
        assert r.status_code == 400, r.text
        assert error_doc(r, "xml")[0] == 400


# -- credentials -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "data", "message"), [
    ("GET", "/api/instances", None, "Unauthorized"),  # index: the generic text
    ("GET", "/api/instances/inst0", None, "Authentication Failure"),
    ("POST", "/api/instances", {"image_id": "img1"}, "Authentication Failure"),
    ("POST", "/api/instances/inst0/stop", None, "Authentication Failure"),
    ("DELETE", "/api/instances/inst2", None, "Authentication Failure"),
    ("POST", "/api/keys", {"name": "intruder-key"}, "Authentication Failure"),
    ("DELETE", "/api/keys/test-key", None, "Authentication Failure"),
])
def test_wrong_credentials_are_401_and_change_nothing(client, method, path, data, message):
    with unchanged(client):
        r = client.request(method, f"{path}?format=json", data=data, auth=("mockuser", "wrong"))
        assert r.status_code == 401, r.text
        assert r.json()["message"] == message
        assert r.json()["error"] == "Deltacloud::Exceptions::AuthenticationFailure"


def test_missing_credentials_are_401_with_a_challenge(client, anon):
    with unchanged(client):
        r = anon.post("/api/instances?format=xml", data={"image_id": "img1"})
        assert r.status_code == 401, r.text
        assert r.headers["WWW-Authenticate"].startswith('Basic realm="mock-deltacloud@')
        assert error_doc(r, "xml")[:2] == (401, "Unauthorized")
        # authentication comes before the lookup: unknown instance without credentials is 401
        assert anon.post("/api/instances/nope/stop?format=json").status_code == 401


# -- request body size ------------------------------------------------------------------------------------

@pytest.fixture
def small(mock_storage) -> Iterator[TestClient]:
    """A client of a server that accepts at most 1 KiB of form body."""
    from deltacloud_core.web import Settings, create_app

    with TestClient(create_app(Settings(default_driver="mock", max_body_bytes=1024)), base_url=BASE_URL) as c:
        c.auth = MOCK_AUTH
        yield c


PADDING = "x" * 2048


@pytest.mark.parametrize(("path", "data"), [
    ("/api/instances", {"image_id": "img1", "pad": PADDING}),
    ("/api/keys", {"name": "big-key", "pad": PADDING}),
])
def test_form_over_the_limit_is_413(small, path, data):
    with unchanged(small):
        r = small.post(f"{path}?format=json", data=data)
        assert r.status_code == 413, r.text
        assert r.json()["code"] == 413


def test_multipart_over_the_limit_is_413(small):
    with unchanged(small):
        r = small.post("/api/instances?format=json", data={"image_id": "img1"},
                       files={"user_file": ("blob.bin", b"x" * 2048)})
        assert r.status_code == 413, r.text


def test_body_under_the_limit_is_fine(small):
    r = small.post("/api/keys?format=json", data={"name": "small-key", "pad": "x" * 100})
    assert r.status_code == 201, r.text


def _chunks(body: bytes, size: int = 256) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


@pytest.mark.parametrize("body", [
    "image_id=img1&pad=" + PADDING,  # one big field
    "image_id=img1&" + "&".join(f"f{i}={'x' * 100}" for i in range(40)),  # many small ones, 4 KiB in all
], ids=["one-big-field", "many-small-fields"])
def test_chunked_body_over_the_limit_is_413(small, body):
    """Without Content-Length the limit must still hold while the body is read."""
    with unchanged(small):
        r = small.post("/api/instances?format=json", content=_chunks(body.encode()),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert "content-length" not in {k.lower() for k in r.request.headers}
        assert r.status_code == 413, (r.status_code, r.text[:200])
