"""The conformance kit (deltacloud_core.testing) against the test cloud: driver level and over HTTP.

Kept lean for CI: a few short examples of each life cycle, one instance and one bucket at a time.
"""

from __future__ import annotations

import pytest
from deltacloud_core.testing import ApiConformance, ConformanceSettings, DriverConformance
from deltacloud_core.testing.settings import overrides_from_config

from deltacloud_openstack import OpenStackDriver

LEAN = ConformanceSettings(max_examples=3, stateful_steps=6, max_instances=1, max_buckets=1, poll_interval=0.1,
                           settle_timeout=60.0, step_timeout=60.0, sample_size=3)


class OpenStackFixture:
    settings = LEAN
    # Declared as the original driver did, though no catalogue feature: never advertised.
    tolerated_features = frozenset({("images", "user_name")})

    @pytest.fixture
    def driver(self, cloud, demo) -> OpenStackDriver:
        return OpenStackDriver(credentials=demo, provider=cloud.provider)

    @pytest.fixture
    def conformance_settings(self, request, cloud) -> ConformanceSettings:
        """Boot the test cloud's image with the smallest flavor (the kit would take any listed image)."""
        return self.settings.replace(instance_params={"image_id": cloud.image_id, "hwp_id": "m1.tiny"},
                                     **overrides_from_config(request.config))


class TestOpenStackDriver(OpenStackFixture, DriverConformance):
    pass


class TestOpenStackApi(OpenStackFixture, ApiConformance):
    pass
