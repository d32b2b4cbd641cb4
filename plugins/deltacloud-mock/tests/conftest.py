"""Shared fixtures: every test gets its own empty mock storage directory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

try:  # the core may not be installed yet: fall back to the repository checkout
    import deltacloud_core  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from deltacloud_core.credentials import Credentials

from deltacloud_mock.driver import MockDriver
from deltacloud_mock.store import ENV_VAR, MockStore, get_store

GOOD = Credentials("mockuser", "mockpassword")


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "mock-storage"
    monkeypatch.setenv(ENV_VAR, str(root))
    return root


@pytest.fixture
def store(storage: Path) -> MockStore:
    return get_store()


@pytest.fixture
def driver(storage: Path) -> MockDriver:
    return MockDriver(credentials=GOOD)


@pytest.fixture
def anonymous(storage: Path) -> MockDriver:
    return MockDriver(credentials=None)


@pytest.fixture
def intruder(storage: Path) -> MockDriver:
    return MockDriver(credentials=Credentials("mockuser", "wrong"))
