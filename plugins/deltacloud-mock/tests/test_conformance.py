"""The conformance kit against the mock driver: driver level and over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltacloud_core import Credentials
from deltacloud_core.testing import ApiConformance, DriverConformance

from deltacloud_mock.driver import MockDriver


class MockFixture:
    # Declared on purpose though not in the catalogue, as the original did: never advertised.
    tolerated_features = frozenset({("instances", "user_Data"), ("images", "user_name"),
                                    ("images", "user_description")})

    @pytest.fixture
    def driver(self, storage: Path) -> MockDriver:
        return MockDriver(credentials=Credentials("mockuser", "mockpassword"))


class TestMockDriver(MockFixture, DriverConformance):
    pass


class TestMockApi(MockFixture, ApiConformance):
    pass
