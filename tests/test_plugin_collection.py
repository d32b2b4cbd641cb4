"""A collection added by a plugin, in one module, served like the core's own; a format added by a
plugin, serving every collection and its errors. Nothing in the core knows either of them.

The plugin's collection is ``tests/support/gadgets/`` (``__init__.py`` with the model, the schemas,
the driver contract's part, the operations and the hook; ``templates/`` with its two pages). The
plugin's format is ``tests/support/text_renderer.py``. Those three files and this test are all a
new collection takes: no file of ``deltacloud_core`` names it (checked below).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient
from support import gadgets, text_renderer
from support.gadgets import Gadget, GadgetsContract

from deltacloud_core import Driver, Realm
from deltacloud_core.drivers import DriverRegistry
from deltacloud_core.plugins import new_plugin_manager
from deltacloud_core.web import Settings, create_app

BASE_URL = "http://127.0.0.1:3001"
CORE = Path(__file__).resolve().parent.parent / "deltacloud_core"


class GadgetDriver(GadgetsContract, Driver):
    """Gadgets in a class-level dict, and realms (a core collection) to show the plugin's format on."""

    store: ClassVar[dict[str, Gadget]] = {}

    def list_realms(self, **filters: str) -> list[Realm]:
        realms = [Realm(id="shelf", name="The shelf")]
        return [r for r in realms if not filters.get("id") or r.id == filters["id"]]

    def list_gadgets(self, **filters: str) -> list[Gadget]:
        self.credentials  # noqa: B018 - gadgets are private
        found = sorted(self.store.values(), key=lambda g: g.id)
        return [g for g in found if all(not filters.get(k) or getattr(g, k) == filters[k] for k in ("id", "color"))]

    def create_gadget(self, *, name: str, color: str) -> Gadget:
        gadget = Gadget(id=f"g{len(self.store) + 1}", name=name, color=color, realm_id="shelf")
        self.store[gadget.id] = gadget
        return gadget

    def destroy_gadget(self, id: str) -> None:
        self.store.pop(id)

    def polish_gadget(self, id: str) -> Gadget:
        polished = Gadget(**{**self.store[id].__dict__, "polished": True})
        self.store[id] = polished
        return polished


class ReadOnlyGadgets(GadgetsContract, Driver):
    def list_gadgets(self, **filters: str) -> list[Gadget]:
        return [Gadget(id="g0", name="Exhibit", color="blue")]


@pytest.fixture
def client() -> Iterator[TestClient]:
    GadgetDriver.store = {"g1": Gadget(id="g1", name="Sprocket <1>", color="green", realm_id="shelf")}
    registry = DriverRegistry()
    registry.register("gadgety", GadgetDriver)
    registry.register("exhibit", ReadOnlyGadgets)
    pm = new_plugin_manager(extra_plugins=(gadgets, text_renderer))
    app = create_app(Settings(default_driver="gadgety"), plugin_manager=pm, drivers=registry)
    with TestClient(app, base_url=BASE_URL) as test_client:
        test_client.auth = ("user", "secret")
        yield test_client


def _json(client: TestClient, path: str, **kwargs: Any) -> Any:
    answer = client.get(path, headers={"Accept": "application/json"}, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_core_does_not_know_the_plugin():
    for source in CORE.rglob("*"):
        if source.suffix in (".py", ".html", ".md", ".toml"):
            text = source.read_text(errors="replace").lower()
            assert "gadget" not in text, source
            assert "text/x-deltacloud" not in text, source


def test_the_entry_point_links_the_collection_for_drivers_that_implement_it(client):
    links = {link["rel"]: link["href"] for link in _json(client, "/api")["api"]["links"]}
    assert links["gadgets"] == f"{BASE_URL}/api/gadgets"
    assert "gadgets" not in {link["rel"] for link in _json(client, "/api;driver=mock")["api"]["links"]} \
        if "mock" in DriverRegistry().names() else True


def test_json_list_member_and_cross_reference(client):
    listed = _json(client, "/api/gadgets")
    assert listed == {"gadgets": [{"id": "g1", "href": f"{BASE_URL}/api/gadgets/g1", "name": "Sprocket <1>",
                                   "color": "green", "polished": False,
                                   "realm": {"id": "shelf", "href": f"{BASE_URL}/api/realms/shelf", "rel": "realm"}}]}
    assert _json(client, "/api/gadgets/g1") == {"gadget": listed["gadgets"][0]}
    assert _json(client, "/api/gadgets", params={"color": "red"}) == {"gadgets": []}
    realm = listed["gadgets"][0]["realm"]["href"].removeprefix(BASE_URL)
    assert _json(client, realm)["realm"]["id"] == "shelf"


def test_xml_list_and_member_with_actions(client):
    answer = client.get("/api/gadgets", headers={"Accept": "application/xml"})
    assert answer.status_code == 200
    root = ET.fromstring(answer.content)
    assert root.tag == "gadgets"
    (gadget,) = root.findall("gadget")
    assert gadget.get("id") == "g1"
    assert gadget.findtext("name") == "Sprocket <1>"
    assert gadget.find("realm").get("href") == f"{BASE_URL}/api/realms/shelf"
    assert [a.get("rel") for a in gadget.find("actions")] == ["polish", "destroy"]
    member = ET.fromstring(client.get("/api/gadgets/g1?format=xml").content)
    assert member.tag == "gadget"
    assert member.findtext("color") == "green"


def test_create_action_destroy_and_their_errors(client):
    made = client.post("/api/gadgets", data={"name": "Cog", "color": "blue"}, headers={"Accept": "application/json"})
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == f"{BASE_URL}/api/gadgets/g2"
    bad = client.post("/api/gadgets", data={"name": "Cog", "color": "mauve"}, headers={"Accept": "application/json"})
    assert bad.status_code == 400
    assert "one of red, green, blue" in bad.json()["message"]
    assert len(GadgetDriver.store) == 2  # the refused create changed nothing
    polished = client.post("/api/gadgets/g2/polish", headers={"Accept": "application/json"})
    assert polished.status_code == 202
    assert polished.json()["gadget"]["polished"] is True
    assert client.post("/api/gadgets/nope/polish", headers={"Accept": "application/json"}).status_code == 404
    assert client.delete("/api/gadgets/g2", headers={"Accept": "application/json"}).status_code == 204
    assert [g["id"] for g in _json(client, "/api/gadgets")["gadgets"]] == ["g1"]


def test_a_driver_without_an_operation_is_refused_with_412(client):
    refused = client.post("/api;driver=exhibit/gadgets", data={"name": "x"})
    assert refused.status_code == 412
    assert refused.headers["Expect"] == "create_gadget"
    assert _json(client, "/api;driver=exhibit/gadgets")["gadgets"][0]["id"] == "g0"


def test_html_pages_come_from_the_plugins_templates(client):
    page = client.get("/api/gadgets", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "by the gadget plugin's own template" in page.text
    assert "Sprocket &lt;1&gt;" in page.text  # escaped like every page
    member = client.get("/api/gadgets/g1", headers={"Accept": "text/html"})
    assert "One gadget, by the gadget plugin" in member.text
    assert ">Gadgets<" in client.get("/api", headers={"Accept": "text/html"}).text  # in the navigation


def test_openapi_describes_the_collection_from_its_schemas(client):
    doc = _json(client, "/api/openapi.json")
    validate(doc)
    assert {"get", "post", "options"} <= set(doc["paths"]["/api/gadgets"])
    assert doc["paths"]["/api/gadgets/{id}/polish"]["post"]["responses"]["202"]["description"] == \
        "The gadget, polished"
    component = doc["components"]["schemas"]["Gadget"]
    assert component["properties"]["color"] == {"enum": ["red", "green", "blue"]}
    assert component["properties"]["polished"] == {"type": "boolean"}
    assert component["properties"]["href"] == {"type": "string", "format": "uri"}
    create = doc["paths"]["/api/gadgets"]["post"]
    form = create["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["name"]
    assert form["properties"]["color"]["enum"] == ["red", "green", "blue"]
    listed = doc["paths"]["/api/gadgets"]["get"]["responses"]["200"]["content"]
    assert "text/x-deltacloud; charset=utf-8" in listed  # the plugin's format is offered too


def test_a_plugin_format_serves_every_collection_and_every_error(client):
    headers = {"Accept": "text/x-deltacloud"}
    gadgets_text = client.get("/api/gadgets", headers=headers)
    assert gadgets_text.status_code == 200
    assert gadgets_text.headers["content-type"] == "text/x-deltacloud; charset=utf-8"
    assert "    name: Sprocket <1>" in gadgets_text.text
    realms_text = client.get("/api/realms?format=text")  # a core collection
    assert realms_text.status_code == 200
    assert "    id: shelf" in realms_text.text
    entry = client.get("/api", headers=headers)
    assert entry.status_code == 200
    assert "rel: gadgets" in entry.text
    missing = client.get("/api/gadgets/nope", headers=headers)
    assert missing.status_code == 404
    assert missing.text.startswith("error:\n  code: 404")
    unauthenticated = client.get("/api/gadgets?format=text", auth=None)
    assert unauthenticated.status_code == 401
    assert "code: 401" in unauthenticated.text
