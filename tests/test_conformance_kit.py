"""The conformance kit catches real mistakes: the mutation matrix, and the correct driver passes.

Each broken driver of :mod:`support.mutants` (TinyCloud with one mistake) runs the kit in a
pytest process of its own, on the kit tests that can see its mistake (``Mutant.SELECT``, both
suites). The kit must fail it, and the failures must name the mistake (``Mutant.EXPECT``). The
correct TinyCloud runs the whole kit and must pass it, with its blob round trips, instances,
actions and references really exercised (the kit's summary line) and the checks that once
skipped on an empty fixture really run. Runs go two at a time; hypothesis is kept small
(3 examples of 6 steps; 1 s ``settle_timeout``). The processes find TinyCloud's entry point
through a ``.dist-info`` directory written next to their test file.

``pytest -rP tests/test_conformance_kit.py`` prints each mutant's matching failure messages.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Match
from support.mutants import MUTANTS

from deltacloud_core.testing.transport import UnknownRouteParameter, _template_regex, find_operation, operation_path

TESTS = Path(__file__).resolve().parent
#: The correct driver's run.
CORRECT = "TinyCloudDriver"
#: Kit processes at once: the correct driver's and the mutants' (the machine has two cores).
JOBS = 2
#: Seconds one kit run may take before it counts as hung.
RUN_TIMEOUT = 600

SETTINGS = "ConformanceSettings(max_examples=3, stateful_steps=6, settle_timeout=1.0, poll_interval=0.01)"

#: The correct driver's test file: the whole kit.
CORRECT_FILE = f'''
import itertools

import pytest
from deltacloud_core.testing import Conformance, ConformanceSettings

from support.tinycloud import TinyCloudDriver

_providers = itertools.count()


class TestKit(Conformance):
    settings = {SETTINGS}

    @pytest.fixture
    def driver(self):
        return TinyCloudDriver(provider=f"kit-{{next(_providers)}}")
'''

#: The broken drivers' test file: one class per mutant (its tests picked by ``-k``).
MUTANTS_HEADER = f'''
import itertools

import pytest
from deltacloud_core.testing import Conformance, ConformanceSettings

import support.mutants

_providers = itertools.count()
SETTINGS = {SETTINGS}
'''
MUTANT_CLASS = '''

class Test{name}(Conformance):
    settings = SETTINGS

    @pytest.fixture
    def driver(self):
        return support.mutants.{name}(provider=f"kit-{{next(_providers)}}")
'''

#: Records every report that matters (one JSON object a line) for the matrix to read.
CONFTEST = '''
import json
import os


def pytest_runtest_logreport(report):
    if report.when == "call" or report.failed or report.skipped:
        with open(os.environ["KIT_REPORTS"], "a", encoding="utf-8") as out:
            out.write(json.dumps({"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
                                  "text": report.longreprtext}) + "\\n")
'''

DIST_INFO = {
    "METADATA": "Metadata-Version: 2.1\nName: kit-tinycloud\nVersion: 0.1\n",
    "entry_points.txt": "[deltacloud.drivers]\ntinycloud = support.tinycloud:TinyCloudDriver\n",
}


@dataclass
class KitRun:
    """The kit's tests against one driver (the reports of one test class and what it printed)."""

    name: str
    returncode: int
    output: str
    reports: list[dict[str, Any]] = field(default_factory=list)

    def outcome(self, nodeid_tail: str) -> str | None:
        for report in self.reports:
            if report["when"] == "call" and report["nodeid"].endswith(nodeid_tail):
                return str(report["outcome"])
        return None

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.reports if r["outcome"] == "failed"]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.failures if r["when"] != "call"]

    def summary_counts(self) -> dict[str, int]:
        """The numbers of the kit's summary line (``deltacloud kit: tinycloud: ...``)."""
        line = next((ln for ln in self.output.splitlines() if ln.startswith("deltacloud kit: ")), "")
        assert line, f"{self.name}: the kit printed no summary line:\n{self.output[-3000:]}"
        return {what: int(n) for n, what in re.findall(r"(\d+) ([a-z ]+?)(?=,|;|$)", line)}

    def describe(self) -> str:
        shown = [f"{r['nodeid']} ({r['when']}):\n{_tail(r['text'])}" for r in self.failures[:6]]
        return "\n\n".join(shown) or self.output[-3000:]


def _tail(text: str, lines: int = 12) -> str:
    kept = [ln for ln in text.splitlines() if ln.startswith("E ")] or text.splitlines()
    return "\n".join(kept[-lines:])


def run_pytest(home: Path, test_file: str, source: str, *args: str) -> tuple[int, str, list[dict[str, Any]]]:
    """Run pytest on ``source`` (saved as ``test_file``) in ``home``, where TinyCloud is installed."""
    home.mkdir()
    dist = home / "kit_tinycloud-0.1.dist-info"
    dist.mkdir()
    for file, text in DIST_INFO.items():
        (dist / file).write_text(text)
    (home / test_file).write_text(source)
    (home / "conftest.py").write_text(CONFTEST)
    reports = home / "reports.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(home), str(TESTS)]), "KIT_REPORTS": str(reports)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", test_file, *args],
                          cwd=home, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    lines = reports.read_text().splitlines() if reports.exists() else []
    return done.returncode, done.stdout + done.stderr, [json.loads(line) for line in lines]


def run_correct(root: Path) -> dict[str, KitRun]:
    code, output, reports = run_pytest(root / "correct", "test_kit.py", CORRECT_FILE)
    return {CORRECT: KitRun(CORRECT, code, output, reports)}


def run_mutants(root: Path, names: list[str]) -> dict[str, KitRun]:
    """One pytest process for every mutant: a class each, its tests picked by its ``SELECT``."""
    if not names:
        return {}
    source = MUTANTS_HEADER + "".join(MUTANT_CLASS.format(name=name) for name in names)
    select = " or ".join(f"(Test{name} and ({MUTANTS[name].SELECT}))" for name in names)
    code, output, reports = run_pytest(root / "mutants", "test_mutants.py", source, "-k", select)
    return {name: KitRun(name, code, output, [r for r in reports if f"::Test{name}::" in r["nodeid"]])
            for name in names}


@pytest.fixture(scope="module")
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, KitRun]:
    """The kit runs the selected tests of this module need: the correct driver's and the mutants',
    side by side."""
    items = request.session.items
    correct = any(item.name == "test_a_correct_driver_passes_the_kit" for item in items)
    mutants = sorted({item.callspec.params["mutant"] for item in items
                      if item.name.startswith("test_mutant_fails_the_kit[")})
    root = tmp_path_factory.mktemp("kit-matrix")
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        runs = [pool.submit(run_correct, root)] if correct else []
        runs.append(pool.submit(run_mutants, root, mutants))
        return {name: run for future in runs for name, run in future.result().items()}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mutant_fails_the_kit(matrix: dict[str, KitRun], mutant: str) -> None:
    run = matrix[mutant]
    broken = MUTANTS[mutant]
    assert run.reports, f"no kit test ran for {mutant} (-k {broken.SELECT}):\n{run.output[-3000:]}"
    assert run.failures, f"the kit did not fail {mutant} ({broken.__doc__}):\n{run.output[-3000:]}"
    assert not run.errors, f"{mutant}: the kit's tests errored instead of failing:\n{run.describe()}"
    texts = "\n".join(r["text"] for r in run.failures)
    missing = [text for text in broken.EXPECT if text not in texts]
    assert not missing, (f"the kit failed {mutant} ({broken.__doc__}) without saying {missing}:\n"
                         f"{run.describe()}")
    for text in broken.EXPECT:
        line = next(ln for ln in texts.splitlines() if text in ln)
        print(f"{mutant}: {line.strip()[:400]}")


#: Tests that once skipped or never ran for a driver like TinyCloud (an empty fixture, blobs).
MUST_RUN = tuple(f"{suite}{test}" for suite in ("TestKit::", "TestKit::TestApi::") for test in (
    "test_show[instances]", "test_not_found[instances]", "test_references[instances]",
    "test_show[storage_volumes]", "test_references[storage_volumes]", "test_show[storage_snapshots]",
    "test_references[storage_snapshots]", "test_show[keys]", "test_show[buckets]",
    "test_serialisation[instances]" if suite == "TestKit::" else "test_formats[instances]",
    "test_instance_lifecycle", "test_bucket_lifecycle", "test_blob_round_trip"))


def test_a_correct_driver_passes_the_kit(matrix: dict[str, KitRun]) -> None:
    run = matrix[CORRECT]
    assert run.returncode == 0 and not run.failures, f"the kit failed the correct TinyCloud:\n{run.describe()}"
    not_run = {test: run.outcome(test) for test in MUST_RUN if run.outcome(test) != "passed"}
    assert not not_run, f"kit tests that must run for TinyCloud did not pass: {not_run}"
    # TinyCloud lacks only whole operations: every skip must name the method it does not implement.
    unnamed = [(r["nodeid"], r["text"][-200:]) for r in run.reports if r["outcome"] == "skipped"
               and not re.search(r"not supported \(TinyCloudDriver does not implement \w+", r["text"])]
    assert not unnamed, f"skips that do not name a method TinyCloud lacks: {unnamed[:5]}"
    counts = run.summary_counts()
    print(next(ln for ln in run.output.splitlines() if ln.startswith("deltacloud kit: ")))
    for what in ("checks passed", "instances created", "instance actions", "blob round trips",
                 "references checked", "buckets created"):
        assert counts.get(what, 0) > 0, f"the kit's summary line counts no {what}: {counts}"
    assert counts["failed"] == 0, counts


# -- the kit's transport understands every route the server has -----------------------------------

def _server_routes(app: Any, method: str, path: str) -> Iterator[Any]:
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}
    for route in app.starlette.router.routes:
        if route.matches(scope)[0] == Match.FULL:
            yield route


def test_the_kit_routes_every_operation_as_the_server_does(app: Any) -> None:
    """For every operation of every collection, a concrete path of it reaches that operation in the
    kit's in-process transport, and the server's router sends it to the same route."""
    problems = []
    for collection in app.collections:
        base = f"/api/{collection.parent}/{{id}}" if collection.parent else f"/api/{collection.name}"
        for op in collection.operations:
            path = operation_path(collection, op, "x")
            found = find_operation(app.collections, op.http_method, path)
            if found is None or found[1] is not op:
                problems.append(f"kit: {op.http_method} {path} reaches {found and found[1].name}, not "
                                f"{collection.name} {op.name}")
            served = next(_server_routes(app, op.http_method, "/api" + path), None)
            if served is None or served.path != base + op.path:
                problems.append(f"server: {op.http_method} /api{path} reaches {served and served.path}, not "
                                f"{base + op.path}")
    assert not problems, "\n".join(problems)


def test_a_blob_id_with_slashes_reaches_the_blob_operations(app: Any) -> None:
    found = find_operation(app.collections, "GET", "/buckets/b/dir/x.txt/content")
    assert found is not None and (found[1].name, found[2]) == ("content", {"id": "b", "blob_id": "dir/x.txt"})
    found = find_operation(app.collections, "PUT", "/buckets/b/dir/x.txt")
    assert found is not None and (found[1].name, found[2]["blob_id"]) == ("stream", "dir/x.txt")


def test_a_route_converter_the_kit_does_not_know_is_an_error() -> None:
    with pytest.raises(UnknownRouteParameter, match=r"does not understand the converter 'uuid'"):
        _template_regex("/{id}/{thing:uuid}")


def test_asking_the_kit_about_a_path_no_operation_serves_is_an_error(app: Any) -> None:
    from deltacloud_core.testing import Kit

    kit = Kit(driver=None, app=app, transport=None, settings=None)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match=r"no operation of this server serves PUT /api/buckets"):
        kit.supports("PUT", "/buckets")
