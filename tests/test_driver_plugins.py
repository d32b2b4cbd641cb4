"""Drivers and extensions as plugins: entry points, lazy loading, broken and blocked drivers,
drivers registered without packaging, and pluggy plugins adding (or clashing on) collections.

The first group really builds and ``pip install``s a throwaway distribution into the running
interpreter's environment and uninstalls it again; the others put a hand-made ``*.dist-info``
on ``sys.path`` (same entry-point machinery, no packaging step) or register classes directly.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from marshmallow import Schema, fields
from starlette.testclient import TestClient

from deltacloud_core import Driver, Realm, StateMachine, hookimpl
from deltacloud_core.collections.base import (
    Collection,
    CollectionRegistry,
    Operation,
    OperationCall,
    Outcome,
    Resource,
    needs,
)
from deltacloud_core.drivers import DRIVER_GROUP, DriverRegistry
from deltacloud_core.plugins import new_plugin_manager
from deltacloud_core.web import Settings, create_app

BASE_URL = "http://127.0.0.1:3001"
MOCK_AUTH = ("mockuser", "mockpassword")

TINY_DIST = "deltacloud-tinytest-driver"
TINY_MODULE = "tinydrv"
TINY_SOURCE = '''
from deltacloud_core import Driver, Realm, StateMachine


class TinyDriver(Driver):
    """A driver with realms only and a two-state machine."""

    DISPLAY_NAME = "Tiny"
    INSTANCE_STATES = StateMachine.builder().on("start", "create", "finish").build()

    def list_realms(self, **filters):
        realms = [Realm(id="tiny-realm", name="The Tiny Realm")]
        return [r for r in realms if not filters.get("id") or r.id == filters["id"]]
'''


def forget_entry_points() -> None:
    """Make the next registry scan see the environment as it is now (``DriverRegistry.rescan()``,
    the documented way, also checked alone by ``test_rescan_*`` below)."""
    DriverRegistry().rescan()
    importlib.invalidate_caches()


def client_for(app: Any) -> TestClient:
    c = TestClient(app, base_url=BASE_URL)
    c.auth = MOCK_AUTH
    return c


def drivers_listed(client: TestClient) -> tuple[set[str], set[str]]:
    """Driver ids of ``/api/drivers`` in XML and in JSON."""
    rx = client.get("/api/drivers?format=xml")
    rj = client.get("/api/drivers?format=json")
    assert rx.status_code == 200, rx.text
    assert rj.status_code == 200, rj.text
    xml_ids = {d.get("id") for d in ET.fromstring(rx.content).findall("driver")}
    return xml_ids, set(rj.json())


def entry_rels(client: TestClient, prefix: str = "/api", **kwargs: Any) -> set[str]:
    r = client.get(f"{prefix}?format=json", **kwargs)
    assert r.status_code == 200, r.text
    return {link["rel"] for link in r.json()["api"]["links"]}


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=300,
                          check=False)


def _build_backend() -> tuple[str, str]:
    if importlib.util.find_spec("hatchling") is not None:
        return "hatchling", "hatchling.build"
    return "setuptools>=61", "setuptools.build_meta"


def _is_installed(dist: str = TINY_DIST) -> bool:
    return pip("show", "-q", dist).returncode == 0


def write_distribution(src: Path, dist: str, entry_name: str, module: str) -> Path:
    """A minimal driver distribution: pyproject.toml + one module with ``TinyDriver``."""
    requires, backend = _build_backend()
    extra = (f'[tool.hatch.build.targets.wheel]\ninclude = ["{module}.py"]\n' if backend.startswith("hatchling")
             else f'[tool.setuptools]\npy-modules = ["{module}"]\n')
    (src / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["{requires}"]
        build-backend = "{backend}"

        [project]
        name = "{dist}"
        version = "0.0.1"
        description = "Throwaway driver distribution of the deltacloud core tests"

        [project.entry-points."deltacloud.drivers"]
        {entry_name} = "{module}:TinyDriver"

        """) + extra)
    (src / f"{module}.py").write_text(TINY_SOURCE)
    return src


@pytest.fixture(scope="module")
def tiny_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``deltacloud-tinytest-driver`` (entry point ``tiny = tinydrv:TinyDriver``) pip-installed."""
    src = write_distribution(tmp_path_factory.mktemp("tinydist"), TINY_DIST, "tiny", TINY_MODULE)
    result = pip("install", "--no-deps", "--no-build-isolation", "--no-input", str(src))
    assert result.returncode == 0, result.stdout + result.stderr
    forget_entry_points()
    try:
        yield src
    finally:
        if _is_installed():
            pip("uninstall", "-y", TINY_DIST)
        sys.modules.pop(TINY_MODULE, None)
        forget_entry_points()


# -- (a) a real, pip-installed driver distribution ---------------------------------------------------

def test_rescan_follows_install_and_uninstall_in_process(tmp_path):
    """``rescan()`` is documented for this: 'e.g. after installing a distribution in-process'."""
    dist, name, module = "deltacloud-tinytest-rescan", "tinyrescan", "tinyrescan_drv"
    src = write_distribution(tmp_path, dist, name, module)
    registry = DriverRegistry()
    assert name not in registry.names()  # scanned once before the install
    try:
        result = pip("install", "--no-deps", "--no-build-isolation", "--no-input", str(src))
        assert result.returncode == 0, result.stdout + result.stderr
        registry.rescan()
        assert name in registry.names(), "rescan() does not see a distribution installed in-process"
        assert registry.load(name).info().name == "Tiny"
        assert pip("uninstall", "-y", dist).returncode == 0
        registry.rescan()
        assert name not in registry.names(), "rescan() still lists a distribution uninstalled in-process"
    finally:
        if _is_installed(dist):
            pip("uninstall", "-y", dist)
        sys.modules.pop(module, None)
        forget_entry_points()


def test_installed_driver_is_listed_and_selectable(tiny_installed):
    forget_entry_points()
    registry = DriverRegistry()
    assert {"tiny", "mock"} <= set(registry.names())
    with client_for(create_app(Settings(default_driver="mock"), drivers=registry)) as c:
        xml_ids, json_ids = drivers_listed(c)
        assert {"tiny", "mock"} <= xml_ids
        assert {"tiny", "mock"} <= json_ids
        assert c.get("/api/drivers?format=json").json()["tiny"]["name"] == "Tiny"
        shown = c.get("/api/drivers/tiny?format=json")
        assert shown.status_code == 200, shown.text
        # select it with a matrix parameter: the entry point lists what the driver implements
        r = c.get("/api;driver=tiny?format=json")
        assert r.status_code == 200, r.text
        assert r.headers["X-Deltacloud-Driver"] == "tiny"
        assert r.json()["api"]["driver"] == "tiny"
        rels = {link["rel"] for link in r.json()["api"]["links"]}
        assert rels - {"drivers"} == {"realms", "instance_states"}
        realms = c.get("/api;driver=tiny/realms?format=json")
        assert realms.status_code == 200, realms.text
        assert [r["id"] for r in realms.json()["realms"]] == ["tiny-realm"]
        xml = c.get("/api;driver=tiny/realms/tiny-realm?format=xml")
        assert xml.status_code == 200, xml.text
        assert ET.fromstring(xml.content).findtext("name") == "The Tiny Realm"
        states = c.get("/api;driver=tiny/instance_states?format=json").json()
        assert [s["name"] for s in states] == ["start", "finish"]
        missing = c.get("/api;driver=tiny/instances?format=json")
        assert missing.status_code == 412
        assert missing.headers["Expect"] == "instances"
        # and the default is still the mock driver
        assert "instances" in entry_rels(c)


def test_uninstalled_driver_is_gone(tiny_installed):
    result = pip("uninstall", "-y", TINY_DIST)
    assert result.returncode == 0, result.stdout + result.stderr
    sys.modules.pop(TINY_MODULE, None)
    forget_entry_points()
    registry = DriverRegistry()
    assert "tiny" not in registry.names()
    assert "mock" in registry.names()
    with client_for(create_app(Settings(default_driver="mock"), drivers=registry)) as c:
        xml_ids, json_ids = drivers_listed(c)
        assert "tiny" not in xml_ids | json_ids
        r = c.get("/api;driver=tiny?format=json")
        assert r.status_code == 400  # not offered here: the client's mistake
        assert "Driver 'tiny' is not available" in r.json()["message"]


# -- (b) broken drivers, found through entry points on sys.path ---------------------------------------

FAKE_MODULES = ("dctest_brokendrv", "dctest_okaydrv", "dctest_otherdrv")


@pytest.fixture
def fake_drivers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A dist-info on sys.path with a healthy, a broken, a non-driver and a dangling entry point."""
    site = tmp_path / "site"
    info = site / "dctest_fake_drivers-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dctest-fake-drivers\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(f"""\
        [{DRIVER_GROUP}]
        broken = dctest_brokendrv:BrokenDriver
        okay = dctest_okaydrv:OkayDriver
        notadriver = dctest_otherdrv:NOT_A_DRIVER
        dangling = dctest_otherdrv:NoSuchClass
        """))
    (site / "dctest_brokendrv.py").write_text(
        'raise RuntimeError("kaboom: the cloud SDK is not installed")\n')
    (site / "dctest_otherdrv.py").write_text("NOT_A_DRIVER = object()\n")
    (site / "dctest_okaydrv.py").write_text(textwrap.dedent("""\
        from deltacloud_core import Driver, Realm


        class OkayDriver(Driver):
            DISPLAY_NAME = "Okay"

            def list_realms(self, **filters):
                return [Realm(id="ok", name="Okay realm")]
        """))
    monkeypatch.syspath_prepend(str(site))
    forget_entry_points()
    try:
        yield site
    finally:
        for name in FAKE_MODULES:
            sys.modules.pop(name, None)
        monkeypatch.undo()
        forget_entry_points()


def test_broken_driver_answers_500_naming_driver_and_reason(fake_drivers, caplog):
    registry = DriverRegistry()
    assert {"broken", "okay", "mock"} <= set(registry.names())  # listing imports nothing
    assert "dctest_brokendrv" not in sys.modules
    with caplog.at_level(logging.WARNING, logger="deltacloud.drivers"), \
            client_for(create_app(Settings(default_driver="mock"), drivers=registry)) as c:
        for path in ("/api;driver=broken", "/api;driver=broken/realms"):
            r = c.get(f"{path}?format=json")
            assert r.status_code == 500, r.text
            message = r.json()["message"]
            assert "Driver 'broken'" in message
            assert "kaboom: the cloud SDK is not installed" in message
            assert r.headers["X-Deltacloud-Driver"] == "broken"
        rx = c.get("/api;driver=broken?format=xml")
        assert rx.status_code == 500
        doc = ET.fromstring(rx.content)
        assert doc.tag == "error"
        assert doc.find("backend").get("driver") == "broken"
        assert "kaboom" in (doc.findtext("message") or "")
    warnings = [rec for rec in caplog.records
                if rec.name == "deltacloud.drivers" and rec.levelno >= logging.WARNING and "broken" in rec.getMessage()]
    assert warnings, [rec.getMessage() for rec in caplog.records]
    assert "kaboom" in warnings[0].getMessage()


def test_drivers_index_survives_broken_drivers_and_lists_healthy_ones(fake_drivers, caplog):
    registry = DriverRegistry()
    with caplog.at_level(logging.WARNING, logger="deltacloud.drivers"), \
            client_for(create_app(Settings(default_driver="mock"), drivers=registry)) as c:
        xml_ids, json_ids = drivers_listed(c)
        for ids in (xml_ids, json_ids):
            assert {"mock", "okay"} <= ids
            assert not ids & {"broken", "notadriver", "dangling"}
        assert c.get("/api/drivers/broken?format=json").status_code == 404
        # the healthy plugin next to the broken ones works
        ok = c.get("/api;driver=okay/realms?format=json")
        assert ok.status_code == 200, ok.text
        assert [r["id"] for r in ok.json()["realms"]] == ["ok"]
        # and the server default keeps working
        assert c.get("/api/instances?format=json").status_code == 200
    logged = " ".join(rec.getMessage() for rec in caplog.records
                      if rec.name == "deltacloud.drivers" and rec.levelno >= logging.WARNING)
    for name in ("broken", "notadriver", "dangling"):
        assert name in logged


@pytest.mark.parametrize(("name", "reason"), [
    ("notadriver", "does not name a Driver subclass"),
    ("dangling", "NoSuchClass"),
])
def test_entry_points_that_do_not_give_a_driver_class(fake_drivers, name, reason):
    with client_for(create_app(Settings(default_driver="mock"), drivers=DriverRegistry())) as c:
        for fmt in ("json", "xml"):
            r = c.get(f"/api;driver={name}?format={fmt}")
            assert r.status_code == 500, r.text
            assert f"Driver '{name}'" in r.text
            assert reason in r.text


# -- (c) drivers registered without packaging --------------------------------------------------------

class TinyDriver(Driver):
    DISPLAY_NAME: ClassVar[str | None] = "Tiny"
    INSTANCE_STATES: ClassVar[StateMachine | None] = StateMachine.builder().on("start", "create", "finish").build()

    def list_realms(self, **filters: str) -> list[Realm]:
        realms = [Realm(id="tiny-realm", name="The Tiny Realm")]
        return [r for r in realms if not filters.get("id") or r.id == filters["id"]]


def test_registered_driver_is_listed_and_selectable_by_header_and_matrix():
    registry = DriverRegistry()
    registry.register("tiny2", TinyDriver)
    assert "tiny2" in registry.names()
    loaded = registry.load("tiny2")
    assert issubclass(loaded, TinyDriver)
    assert loaded.driver_id == "tiny2"
    with client_for(create_app(Settings(default_driver="mock"), drivers=registry)) as c:
        xml_ids, json_ids = drivers_listed(c)
        assert "tiny2" in xml_ids and "tiny2" in json_ids
        by_header = c.get("/api?format=json", headers={"X-Deltacloud-Driver": "TINY2"})
        assert by_header.status_code == 200, by_header.text
        assert by_header.json()["api"]["driver"] == "tiny2"
        assert entry_rels(c, headers={"X-Deltacloud-Driver": "tiny2"}) - {"drivers"} == {"realms",
                                                                                        "instance_states"}
        assert entry_rels(c, "/api;driver=tiny2") == entry_rels(c, headers={"X-Deltacloud-Driver": "tiny2"})
        realms = c.get("/api;driver=tiny2/realms?format=json")
        assert [r["id"] for r in realms.json()["realms"]] == ["tiny-realm"]
        assert c.get("/api;driver=tiny2/realms/nope?format=json").status_code == 404
        for path in ("/instances", "/images", "/keys"):
            r = c.get(f"/api;driver=tiny2{path}?format=json")
            assert r.status_code == 412, (path, r.status_code)
            assert r.headers["Expect"] == path[1:]


def test_one_class_under_two_names_gets_two_ids():
    registry = DriverRegistry()
    registry.register("tiny-a", TinyDriver)
    registry.register("tiny-b", TinyDriver)
    a, b = registry.load("tiny-a"), registry.load("tiny-b")
    assert (a.driver_id, b.driver_id) == ("tiny-a", "tiny-b")
    assert {i.id for i in registry.infos()} >= {"tiny-a", "tiny-b"}
    assert TinyDriver.driver_id == ""  # the registered class itself is left alone


def test_registering_again_replaces_the_class():
    class Other(TinyDriver):
        DISPLAY_NAME: ClassVar[str | None] = "Other"

    registry = DriverRegistry()
    registry.register("t", TinyDriver)
    assert registry.load("t").info().name == "Tiny"
    registry.register("t", Other)
    assert registry.load("t").info().name == "Other"


def test_unknown_driver_gives_an_install_hint():
    with client_for(create_app(Settings(default_driver="mock"), drivers=DriverRegistry())) as c:
        r = c.get("/api;driver=nosuch?format=json")
        assert r.status_code == 400
        assert "Driver 'nosuch' is not available" in r.json()["message"]
        assert "pip install deltacloud-nosuch" in r.json()["message"]


# -- (d) DELTACLOUD_BLOCK_PLUGINS ------------------------------------------------------------------

def test_block_plugins_hides_and_refuses_a_driver(fake_drivers, monkeypatch):
    monkeypatch.setenv("DELTACLOUD_BLOCK_PLUGINS", " okay , something-else")
    app = create_app(Settings(default_driver="mock"), plugin_manager=new_plugin_manager())  # registry from env
    with client_for(app) as c:
        xml_ids, json_ids = drivers_listed(c)
        assert "okay" not in xml_ids | json_ids
        assert "mock" in xml_ids & json_ids
        r = c.get("/api;driver=okay/realms?format=json")
        assert r.status_code == 400
        assert "Driver 'okay'" in r.json()["message"]
        assert "DELTACLOUD_BLOCK_PLUGINS" in r.json()["message"]
        assert "dctest_okaydrv" not in sys.modules  # never imported


def test_blocking_the_default_driver(monkeypatch, mock_storage):
    monkeypatch.setenv("DELTACLOUD_BLOCK_PLUGINS", "mock")
    app = create_app(Settings(default_driver="mock"), plugin_manager=new_plugin_manager())
    with client_for(app) as c:
        xml_ids, json_ids = drivers_listed(c)
        assert "mock" not in xml_ids | json_ids
        r = c.get("/api/instances?format=json")
        assert r.status_code == 500
        assert "Driver 'mock' is not available" in r.json()["message"]


def test_blocked_registry_refuses_even_registered_classes():
    registry = DriverRegistry(blocked={"tiny"})
    registry.register("tiny", TinyDriver)
    assert "tiny" not in registry.names()
    with pytest.raises(LookupError, match="blocked"):
        registry.load("tiny")


# -- (e) pluggy plugins adding collections -------------------------------------------------------------

class WidgetJson(Schema):
    id = fields.String()
    name = fields.String()


class WidgetXml(Schema):
    id = fields.String(data_key="@id")
    name = fields.String()


WIDGETS_DATA = [{"id": "w1", "name": "Sprocket"}, {"id": "w2", "name": "Cog"}]


async def _widgets_index(call: OperationCall) -> Outcome:
    return Outcome.collection("widget", WIDGETS_DATA)


async def _widgets_show(call: OperationCall) -> Outcome:
    from deltacloud_core.errors import ObjectNotFound

    for widget in WIDGETS_DATA:
        if widget["id"] == call.id:
            return Outcome.member("widget", widget)
    raise ObjectNotFound()


async def _widgets_polish(call: OperationCall) -> Outcome:
    result = await call.invoke("polish_widget", call.id)
    return Outcome.member("widget", result)


WIDGETS = Collection(
    name="widgets",
    singular="widget",
    description="Widgets, contributed by a plugin.",
    resources=(Resource("widget", "widgets", {"json": WidgetJson(), "xml": WidgetXml()}),),
    operations=(
        Operation("index", "GET", "", _widgets_index, driverless=True, description="List widgets"),
        Operation("show", "GET", "/{id}", _widgets_show, driverless=True, description="Show a widget"),
        Operation("polish", "POST", "/{id}/polish", _widgets_polish, capability="polish_widget",
                  requires=needs("polish_widget"), description="Polish a widget"),
    ),
)


class WidgetPlugin:
    @hookimpl
    def deltacloud_register_collections(self, registry: CollectionRegistry) -> None:
        registry.register(WIDGETS, owner="acme-widgets")


class ClashingPlugin:
    """Registers a second ``realms`` collection (owner taken from the calling module)."""

    @hookimpl
    def deltacloud_register_collections(self, registry: CollectionRegistry) -> None:
        registry.register(Collection(name="realms", singular="realm", description="impostor", operations=()))


def test_duplicate_collection_names_both_contributors():
    pm = new_plugin_manager(extra_plugins=(ClashingPlugin(),))
    with pytest.raises(ValueError, match="realms") as info:
        create_app(Settings(default_driver="mock"), plugin_manager=pm, drivers=DriverRegistry())
    message = str(info.value)
    assert "deltacloud_core.collections.realms" in message
    assert __name__ in message
    assert "registered twice" in message


def test_duplicate_between_two_third_party_plugins():
    class Second(WidgetPlugin):
        @hookimpl
        def deltacloud_register_collections(self, registry: CollectionRegistry) -> None:
            registry.register(WIDGETS, owner="other-widgets")

    pm = new_plugin_manager(extra_plugins=(WidgetPlugin(), Second()))
    with pytest.raises(ValueError) as info:
        create_app(Settings(default_driver="mock"), plugin_manager=pm, drivers=DriverRegistry())
    assert "acme-widgets" in str(info.value)
    assert "other-widgets" in str(info.value)


def test_plugin_collection_gets_routes_and_entry_point_link(mock_storage):
    pm = new_plugin_manager(extra_plugins=(WidgetPlugin(),))
    registry = DriverRegistry()

    class Polisher(TinyDriver):
        def polish_widget(self, id: str) -> dict[str, str]:
            return {"id": id, "name": "Polished"}

    registry.register("polisher", Polisher)
    with client_for(create_app(Settings(default_driver="mock"), plugin_manager=pm, drivers=registry)) as c:
        assert "widgets" in entry_rels(c)
        index = c.get("/api/widgets?format=json")
        assert index.status_code == 200, index.text
        assert index.json() == {"widgets": WIDGETS_DATA}
        xml = c.get("/api/widgets?format=xml")
        assert xml.status_code == 200, xml.text
        root = ET.fromstring(xml.content)
        assert root.tag == "widgets"
        assert [(w.get("id"), w.findtext("name")) for w in root.findall("widget")] == [("w1", "Sprocket"),
                                                                                       ("w2", "Cog")]
        show = c.get("/api/widgets/w2?format=json")
        assert show.status_code == 200
        assert show.json() == {"widget": {"id": "w2", "name": "Cog"}}
        assert c.get("/api/widgets/nope?format=json").status_code == 404
        options = c.options("/api/widgets")
        assert options.status_code == 200
        assert set(options.headers["Allow"].split(",")) == {"OPTIONS", "GET", "POST"}
        # the capability-checked operation: 412 on mock, works on a driver that implements it
        refused = c.post("/api/widgets/w1/polish?format=json")
        assert refused.status_code == 412
        assert refused.headers["Expect"] == "polish_widget"
        polished = c.post("/api;driver=polisher/widgets/w1/polish?format=json")
        assert polished.status_code == 200, polished.text
        assert polished.json() == {"widget": {"id": "w1", "name": "Polished"}}


def test_without_the_plugin_there_is_no_such_route(mock_storage):
    with client_for(create_app(Settings(default_driver="mock"), plugin_manager=new_plugin_manager(),
                               drivers=DriverRegistry())) as c:
        assert "widgets" not in entry_rels(c)
        assert c.get("/api/widgets?format=json").status_code == 404


def test_plugin_can_replace_a_drivers_state_machine():
    machine = (StateMachine.builder().on("start", "create", "running").on("running", "destroy", "finish").build())

    class MachinePlugin:
        @hookimpl
        def deltacloud_instance_state_machine(self, driver_name: str, driver_class: type[Driver]) -> Any:
            return machine if driver_name == "tiny2" else None

    registry = DriverRegistry()
    registry.register("tiny2", TinyDriver)
    pm = new_plugin_manager(extra_plugins=(MachinePlugin(),))
    with client_for(create_app(Settings(default_driver="mock"), plugin_manager=pm, drivers=registry)) as c:
        replaced = c.get("/api;driver=tiny2/instance_states?format=json").json()
        assert [s["name"] for s in replaced] == ["start", "running", "finish"]
        # other drivers keep their own machine
        mock_states = c.get("/api/instance_states?format=json").json()
        assert [s["name"] for s in mock_states] == ["start", "pending", "running", "stopped", "finish"]


def test_documented_json_shape_of_drivers_index_is_a_bare_hash():
    registry = DriverRegistry()
    registry.register("tiny2", TinyDriver)
    with client_for(create_app(Settings(default_driver="mock"), drivers=registry)) as c:
        body = json.loads(c.get("/api/drivers?format=json").content)
        assert isinstance(body, dict)
        assert body["tiny2"] == {"name": "Tiny"}
        assert list(body) == sorted(body)
