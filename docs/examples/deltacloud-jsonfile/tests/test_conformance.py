"""The Deltacloud conformance kit against this driver: in-process, then over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltacloud_core.testing import ApiConformance, DriverConformance

from deltacloud_jsonfile.driver import JsonFileDriver


class JsonFileFixture:
    """The one fixture the kit needs: a driver ready to talk to its (empty) backend."""

    @pytest.fixture
    def driver(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> JsonFileDriver:
        monkeypatch.setenv("DELTACLOUD_JSONFILE_DIR", str(tmp_path))
        return JsonFileDriver()


class TestJsonFileDriver(JsonFileFixture, DriverConformance):
    pass


class TestJsonFileApi(JsonFileFixture, ApiConformance):
    pass
