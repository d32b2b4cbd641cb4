"""Run every test suite of the repository, several at once, and the linter; fail if any fails.

    python scripts/run_suites.py [--jobs N] [--timeout SECONDS] [SUITE ...]

A suite is a ``tests`` directory: the core's (``tests``) and each distribution's under ``plugins/``,
``clients/`` and ``docs/examples/``. Each runs as its own pytest process with its own configuration
(test modules of the same name in two suites never collide). Suites mostly wait on the servers
they start (moto, Azurite, OpenStack, QEMU ...), so a few run at once even on two cores
(``--jobs``, default ``DELTACLOUD_TEST_JOBS`` or 3). The longest start first: a distribution says
how long its suite is with ``[tool.deltacloud] test-weight = N`` in its ``pyproject.toml``
(minutes, roughly; default 1).

Each suite's output goes to ``build/test-logs/<suite>.log`` and is printed whole when the suite
ends, then a table of every suite's result and time. A suite that outlives ``--timeout`` is
killed, with its process group, and counts as failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "build" / "test-logs"
SUITE_PARENTS = ("plugins", "clients", "docs/examples")


@dataclass
class Suite:
    name: str
    command: list[str]
    weight: float = 1.0
    status: str = "pending"
    seconds: float = 0.0
    log: Path = field(default_factory=Path)


def _weight(distribution: Path) -> float:
    pyproject = distribution / "pyproject.toml"
    if not pyproject.is_file():
        return 1.0
    config = tomllib.loads(pyproject.read_text()).get("tool", {}).get("deltacloud", {})
    return float(config.get("test-weight", 1))


def discover(python: str) -> list[Suite]:
    pytest = [python, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    suites = [Suite("tests", [*pytest, "tests"], _weight(ROOT))]
    for parent in SUITE_PARENTS:
        for tests in sorted((ROOT / parent).glob("*/tests")):
            rel = tests.relative_to(ROOT).as_posix()
            suites.append(Suite(rel, [*pytest, rel], _weight(tests.parent)))
    # The guardrails: ruff everywhere, the core's layers (import-linter) and types (mypy, configured
    # in pyproject.toml).
    tools = Path(python).parent
    suites.append(Suite("ruff", [str(tools / "ruff"), "check", "."], 0.1))
    suites.append(Suite("import-linter", [str(tools / "lint-imports")], 0.1))
    suites.append(Suite("mypy", [python, "-m", "mypy"], 0.5))
    return suites


def _run(suite: Suite, timeout: float, printed: threading.Lock) -> None:
    suite.log = LOGS / (suite.name.replace("/", "_") + ".log")
    started = time.monotonic()
    with suite.log.open("wb") as out:
        proc = subprocess.Popen(suite.command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
            suite.status = "passed" if code == 0 else f"FAILED (exit {code})"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            suite.status = f"FAILED (killed after {timeout:.0f} s)"
    suite.seconds = time.monotonic() - started
    with printed:
        print(f"== {suite.name}"
              f"  [{suite.status}, {suite.seconds:.0f} s]", flush=True)
        sys.stdout.write(suite.log.read_text(errors="replace"))
        sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("DELTACLOUD_TEST_JOBS", "3")))
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("DELTACLOUD_SUITE_TIMEOUT", "2400")))
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("suites", nargs="*", help="suite names (default: all), e.g. tests plugins/deltacloud-ec2/tests")
    args = parser.parse_args()
    suites = discover(args.python)
    if args.suites:
        unknown = set(args.suites) - {s.name for s in suites}
        if unknown:
            parser.error(f"unknown suites: {', '.join(sorted(unknown))}; known: {', '.join(s.name for s in suites)}")
        suites = [s for s in suites if s.name in args.suites]
    LOGS.mkdir(parents=True, exist_ok=True)
    queue = sorted(suites, key=lambda s: -s.weight)
    printed = threading.Lock()
    started = time.monotonic()
    print(f"run_suites: {len(suites)} suites, {args.jobs} at a time, logs in {LOGS.relative_to(ROOT)}/", flush=True)
    # Submitted longest first; the pool starts them in that order as workers free up.
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for future in [pool.submit(_run, suite, args.timeout, printed) for suite in queue]:
            future.result()
    total = time.monotonic() - started
    width = max(len(s.name) for s in suites)
    print(f"\n== summary ({total:.0f} s in all)")
    for suite in queue:
        print(f"  {suite.name:<{width}}  {suite.seconds:6.0f} s  {suite.status}")
    return 0 if all(s.status == "passed" for s in suites) else 1


if __name__ == "__main__":
    sys.exit(main())
