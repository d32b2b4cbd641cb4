"""The ``deltacloud`` command as a subprocess against the real server: outputs, exit codes,
profiles and credentials, completion; on a pseudo terminal: the progress bar and the prompt."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time

import pytest
import yaml
from conftest import AWS_AUTH, EC2_IMAGE, MOCK_AUTH, TESTS
from deltacloud_client import Client
from terminal import DELTACLOUD, run, run_on_pty

ESC = "\x1b["


def test_table_for_people(server):
    result = run(["instances", "list"], server.env())
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "STATE", "IMAGE", "REALM", "HARDWARE_PROFILE", "PUBLIC_ADDRESSES"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert {"inst0", "inst1", "inst2", "inst3"} <= set(rows)
    assert "RUNNING" in rows["inst1"] and "img1.inst1.public.com" in rows["inst1"]
    assert ESC not in result.out and "━" not in result.out and "│" not in result.out  # no colour or boxes in a pipe


def test_json_and_yaml_for_scripts(server):
    as_json = run(["-o", "json", "instances", "show", "inst0"], server.env())
    assert as_json.code == 0, as_json.err
    doc = json.loads(as_json.out)
    assert list(doc)[:3] == ["id", "href", "actions"]
    assert doc["state"] == "RUNNING" and doc["hardware_profile"]["overrides"] == {"memory": "12288"}
    assert doc["extra"] == {} and "_bound" not in doc
    as_yaml = run(["-o", "yaml", "instances", "show", "inst0"], server.env())
    assert yaml.safe_load(as_yaml.out) == doc
    listed = json.loads(run(["-o", "json", "hardware-profiles", "list"], server.env()).out)
    memory = next(p for p in listed if p["id"] == "m1-large")["properties"][1]
    assert memory == {"name": "memory", "kind": "range", "value": "10240", "unit": "MB", "first": "7680",
                      "last": "15360", "values": [], "param": "hwp_memory"}


def test_instance_life_cycle_with_wait(server):
    created = run(["-o", "json", "instances", "create", "--image", "img1", "--hardware-profile", "m1-large",
                   "--memory", "8192", "--name", "cli-life", "--wait"], server.env())
    assert created.code == 0, created.err
    inst = json.loads(created.out)
    assert inst["state"] == "RUNNING" and inst["name"] == "cli-life"
    stopped = run(["-o", "json", "instances", "stop", inst["id"], "--wait"], server.env())
    assert json.loads(stopped.out)["state"] == "STOPPED", stopped.err
    destroyed = run(["instances", "destroy", inst["id"], "--wait"], server.env())
    assert destroyed.code == 0 and f"{inst['id']} destroyed" in destroyed.err


@pytest.mark.parametrize(("args", "code", "says"), [
    (["instances", "list", "--bogus"], 2, "No such option"),
    (["instances", "create", "--image", "img1", "--hardware-profile", "m1-large", "--memory", "99999999"], 2,
     "7680..15360"),
    (["firewalls", "list"], 2, "offers no firewalls"),
    (["instances", "show", "nope"], 4, "404"),
    (["instances", "start", "inst1"], 5, "offers: reboot, stop"),
    (["instances", "wait", "inst1", "STOPPED", "--timeout", "0.3"], 8, "by: stop"),
])
def test_exit_codes(server, args, code, says):
    result = run(args, server.env())
    assert result.code == code, (result.out, result.err)
    assert says in result.err


def test_exit_codes_auth_and_unreachable(server):
    denied = run(["instances", "list"], server.env(DELTACLOUD_PASSWORD="not-the-password"))
    assert denied.code == 3 and "401" in denied.err
    assert "not-the-password" not in denied.out + denied.err
    nowhere = run(["instances", "list"], server.env(DELTACLOUD_URL="http://127.0.0.1:9"))
    assert nowhere.code == 7 and "could not reach" in nowhere.err


def _config(tmp_path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return {"DELTACLOUD_CONFIG": str(path)}


def _bare_env(server, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in server.env().items() if not k.startswith("DELTACLOUD_")}
    env.update(extra)
    return env


def test_profiles_from_the_config_file(server, tmp_path):
    env = _bare_env(server, LAB_SECRET=MOCK_AUTH[1], **_config(tmp_path, f"""
default = "lab"
[profiles.lab]
url = "{server.url}"
user = "mockuser"
password-env = "LAB_SECRET"
[profiles.other]
url = "{server.url}"
user = "mockuser"
password-env = "UNSET_VARIABLE"
driver = "mock"
provider = "p9"
output = "json"
"""))
    assert run(["instances", "show", "inst1"], env).code == 0  # the default profile
    failed = run(["--profile", "other", "api"], env)
    assert failed.code == 2 and "$UNSET_VARIABLE" in failed.err
    env["UNSET_VARIABLE"] = MOCK_AUTH[1]
    other = run(["--profile", "other", "api"], env)
    assert json.loads(other.out)["provider"] == "p9"  # the profile's provider and output
    listed = run(["profiles", "list"], env)
    assert "lab" in listed.out and "password from $LAB_SECRET" in listed.out and MOCK_AUTH[1] not in listed.out
    assert run(["--profile", "nosuch", "api"], env).code == 2


def test_a_password_in_the_file_is_refused(server, tmp_path):
    env = _bare_env(server, **_config(tmp_path, f'[profiles.x]\nurl = "{server.url}"\nuser = "u"\npassword = "p"\n'))
    result = run(["--profile", "x", "api"], env)
    assert result.code == 2 and "passwords are never kept in files" in result.err


def test_password_from_the_keyring(server, tmp_path):
    store = tmp_path / "keyring.json"
    store.write_text(json.dumps({f"deltacloud:{server.url}\nmockuser": MOCK_AUTH[1]}))
    env = _bare_env(server, PYTHON_KEYRING_BACKEND="keyring_backend.FileKeyring", PYTHONPATH=str(TESTS),
                    DELTACLOUD_TEST_KEYRING=str(store), **_config(tmp_path, f"""
[profiles.kr]
url = "{server.url}"
user = "mockuser"
password-keyring = true
"""))
    result = run(["--profile", "kr", "-o", "json", "instances", "show", "inst1"], env)
    assert result.code == 0, result.err
    assert json.loads(result.out)["id"] == "inst1"
    store.write_text("{}")
    missing = run(["--profile", "kr", "api"], env)
    assert missing.code == 2 and "set-password kr" in missing.err
    stored = run_on_pty(["profiles", "set-password", "kr"], env,
                        answers={"Password for mockuser": MOCK_AUTH[1], "Repeat for confirmation": MOCK_AUTH[1]})
    assert stored.code == 0, stored.out
    assert MOCK_AUTH[1] not in stored.out  # typed without echo
    assert json.loads(store.read_text()) == {f"deltacloud:{server.url}\nmockuser": MOCK_AUTH[1]}


def test_prompt_on_a_terminal_without_echo(server):
    env = _bare_env(server, DELTACLOUD_URL=server.url, DELTACLOUD_USER="mockuser", NO_COLOR="1")
    result = run_on_pty(["instances", "show", "inst1"], env, answers={"Password for mockuser": MOCK_AUTH[1]})
    assert result.code == 0, result.out
    assert "MockUserInstance" in result.out and MOCK_AUTH[1] not in result.out
    piped = run(["instances", "show", "inst1"], env)  # no terminal: no prompt, the server says 401
    assert piped.code == 3


def test_blobs_both_ways_with_a_progress_bar_on_a_terminal(server, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    on_pty = run_on_pty(["blobs", "put", "bucket1", "cli-big", str(source), "--content-type", "application/x-test",
                         "--meta", "owner=tests"], server.env(), columns=150)
    assert on_pty.code == 0, on_pty.out
    assert "put cli-big" in on_pty.out and "━" in on_pty.out and "3.1/3.1 MB" in on_pty.out
    target = tmp_path / "back.bin"
    piped = run(["blobs", "get", "bucket1", "cli-big", str(target)], server.env())
    assert piped.code == 0, piped.err
    assert target.read_bytes() == source.read_bytes()
    assert "━" not in piped.err  # no bar off a terminal
    listed = json.loads(run(["-o", "json", "blobs", "ls", "bucket1"], server.env()).out)
    mine = next(b for b in listed if b["id"] == "cli-big")
    assert mine["content_length"] == 3 * 1024 * 1024 and mine["user_metadata"] == {"owner": "tests"}
    to_stdout = subprocess.run([DELTACLOUD, "blobs", "get", "bucket1", "cli-big", "-"], env=server.env(),
                               capture_output=True, timeout=60, check=True)
    assert to_stdout.stdout == source.read_bytes()
    assert run(["blobs", "rm", "bucket1", "cli-big"], server.env()).code == 0
    assert run(["blobs", "get", "bucket1", "cli-big", str(target)], server.env()).code == 4


def test_wait_shows_a_spinner_on_a_terminal(server):
    with Client(server.url, *MOCK_AUTH) as dc:
        inst = dc.instances.create(image="img1", name="spin")
    result = run_on_pty(["instances", "stop", inst.id, "--wait"], server.env())
    assert result.code == 0 and "STOPPED" in result.out
    run(["instances", "destroy", inst.id], server.env())


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell, server):
    script = run(["completion", shell], server.env())
    assert script.code == 0 and "_DELTACLOUD_COMPLETE" in script.out
    binary = shutil.which(shell)
    if binary is None:
        pytest.fail(f"{shell} is not installed (debian-packages.txt lists it)")
    check = ["-n"] if shell != "fish" else ["--no-execute"]
    syntax = subprocess.run([binary, *check], input=script.out.encode(), capture_output=True, timeout=30,
                            check=False)
    assert syntax.returncode == 0, syntax.stderr
    words = {"bash": {"COMP_WORDS": "deltacloud inst", "COMP_CWORD": "1"},
             "zsh": {"COMP_WORDS": "deltacloud inst", "COMP_CWORD": "1"},
             "fish": {"COMP_WORDS": "deltacloud inst", "COMP_CWORD": "inst"}}[shell]
    completed = subprocess.run([DELTACLOUD], env={**server.env(), "_DELTACLOUD_COMPLETE": f"{shell}_complete", **words},
                               capture_output=True, timeout=30, check=False)
    assert b"instances" in completed.stdout and b"volumes" not in completed.stdout
    deep = subprocess.run([DELTACLOUD], env={**server.env(), "_DELTACLOUD_COMPLETE": f"{shell}_complete",
                                             "COMP_WORDS": "deltacloud -o ", "COMP_CWORD": "2" if shell != "fish"
                                             else ""}, capture_output=True, timeout=30, check=False)
    assert b"yaml" in deep.stdout


class Lines:
    """The stdout of a long-running command, line by line, with a bound on each wait."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            self.queue.put(raw.decode().rstrip("\n"))

    def until(self, predicate, timeout: float = 90.0) -> str:
        """The first line so far (or to come) that ``predicate`` accepts; lines may come in any order."""
        for line in self.seen:
            if predicate(line):
                return line
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no such line; seen: {self.seen}"
            try:
                line = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(line)
            if predicate(line):
                return line


def test_watch_several_profiles(server, tmp_path):
    env = _bare_env(server, MOCK_SECRET=MOCK_AUTH[1], AWS_SECRET=AWS_AUTH[1], **_config(tmp_path, f"""
[profiles.lab]
url = "{server.url}"
user = "mockuser"
password-env = "MOCK_SECRET"
[profiles.aws]
url = "{server.url}"
user = "{AWS_AUTH[0]}"
password-env = "AWS_SECRET"
driver = "ec2"
"""))
    process = subprocess.Popen([DELTACLOUD, "--profile", "lab", "--profile", "aws", "instances", "watch",
                                "--interval", "0.3"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = Lines(process)
        lines.until(lambda s: s.startswith("[lab] RUNNING:"))
        lines.until(lambda s: s.startswith("[aws] "))
        with Client(server.url, *MOCK_AUTH) as dc, Client(server.url, *AWS_AUTH, driver="ec2") as ec2:
            mine = dc.instances.create(image="img1", name="watched-lab")
            theirs = ec2.instances.create(image=EC2_IMAGE)
            lines.until(lambda s: s == f"[lab] {mine.id} was created and is now RUNNING")
            lines.until(lambda s: s.startswith(f"[aws] {theirs.id} was created and is now"))
            dc.instances.get(mine.id).stop()
            lines.until(lambda s: s == f"[lab] {mine.id} changed from RUNNING to STOPPED")
            dc.instances.get(mine.id).destroy()
            ec2.instances.get(theirs.id).wait_for("RUNNING", timeout=120).stop().wait_for("STOPPED",
                                                                                         timeout=120).destroy()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_listing1_example_runs(server):
    """docs/client.md's ten lines (examples/listing1.py, byte-identical in the doc) against the server."""
    from conftest import CLIENT, REPO

    example = CLIENT / "examples" / "listing1.py"
    doc = (REPO / "docs" / "client.md").read_text()
    block = doc.split("```python file=clients/deltacloud-client/examples/listing1.py\n", 1)[1].split("```", 1)[0]
    assert block == example.read_text()
    assert len([line for line in block.splitlines() if line.strip() and not line.startswith(('"""', "import",
                                                                                                "from"))]) <= 10
    env = {**server.env(), "CHANGES": "2"}
    with Client(server.url, *MOCK_AUTH) as dc:
        victim = dc.instances.create(image="img1", name="listing1")
        import sys

        process = subprocess.Popen([sys.executable, str(example)], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        try:
            lines = Lines(process)
            lines.until(lambda s: s.startswith("RUNNING: "))
            dc.instances.get(victim.id).stop()
            lines.until(lambda s: s == f"{victim.id} changed from RUNNING to STOPPED")
            newcomer = dc.instances.create(image="img2", name="listing1-new")
            lines.until(lambda s: s == f"{newcomer.id} was created and is now RUNNING")
            assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
        finally:
            if process.poll() is None:
                process.kill()
        dc.instances.get(victim.id).destroy()
        dc.instances.get(newcomer.id).stop().destroy()
