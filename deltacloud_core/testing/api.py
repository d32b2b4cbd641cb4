"""``ApiConformance``: the conformance tests over HTTP, against an in-process server.

Subclass it and override the same ``driver`` fixture as for
:class:`~.conformance.DriverConformance`; the kit serves that driver's class from an app
built for it, sends the driver's credentials (HTTP Basic) and provider
(``X-Deltacloud-Provider``), and checks what a client sees: the entry point, every
collection in XML, JSON and HTML, 412 for what the driver lacks, 404s, the life cycles.
Override the ``http_client`` fixture to aim at a server of your own (a live one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import pytest

from .conformance import ConformanceBase, DriverConformance, Kit, _credentials, _record, over
from .settings import ConformanceSettings
from .stateful import MISSING_ID

if TYPE_CHECKING:
    import httpx

    from ..drivers.base import Driver
    from ..web.app import DeltacloudApp
    from .transport import Http, Transport

__all__ = ["ApiConformance", "Conformance"]


class ApiConformance(ConformanceBase):
    """HTTP-level conformance: what a Deltacloud client sees of this driver."""

    @pytest.fixture
    def http_client(self, driver: Driver, deltacloud_app: DeltacloudApp) -> Iterator[httpx.Client]:
        """An ``httpx.Client`` on the in-process app, with the driver's credentials and provider."""
        with _test_client(deltacloud_app) as client:
            creds = _credentials(driver)
            if creds is not None:
                client.auth = (creds.user, creds.password)
            if driver.provider:
                client.headers["X-Deltacloud-Provider"] = driver.provider
            yield client

    @pytest.fixture
    def transport(self, driver: Driver, deltacloud_app: DeltacloudApp, conformance_settings: ConformanceSettings,
                  http_client: httpx.Client) -> Iterator[Transport]:
        from .transport import Http

        with Http(http_client) as transport:
            yield transport

    def http(self, kit: Kit) -> Http:
        return kit.transport  # type: ignore[return-value]

    # -- the support matrix ----------------------------------------------------------------
    @over("operations")
    def test_operation(self, kit: Kit, request: pytest.FixtureRequest, collection: str, operation: str) -> None:
        """Not supported: the server answers 412 (then skipped, naming what is missing)."""
        col = kit.app.collections[collection]
        op = col.operation(operation)
        assert op is not None
        if op.supported_by(kit.driver_cls):
            _record(request, kit, collection, operation, True, "")
            return
        from .checks import unsupported_reason

        _record(request, kit, collection, operation, False, unsupported_reason(kit.driver_cls, col, op))
        kit.require(collection, operation)

    # -- entry point and drivers -----------------------------------------------------------
    def test_entry_point(self, kit: Kit) -> None:
        """``GET /api`` links exactly the collections the driver supports, with declared features only."""
        import xmltodict

        reply = kit.get("")
        assert reply.status == 200, f"GET /api: {reply.describe()}"
        doc = reply.member("api")
        assert doc["driver"] == kit.name, f"GET /api names driver {doc['driver']!r}"
        links = {link["rel"]: link for link in doc["links"]}
        expected = {c.name for c in kit.app.collections if c.supported_by(kit.driver_cls)}
        assert set(links) == expected, f"GET /api links {sorted(links)}; the driver supports {sorted(expected)}"
        for rel, link in links.items():
            for group in link.get("features", ()):
                for feature in group:
                    assert kit.driver_cls.has_feature(rel, feature["name"]), (
                        f"GET /api advertises feature {feature['name']} of {rel}, which the driver does not declare")
        xml = self.http(kit).request("GET", "", fmt="xml")
        assert xml.status == 200, f"GET /api (XML): {xml.describe()}"
        tree = xmltodict.parse(xml.body)["api"]
        xml_links = tree.get("link") or []
        xml_links = xml_links if isinstance(xml_links, list) else [xml_links]
        assert {link["@rel"] for link in xml_links} == expected, "XML and JSON entry points differ"

    def test_driver_is_listed(self, kit: Kit) -> None:
        reply = kit.get("/drivers")
        assert reply.status == 200, f"GET /api/drivers: {reply.describe()}"
        assert kit.name in reply.document, f"GET /api/drivers does not list {kit.name}: {sorted(reply.document)}"
        shown = kit.get(f"/drivers/{kit.name}")
        assert shown.status == 200, f"GET /api/drivers/{kit.name}: {shown.describe()}"

    # -- formats ---------------------------------------------------------------------------
    @over("collections")
    def test_formats(self, kit: Kit, collection: str) -> None:
        """The listing and a few members in XML, JSON and HTML; XML and JSON show the same ids (with a
        member made for the occasion when none is listed)."""
        kit.require(collection, "index")
        http = self.http(kit)
        with kit.sample(collection):
            replies = {fmt: http.request("GET", f"/{collection}", fmt=fmt) for fmt in ("json", "xml", "html")}
            for fmt, reply in replies.items():
                assert reply.status == 200, f"GET /api/{collection} ({fmt}): {reply.describe()}"
                sent = reply.headers.get("content-type", "")
                expected = {"json": "application/json", "xml": "application/xml", "html": "text/html"}[fmt]
                assert sent.startswith(expected), f"GET /api/{collection} ({fmt}) sent Content-Type {sent!r}"
            json_ids, xml_ids = _json_ids(replies["json"].document), _xml_ids(replies["xml"].body)
            if json_ids is None:
                return
            assert json_ids == sorted(xml_ids or []), f"{collection}: JSON lists {json_ids}, XML lists {xml_ids}"
            member = kit.app.collections[collection].operation("show")
            for member_id in json_ids[: kit.settings.sample_size] if member is not None else ():
                path = f"/{collection}/{quote(member_id, safe='')}"
                for fmt in ("json", "xml", "html"):
                    shown = http.request("GET", path, fmt=fmt)
                    assert shown.status == 200, f"GET /api{path} ({fmt}): {shown.describe()}"

    @over("members")
    def test_not_found_documents(self, kit: Kit, collection: str) -> None:
        """A 404 is an error document in XML and JSON."""
        import xmltodict

        kit.require(collection, "show")
        http = self.http(kit)
        as_json = http.request("GET", f"/{collection}/{MISSING_ID}")
        assert as_json.status == 404, f"GET /api/{collection}/{MISSING_ID}: {as_json.describe()}"
        assert as_json.document and as_json.document.get("code") == 404, f"JSON error document: {as_json.body!r}"
        as_xml = http.request("GET", f"/{collection}/{MISSING_ID}", fmt="xml")
        assert as_xml.status == 404
        assert xmltodict.parse(as_xml.body)["error"]["@status"] == "404", f"XML error document: {as_xml.body!r}"

    def test_instance_states_document(self, kit: Kit) -> None:
        """``GET /api/instance_states`` is the driver's machine, state by state."""
        kit.require("instance_states", "index")
        machine = kit.app.state_machine_for(kit.driver_cls)
        assert machine is not None
        reply = kit.get("/instance_states")
        assert reply.status == 200, f"GET /api/instance_states: {reply.describe()}"
        assert [s["name"] for s in reply.document] == list(machine.states)
        for state in reply.document:
            sent = [(t["to"], t.get("action")) for t in state["transitions"]]
            assert sent == [(t.to, t.action) for t in machine.transitions_from(state["name"])], state["name"]

    def test_credentials_challenge(self, kit: Kit, deltacloud_app: DeltacloudApp) -> None:
        """Without credentials a collection answers, or asks for them with ``WWW-Authenticate``."""
        supported = [c.name for c in kit.app.collections if c.supported_by(kit.driver_cls) and c.index
                     and not c.index.driverless]
        with _test_client(deltacloud_app) as anonymous:
            if kit.driver.provider:
                anonymous.headers["X-Deltacloud-Provider"] = kit.driver.provider
            for name in supported:
                response = anonymous.get(f"/api/{name}", headers={"Accept": "application/json"})
                assert response.status_code in (200, 401), (
                    f"GET /api/{name} without credentials: {response.status_code}")
                if response.status_code == 401:
                    assert "basic" in response.headers.get("www-authenticate", "").lower(), (
                        f"GET /api/{name}: 401 without a WWW-Authenticate: Basic challenge")


def _test_client(app: DeltacloudApp) -> Any:
    """Starlette's TestClient on ``app`` (its notice about httpx is not the driver author's business)."""
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    from .transport import API_URL

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

        return TestClient(app, base_url=API_URL.removesuffix("/api"))


def _json_ids(document: Any) -> list[str] | None:
    if isinstance(document, dict) and len(document) == 1:
        (value,) = document.values()
        if isinstance(value, list):
            return sorted(str(m.get("id")) for m in value if isinstance(m, dict))
    return None


def _xml_ids(body: bytes) -> list[str] | None:
    import xmltodict

    (root,) = xmltodict.parse(body).values()
    if not isinstance(root, dict):  # an empty collection: <realms></realms>
        return []
    (members,) = root.values()
    members = members if isinstance(members, list) else [members]
    return sorted(str(m.get("@id", m.get("id"))) for m in members if isinstance(m, dict))



class Conformance(DriverConformance):
    """Both suites from one class: the driver-level tests in it, the HTTP ones in its nested
    ``TestApi`` (an :class:`ApiConformance` made for each subclass, with the same fixtures and
    class attributes, so one ``driver`` fixture serves both)::

        class TestMyDriver(Conformance):
            @pytest.fixture
            def driver(self):
                return MyDriver(credentials=Credentials("user", "secret"))

    Test overrides (``test_*``) of the subclass apply to the driver-level suite only.
    """

    TestApi: ClassVar[type[ApiConformance]] = ApiConformance

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        mixins = tuple(b for b in cls.__bases__ if not issubclass(b, ConformanceBase))
        shared = {name: value for name, value in vars(cls).items()
                  if not name.startswith(("test_", "__")) and name != "TestApi"}
        api = type("TestApi", (*mixins, ApiConformance), {
            **shared, "__module__": cls.__module__, "__qualname__": f"{cls.__qualname__}.TestApi",
            "__doc__": f"{cls.__name__} over HTTP (ApiConformance)."})
        cls.TestApi = api
