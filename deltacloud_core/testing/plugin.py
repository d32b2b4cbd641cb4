"""The ``pytest11`` plugin of the conformance kit (entry point ``deltacloud``).

Loaded by every pytest run in an environment that has ``deltacloud-core[testing]``, so it
imports nothing heavy: options, the ``deltacloud_live`` marker, the ``deltacloud_settings``
fixture, the kit's summary line (per driver: checks passed, failed and skipped, and what the
life cycles and checks really did: instances created, actions, blob round trips, references)
and the support matrix. The test classes live in
:mod:`deltacloud_core.testing.conformance` and :mod:`deltacloud_core.testing.api`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest

from .settings import LIVE_ENV, LIVE_MARKER, OPTIONS, ConformanceSettings, overrides_from_config

#: ``user_properties`` key under which the kit records one support-matrix cell.
SUPPORT_PROPERTY = "deltacloud_support"
#: ``user_properties`` key naming the driver a kit test ran against.
DRIVER_PROPERTY = "deltacloud_driver"
#: ``user_properties`` key of what one kit test did: ``(driver, {"blob round trips": 4, ...})``.
COUNTS_PROPERTY = "deltacloud_counts"
#: Counts the summary line always shows (a zero there is a check that did not run).
SHOWN_COUNTS = ("instances created", "instance actions", "blob round trips", "references checked")


class KitTally:
    """Outcomes and counts of the kit's tests, per driver, from the test reports (xdist too)."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Counter[str]] = {}
        self.counts: dict[str, Counter[str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = list(getattr(report, "user_properties", ()))
        driver = next((value for key, value in props if key == DRIVER_PROPERTY), None)
        if driver is None:
            return
        outcomes = self.outcomes.setdefault(driver, Counter())
        if report.skipped:
            outcomes["skipped"] += 1
        elif report.when == "call":
            outcomes["passed" if report.passed else "failed"] += 1
        elif report.failed:
            outcomes["errors"] += 1
        if report.when == "teardown":
            for key, value in props:
                if key == COUNTS_PROPERTY:
                    name, counts = value
                    self.counts.setdefault(name, Counter()).update(counts)

    def lines(self) -> list[str]:
        out = []
        for driver in sorted(self.outcomes):
            o = self.outcomes[driver]
            counts = self.counts.get(driver, Counter())
            checks = f"{o['passed']} checks passed, {o['failed']} failed, {o['skipped']} skipped"
            if o["errors"]:
                checks += f", {o['errors']} errors"
            extra = [k for k in sorted(counts) if k not in SHOWN_COUNTS]
            ran = ", ".join(f"{counts[k]} {k}" for k in (*SHOWN_COUNTS, *extra))
            out.append(f"deltacloud kit: {driver}: {checks}; ran {ran}")
        return out


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("deltacloud", "Deltacloud driver conformance kit")
    for opt in OPTIONS:
        group.addoption(opt.flag, dest=opt.dest, type=opt.type, default=None, help=opt.help)
        parser.addini(opt.ini, opt.help, default="")
    group.addoption("--deltacloud-live", dest="deltacloud_live", action="store_true", default=False,
                    help=f"also run tests marked {LIVE_MARKER} (against a real cloud; or {LIVE_ENV}=1)")
    parser.addini("deltacloud_live", "run tests marked deltacloud_live", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{LIVE_MARKER}: talks to a real cloud; skipped unless --deltacloud-live or {LIVE_ENV}=1")
    if not config.pluginmanager.has_plugin("deltacloud-kit-tally"):
        config.pluginmanager.register(KitTally(), "deltacloud-kit-tally")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if overrides_from_config(config).get("live"):
        return
    skip = pytest.mark.skip(reason=f"live cloud test: run with --deltacloud-live (or {LIVE_ENV}=1)")
    for item in items:
        if item.get_closest_marker(LIVE_MARKER) is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def deltacloud_settings(pytestconfig: pytest.Config) -> ConformanceSettings:
    """The kit's settings from the defaults, the ini file and the command line."""
    return ConformanceSettings().replace(**overrides_from_config(pytestconfig))


def _support_cells(reports: Iterable[Any]) -> dict[tuple[str, str, str], tuple[bool, str]]:
    cells: dict[tuple[str, str, str], tuple[bool, str]] = {}
    for report in reports:
        for key, value in getattr(report, "user_properties", ()):
            if key == SUPPORT_PROPERTY:
                driver, collection, operation, supported, reason = value
                cells[(driver, collection, operation)] = (supported, reason)
    return cells


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the kit's summary line per driver, then the support matrix the conformance tests
    recorded (one line per collection)."""
    tally = config.pluginmanager.get_plugin("deltacloud-kit-tally")
    lines = tally.lines() if isinstance(tally, KitTally) else []
    if lines:
        terminalreporter.section("deltacloud conformance kit")
        for line in lines:
            terminalreporter.write_line(line)
    reports = [r for values in terminalreporter.stats.values() for r in values]
    cells = _support_cells(reports)
    if not cells:
        return
    terminalreporter.section("deltacloud support matrix")
    drivers = sorted({d for d, _c, _o in cells})
    for driver in drivers:
        terminalreporter.write_line(f"{driver}:")
        collections = sorted({c for d, c, _o in cells if d == driver})
        width = max(len(c) for c in collections)
        for collection in collections:
            ops = [(o, s) for (d, c, o), (s, _r) in cells.items() if d == driver and c == collection]
            yes = " ".join(o for o, s in ops if s)
            no = " ".join(o for o, s in ops if not s)
            line = f"  {collection:<{width}}  {yes or '-'}"
            if no:
                line += f"   (not supported: {no})"
            terminalreporter.write_line(line)
