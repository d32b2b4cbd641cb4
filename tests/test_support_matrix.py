"""docs/support-matrix.md is what scripts/support_matrix.py generates from this repository's drivers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "support_matrix.py"


def load_script():
    spec = importlib.util.spec_from_file_location("support_matrix", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_support_matrix_is_current() -> None:
    matrix = load_script()
    diff = matrix.stale_diff()
    assert not diff, f"docs/support-matrix.md is stale; regenerate it with {matrix.COMMAND}\n{diff}"


def test_only_this_repositorys_drivers() -> None:
    """The matrix lists the drivers this repository's distributions declare (read here from their
    pyproject.toml text), the first wave's among them, and no driver merely installed beside them."""
    import re

    root = SCRIPT.parent.parent
    declared: set[str] = set()
    for pyproject in [*root.glob("plugins/*/pyproject.toml"), *root.glob("docs/examples/*/pyproject.toml")]:
        text = pyproject.read_text()
        section = re.search(r'\[project\.entry-points\."deltacloud\.drivers"\]\n(.*?)(?:\n\[|\Z)', text, re.S)
        if section:
            declared.update(re.findall(r"^(\w[\w-]*)\s*=", section.group(1), re.M))
    names = load_script().repository_drivers()
    assert names == sorted(declared)
    assert {"azure", "ec2", "eucalyptus", "jsonfile", "mock", "openstack"} <= set(names)
