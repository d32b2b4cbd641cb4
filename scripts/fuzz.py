"""Fuzz a real ``deltacloudd`` on the mock driver with schemathesis, from the server's own OpenAPI
document (``/api/openapi.json``), and fail on any answer >= 500 or any answer the document does not
describe.

    python scripts/fuzz.py [--examples N] [--seed N] [--workers N] [--report FILE]

``make fuzz`` runs it long (``--examples 100``); ``tests/test_fuzz.py`` runs it
short in every ``make test``. It prints how many requests were made and the failures, and exits 0
only when there were none.

The checks: ``not_a_server_error`` (no 5xx), ``status_code_conformance`` (every status documented),
``content_type_conformance``, ``response_headers_conformance``, ``response_schema_conformance`` (the
JSON bodies match the component schemas), and the stateful ``use_after_free`` and
``ensure_resource_availability``. Left out, because the server answers as the original Deltacloud
did on purpose (wire compatibility, docs/running.md, "Fuzzing"):

* ``unsupported_method``: an undeclared method answers 404 like an unknown path, not 405;
* ``allow_header_conformance``: ``OPTIONS`` answers list an operation's parameters
  (``name:type:required``) or the collections, not HTTP methods, in ``Allow``;
* ``negative_data_rejection``, ``positive_data_acceptance``, ``missing_required_header``: parameters
  are not type-checked (API.md §2 step 8), ids that name nothing are a 404 however well-formed;
* ``ignored_auth``: forms, hardware profiles and instance states need no credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "use_after_free",
          "ensure_resource_availability")


def schemathesis_command(url: str, *, examples: int, workers: int, seed: int | None, report: Path) -> list[str]:
    command = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/api/openapi.json",
               "--auth", "mockuser:mockpassword", "--checks", ",".join(CHECKS), "--max-examples", str(examples),
               "--workers", str(workers), "--max-redirects", "0", "--request-timeout", "60",
               "--generation-database", "none", "--continue-on-failure", "--max-failures", "1000",
               "--no-color", "--report", "json", "--report-json-path", str(report)]
    if seed is not None:
        command += ["--seed", str(seed)]
    return command


def fuzz(*, examples: int, workers: int = 2, seed: int | None = None, report: Path | None = None) -> dict[str, object]:
    """Run schemathesis against a fresh mock server; the run's JSON report, with ``output`` added."""
    from deltacloud_core.testing.server import running_server

    with tempfile.TemporaryDirectory(prefix="deltacloud-fuzz-") as tmp:
        report = report or Path(tmp) / "report.json"
        env = dict(os.environ, DELTACLOUD_MOCK_STORAGE=str(Path(tmp) / "mock"))
        with running_server(env=env, workers=1) as url:
            done = subprocess.run(schemathesis_command(url, examples=examples, workers=workers, seed=seed,
                                                       report=report),
                                  capture_output=True, text=True, cwd=tmp, check=False)
        result: dict[str, object] = json.loads(report.read_text()) if report.exists() else {}
        result["output"] = done.stdout + done.stderr
        result["returncode"] = done.returncode
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="test cases per operation (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="concurrent requests (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--report", type=Path, default=None, help="keep schemathesis' JSON report here")
    args = parser.parse_args(argv)
    result = fuzz(examples=args.examples, workers=args.workers, seed=args.seed, report=args.report)
    print(result["output"])
    cases = result.get("test_cases") or {}
    failures = result.get("failures") or []
    errors = result.get("errors") or []
    generated = cases.get("generated", 0) if isinstance(cases, dict) else 0
    print(f"fuzz: {generated} requests, {len(failures)} kinds of failure, {len(errors)} errors "  # type: ignore[arg-type]
          f"(schemathesis exit {result['returncode']})")
    return 0 if result["returncode"] == 0 and not failures and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
