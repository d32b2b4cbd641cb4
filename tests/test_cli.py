"""``deltacloudd``: flags, the unknown-driver answer, and a real server in a subprocess."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deltacloud_core.cli import _app_factory, build_parser
from deltacloud_core.testing.server import free_port, running_server

CLI = [sys.executable, "-m", "deltacloud_core.cli"]


def _env(mock_storage: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("API_")}
    env["DELTACLOUD_MOCK_STORAGE"] = str(mock_storage)
    env.update(extra)
    return env


def test_list_drivers_names_mock(mock_storage):
    result = subprocess.run([*CLI, "--list-drivers"], env=_env(mock_storage), capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "mock" in result.stdout.splitlines()


def test_unknown_driver_exits_2_with_install_hint(mock_storage):
    result = subprocess.run([*CLI, "-i", "nosuchcloud", "-p", str(free_port())], env=_env(mock_storage),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "nosuchcloud" in result.stderr
    assert "pip install deltacloud-nosuchcloud" in result.stderr


def _every_driver_blocked(mock_storage: Path) -> dict[str, str]:
    """The environment of the core alone: every installed driver blocked (DELTACLOUD_BLOCK_PLUGINS)."""
    from importlib.metadata import entry_points

    names = sorted({ep.name for ep in entry_points(group="deltacloud.drivers")})
    return _env(mock_storage, DELTACLOUD_BLOCK_PLUGINS=",".join(names))


def test_list_drivers_with_no_driver_says_how_to_install_one(mock_storage):
    result = subprocess.run([*CLI, "--list-drivers"], env=_every_driver_blocked(mock_storage), capture_output=True,
                            text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert "no Deltacloud driver is installed" in result.stderr
    assert "pip install plugins/deltacloud-mock" in result.stderr and "make dist" in result.stderr


def test_the_server_with_no_driver_exits_2_saying_how_to_install_one(mock_storage):
    result = subprocess.run([*CLI, "-p", str(free_port())], env=_every_driver_blocked(mock_storage),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "no Deltacloud driver is installed" in result.stderr
    assert "pip install deltacloud-mock" not in result.stderr  # not on an index: the hint would not work


def test_a_missing_default_driver_names_the_installed_ones(mock_storage):
    result = subprocess.run([*CLI, "-p", str(free_port())], env=_env(mock_storage, DELTACLOUD_BLOCK_PLUGINS="mock"),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "'mock' is the default driver" in result.stderr
    listed = re.search(r"Installed drivers: ([\w, ]+);", result.stderr)
    assert listed and "mock" not in listed.group(1).split(", "), result.stderr
    assert "choose one with -i <driver>" in result.stderr


def test_defaults_are_the_originals(monkeypatch):
    for name in ("API_DRIVER", "API_PROVIDER", "API_HOST", "API_PORT"):
        monkeypatch.delenv(name, raising=False)
    args = build_parser().parse_args([])
    assert (args.driver, args.host, args.port, args.provider, args.workers) == ("mock", "127.0.0.1", 3001, None, 1)
    assert args.access_log is False


def test_short_flags():
    args = build_parser().parse_args(["-i", "mock", "-r", "0.0.0.0", "-p", "4000", "-P", "eu-west-1",
                                      "--workers", "3"])
    assert (args.driver, args.host, args.port, args.provider, args.workers) == (
        "mock", "0.0.0.0", 4000, "eu-west-1", 3)


@pytest.mark.parametrize("argv", [["-p", "0"], ["-p", "70000"], ["--workers", "0"], ["--log-level", "loud"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as excinfo:
        build_parser().parse_args(argv)
    assert excinfo.value.code == 2


def test_app_factory_reads_settings_from_the_environment(monkeypatch, mock_storage):
    monkeypatch.setenv("API_DRIVER", "mock")
    monkeypatch.setenv("API_PROVIDER", "default")
    app = _app_factory()
    assert app.settings.default_driver == "mock"
    assert app.settings.default_provider == "default"


@pytest.fixture
def server(mock_storage, request) -> Iterator[str]:
    """The base URL of a running ``deltacloudd`` (``request.param`` workers, default 1)."""
    with running_server(workers=getattr(request, "param", 1), env=_env(mock_storage),
                        args=["--log-level", "warning"]) as url:
        yield url


@pytest.mark.parametrize("server", [1, 2], indirect=True, ids=["one-worker", "two-workers"])
def test_server_answers_with_its_own_headers_once(server):
    response = httpx.get(f"{server}/api", params={"format": "xml"}, timeout=10)
    assert response.status_code == 200
    assert response.headers.get_list("server") == ["Apache-Deltacloud/1.1.3"]
    assert len(response.headers.get_list("date")) == 1
    assert response.headers["x-deltacloud-driver"] == "mock"
    assert "<api " in response.text


def test_server_serves_the_mock_cloud(server):
    auth = ("mockuser", "mockpassword")
    created = httpx.post(f"{server}/api/instances", data={"image_id": "img1"}, auth=auth,
                         params={"format": "json"}, timeout=10)
    assert created.status_code == 201
    instance_id = created.json()["instance"]["id"]
    stopped = httpx.post(f"{server}/api/instances/{instance_id}/stop", auth=auth, params={"format": "json"},
                         timeout=10)
    assert stopped.status_code == 202
    destroyed = httpx.delete(f"{server}/api/instances/{instance_id}", auth=auth,
                             headers={"Accept": "application/xml"}, timeout=10)
    assert destroyed.status_code == 204


def test_trace_hooks_are_logged(mock_storage, tmp_path):
    log = tmp_path / "deltacloudd.log"
    with running_server(env=_env(mock_storage, DELTACLOUD_TRACE_HOOKS="1"), log_path=log):
        pass
    output = log.read_text(errors="replace")
    assert "deltacloud_register_collections" in output
    assert "deltacloud_startup" in output


def test_access_log_is_off_unless_asked(mock_storage, tmp_path):
    quiet_log, loud_log = tmp_path / "quiet.log", tmp_path / "loud.log"
    with running_server(env=_env(mock_storage), log_path=quiet_log) as url:
        httpx.get(f"{url}/api/realms", auth=("mockuser", "mockpassword"), timeout=10)
    assert "/api/realms" not in quiet_log.read_text(errors="replace")
    with running_server(env=_env(mock_storage), args=["--access-log"], log_path=loud_log) as url:
        httpx.get(f"{url}/api/realms", auth=("mockuser", "mockpassword"), timeout=10)
    loud_output = loud_log.read_text(errors="replace")
    assert "GET /api/realms" in loud_output
    assert "mockpassword" not in loud_output
    assert "Authorization" not in loud_output


def _nginx_example() -> str:
    text = (Path(__file__).resolve().parent.parent / "docs" / "running.md").read_text()
    blocks = re.findall(r"^```nginx\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "docs/running.md should hold exactly one nginx example"
    return blocks[0]


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the nginx example in docs/running.md no longer contains {old!r}"
    return text.replace(old, new)


@pytest.mark.skipif(not (shutil.which("nginx") and shutil.which("openssl")), reason="needs nginx and openssl")
def test_nginx_example_balances_two_servers(mock_storage, tmp_path):
    """docs/running.md's nginx configuration, in front of two deltacloudd, with only addresses replaced."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=deltacloud.example.com", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    with contextlib.ExitStack() as stack:
        backends = [stack.enter_context(running_server(env=_env(mock_storage))) for _ in range(2)]
        https_port, http_port = free_port(), free_port()
        site = _nginx_example()
        for old, backend in zip(("10.0.0.11:3001", "10.0.0.12:3001"), backends, strict=True):
            site = _replace(site, old, backend.removeprefix("http://"))
        site = _replace(site, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
        site = _replace(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
        site = _replace(site, "/etc/ssl/certs/deltacloud.example.com.pem", str(cert))
        site = _replace(site, "/etc/ssl/private/deltacloud.example.com.key", str(key))
        temp = "\n".join(f"  {kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                                 "uwsgi", "scgi"))
        conf = tmp_path / "nginx.conf"
        conf.write_text(f"daemon off;\nworker_processes 1;\npid {tmp_path / 'nginx.pid'};\n"
                        f"error_log {tmp_path / 'error.log'} warn;\nevents {{ worker_connections 64; }}\n"
                        f"http {{\n  access_log off;\n{temp}\n{site}\n}}\n")
        nginx = None
        try:
            nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            base = f"https://127.0.0.1:{https_port}"
            deadline = time.monotonic() + 10
            with httpx.Client(verify=False, timeout=10, auth=("mockuser", "mockpassword")) as client:
                while True:
                    try:
                        entry = client.get(f"{base}/api", params={"format": "xml"})
                        break
                    except httpx.TransportError:
                        pass
                    try:
                        nginx.wait(timeout=0.1)
                    except subprocess.TimeoutExpired:
                        pass
                    else:
                        output = nginx.stdout.read().decode(errors="replace") if nginx.stdout else ""
                        pytest.fail(f"nginx exited with {nginx.returncode}:\n{output}\n"
                                    f"{(tmp_path / 'error.log').read_text()}")
                    assert time.monotonic() < deadline, "nginx did not answer within 10 seconds"
                assert entry.status_code == 200
                assert entry.headers.get_list("server") == ["Apache-Deltacloud/1.1.3"]
                assert len(entry.headers.get_list("date")) == 1
                # X-Forwarded-Proto from a trusted proxy: links say https and keep the port.
                assert f'href="{base}/api/instances"' in entry.text

                created = client.post(f"{base}/api/instances", data={"image_id": "img1"}, params={"format": "json"})
                assert created.status_code == 201
                assert created.headers["location"].startswith(f"{base}/api/instances/")
                for _ in range(4):  # whichever backend answers, it sees the same mock cloud
                    assert client.get(created.headers["location"], params={"format": "json"}).status_code == 200

                redirect = httpx.get(f"http://127.0.0.1:{http_port}/api", follow_redirects=False, timeout=10)
                assert redirect.status_code == 301
                assert redirect.headers["location"].startswith("https://")
        finally:
            if nginx is not None:
                nginx.terminate()
                try:
                    nginx.communicate(timeout=10)
                except subprocess.TimeoutExpired:
                    nginx.kill()
                    nginx.communicate(timeout=10)

