"""``GET /api/openapi.json``: a valid OpenAPI 3.1 document of exactly the routes the server answers
for the request's driver, whose schemas hold for the mock driver's real answers."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.routing import Match, Mount

from deltacloud_core.drivers.base import Driver
from deltacloud_core.drivers.registry import DriverRegistry, UnknownDriver
from deltacloud_core.hardware import HardwareProfile, HardwareProperty
from deltacloud_core.models import Instance, Key, Realm

BASE_URL = "http://127.0.0.1:3001"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Alpha(Driver):
    """Compute with names and keys, a profile whose memory is a range."""

    FEATURES = {"instances": ("user_name", "authentication_key")}
    FEATURE_CONSTRAINTS = {("instances", "user_name"): {"max_length": 20}}
    HARDWARE_PROFILES = (HardwareProfile("small", (HardwareProperty.range("memory", 512, 2048, default=1024),
                                                   HardwareProperty.fixed("cpu", 1))),)

    def list_realms(self, **filters):
        return [Realm(id="r1", name="one", state="AVAILABLE", limit=None)]

    def list_instances(self, **filters):
        return [Instance(id="i1", name="a", state="RUNNING", owner_id="me", image_id="img", realm_id="r1")]

    def create_instance(self, **kwargs):
        raise NotImplementedError

    def list_keys(self, **filters):
        return [Key(id="k1", credential_type="key")]


class Beta(Driver):
    """Compute with user data, no keys, an enum profile."""

    FEATURES = {"instances": ("user_data",)}
    HARDWARE_PROFILES = (HardwareProfile("big", (HardwareProperty.enum("memory", (4096, 8192)),)),)

    def list_instances(self, **filters):
        return []

    def create_instance(self, **kwargs):
        raise NotImplementedError


@pytest.fixture
def app(mock_storage):
    from deltacloud_core.web import Settings, create_app

    registry = DriverRegistry()
    registry.register("alpha", Alpha)
    registry.register("beta", Beta)
    return create_app(Settings(default_driver="mock"), drivers=registry)


def spec(anon, driver: str = "mock") -> dict:
    response = anon.get(f"/api;driver={driver}/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def operations(doc: dict) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in doc["paths"].items() for method in item if method in METHODS}


# -- validity -------------------------------------------------------------------------------------

def test_mock_document_is_valid_openapi_3_1(anon):
    doc = spec(anon)
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema (and its semantic checks)
    assert doc["info"]["x-deltacloud-driver"] == "mock"
    assert doc["servers"] == [{"url": BASE_URL}]


@pytest.mark.parametrize("driver", ["alpha", "beta", "jsonfile", "ec2", "openstack"])
def test_every_installed_driver_gets_a_valid_document(anon, app, driver):
    try:
        app.drivers.load(driver)
    except UnknownDriver:
        pytest.skip(f"driver {driver} is not installed here")
    validate(spec(anon, driver))


def test_operation_ids_are_unique(anon):
    ids = [op["operationId"] for item in spec(anon)["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


# -- the document matches the router --------------------------------------------------------------

def _route_collection(app, path: str):
    """The collection a route belongs to (a sub-collection's routes count for the parent), or None."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "api":
        return app.collections.get(parts[2])
    return None


def test_every_route_answered_for_mock_is_documented(anon, app):
    doc = spec(anon)
    documented = operations(doc)
    mock = app.drivers.load("mock")
    left_out: set[str] = set()
    checked = 0
    for route in app.starlette.routes:
        if isinstance(route, Mount):
            continue  # the stylesheet directory
        path = route.path_format  # the template without convertors: {blob_id:rest} -> {blob_id}
        collection = _route_collection(app, path)
        if collection is not None and not collection.supported_by(mock):
            left_out.add(collection.name)
            assert path not in doc["paths"], path
            continue
        for method in route.methods:
            if method == "HEAD" and "GET" in route.methods:
                continue  # every GET answers HEAD too (said in info.description)
            assert (path, method) in documented, f"{method} {path} is answered but not documented"
            checked += 1
    assert checked > 150
    # What is left out answers 412 on mock: the driver lacks the collection.
    assert left_out == {"firewalls", "load_balancers"}
    for name in left_out:
        assert anon.get(f"/api/{name}", auth=("mockuser", "mockpassword")).status_code == 412


def test_every_documented_operation_is_routed(anon, app):
    for path, method in operations(spec(anon)):
        concrete = path.replace("{", "").replace("}", "")  # /api/instances/{id} -> /api/instances/id
        scope = {"type": "http", "path": concrete, "method": method, "root_path": ""}
        assert any(route.matches(scope)[0] is Match.FULL for route in app.starlette.routes
                   if not isinstance(route, Mount)), f"{method} {path} is documented but no route answers it"


# -- the driver shapes the document ---------------------------------------------------------------

def _create_form(doc: dict) -> dict:
    return doc["paths"]["/api/instances"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"][
        "schema"]


def test_features_differ_between_drivers(anon):
    alpha, beta = spec(anon, "alpha"), spec(anon, "beta")
    assert alpha != beta
    a_props, b_props = _create_form(alpha)["properties"], _create_form(beta)["properties"]
    assert a_props["name"]["x-deltacloud-feature"] == "user_name"
    assert a_props["name"]["maxLength"] == 20  # the driver's constraint on the feature
    assert "user_data" not in a_props
    assert b_props["user_data"]["x-deltacloud-feature"] == "user_data"
    assert "name" not in b_props
    assert alpha["paths"]["/api/instances"]["post"]["x-deltacloud-features"] == ["authentication_key", "user_name"]
    instances_tag = {t["name"]: t for t in beta["tags"]}["instances"]
    assert instances_tag["x-deltacloud-features"] == ["user_data"]


def test_supported_collections_differ_between_drivers(anon):
    alpha, beta, mock = spec(anon, "alpha"), spec(anon, "beta"), spec(anon, "mock")
    assert "/api/keys" in alpha["paths"] and "/api/keys" not in beta["paths"]
    assert "/api/realms" in alpha["paths"] and "/api/realms" not in beta["paths"]
    assert "/api/buckets" in mock["paths"] and "/api/buckets" not in alpha["paths"]
    assert "/api/buckets/{id}/{blob_id}/content" in mock["paths"]
    beta_tags = {t["name"] for t in beta["tags"]}
    assert "instances" in beta_tags and "keys" not in beta_tags and "buckets" not in beta_tags


def test_hardware_profile_bounds_follow_the_driver(anon):
    alpha, beta, mock = spec(anon, "alpha"), spec(anon, "beta"), spec(anon, "mock")
    a_form, b_form, m_form = _create_form(alpha), _create_form(beta), _create_form(mock)
    assert a_form["properties"]["hwp_id"]["enum"] == ["small"]
    assert m_form["properties"]["hwp_id"]["enum"] == ["m1-small", "m1-large", "m1-xlarge", "opaque"]
    a_small = next(b for b in a_form["anyOf"] if b.get("title") == "Hardware profile small")
    assert a_small["properties"]["hwp_memory"] == {"minimum": 512, "maximum": 2048}
    assert a_small["properties"]["hwp_cpu"] == {"const": 1}
    b_big = next(b for b in b_form["anyOf"] if b.get("title") == "Hardware profile big")
    assert b_big["properties"]["hwp_memory"] == {"enum": [4096, 8192]}
    m_large = next(b for b in m_form["anyOf"] if b.get("title") == "Hardware profile m1-large")
    assert m_large["properties"]["hwp_memory"] == {"minimum": 7680, "maximum": 15360}
    assert m_large["properties"]["hwp_storage"] == {"enum": [850, 1024]}


def test_request_body_schema_accepts_and_refuses_like_the_server(anon):
    """The create form's schema (with its profile bounds) agrees with the server's 400s."""
    form = copy.deepcopy(_create_form(spec(anon)))
    validator = Draft202012Validator(form)
    assert validator.is_valid({"image_id": "img1"})
    assert validator.is_valid({"image_id": "img1", "hwp_id": "m1-large", "hwp_memory": 8192})
    assert not validator.is_valid({"image_id": "img1", "hwp_id": "m1-large", "hwp_memory": 99999999})
    assert not validator.is_valid({"image_id": "img1", "hwp_memory": 8192})  # an override needs hwp_id
    assert not validator.is_valid({"hwp_id": "m1-large"})  # image_id is required
    auth = ("mockuser", "mockpassword")
    ok = anon.post("/api/instances?format=json", data={"image_id": "img1", "hwp_id": "m1-large", "hwp_memory": "8192"},
                   auth=auth)
    assert ok.status_code == 201
    bad = anon.post("/api/instances?format=json", data={"image_id": "img1", "hwp_id": "m1-large",
                                                        "hwp_memory": "99999999"}, auth=auth)
    assert bad.status_code == 400


def test_unknown_driver_is_an_error(anon):
    response = anon.get("/api;driver=nosuch/openapi.json")
    assert response.status_code == 400  # not installed: the client's mistake (test_golden)
    assert "nosuch" in response.json()["message"]


def test_driver_header_selects_the_document(anon):
    doc = anon.get("/api/openapi.json", headers={"X-Deltacloud-Driver": "beta"}).json()
    assert doc["info"]["x-deltacloud-driver"] == "beta"


def test_document_is_served_as_json_whatever_is_accepted(anon):
    response = anon.get("/api/openapi.json", headers={"Accept": "text/html"})
    assert response.headers["content-type"] == "application/json"
    assert response.json()["openapi"] == "3.1.0"


# -- the schemas hold for real answers ------------------------------------------------------------

def _validator(doc: dict, schema: dict) -> Draft202012Validator:
    # "#/components/..." references resolve against the document root: put the components there.
    return Draft202012Validator({**schema, "components": doc["components"]})


def _json_schema(doc: dict, path: str, method: str, status: str) -> dict:
    response = doc["paths"][path][method]["responses"][status]
    return response["content"]["application/json"]["schema"]


def test_mock_answers_match_the_response_schemas(client, anon, app):
    doc = spec(anon)
    mock = app.drivers.load("mock")
    checked = []
    for collection in app.collections:
        if collection.parent or not collection.supported_by(mock):
            continue
        base = f"/api/{collection.name}"
        index = client.get(f"{base}?format=json")
        assert index.status_code == 200, (base, index.text)
        body = index.json()
        errors = list(_validator(doc, _json_schema(doc, base, "get", "200")).iter_errors(body))
        assert not errors, (base, errors[0].message, list(errors[0].absolute_path))
        checked.append(base)
        if collection.operation("show") is None or not isinstance(body, dict):
            continue
        items = next(iter(body.values()), [])
        if isinstance(items, list) and items and isinstance(items[0], dict) and "id" in items[0]:
            show_path = f"{base}/{{id}}"
            from urllib.parse import quote

            shown = client.get(f"{base}/{quote(items[0]['id'], safe='')}?format=json")
            assert shown.status_code == 200, (show_path, shown.text)
            errors = list(_validator(doc, _json_schema(doc, show_path, "get", "200")).iter_errors(shown.json()))
            assert not errors, (show_path, errors[0].message, list(errors[0].absolute_path))
            checked.append(show_path)
    assert len(checked) >= 20
    entry = client.get("/api?format=json").json()
    assert not list(_validator(doc, _json_schema(doc, "/api", "get", "200")).iter_errors(entry))
    # A create and an action.
    created = client.post("/api/instances?format=json", data={"image_id": "img1"})
    assert not list(_validator(doc, _json_schema(doc, "/api/instances", "post", "201")).iter_errors(created.json()))
    stopped = client.post(f"/api/instances/{created.json()['instance']['id']}/stop?format=json")
    assert stopped.status_code == 202
    schema = _json_schema(doc, "/api/instances/{id}/stop", "post", "202")
    assert not list(_validator(doc, schema).iter_errors(stopped.json()))
    error = client.get("/api/instances/nope?format=json")
    assert not list(_validator(doc, {"$ref": "#/components/schemas/Error"}).iter_errors(error.json()))


# -- the page for people -------------------------------------------------------------------------

def test_openapi_page_renders_the_document(client):
    response = client.get("/api/openapi", headers={"Accept": "text/html"})
    assert response.status_code == 200
    text = response.text
    assert text.startswith("<!DOCTYPE html>")
    assert 'id="op-instances_create"' in text
    assert 'id="schema-Instance"' in text
    assert "Hardware profile m1-large" in text
    assert f'href="{BASE_URL}/api/openapi.json"' in text
    import re

    for ref in re.findall(r'(?:src|href)="(https?://[^"]+)"', text):
        assert ref.startswith(BASE_URL), ref  # no asset from elsewhere
