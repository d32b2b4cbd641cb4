"""The package stands alone and is typed: no import of the server, mypy --strict clean, an exact
public surface, and pip installs it alone into a fresh venv that then talks to a real server."""

from __future__ import annotations

import ast
import subprocess
import sys
import venv

import deltacloud_client
from conftest import CLIENT, MOCK_AUTH

PACKAGE = CLIENT / "deltacloud_client"


def test_imports_nothing_of_the_server():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(CLIENT)}: {n}" for n in names if n.split(".")[0].startswith(
                ("deltacloud_core", "deltacloud_mock", "deltacloud_ec2", "starlette", "marshmallow"))]
    assert not offenders


def test_mypy_strict_is_clean():
    assert (PACKAGE / "py.typed").exists()
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "-p", "deltacloud_client"], cwd=CLIENT,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_public_names_are_exactly_all():
    submodules = {"aio", "cli", "client", "discovery", "errors", "hardware", "operations", "protocol", "runner",
                  "session", "sse"}
    public = {name for name in dir(deltacloud_client) if not name.startswith("_")} - submodules
    assert public == set(deltacloud_client.__all__) - {"__version__"}
    assert all(hasattr(deltacloud_client, name) for name in deltacloud_client.__all__)


def test_pip_installs_it_alone_into_a_fresh_venv(server, tmp_path):
    """``pip install clients/deltacloud-client`` outside the repository, no server package: a working
    ``deltacloud`` against the running server."""
    home = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(home)
    python = home / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(CLIENT)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=600, check=False)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    missing = subprocess.run([str(python), "-c", "import deltacloud_core"], cwd=tmp_path, capture_output=True,
                             timeout=60, check=False)
    assert missing.returncode != 0  # no server part came along
    env = {"PATH": f"{home / 'bin'}:/usr/bin:/bin", "DELTACLOUD_URL": server.url, "DELTACLOUD_USER": MOCK_AUTH[0],
           "DELTACLOUD_PASSWORD": MOCK_AUTH[1], "HOME": str(tmp_path)}
    listed = subprocess.run([str(home / "bin" / "deltacloud"), "-o", "json", "instances", "list"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr
    assert "inst1" in listed.stdout
