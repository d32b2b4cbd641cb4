"""The docs example installs the way a user installs it, and the server then offers it.

``pip install`` of ``docs/examples/deltacloud-jsonfile`` (a regular, non-editable install, built by
its own backend) into a fresh virtual environment that sees this environment's packages (the core,
hatchling, pip) behind its own site-packages; a server app built there lists ``jsonfile`` in
``/api/drivers``, loaded from the installed copy, not from the source directory. The example's own
suite (``docs/examples/deltacloud-jsonfile/tests``) runs the conformance kit on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "deltacloud-jsonfile"

CHECK = """
import json, sys
import deltacloud_jsonfile
from deltacloud_core.drivers import DriverRegistry
from deltacloud_core.web import create_app
from starlette.testclient import TestClient

with TestClient(create_app()) as client:
    drivers = client.get("/api/drivers", headers={"Accept": "application/json"}).json()
print(json.dumps({"drivers": drivers, "package": deltacloud_jsonfile.__file__,
                  "driver": sys.modules[DriverRegistry().load("jsonfile").__module__].__file__}))
"""


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv whose site-packages comes first, this environment's import path after it."""
    home = tmp_path_factory.mktemp("user-venv") / "venv"
    venv.create(home, with_pip=False)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(home), "platbase": str(home)}))
    inherited = [p for p in sys.path if p and Path(p).is_dir() and Path(p).resolve() != EXAMPLE.resolve()]
    (purelib / "_inherited.pth").write_text("\n".join(inherited) + "\n")
    return home


def test_pip_install_of_the_example_is_served(user_venv: Path, tmp_path: Path) -> None:
    python = user_venv / "bin" / "python"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--ignore-installed",
         "--quiet", str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, f"pip install {EXAMPLE}:\n{installed.stdout}{installed.stderr}"
    checked = subprocess.run([python, "-c", CHECK], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stderr
    found = json.loads(checked.stdout.strip().splitlines()[-1])
    assert "jsonfile" in found["drivers"], f"GET /api/drivers: {found['drivers']}"
    site = str(user_venv.resolve())
    for what in ("package", "driver"):
        assert Path(found[what]).resolve().is_relative_to(site), (
            f"deltacloud_jsonfile {what} loaded from {found[what]}, not from the pip-installed copy in {site}")
