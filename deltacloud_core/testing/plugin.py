"""The ``pytest11`` plugin of the conformance kit (entry point ``deltacloud``).

Loaded by every pytest run in an environment that has ``deltacloud-core[testing]``, so it
imports nothing heavy: options, the ``deltacloud_live`` marker, the ``deltacloud_settings``
fixture and the support-matrix summary. The test classes live in
:mod:`deltacloud_core.testing.conformance` and :mod:`deltacloud_core.testing.api`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from .settings import LIVE_ENV, LIVE_MARKER, OPTIONS, ConformanceSettings, overrides_from_config

#: ``user_properties`` key under which the kit records one support-matrix cell.
SUPPORT_PROPERTY = "deltacloud_support"


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
    """Print the support matrix the conformance tests recorded (one line per collection)."""
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
