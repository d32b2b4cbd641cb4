"""The conformance kit against the ec2 driver (moto behind it): driver level and over HTTP.

The kit's instance life cycle (a hypothesis state machine of create/start/stop/reboot/destroy,
legal and illegal, checked against ``/api/instance_states``) runs over HTTP too.
"""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from conftest import ACCESS_KEY, CREDENTIALS, IMAGE_X86_64, SECRET_KEY
from deltacloud_ec2 import EC2Driver

from deltacloud_core.testing import Conformance, ConformanceSettings


class TestEC2(Conformance):
    settings = ConformanceSettings(max_examples=5, stateful_steps=10, settle_timeout=30.0, poll_interval=0.05,
                                   instance_params={"image_id": IMAGE_X86_64, "hwp_id": "m1.small"})

    @pytest.fixture
    def driver(self, moto, request: pytest.FixtureRequest) -> EC2Driver:
        driver = EC2Driver(credentials=CREDENTIALS)
        callspec = getattr(request.node, "callspec", None)
        collection = callspec.params.get("collection") if callspec else None
        if collection in SEEDS and any(w in request.node.name for w in ("show", "formats", "serialisation")):
            SEEDS[collection](driver, moto.url)
        return driver

    def test_creating_driver_has_create_transition(self, kit) -> None:
        """EC2's machine (STATES.md) starts instances with an *automatic* ``start -> pending``: the
        cloud creates them, there is no ``create`` action to advertise. Checked as it is instead."""
        machine = kit.app.state_machine_for(kit.driver_cls)
        assert machine.transitions_from("start")[0].auto
        assert machine.next_state("start", "create") is None


def _instance(driver: EC2Driver, endpoint: str) -> str:
    return driver.create_instance(image_id=IMAGE_X86_64, realm_id="us-east-1a").id


def _load_balancer(driver: EC2Driver, endpoint: str) -> None:
    driver.create_load_balancer(name="seeded", realm_id="us-east-1a", listener_protocol="HTTP",
                                listener_balancer_port="80", listener_instance_port="8080")
    driver.register_instance("seeded", instance_id=_instance(driver, endpoint))


def _metric(driver: EC2Driver, endpoint: str) -> None:
    cloudwatch = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=[{
        "MetricName": "CPUUtilization", "Dimensions": [{"Name": "InstanceId", "Value": _instance(driver, endpoint)}],
        "Value": 42.0, "Unit": "Percent", "Timestamp": dt.datetime.now(dt.UTC)}])


def _snapshot(driver: EC2Driver, endpoint: str) -> None:
    driver.create_storage_snapshot(volume_id=driver.create_storage_volume(capacity="1").id)


#: What to create before the show / format / serialisation checks of a collection that starts empty.
SEEDS = {
    "instances": _instance,
    "network_interfaces": _instance,
    "load_balancers": _load_balancer,
    "metrics": _metric,
    "keys": lambda driver, _endpoint: driver.create_key(name="seeded"),
    "addresses": lambda driver, _endpoint: driver.create_address(),
    "buckets": lambda driver, _endpoint: driver.create_bucket(name="seeded-bucket"),
    "storage_snapshots": _snapshot,
}

