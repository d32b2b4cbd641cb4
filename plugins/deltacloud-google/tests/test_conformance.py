"""The conformance kit against the google driver on fake-gcs-server (JSON API): driver level,
with the bucket life cycle (a hypothesis state machine of buckets and blobs against a model)."""

from __future__ import annotations

import pytest
from conftest import CREDENTIALS
from deltacloud_google import GoogleDriver

from deltacloud_core.testing import Conformance, ConformanceSettings


class TestGoogle(Conformance):
    settings = ConformanceSettings(max_examples=5, stateful_steps=10, settle_timeout=30.0, poll_interval=0.05)

    @pytest.fixture
    def driver(self, provider: str, request: pytest.FixtureRequest) -> GoogleDriver:
        driver = GoogleDriver(credentials=CREDENTIALS, provider=provider)
        callspec = getattr(request.node, "callspec", None)
        if callspec and callspec.params.get("collection") == "buckets" and any(
                w in request.node.name for w in ("show", "formats", "serialisation")):
            if driver.get_bucket("seeded-bucket") is None:
                driver.create_bucket(name="seeded-bucket")
        return driver
