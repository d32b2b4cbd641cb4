"""The docs stay true: every hook, collection and feature is documented, the examples run, and the
README names only make targets and deltacloudd flags that exist."""

from __future__ import annotations

import inspect
import logging
import re
import shlex
import types
from pathlib import Path

import pytest

from deltacloud_core import hookspecs, models

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
MOCK_AUTH = ("mockuser", "mockpassword")


def _headings(path: Path) -> set[str]:
    return {m.group(1).strip() for m in re.finditer(r"^## +(.+?)\s*$", path.read_text(), re.MULTILINE)}


def _code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(), re.MULTILINE | re.DOTALL)


def _hook_names() -> list[str]:
    return sorted(n for n, f in vars(hookspecs).items() if n.startswith("deltacloud_") and callable(f))


def _load_module(name: str, code: str, origin: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = origin
    exec(compile(code, origin, "exec"), module.__dict__)
    return module


# -- coverage of hooks, collections, features ---------------------------------------------------

def test_hookspecs_exist():
    assert len(_hook_names()) >= 7


@pytest.mark.parametrize("hook", _hook_names())
def test_every_hook_has_a_heading_in_hooks_md(hook):
    assert hook in _headings(DOCS / "hooks.md"), f"docs/hooks.md lacks a '## {hook}' section"


@pytest.mark.parametrize("hook", _hook_names())
def test_documented_hook_signature_matches_the_spec(hook):
    text = (DOCS / "hooks.md").read_text()
    found = re.search(rf"^def {hook}\((.*?)\)", text, re.MULTILINE)
    assert found, f"docs/hooks.md shows no 'def {hook}(...)' signature"
    documented = [p.split(":")[0].strip() for p in found.group(1).split(",") if p.strip()]
    assert documented == list(inspect.signature(getattr(hookspecs, hook)).parameters)


def test_every_collection_has_a_heading_in_collections_md(app):
    headings = _headings(DOCS / "collections.md")
    missing = [c.name for c in app.collections if c.name not in headings]
    assert not missing, f"docs/collections.md lacks a '## <name>' section for: {', '.join(missing)}"


def test_every_feature_has_a_row_in_features_md(app):
    rows = [line for line in (DOCS / "features.md").read_text().splitlines() if line.startswith("|")]
    missing = []
    for feature in app.features:
        if not any(row.startswith(f"| `{feature.name}` | {feature.collection} |") for row in rows):
            missing.append(f"{feature.collection}:{feature.name}")
    assert not missing, f"docs/features.md lacks a row for: {', '.join(missing)}"


def _driver_methods() -> list[str]:
    from deltacloud_core import Driver

    return sorted(n for n, v in vars(Driver).items()
                  if not n.startswith("_") and (callable(v) or isinstance(v, (classmethod, property))))


def test_every_driver_method_is_in_driver_contract_md():
    text = (DOCS / "driver-contract.md").read_text()
    missing = [m for m in _driver_methods() if not re.search(rf"`{m}[(` ]", text)]
    assert not missing, f"docs/driver-contract.md does not describe Driver.{', Driver.'.join(missing)}"


def _model_sections(text: str) -> dict[str, str]:
    """``### `Name` ``/``### `A` and `B` `` sections of driver-contract.md's Models part, by model name."""
    part = text.split("\n## Models\n", 1)[1].split("\n## ", 1)[0]
    sections: dict[str, str] = {}
    for chunk in part.split("\n### ")[1:]:
        heading, _, body = chunk.partition("\n")
        for name in re.findall(r"`(\w+)`", heading):
            sections[name] = body
    return sections


@pytest.mark.parametrize("model", sorted(models.__all__))
def test_every_model_field_is_in_driver_contract_md(model):
    import dataclasses

    sections = _model_sections((DOCS / "driver-contract.md").read_text())
    assert model in sections, f"docs/driver-contract.md has no '### `{model}`' section under '## Models'"
    body = sections[model]
    fields = [f.name for f in dataclasses.fields(getattr(models, model))]
    missing = [f for f in fields if not re.search(rf"^\| `({model}\.)?{f}` \|", body, re.MULTILINE)]
    assert not missing, f"docs/driver-contract.md does not describe {model}.{f', {model}.'.join(missing)}"


def test_index_links_every_page():
    index = (DOCS / "index.md").read_text()
    pages = sorted(p.name for p in DOCS.glob("*.md") if p.name != "index.md")
    missing = [p for p in pages if f"]({p})" not in index]
    assert not missing, f"docs/index.md does not link: {', '.join(missing)}"


@pytest.mark.parametrize("page", sorted(p.name for p in [README, *DOCS.glob("*.md")]))
def test_relative_links_resolve(page):
    path = README if page == README.name else DOCS / page
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
        assert (path.parent / target).exists(), f"{page} links to missing {target}"


# -- README and docs commands -------------------------------------------------------------------

def _makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*):(?!=)", text, re.MULTILINE)}


def test_readme_make_targets_exist():
    used = set(re.findall(r"\bmake ([a-z][\w-]*)", README.read_text()))
    assert {"run", "test"} <= used
    missing = used - _makefile_targets()
    assert not missing, f"README.md uses make targets the Makefile lacks: {', '.join(sorted(missing))}"


def _deltacloudd_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in [README, *DOCS.glob("*.md")]:
        for block in _code_blocks(path, "sh"):
            for line in block.splitlines():
                line = line.split("#", 1)[0].strip()
                if "deltacloudd" in line and not line.startswith("make"):
                    words = shlex.split(line)
                    start = next(i for i, w in enumerate(words) if w.endswith("deltacloudd"))
                    found.append((path.name, words[start + 1:]))
    return found


def test_documented_deltacloudd_commands_parse():
    from deltacloud_core.cli import build_parser

    commands = _deltacloudd_commands()
    assert commands
    for page, argv in commands:
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:  # argparse reports and exits 2
            pytest.fail(f"{page}: 'deltacloudd {' '.join(argv)}' does not parse ({exc})")


# -- the examples run ---------------------------------------------------------------------------

@pytest.fixture
def hook_examples() -> dict[str, types.ModuleType]:
    """Each example block of hooks.md (those with @hookimpl) as a module, keyed by the hook it shows."""
    modules = {}
    for i, code in enumerate(_code_blocks(DOCS / "hooks.md", "python")):
        if "@hookimpl" not in code:
            continue
        module = _load_module(f"docs_hooks_example_{i}", code, f"docs/hooks.md (example {i})")
        hooks = [n for n in vars(module) if n.startswith("deltacloud_")]
        assert len(hooks) == 1, f"hooks.md example {i} should implement exactly one hook, has {hooks}"
        modules[hooks[0]] = module
    return modules


def test_every_hook_has_a_running_example(hook_examples):
    assert sorted(hook_examples) == _hook_names()


def test_hook_examples_do_what_they_say(hook_examples, mock_storage, caplog):
    from starlette.testclient import TestClient

    from deltacloud_core.collections import Collection, Operation, Outcome
    from deltacloud_core.hookspecs import hookimpl
    from deltacloud_core.models import Realm
    from deltacloud_core.plugins import new_plugin_manager
    from deltacloud_core.web import Settings, create_app

    quota_error = hook_examples["deltacloud_handle_exception"].QuotaExceeded

    async def over_quota(call):
        raise quota_error()

    class Boom:
        @hookimpl
        def deltacloud_register_collections(self, registry):
            registry.register(Collection("boom", "boom", "raises", (
                Operation("index", "GET", "", over_quota, driverless=True),)))

    pm = new_plugin_manager((*hook_examples.values(), Boom()))
    app = create_app(Settings(default_driver="mock"), plugin_manager=pm)
    caplog.set_level(logging.INFO, logger="deltacloud.example")
    with TestClient(app, base_url="http://127.0.0.1:3001") as client:
        client.auth = MOCK_AUTH
        assert "serving" in caplog.text  # deltacloud_startup

        ping = client.get("/api/ping")  # deltacloud_register_collections
        assert (ping.status_code, ping.text) == (200, "pong\n")
        assert ping.headers["x-served-by"] == "node-1"  # deltacloud_asgi_wrapper

        assert app.features.get("instances", "spot_price") is not None  # deltacloud_register_features

        text = app.renderers["txt"]  # deltacloud_register_renderers
        assert text.render(Outcome.collection("realm", [Realm("us", "US"), Realm("eu", "EU")]), None) == b"us\neu\n"
        realms = client.get("/api/realms", headers={"Accept": "text/plain"})  # a core collection answers in it
        assert (realms.status_code, realms.headers["content-type"]) == (200, "text/plain; charset=utf-8")
        assert realms.text.splitlines() == [r["id"] for r in client.get("/api/realms?format=json").json()["realms"]]

        states = client.get("/api/instance_states", params={"format": "json"})  # deltacloud_instance_state_machine
        assert states.status_code == 200
        assert "reboot" not in states.text
        instance = client.get("/api/instances/inst1", params={"format": "json"}).json()["instance"]
        assert "reboot" not in [a["rel"] for a in instance["actions"]]
        assert "stop" in [a["rel"] for a in instance["actions"]]

        boom = client.get("/api/boom")  # deltacloud_handle_exception
        assert boom.status_code == 429
        assert boom.headers["retry-after"] == "60"


@pytest.fixture
def hello_app(mock_storage):
    from deltacloud_core.drivers import DriverRegistry
    from deltacloud_core.web import Settings, create_app

    blocks = _code_blocks(DOCS / "driver-contract.md", "python")
    assert len(blocks) == 1, "driver-contract.md should hold exactly one python example"
    module = _load_module("docs_hello_driver", blocks[0], "docs/driver-contract.md")
    registry = DriverRegistry()
    registry.register("hello", module.HelloDriver)
    return module, create_app(Settings(default_driver="mock"), drivers=registry)


def test_driver_contract_example_runs(hello_app):
    from starlette.testclient import TestClient

    from deltacloud_core import capabilities

    module, app = hello_app
    caps = capabilities(module.HelloDriver)
    assert {"list_realms", "list_instances", "stop_instance"} <= caps
    assert "create_instance" not in caps
    with TestClient(app, base_url="http://127.0.0.1:3001") as client:
        entry = client.get("/api;driver=hello", params={"format": "json"}).json()["api"]
        assert {link["rel"] for link in entry["links"]} == {
            "drivers", "realms", "hardware_profiles", "instances", "instance_states"}

        client.auth = ("me", "secret")
        realms = client.get("/api;driver=hello/realms", params={"format": "json"}).json()["realms"]
        assert [r["id"] for r in realms] == ["north-a", "north-b"]
        south = client.get("/api;driver=hello;provider=south/realms", params={"format": "json"}).json()
        assert [r["id"] for r in south["realms"]] == ["south-a", "south-b"]

        assert client.post("/api;driver=hello/instances", data={"image_id": "x"}).status_code == 412
        stopped = client.post("/api;driver=hello/instances/srv1/stop", params={"format": "json"})
        assert stopped.status_code == 202
        assert stopped.json()["state"] == "STOPPED"

        client.auth = ("me", "wrong")
        assert client.get("/api;driver=hello;provider=east/realms", params={"format": "json"}).status_code == 401
    with TestClient(app, base_url="http://127.0.0.1:3001") as anonymous:
        assert anonymous.get("/api;driver=hello/realms", params={"format": "json"}).status_code == 401
