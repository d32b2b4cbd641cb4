"""Every compute route of API.md §7, §9.1-9.6, §9.15, §10 and §11, in XML, JSON and HTML.

Checks follow the spec's "Verified against the running original" notes and the original test suites
(TESTSUITE.md A.1-A.4, B, D). HTML answers are checked by status and content type only.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET

import pytest
from support.compare import normalize_base

BASE = "http://127.0.0.1:3001"
PLAIN = "text/html;charset=utf-8"
CONTENT_TYPES = {"xml": "application/xml", "json": "application/json", "html": "text/html"}
#: Collections the original lists on mock (API.md §7), and the compute ones this suite covers.
ORIGINAL_MOCK_COLLECTIONS = ["addresses", "buckets", "drivers", "hardware_profiles", "images", "instance_states",
                             "instances", "keys", "metrics", "network_interfaces", "networks", "realms",
                             "storage_snapshots", "storage_volumes", "subnets"]
COMPUTE_COLLECTIONS = {"drivers", "hardware_profiles", "images", "instance_states", "instances", "keys", "realms"}
SINGULAR = {"drivers": "driver", "hardware_profiles": "hardware_profile", "images": "image",
            "instances": "instance", "keys": "key", "realms": "realm"}
MEMBERS = {"drivers": "mock", "hardware_profiles": "m1-small", "images": "img1", "instances": "inst1",
           "keys": "test-key", "realms": "eu"}
FORMATS = ("xml", "json", "html")


def xml_of(response) -> ET.Element:
    assert response.headers["content-type"] == "application/xml", response.headers.get("content-type")
    return ET.fromstring(response.content)


def assert_document(response, fmt: str, status: int = 200) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"] == CONTENT_TYPES[fmt]
    if fmt == "json":
        response.json()
    elif fmt == "xml":
        ET.fromstring(response.content)


def api_links(client) -> dict[str, str]:
    root = xml_of(client.get("/api", headers={"Accept": "application/xml"}))
    return {link.get("rel"): link.get("href") for link in root.findall("link")}


# -- §7 entry point -------------------------------------------------------------------------------

class TestEntryPoint:
    def test_xml_root_and_headers(self, anon):
        response = anon.get("/api", headers={"Accept": "application/xml"})
        assert response.status_code == 200
        root = xml_of(response)
        assert root.tag == "api"
        assert root.get("version") == "1.1.3"
        assert root.get("driver") == "mock"
        assert "provider" not in root.attrib  # nil attribute left out
        assert response.headers["server"] == "Apache-Deltacloud/1.1.3"
        assert response.headers["x-deltacloud-driver"] == "mock"
        assert "x-deltacloud-provider" not in response.headers
        assert response.headers["etag"] == hashlib.md5(response.content).hexdigest()
        assert not response.text.startswith("<?xml")  # the entry point has no XML declaration

    def test_driver_is_one_of_the_listed_drivers(self, anon):
        root = xml_of(anon.get("/api?format=xml"))
        names = [n.text.lower() for n in xml_of(anon.get("/api/drivers?format=xml")).findall("driver/name")]
        assert root.get("driver") in names

    def test_links_are_absolute_alphabetical_and_truthful(self, anon):
        root = xml_of(anon.get("/api?format=xml"))
        links = root.findall("link")
        assert links
        rels = [link.get("rel") for link in links]
        assert rels == sorted(rels)
        assert COMPUTE_COLLECTIONS <= set(rels)
        assert set(rels) <= set(ORIGINAL_MOCK_COLLECTIONS)  # mock has no firewalls/load_balancers
        for link in links:
            assert link.get("href") == f"{BASE}/api/{link.get('rel')}"

    def test_every_listed_collection_answers(self, client):
        for rel, href in api_links(client).items():
            response = client.get(href, headers={"Accept": "application/xml"})
            assert response.status_code == 200, (rel, response.status_code)

    def test_instances_features_in_catalogue_order(self, anon):
        root = xml_of(anon.get("/api?format=xml"))
        instances = root.find("link[@rel='instances']")
        features = [(f.get("name"), f.get("rel"), [p.get("name") for p in f.findall("param")])
                    for f in instances.findall("feature")]
        assert features == [("metrics", "create", ["metrics"]), ("realm_filter", "index", ["realm_id"]),
                            ("user_name", "create", ["name"]), ("authentication_key", "create", ["keyname"])]
        for rel in COMPUTE_COLLECTIONS - {"instances"}:
            assert root.find(f"link[@rel='{rel}']/feature") is None, rel
        assert all(f.get("name") for f in root.iter("feature"))

    def test_json(self, anon):
        response = anon.get("/api", headers={"Accept": "application/json"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        api = response.json()["api"]
        assert list(api) == ["version", "driver", "provider", "links"]
        assert api["version"] == "1.1.3" and api["driver"] == "mock" and api["provider"] == "default"
        links = {link["rel"]: link for link in api["links"]}
        assert COMPUTE_COLLECTIONS <= set(links)
        for rel, link in links.items():
            assert list(link) == ["rel", "href", "features"]
            assert link["href"] == f"{BASE}/api/{rel}"
        assert links["instances"]["features"] == [
            [{"name": "metrics", "rel": "create", "params": ["metrics:string:optional"], "constraints": {}}],
            [{"name": "realm_filter", "rel": "index", "params": ["realm_id:string:optional"], "constraints": {}}],
            [{"name": "user_name", "rel": "create", "params": ["name:string:optional"], "constraints": {}}],
            [{"name": "authentication_key", "rel": "create", "params": ["keyname:string:optional"],
              "constraints": {}}]]
        assert links["realms"]["features"] == []

    def test_format_json_beats_accept_xml(self, anon):
        response = anon.get("/api?format=json", headers={"Accept": "application/xml"})
        assert response.headers["content-type"] == "application/json"
        assert "api" in response.json()

    def test_html(self, anon):
        response = anon.get("/api", headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html"
        assert response.text.startswith("<!DOCTYPE html>")

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_trailing_slash_is_the_entry_point(self, anon, fmt):
        response = anon.get(f"/api/?format={fmt}")
        assert_document(response, fmt)
        plain = anon.get(f"/api?format={fmt}")
        if fmt != "html":
            assert response.content == plain.content

    def test_driver_header_mock(self, anon):
        root = xml_of(anon.get("/api?format=xml", headers={"X-Deltacloud-Driver": "mock"}))
        assert root.get("driver") == "mock"

    def test_options(self, anon):
        response = anon.options("/api")
        assert response.status_code == 200
        allow = response.headers["allow"].split(",")
        assert "Deltacloud::Rabbit::DriversCollection" in allow
        assert "Deltacloud::Rabbit::InstancesCollection" in allow
        assert "Deltacloud::Rabbit::InstanceStatesCollection" in allow
        assert "Deltacloud::Rabbit::HardwareProfilesCollection" in allow
        assert allow == sorted(allow)
        assert response.headers["content-type"] == PLAIN

    def test_options_with_trailing_slash(self, anon):
        response = anon.options("/api/")
        assert response.status_code == 200
        assert "Deltacloud::Rabbit::DriversCollection" in response.headers["allow"].split(",")

    def test_head(self, client):
        get = client.get("/api", headers={"Accept": "application/xml"})
        head = client.head("/api", headers={"Accept": "application/xml"})
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == "application/xml"
        assert head.headers["content-length"] == str(len(get.content))
        assert "etag" not in head.headers and "cache-control" not in head.headers


class TestSwitchViaPost:
    """POST /api (API.md §4.3): 301 to the matrix URL; empty body, text/html;charset=utf-8, public."""

    @pytest.mark.parametrize(("data", "headers", "location"), [
        ({"driver": "ec2"}, {}, "/api;driver=ec2"),
        ({"provider": "test_provider"}, {}, "/api;provider=test_provider"),
        ({"provider": "p1"}, {"Referer": f"{BASE}/api;driver=ec2"}, "/api;driver=ec2;provider=p1"),
        ({"provider": "default"}, {}, "/api/"),
        ({}, {}, "/api/"),
    ])
    def test_redirect(self, anon, data, headers, location):
        response = anon.post("/api", data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 301
        assert response.headers["location"] == BASE + location
        assert response.content == b""
        assert response.headers["content-type"] == PLAIN

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_every_format(self, anon, fmt):
        response = anon.post(f"/api?format={fmt}", data={"driver": "mock"}, follow_redirects=False)
        assert response.status_code == 301
        assert response.headers["location"] == f"{BASE}/api;driver=mock"

    def test_driver_wins_over_provider(self, anon):
        response = anon.post("/api", data={"driver": "mock", "provider": "p1"}, follow_redirects=False)
        assert response.headers["location"] == f"{BASE}/api;driver=mock"


# -- A.2 common collection checks -----------------------------------------------------------------

MEMBER_COLLECTIONS = ["drivers", "hardware_profiles", "images", "instances", "keys", "realms"]


class TestCommonCollections:
    @pytest.mark.parametrize("collection", [*MEMBER_COLLECTIONS, "instance_states"])
    def test_index_xml_root_and_etag(self, client, collection):
        response = client.get(f"/api/{collection}", headers={"Accept": "application/xml"})
        assert response.status_code == 200
        root = xml_of(response)
        assert root.tag == ("states" if collection == "instance_states" else collection)
        assert response.headers["etag"] == hashlib.md5(response.content).hexdigest()
        assert response.headers["cache-control"] == "max-age=0, private, must-revalidate"

    @pytest.mark.parametrize("collection", [*MEMBER_COLLECTIONS, "instance_states"])
    def test_index_json(self, client, collection):
        response = client.get(f"/api/{collection}", headers={"Accept": "application/json"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        response.json()

    @pytest.mark.parametrize("collection", [*MEMBER_COLLECTIONS, "instance_states"])
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_index_every_format(self, client, collection, fmt):
        assert_document(client.get(f"/api/{collection}?format={fmt}"), fmt)

    @pytest.mark.parametrize("collection", MEMBER_COLLECTIONS)
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_show_every_format(self, client, collection, fmt):
        assert_document(client.get(f"/api/{collection}/{MEMBERS[collection]}?format={fmt}"), fmt)

    @pytest.mark.parametrize("collection", MEMBER_COLLECTIONS)
    def test_members_have_id_href_name_and_show(self, client, collection):
        root = xml_of(client.get(f"/api/{collection}?format=xml"))
        members = root.findall(SINGULAR[collection])
        assert members, f"{collection} lists nothing"
        assert len(members) == len(root), "every child of the root is a member (TESTSUITE E)"
        for member in members:
            ident, href = member.get("id"), member.get("href")
            assert ident and href
            assert href.startswith("http") and href.endswith(f"/{ident}")
            name = member.findtext("name")
            assert name is not None
            shown = client.get(href, headers={"Accept": "application/xml"})
            assert shown.status_code == 200
            shown_root = xml_of(shown)
            assert shown_root.get("id") == ident
            assert shown_root.findtext("name") == name

    @pytest.mark.parametrize("collection", ["images", "instances", "keys", "realms"])
    def test_index_needs_credentials(self, anon, collection):
        assert anon.get(f"/api/{collection}", headers={"Accept": "application/xml"}).status_code == 401

    @pytest.mark.parametrize("collection", ["hardware_profiles", "instance_states", "drivers"])
    def test_public_index(self, anon, collection):
        assert anon.get(f"/api/{collection}", headers={"Accept": "application/xml"}).status_code == 200

    @pytest.mark.parametrize("collection", ["hardware_profiles", "images", "instances", "keys", "realms"])
    @pytest.mark.parametrize("fmt", ["xml", "json"])
    def test_show_unknown_is_404(self, client, collection, fmt):
        response = client.get(f"/api/{collection}/unknown?format={fmt}")
        assert response.status_code == 404
        assert response.headers["content-type"] == CONTENT_TYPES[fmt]

    @pytest.mark.parametrize("collection", ["hardware_profiles", "images", "instances", "keys", "realms"])
    def test_json_list_and_show_keys(self, client, collection):
        listed = client.get(f"/api/{collection}?format=json").json()
        assert list(listed) == [collection] and listed[collection]
        shown = client.get(f"/api/{collection}/{MEMBERS[collection]}?format=json").json()
        assert list(shown) == [SINGULAR[collection]]
        assert shown[SINGULAR[collection]]["id"] == MEMBERS[collection]


# -- §9.15 drivers --------------------------------------------------------------------------------

class TestDrivers:
    def test_index_xml(self, anon):
        root = xml_of(anon.get("/api/drivers?format=xml"))
        assert root.tag == "drivers"
        ids = [d.get("id") for d in root.findall("driver")]
        assert "mock" in ids
        assert ids == sorted(ids)
        mock = root.find("driver[@id='mock']")
        assert mock.get("href") == f"{BASE}/api/drivers/mock"
        assert mock.findtext("name") == "Mock"
        for driver in root.findall("driver"):
            assert driver.findtext("name").lower() == driver.get("id")

    def test_index_json_is_the_raw_map(self, anon):
        drivers = anon.get("/api/drivers?format=json").json()
        assert drivers["mock"] == {"name": "Mock"}
        assert list(drivers) == sorted(drivers)

    def test_show(self, anon):
        assert anon.get("/api/drivers/mock?format=json").json() == {"driver": {"name": "Mock", "id": "mock"}}
        response = anon.get("/api/drivers/mock?format=xml")
        assert not response.text.startswith("<?xml")
        root = xml_of(response)
        assert (root.tag, root.get("id"), root.findtext("name")) == ("driver", "mock", "Mock")

    def test_show_json_lists_live_providers_as_the_xml_does(self, mock_storage):
        """A driver without ENTRYPOINTS whose ``providers()`` lists them live: the original's JSON (the
        configuration entry) showed none of them; ours adds ``providers``, the XML's list."""
        from starlette.testclient import TestClient

        from deltacloud_core import Driver, ProviderInfo, Realm
        from deltacloud_core.drivers.registry import DriverRegistry
        from deltacloud_core.web import Settings, create_app

        class LiveDriver(Driver):
            def providers(self) -> list[ProviderInfo]:
                return [ProviderInfo("north", {"compute": "https://north.example"}), ProviderInfo("south")]

            def list_realms(self, **filters: str) -> list[Realm]:
                return []

        registry = DriverRegistry()
        registry.register("live", LiveDriver)
        with TestClient(create_app(Settings(default_driver="live"), drivers=registry), base_url=BASE) as client:
            shown = client.get("/api/drivers/live?format=json").json()["driver"]
            root = xml_of(client.get("/api/drivers/live?format=xml"))
        assert shown == {"name": "Live", "id": "live", "providers": [
            {"id": "north", "entrypoints": {"compute": "https://north.example"}}, {"id": "south"}]}
        assert [p.get("id") for p in root.findall("provider")] == [p["id"] for p in shown["providers"]]

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_unknown_is_empty_404(self, anon, fmt):
        response = anon.get(f"/api/drivers/foo?format={fmt}")
        assert response.status_code == 404
        assert response.content == b""
        assert response.headers["content-type"] == PLAIN

    def test_index_answers_with_an_unknown_driver_selected(self, anon):
        response = anon.get("/api/drivers?format=xml", headers={"X-Deltacloud-Driver": "nosuch"})
        assert response.status_code == 200
        assert response.headers["x-deltacloud-driver"] == "nosuch"


# -- §9.1 realms ----------------------------------------------------------------------------------

class TestRealms:
    def test_index(self, client):
        root = xml_of(client.get("/api/realms?format=xml"))
        assert [(r.get("id"), r.findtext("name"), r.findtext("state")) for r in root] == [
            ("us", "United States", "AVAILABLE"), ("eu", "Europe", "AVAILABLE")]

    def test_json_show(self, client):
        realm = client.get("/api/realms/us?format=json").json()["realm"]
        assert list(realm) == ["id", "href", "name", "state", "limit"]
        assert realm["limit"] == "unlimited"
        assert realm["href"] == f"{BASE}/api/realms/us"

    def test_filter_by_id(self, client):
        assert [r["id"] for r in client.get("/api/realms?format=json&id=eu").json()["realms"]] == ["eu"]

    def test_show_xml_has_declaration(self, client):
        response = client.get("/api/realms/eu?format=xml")
        assert response.text.startswith("<?xml version='1.0' encoding='utf-8' ?>")
        assert xml_of(response).get("id") == "eu"


# -- §9.2 hardware profiles -----------------------------------------------------------------------

class TestHardwareProfiles:
    def test_order(self, anon):
        ids = [p.get("id") for p in xml_of(anon.get("/api/hardware_profiles?format=xml"))]
        assert ids == ["m1-small", "m1-large", "m1-xlarge", "opaque"]
        json_ids = [p["id"] for p in anon.get("/api/hardware_profiles?format=json").json()["hardware_profiles"]]
        assert json_ids == ["m1-small", "m1-large", "m1-xlarge", "opaque"]

    def test_every_listed_profile_shows_public(self, anon):
        for profile in xml_of(anon.get("/api/hardware_profiles?format=xml")):
            root = xml_of(anon.get(f"/api/hardware_profiles/{profile.get('id')}?format=xml"))
            assert root.get("id") == profile.get("id") == root.findtext("id")

    def test_json_show_keys(self, anon):
        profile = anon.get("/api/hardware_profiles/m1-large?format=json").json()["hardware_profile"]
        assert list(profile) == ["id", "href", "name", "properties", "property_details"]
        assert profile["properties"] == {"cpu": "1", "memory": "10240", "storage": "850", "architecture": "x86_64"}
        opaque = anon.get("/api/hardware_profiles/opaque?format=json").json()["hardware_profile"]
        assert list(opaque) == ["id", "href", "name"]

    @pytest.mark.parametrize(("architecture", "expected"), [
        ("i386", ["m1-small"]), ("x86_64", ["m1-large", "m1-xlarge"]), ("sparc", [])])
    def test_architecture_filter(self, anon, architecture, expected):
        root = xml_of(anon.get(f"/api/hardware_profiles?format=xml&architecture={architecture}"))
        assert [p.get("id") for p in root] == expected

    def test_id_filter(self, anon):
        root = xml_of(anon.get("/api/hardware_profiles?format=xml&id=m1-xlarge"))
        assert [p.get("id") for p in root] == ["m1-xlarge"]

    def test_m1_large_properties(self, anon):
        root = xml_of(anon.get("/api/hardware_profiles/m1-large?format=xml"))
        memory = root.find("property[@name='memory']")
        assert (memory.get("kind"), memory.get("unit"), memory.get("value")) == ("range", "MB", "10240")
        assert (memory.find("range").get("first"), memory.find("range").get("last")) == ("7680", "15360")
        param = memory.find("param")
        assert param.attrib == {"href": f"{BASE}/api/instances", "method": "post", "name": "hwp_memory",
                                "operation": "create"}
        storage = root.find("property[@name='storage']")
        assert [e.get("value") for e in storage.findall("enum/entry")] == ["850", "1024"]
        assert root.find("property[@name='architecture']").attrib == {
            "kind": "fixed", "name": "architecture", "unit": "label", "value": "x86_64"}

    @pytest.mark.parametrize("api", ["/api", "/api;driver=ec2"])
    def test_json_property_details_tell_what_the_xml_tells(self, anon, api):
        """The JSON extension ``property_details``: per property the XML's kind, unit, default and
        bounds (as text), in the XML's order; ``properties`` stays the original's defaults."""
        xml_profiles = {p.get("id"): p for p in xml_of(anon.get(f"{api}/hardware_profiles?format=xml"))}
        if not xml_profiles:
            pytest.skip(f"no profiles at {api} (driver not installed)")
        listed = anon.get(f"{api}/hardware_profiles?format=json").json()["hardware_profiles"]
        assert {p["id"] for p in listed} == set(xml_profiles)
        for profile in listed:
            xml_props = xml_profiles[profile["id"]].findall("property")
            details = profile.get("property_details", [])
            assert [d["name"] for d in details] == [x.get("name") for x in xml_props] == list(
                profile.get("properties", {}))
            for detail, prop in zip(details, xml_props, strict=True):
                assert (detail["kind"], detail["unit"], detail["value"]) == (
                    prop.get("kind"), prop.get("unit"), prop.get("value")), profile["id"]
                assert detail.get("param") == (prop.find("param").get("name") if prop.find("param") is not None
                                               else None)
                rng = prop.find("range")
                assert detail.get("range") == (None if rng is None else {"first": rng.get("first"),
                                                                         "last": rng.get("last")})
                assert detail.get("enum") == ([e.get("value") for e in prop.findall("enum/entry")]
                                              if prop.get("kind") == "enum" else None)


# -- §9.3 images (A.4) ----------------------------------------------------------------------------

class TestImages:
    def test_every_image_has_the_elements_clients_read(self, client):
        for image in xml_of(client.get("/api/images?format=xml")):
            root = xml_of(client.get(image.get("href"), headers={"Accept": "application/xml"}))
            for element in ("state", "owner_id", "architecture", "description"):
                assert root.find(element) is not None, element
            profiles = root.findall("hardware_profiles/hardware_profile")
            assert profiles
            for profile in profiles:
                assert profile.get("rel") == "hardware_profile"
                assert profile.get("href").startswith("http")
                assert profile.get("href").endswith("/" + profile.get("id"))
            links = root.findall("actions/link")
            assert links
            for link in links:
                assert link.get("href").startswith("http") and link.get("method") and link.get("rel")

    def test_json_keys(self, client):
        image = client.get("/api/images/img1?format=json").json()["image"]
        assert list(image) == ["id", "href", "name", "description", "owner", "architecture", "state",
                               "root_type", "creation_time", "hardware_profiles"]

    @pytest.mark.parametrize(("query", "field", "value"), [
        ("owner_id=fedoraproject", "owner_id", "fedoraproject"),
        ("owner_id=mockuser", "owner_id", "mockuser"),
        ("architecture=i386", "architecture", "i386"),
        ("architecture=x86_64", "architecture", "x86_64"),
    ])
    def test_filters(self, client, query, field, value):
        root = xml_of(client.get(f"/api/images?format=xml&{query}"))
        assert len(root) > 0
        assert all(image.findtext(field) == value for image in root)

    def test_owner_self_means_the_authenticated_user(self, client):
        root = xml_of(client.get("/api/images?format=xml&owner_id=self"))
        assert [i.get("id") for i in root] == ["img3"]

    def test_id_filter(self, client):
        assert [i.get("id") for i in xml_of(client.get("/api/images?format=xml&id=img1"))] == ["img1"]
        assert len(xml_of(client.get("/api/images?format=xml&id=unknown"))) == 0

    def test_actions(self, client):
        links = {link.get("rel"): link.attrib for link in
                 xml_of(client.get("/api/images/img1?format=xml")).findall("actions/link")}
        assert links["create_instance"] == {"href": f"{BASE}/api/instances;image_id=img1", "method": "post",
                                            "rel": "create_instance"}
        assert links["destroy_image"] == {"href": f"{BASE}/api/images/img1", "method": "delete",
                                          "rel": "destroy_image"}

    def test_create_show_destroy(self, client):
        response = client.post("/api/images?format=xml",
                               data={"instance_id": "inst1", "name": "img-test1", "description": "test image"})
        assert response.status_code == 201
        assert response.headers["location"] == f"{BASE}/api/images/img-test1"
        root = xml_of(response)
        assert root.get("id") == "img-test1"
        assert (root.findtext("owner_id"), root.findtext("architecture"), root.findtext("state")) == (
            "root", "i386", "AVAILABLE")
        assert root.findtext("description") == "test image"
        assert client.get("/api/images/img-test1?format=xml").status_code == 200
        destroyed = client.delete("/api/images/img-test1?format=xml")
        assert destroyed.status_code == 204
        assert destroyed.content == b""
        assert "content-type" not in destroyed.headers
        assert client.get("/api/images/img-test1?format=xml").status_code == 404

    def test_create_from_instance_without_image_support_is_500(self, client):
        response = client.post("/api/images?format=json", data={"instance_id": "inst3", "name": "x"})
        assert response.status_code == 500
        assert response.json() == {"code": 500, "message": "CreateImageNotSupported",
                                   "error": "Deltacloud::Exceptions::BackendError"}

    def test_create_from_unknown_instance_is_404(self, client):
        response = client.post("/api/images?format=json", data={"instance_id": "nope", "name": "x"})
        assert response.status_code == 404
        assert response.json() == {"code": 404, "message": "NotFound",
                                   "error": "Deltacloud::Exceptions::ObjectNotFound"}

    def test_destroy_unknown_is_204(self, client):
        assert client.delete("/api/images/never-there?format=json").status_code == 204

    def test_new_form(self, client, anon):
        assert client.get("/api/images/new?instance_id=inst1", headers={"Accept": "text/html"}).status_code == 200
        assert anon.get("/api/images/new?instance_id=inst1", headers={"Accept": "text/html"}).status_code == 200
        response = client.get("/api/images/new?instance_id=inst1", headers={"Accept": "application/xml"})
        assert response.status_code == 406
        assert response.content == b""

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("who", ["client", "anon"])
    def test_new_form_without_instance_is_empty_404(self, request, fmt, who):
        response = request.getfixturevalue(who).get(f"/api/images/new?format={fmt}")
        assert response.status_code == 404
        assert response.content == b""
        assert response.headers["content-type"] == PLAIN


# -- §9.4 instances (A.3, B) ----------------------------------------------------------------------

INSTANCE_JSON_KEYS = ["id", "owner", "image", "name", "realm", "state", "actions", "public_addresses",
                      "private_addresses", "create_image", "storage_volumes", "hardware_profile"]


def create_instance(client, **data) -> ET.Element:
    response = client.post("/api/instances?format=xml", data={"image_id": "img1", **data})
    assert response.status_code == 201, response.text[:300]
    root = xml_of(response)
    assert response.headers["location"] == f"{BASE}/api/instances/{root.get('id')}"
    return root


class TestInstances:
    def test_listed_instances_satisfy_the_suite(self, client):
        listed = xml_of(client.get("/api/instances?format=xml"))
        assert [i.get("id") for i in listed] == ["inst0", "inst1", "inst2", "inst3"]
        for instance in listed:
            state = instance.findtext("state")
            assert state is None or re.fullmatch("RUNNING|STOPPED|PENDING", state)
            root = xml_of(client.get(instance.get("href"), headers={"Accept": "application/xml"}))
            assert root.findtext("owner_id") == instance.findtext("owner_id") == "mockuser"
            for element in ("realm", "image", "hardware_profile"):
                found = root.findall(element)
                assert len(found) == 1, element
                assert found[0].get("id") and found[0].get("href").endswith("/" + found[0].get("id"))
            if root.findtext("state") != "STOPPED":
                for element in ("public_addresses", "private_addresses"):
                    assert len(root.findall(element)) == 1
                    for address in root.findall(f"{element}/address"):
                        assert address.get("type") and address.text.strip()
            assert root.find("storage_volumes") is not None
            for link in root.findall("actions/link"):
                assert link.get("href").startswith("http") and link.get("method") and link.get("rel")

    def test_json_keys(self, client):
        instance = client.get("/api/instances/inst1?format=json").json()["instance"]
        assert set(INSTANCE_JSON_KEYS) <= set(instance)

    @pytest.mark.parametrize(("query", "expected"), [
        ("state=RUNNING", ["inst0", "inst1", "inst2", "inst3"]), ("state=STOPPED", []),
        ("id=inst2", ["inst2"]), ("realm_id=eu", ["inst3"]), ("realm_id=us", ["inst0", "inst1", "inst2"])])
    def test_filters(self, client, query, expected):
        assert [i.get("id") for i in xml_of(client.get(f"/api/instances?format=xml&{query}"))] == expected

    def test_create_with_image_only(self, client):
        root = create_instance(client)
        assert root.get("id") == "inst4"
        shown = xml_of(client.get("/api/instances/inst4?format=xml"))
        assert shown.get("id") == "inst4"
        assert shown.find("image").get("id") == "img1"
        assert shown.findtext("state") == "RUNNING"
        assert shown.find("realm").get("id") == "us"
        assert shown.find("hardware_profile").get("id") == "m1-small"
        assert re.fullmatch(r"i-\d+", shown.findtext("name"))
        assert shown.findtext("owner_id") == "mockuser"
        assert shown.find("public_addresses/address").text == "img1.inst4.public.com"

    def test_create_with_realm_and_profile(self, client):
        image = xml_of(client.get("/api/images/img2?format=xml"))
        hwp = image.findall("hardware_profiles/hardware_profile")[-1].get("id")
        root = create_instance(client, image_id="img2", realm_id="eu", hwp_id=hwp)
        shown = xml_of(client.get(root.get("href"), headers={"Accept": "application/xml"}))
        assert shown.find("realm").get("id") == "eu"
        assert shown.find("hardware_profile").get("id") == hwp

    def test_create_with_keyname_and_name(self, client):
        key = client.post("/api/keys?format=xml", data={"name": "suite-key"})
        assert key.status_code == 201
        root = create_instance(client, keyname="suite-key", name="suite-name")
        assert root.findtext("authentication/login/keyname") == "suite-key"
        assert root.find("authentication").get("type") == "key"
        assert root.findtext("name") == "suite-name"

    def test_create_json(self, client):
        response = client.post("/api/instances?format=json", data={"image_id": "img1", "name": "j"})
        assert response.status_code == 201
        instance = response.json()["instance"]
        assert instance["id"] == "inst4"
        assert response.headers["location"] == f"{BASE}/api/instances/inst4"
        assert set(INSTANCE_JSON_KEYS) <= set(instance)

    def test_create_with_unknown_profile_is_400(self, client):
        response = client.post("/api/instances?format=json", data={"image_id": "img1", "hwp_id": "nope"})
        assert response.status_code == 400
        assert response.json() == {"code": 400, "message": "Hardware profile 'nope' does not exists.",
                                   "error": "Deltacloud::Exceptions::ValidationFailure"}

    def test_create_stopped_with_initial_state(self, client):
        root = create_instance(client, initial_state="STOPPED")
        assert root.findtext("state") == "STOPPED"
        assert [link.get("rel") for link in root.findall("actions/link")] == [
            "start", "destroy", "run", "create_image"]

    def test_html_create(self, client):
        response = client.post("/api/instances", data={"image_id": "img1"}, headers={"Accept": "text/html"},
                               follow_redirects=False)
        assert response.status_code in (201, 302, 303)
        if response.status_code == 201:
            assert response.headers["content-type"] == "text/html"

    def test_life_cycle(self, client):
        """TESTSUITE B: create, 405 on destroy while running, reboot/stop/start/stop, destroy, 404."""
        root = create_instance(client, name="test")
        href = f"/api/instances/{root.get('id')}"
        refused = client.delete(f"{href}?format=xml")
        assert refused.status_code == 405
        assert xml_of(refused).findtext("message").strip() == "Method Not Allowed"
        for action, state in (("reboot", "RUNNING"), ("stop", "STOPPED"), ("start", "RUNNING"),
                              ("stop", "STOPPED")):
            response = client.post(f"{href}/{action}?format=xml")
            assert response.status_code == 202, (action, response.status_code)
            assert xml_of(response).findtext("state") == state
        destroyed = client.delete(f"{href}?format=xml")
        assert destroyed.status_code == 204
        assert destroyed.content == b""
        assert "content-type" not in destroyed.headers and "content-length" not in destroyed.headers
        assert client.get(f"{href}?format=xml").status_code == 404

    def test_ids_are_never_reused(self, client):
        root = create_instance(client)
        assert root.get("id") == "inst4"
        assert client.post("/api/instances/inst4/stop?format=xml").status_code == 202
        assert client.delete("/api/instances/inst4?format=xml").status_code == 204
        assert create_instance(client).get("id") == "inst5"  # never the destroyed inst4 again (issue 21)

    def test_action_json_is_the_bare_instance(self, client):
        response = client.post("/api/instances/inst1/stop?format=json")
        assert response.status_code == 202
        body = response.json()
        assert body["id"] == "inst1" and body["state"] == "STOPPED"
        assert "instance" not in body
        assert [a["rel"] for a in body["actions"]] == ["start", "destroy", "run", "create_image"]
        destroy = body["actions"][1]
        assert destroy == {"href": f"{BASE}/api/instances/inst1", "rel": "destroy", "method": "delete"}

    def test_action_xml_headers(self, client):
        response = client.post("/api/instances/inst1/reboot?format=xml")
        assert response.status_code == 202
        assert response.text.startswith("<?xml")
        assert "etag" not in response.headers
        assert float(response.headers["x-backend-runtime"]) >= 0
        assert xml_of(response).get("id") == "inst1"

    def test_stopped_instance_links(self, client):
        assert client.post("/api/instances/inst1/stop?format=xml").status_code == 202
        links = {link.get("rel"): link.attrib for link in
                 xml_of(client.get("/api/instances/inst1?format=xml")).findall("actions/link")}
        assert links["start"] == {"href": f"{BASE}/api/instances/inst1/start", "method": "post", "rel": "start"}
        assert links["destroy"] == {"href": f"{BASE}/api/instances/inst1", "method": "delete", "rel": "destroy"}
        assert links["run"]["href"] == f"{BASE}/api/instances/inst1/run;id=inst1"
        assert links["create_image"]["href"] == f"{BASE}/api/images;instance_id=inst1"

    @pytest.mark.parametrize(("method", "path"), [
        ("POST", "/api/instances/nope/stop"), ("POST", "/api/instances/nope/start"),
        ("POST", "/api/instances/nope/reboot"), ("DELETE", "/api/instances/nope")])
    def test_action_on_unknown_instance_is_403(self, client, method, path):
        response = client.request(method, f"{path}?format=json")
        assert response.status_code == 403
        assert response.json() == {"code": 403, "message": "Forbidden",
                                   "error": "Deltacloud::Exceptions::ForbiddenError"}

    def test_run_needs_cmd(self, client):
        response = client.post("/api/instances/inst1/run?format=xml")
        assert response.status_code == 400
        assert response.text == "Required parameter 'cmd' not found in [format,id]"

    def test_html_destroy_redirects_to_the_collection(self, client):
        assert client.post("/api/instances/inst1/stop?format=xml").status_code == 202
        response = client.delete("/api/instances/inst1", headers={"Accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 303
        assert normalize_base(response.headers["location"]) == "<base>/api/instances"

    def test_new_form(self, client, anon):
        assert client.get("/api/instances/new?image_id=img1", headers={"Accept": "text/html"}).status_code == 200
        assert client.get("/api/instances/new", headers={"Accept": "text/html"}).status_code == 200
        response = client.get("/api/instances/new?image_id=img1", headers={"Accept": "application/xml"})
        assert response.status_code == 406
        assert response.content == b"" and response.headers["content-type"] == PLAIN
        assert anon.get("/api/instances/new?image_id=img1", headers={"Accept": "text/html"}).status_code == 401
        assert anon.get("/api/instances/new?image_id=img1&format=xml").status_code == 401

    def test_run_form(self, client, anon):
        assert anon.get("/api/instances/inst1/run", headers={"Accept": "text/html"}).status_code == 401
        assert client.get("/api/instances/inst1/run", headers={"Accept": "application/xml"}).status_code == 406


# -- §9.5 instance states -------------------------------------------------------------------------

class TestInstanceStates:
    def test_xml(self, anon):
        response = anon.get("/api/instance_states?format=xml")
        assert not response.text.startswith("<?xml")
        root = xml_of(response)
        assert root.tag == "states"
        assert [s.get("name") for s in root] == ["start", "pending", "running", "stopped", "finish"]
        pending = root.find("state[@name='pending']/transition")
        assert pending.attrib == {"auto": "true", "to": "running"}
        assert "x-backend-runtime" not in response.headers

    def test_json(self, anon):
        states = anon.get("/api/instance_states?format=json").json()
        assert states[0] == {"name": "start", "transitions": [{"to": "pending", "action": "create"}]}
        assert states[1] == {"name": "pending", "transitions": [{"to": "running", "auto": "true"}]}
        assert states[-1] == {"name": "finish", "transitions": []}

    @pytest.mark.parametrize(("url", "headers"), [
        ("/api/instance_states", {"Accept": "image/png"}), ("/api/instance_states?format=png", {})])
    def test_png(self, anon, url, headers):
        response = anon.get(url, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.content == b"" or response.content.startswith(b"\x89PNG\r\n\x1a\n")

    def test_html(self, anon):
        response = anon.get("/api/instance_states", headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html"


# -- §9.6 keys ------------------------------------------------------------------------------------

PEM_RE = re.compile(r"-----BEGIN RSA PRIVATE KEY-----\n(?:[A-Za-z0-9=/+]{75}\n){21}[A-Za-z0-9=/+]{68}"
                    r"-----END RSA PRIVATE KEY-----")


class TestKeys:
    def test_test_key_json(self, client):
        key = client.get("/api/keys/test-key?format=json").json()["key"]
        assert list(key) == ["id", "href", "credential_type", "username", "password", "state", "pem_rsa_key",
                             "fingerprint"]
        assert PEM_RE.fullmatch(key["pem_rsa_key"])

    def test_test_key_xml_pem_is_the_same_text(self, client):
        pem = xml_of(client.get("/api/keys/test-key?format=xml")).findtext("pem")
        expected = client.get("/api/keys/test-key?format=json").json()["key"]["pem_rsa_key"]
        assert "\n".join(line.strip() for line in pem.strip().splitlines()) == expected

    def test_create_show_destroy(self, client):
        response = client.post("/api/keys?format=xml", data={"name": "unit-test1"})
        assert response.status_code == 201
        assert response.headers["location"] == f"{BASE}/api/keys/unit-test1"
        root = xml_of(response)
        assert (root.tag, root.get("id"), root.get("type")) == ("key", "unit-test1", "key")
        assert PEM_RE.fullmatch("\n".join(line.strip() for line in root.findtext("pem").strip().splitlines()))
        assert re.fullmatch(r"(?:[0-9a-f]{2}:){19}[0-9a-f]{2}", root.findtext("fingerprint"))
        assert root.findtext("state") == ""
        listed = [k.get("id") for k in xml_of(client.get("/api/keys?format=xml"))]
        assert listed == ["test-key", "unit-test1"]
        destroyed = client.delete("/api/keys/unit-test1?format=xml")
        assert destroyed.status_code == 204 and destroyed.content == b""
        assert "content-type" not in destroyed.headers
        assert client.get("/api/keys/unit-test1?format=xml").status_code == 404

    def test_create_json(self, client):
        response = client.post("/api/keys?format=json", data={"name": "unit-test2"})
        assert response.status_code == 201
        key = response.json()["key"]
        assert key["id"] == "unit-test2" and key["credential_type"] == "key" and key["state"] is None
        assert PEM_RE.fullmatch(key["pem_rsa_key"])

    def test_fresh_key_material_per_key(self, client):
        first = client.post("/api/keys?format=json", data={"name": "k-a"}).json()["key"]
        second = client.post("/api/keys?format=json", data={"name": "k-b"}).json()["key"]
        assert first["pem_rsa_key"] != second["pem_rsa_key"]
        assert first["fingerprint"] != second["fingerprint"]

    def test_duplicate_is_403(self, client):
        response = client.post("/api/keys?format=json", data={"name": "test-key"})
        assert response.status_code == 403
        assert response.json() == {"code": 403, "message": "Key with same name already exists",
                                   "error": "Deltacloud::Exceptions::ForbiddenError"}

    def test_new_form(self, anon):
        assert anon.get("/api/keys/new", headers={"Accept": "text/html"}).status_code == 200
        assert anon.get("/api/keys/new", headers={"Accept": "application/xml"}).status_code == 406


# -- §11 OPTIONS and HEAD -------------------------------------------------------------------------

class TestOptions:
    @pytest.mark.parametrize(("path", "allow"), [
        ("/api/instances", "OPTIONS,GET,POST,DELETE"),
        ("/api/realms", "OPTIONS,GET"),
        ("/api/hardware_profiles", "OPTIONS,GET"),
        ("/api/drivers", "OPTIONS,GET"),
        ("/api/instance_states", "OPTIONS,GET"),
        ("/api/instances/index", "realm_id:string:optional"),
        ("/api/instances/show", "id:string:required"),
        ("/api/instances/destroy", "id:string:required"),
        ("/api/instances/inst1/reboot", "id:string:required"),
        ("/api/instances/inst1/run", "id:string:required,cmd:string:required,private_key:string:optional,"
                                     "password:string:optional,ip:string:optional,port:string:optional"),
        ("/api/images/create", "instance_id:string:required"),
        ("/api/instances/create", "metrics:string:optional,name:string:optional,keyname:string:optional,"
                                  "image_id:string:required,realm_id:string:optional,hwp_id:string:optional,"
                                  "keyname:string:optional"),
    ])
    def test_allow(self, anon, path, allow):
        response = anon.options(path)
        assert response.status_code == 200
        assert response.headers["allow"] == allow
        assert response.headers["content-type"] == PLAIN
        assert response.content == b""
        assert response.headers["content-length"] == "0"

    @pytest.mark.parametrize("collection", ["images", "keys"])
    def test_collection_methods(self, anon, collection):
        allow = anon.options(f"/api/{collection}").headers["allow"].split(",")
        assert allow[0] == "OPTIONS" and set(allow) == {"OPTIONS", "GET", "POST", "DELETE"}

    def test_create_ignores_the_selected_driver(self, anon):
        plain = anon.options("/api/instances/create").headers["allow"]
        other = anon.options("/api/instances/create", headers={"X-Deltacloud-Driver": "nosuch"})
        assert other.status_code == 200
        assert other.headers["allow"] == plain

    @pytest.mark.parametrize("path", ["/api/instances/inst1", "/api/instances/inst1/destroy"])
    def test_no_options_on_members(self, anon, path):
        response = anon.options(path)
        assert response.status_code == 404
        assert response.headers["x-cascade"] == "pass"


class TestHead:
    @pytest.mark.parametrize("path", ["/api", "/api/instances", "/api/instances/inst1", "/api/realms",
                                      "/api/hardware_profiles/m1-small", "/api/keys/test-key"])
    def test_head_mirrors_get(self, client, path):
        headers = {"Accept": "application/xml"}
        get = client.get(path, headers=headers)
        head = client.head(path, headers=headers)
        assert head.status_code == get.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["content-length"] == str(len(get.content))
        assert "etag" not in head.headers and "cache-control" not in head.headers
        assert ("x-backend-runtime" in head.headers) == ("x-backend-runtime" in get.headers)

    def test_head_unknown_is_404(self, client):
        assert client.head("/api/instances/nope", headers={"Accept": "application/xml"}).status_code == 404

    def test_head_without_credentials_is_401(self, anon):
        response = anon.head("/api/instances", headers={"Accept": "application/xml"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="mock-deltacloud@"'

    @pytest.mark.parametrize("path", ["/api/instances/inst1/reboot", "/api/instances/inst1/stop",
                                      "/api/instances/nope/start"])
    def test_head_on_action_path_is_empty_200(self, anon, path):
        response = anon.head(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == PLAIN
        assert response.headers["content-length"] == "0"
