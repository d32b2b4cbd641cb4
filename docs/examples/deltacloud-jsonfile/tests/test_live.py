"""Opt-in: the kit against your real inventory, not a temporary one (pytest --deltacloud-live).

It creates and destroys instances and keys in ``$DELTACLOUD_JSONFILE_DIR`` (or the default
directory) and cleans up after itself. Credentials come from the environment when your
file has users.
"""

from __future__ import annotations

import os

import pytest
from deltacloud_core import Credentials
from deltacloud_core.testing import ConformanceSettings, DriverConformance

from deltacloud_jsonfile.driver import JsonFileDriver


@pytest.mark.deltacloud_live
class TestLiveInventory(DriverConformance):
    settings = ConformanceSettings(max_examples=3, stateful_steps=8, step_timeout=60)

    @pytest.fixture
    def driver(self) -> JsonFileDriver:
        user, password = os.environ.get("JSONFILE_USER"), os.environ.get("JSONFILE_PASSWORD")
        credentials = Credentials(user, password) if user and password else None
        return JsonFileDriver(credentials=credentials, provider=os.environ.get("JSONFILE_PROVIDER"))
