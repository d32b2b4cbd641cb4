"""The Deltacloud conformance kit against this driver: in-process, then over HTTP (TestApi)."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltacloud_core.testing import Conformance

from deltacloud_jsonfile.driver import JsonFileDriver


class TestJsonFile(Conformance):
    @pytest.fixture
    def driver(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> JsonFileDriver:
        """The one fixture the kit needs: a driver ready to talk to its (empty) backend."""
        monkeypatch.setenv("DELTACLOUD_JSONFILE_DIR", str(tmp_path))
        return JsonFileDriver()
