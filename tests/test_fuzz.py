"""Fuzzing in every test run: schemathesis against a real ``deltacloudd`` (mock) from its own OpenAPI
document, a few examples per operation (``make fuzz`` runs the long version): no answer >= 500, no
status, content type, header or JSON body the document does not describe. See ``scripts/fuzz.py``."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "fuzz.py"


def _script():
    spec = importlib.util.spec_from_file_location("fuzz_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fuzz_script():
    if shutil.which("schemathesis", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("schemathesis is not installed in this environment: make install (it is in the dev extra)")
    return _script()


def test_a_short_fuzz_run_finds_nothing(fuzz_script):
    result = fuzz_script.fuzz(examples=4, workers=2, seed=16)
    summary = f"schemathesis exit {result['returncode']}:\n{result['output'][-6000:]}"
    assert result["returncode"] == 0, summary
    assert result["failures"] == [] and result["errors"] == [], summary
    assert result["test_cases"]["generated"] >= 500, summary  # it really ran: every operation, several cases
    assert result["operations"]["tested"] >= 150, summary


def test_the_checks_include_server_errors_and_the_document(fuzz_script):
    for check in ("not_a_server_error", "status_code_conformance", "response_schema_conformance",
                  "content_type_conformance"):
        assert check in fuzz_script.CHECKS
