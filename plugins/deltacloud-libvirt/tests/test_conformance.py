"""The whole conformance kit (driver level and over HTTP, life cycles included) on libvirt's test driver."""

from __future__ import annotations

import pytest
from deltacloud_core import Credentials
from deltacloud_core.testing import Conformance, ConformanceSettings

from deltacloud_libvirt import LibvirtDriver

from .conftest import TEST_URI


class TestLibvirtOnTestDriver(Conformance):
    settings = ConformanceSettings(max_examples=8, stateful_steps=12, poll_interval=0.05, settle_timeout=20.0,
                                   instance_params={"image_id": "tiny.qcow2"})

    @pytest.fixture
    def driver(self, no_auth_allowed: None) -> LibvirtDriver:
        return LibvirtDriver(credentials=Credentials("alice", "any"), provider=TEST_URI)
