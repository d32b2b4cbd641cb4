"""The conformance kit against the mock driver: driver level, then over HTTP (TestMock::TestApi)."""

from __future__ import annotations

import pytest
from deltacloud_core import Credentials
from deltacloud_core.testing import Conformance

from deltacloud_mock.driver import MockDriver


class TestMock(Conformance):
    # Declared on purpose though not in the catalogue, as the original did: never advertised.
    tolerated_features = frozenset({"instances:user_Data", "images:user_name", "images:user_description"})

    @pytest.fixture
    def driver(self, storage: object) -> MockDriver:
        return MockDriver(credentials=Credentials("mockuser", "mockpassword"))
