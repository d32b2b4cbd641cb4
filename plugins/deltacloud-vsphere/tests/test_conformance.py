"""The conformance kit (deltacloud_core.testing) against the vCenter simulator.

Driver level here (the kit's requests through the core's collections, in process); the HTTP
checks run against a real ``deltacloudd -i vsphere`` in test_server.py. Both run the kit's
hypothesis life cycle of instances.
"""

from __future__ import annotations

import pytest
from conftest import Seeded
from deltacloud_core.testing import ConformanceSettings, DriverConformance
from deltacloud_core.testing.settings import overrides_from_config

from deltacloud_vsphere import VSphereDriver

SETTINGS = ConformanceSettings(max_examples=4, stateful_steps=8, max_instances=2, poll_interval=0.05,
                               settle_timeout=30.0, step_timeout=30.0, sample_size=3)


def launch_params(vcsim: Seeded) -> dict[str, str]:
    """The seeded x86_64 template, 1 CPU and 256 MiB, in the cluster."""
    return {"image_id": vcsim.template, "hwp_id": "default", "hwp_memory": "256", "realm_id": vcsim.cluster}


class TestVSphereDriver(DriverConformance):
    settings = SETTINGS

    @pytest.fixture
    def driver(self, vcsim: Seeded) -> VSphereDriver:
        return vcsim.driver()

    @pytest.fixture
    def conformance_settings(self, request, vcsim: Seeded) -> ConformanceSettings:
        return self.settings.replace(instance_params=launch_params(vcsim), **overrides_from_config(request.config))
