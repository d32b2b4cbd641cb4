"""The driver guide shows real files, and the example driver uses only the public API.

* Every fenced block of ``docs/writing-a-driver.md`` names a file of ``docs/examples/`` and is
  byte-identical to it; a block may name its file in the info string (`` ```python
  file=deltacloud-jsonfile/driver.py ``) or in a first-line comment (``# file: ...``). Only
  shell (``sh``, ``console``) and output (``text``) blocks name no file.
* Every module of an example package, and its ``pyproject.toml``, is shown in the guide.
* An example imports from the core only ``deltacloud_core`` and ``deltacloud_core.testing``, and
  only names in their ``__all__`` (checked with ``ast``, without importing the example).
"""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "writing-a-driver.md"
EXAMPLES = ROOT / "docs" / "examples"
PUBLIC_MODULES = ("deltacloud_core", "deltacloud_core.testing")
UNNAMED_LANGUAGES = {"sh", "console", "text"}
_FENCE = re.compile(r"^```(?P<info>[^`\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_COMMENT_NAME = re.compile(r"^(?:#|//|--)\s*file:\s*(\S+)\s*$")


@dataclass(frozen=True)
class Block:
    line: int
    language: str
    path: str | None
    body: str


def guide_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with the file each one names (if any)."""
    blocks = []
    for match in _FENCE.finditer(text):
        words = match.group("info").split()
        language = words[0] if words else ""
        path = next((w.split("=", 1)[1] for w in words[1:] if w.startswith("file=")), None)
        body = match.group("body")
        first = body.split("\n", 1)[0]
        named = _COMMENT_NAME.match(first)
        if path is None and named:
            path = named.group(1)
        blocks.append(Block(text.count("\n", 0, match.start()) + 1, language, path, body))
    return blocks


def example_dirs() -> list[Path]:
    return sorted(p.parent for p in EXAMPLES.glob("*/pyproject.toml"))


def example_sources(example: Path) -> list[Path]:
    return sorted(p for p in example.rglob("*.py") if "build" not in p.relative_to(example).parts)


# -- the parser itself ----------------------------------------------------------------------------

def test_blocks_are_found_with_their_names():
    text = ("intro\n```python file=x/a.py\nimport os\n```\n\n```sh\nls\n```\n"
            "```toml\n# file: x/pyproject.toml\n[project]\n```\n")
    blocks = guide_blocks(text)
    assert [(b.language, b.path, b.body) for b in blocks] == [
        ("python", "x/a.py", "import os\n"), ("sh", None, "ls\n"),
        ("toml", "x/pyproject.toml", "# file: x/pyproject.toml\n[project]\n")]
    assert [b.line for b in blocks] == [2, 6, 9]


# -- the guide ------------------------------------------------------------------------------------

def test_there_is_an_example_driver():
    assert example_dirs(), "docs/examples/ holds no example distribution (no */pyproject.toml)"


def test_guide_shows_files():
    named = [b for b in guide_blocks(GUIDE.read_text()) if b.path]
    assert len(named) >= 5, "docs/writing-a-driver.md should show the example's files"


@pytest.mark.parametrize("block", [b for b in guide_blocks(GUIDE.read_text())],
                         ids=lambda b: f"line{b.line}-{b.path or b.language}")
def test_every_block_is_a_real_file(block: Block):
    if block.path is None:
        assert block.language in UNNAMED_LANGUAGES, (
            f"docs/writing-a-driver.md line {block.line}: a ```{block.language} block names no file; "
            f"add file=<path below docs/examples> to its info string (only {sorted(UNNAMED_LANGUAGES)} "
            "blocks may name none)")
        return
    path = (EXAMPLES / block.path).resolve()
    assert path.is_relative_to(EXAMPLES.resolve()), f"line {block.line}: {block.path} is outside docs/examples"
    assert path.is_file(), f"docs/writing-a-driver.md line {block.line} shows {block.path}, which does not exist"
    assert block.body.encode("utf-8") == path.read_bytes(), (
        f"docs/writing-a-driver.md line {block.line} differs from docs/examples/{block.path}; "
        "copy the file into the guide again")


@pytest.mark.parametrize("example", example_dirs(), ids=lambda p: p.name)
def test_guide_shows_every_module_of_the_example(example: Path):
    shown = {b.path for b in guide_blocks(GUIDE.read_text()) if b.path}
    package_files = [p for p in example_sources(example) if p.relative_to(example).parts[0] != "tests"]
    wanted = {str(p.relative_to(EXAMPLES)) for p in [example / "pyproject.toml", *package_files]}
    missing = sorted(wanted - shown)
    assert not missing, f"docs/writing-a-driver.md does not show {', '.join(missing)}"


# -- the example uses the public API only ---------------------------------------------------------

def _public_names(module: str) -> set[str]:
    return set(importlib.import_module(module).__all__)


def import_problems(source: str, filename: str, own_packages: set[str]) -> list[str]:
    """Imports of the core that are not public, and imports of other Deltacloud packages."""
    problems = []
    tree = ast.parse(source, filename)
    aliases: dict[str, str] = {}  # local name -> public module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in own_packages or not root.startswith("deltacloud"):
                    continue
                if alias.name not in PUBLIC_MODULES:
                    problems.append(f"{filename}:{node.lineno}: import {alias.name} (only {PUBLIC_MODULES} are public)")
                else:
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else root
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            root = node.module.split(".")[0]
            if root in own_packages or not root.startswith("deltacloud"):
                continue
            if node.module not in PUBLIC_MODULES:
                problems.append(f"{filename}:{node.lineno}: from {node.module} import ... "
                                f"(only {', '.join(PUBLIC_MODULES)} are public)")
                continue
            public = _public_names(node.module)
            for alias in node.names:
                if alias.name not in public:
                    problems.append(f"{filename}:{node.lineno}: {alias.name} is not in {node.module}.__all__")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            module = aliases[node.value.id]
            if node.attr != "testing" and node.attr not in _public_names(module):
                problems.append(f"{filename}:{node.lineno}: {node.value.id}.{node.attr} is not in {module}.__all__")
    return problems


def test_import_check_catches_private_imports():
    source = ("import deltacloud_core\nimport deltacloud_core.web\nfrom deltacloud_core.errors import ValidationError\n"
              "from deltacloud_core import Driver, StateMachineBuilder\nfrom deltacloud_mock import driver\n"
              "from mypkg import thing\nfrom . import sibling\nx = deltacloud_core.DeltacloudApp\n")
    problems = import_problems(source, "x.py", {"mypkg"})
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4", "5", "8"], problems


@pytest.mark.parametrize("example", example_dirs(), ids=lambda p: p.name)
def test_example_imports_only_public_names(example: Path):
    own = {p.name for p in example.iterdir() if (p / "__init__.py").is_file()}
    problems = []
    for path in example_sources(example):
        problems += import_problems(path.read_text(), str(path.relative_to(ROOT)), own)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("example", example_dirs(), ids=lambda p: p.name)
def test_example_declares_a_driver_entry_point(example: Path):
    project = tomllib.loads((example / "pyproject.toml").read_text())["project"]
    drivers = project.get("entry-points", {}).get("deltacloud.drivers", {})
    assert drivers, f"{example.name}/pyproject.toml declares no [project.entry-points.\"deltacloud.drivers\"]"
    for name, target in drivers.items():
        module, _, attr = target.partition(":")
        assert project["name"] == f"deltacloud-{name}", f"distribution {project['name']} serves driver id {name}"
        assert (example / Path(*module.split("."))).with_suffix(".py").is_file(), f"{target}: no such module"
        assert attr, f"entry point {name} names no class"
