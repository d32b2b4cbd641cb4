"""Shared fixtures: an in-process app on a fresh mock store per test, and an HTTP client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

GOLDEN = Path(__file__).parent / "golden"
BASE_URL = "http://127.0.0.1:3001"
MOCK_AUTH = ("mockuser", "mockpassword")


@pytest.fixture
def mock_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty mock data directory (the driver seeds its fixtures into it on first use)."""
    root = tmp_path / "mock"
    monkeypatch.setenv("DELTACLOUD_MOCK_STORAGE", str(root))
    return root


@pytest.fixture
def app(mock_storage: Path):
    from deltacloud_core.web import Settings, create_app

    return create_app(Settings(default_driver="mock"))


@pytest.fixture
def client(app) -> Iterator[httpx.Client]:
    """A synchronous client over the ASGI app, authenticated as the mock user."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url=BASE_URL) as test_client:
        test_client.auth = MOCK_AUTH
        yield test_client


@pytest.fixture
def anon(app) -> Iterator[httpx.Client]:
    """A client that sends no credentials."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
async def aclient(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=MOCK_AUTH) as c:
        yield c
