"""The core's conformance kit against the azure driver (Azurite): driver level and over HTTP,
including its bucket/blob state machine."""

from __future__ import annotations

import pytest

pytest.importorskip("deltacloud_core.testing", reason="the conformance kit (deltacloud-core[testing]) is not installed")

from azurite_server import ACCOUNT, KEY
from deltacloud_core import Credentials
from deltacloud_core.testing import Conformance, ConformanceSettings

from deltacloud_azure_storage import AzureDriver


class TestAzure(Conformance):
    settings = ConformanceSettings(max_examples=8, stateful_steps=12, max_blob_size=4096, step_timeout=30.0)

    @pytest.fixture
    def driver(self, azurite) -> AzureDriver:
        return AzureDriver(credentials=Credentials(ACCOUNT, KEY), provider=azurite.url)

