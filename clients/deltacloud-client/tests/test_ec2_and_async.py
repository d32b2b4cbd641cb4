"""Driver switching and a cloud with asynchronous states: ec2 over moto, through the same deltacloudd;
and the async client (the same operations on httpx.AsyncClient)."""

from __future__ import annotations

import asyncio

import pytest
from conftest import AWS_AUTH, EC2_IMAGE, MOCK_AUTH
from deltacloud_client import AsyncClient, Client, HardwareProfileError, NotFound

#: Seconds a watch may take to report a change the test made (a bound, not a wait).
WATCH_TIMEOUT = 120.0


def test_with_driver_reaches_ec2_over_moto(server):
    with Client(server.url, *AWS_AUTH) as dc:
        assert dc.api().driver == "mock"
        ec2 = dc.with_driver("ec2", provider="us-east-1")
        api = ec2.api()
        assert (api.driver, api.provider) == ("ec2", "us-east-1")
        assert {"firewalls", "load_balancers"} <= set(api.collections)
        profiles = {p.id for p in ec2.hardware_profiles.list()}
        assert "m1.small" in profiles and "m1-small" not in profiles
        assert {p.id for p in dc.hardware_profiles.list()} >= {"m1-small", "m1-large"}  # mock's, on the same pool
        assert EC2_IMAGE in {i.id for i in ec2.images.list()}


def test_ec2_instance_passes_through_its_asynchronous_states(server):
    with Client(server.url, *AWS_AUTH, driver="ec2") as ec2:
        machine = ec2.instance_states()
        assert machine is not None and "stopping" in machine.names
        inst = ec2.instances.create(image=EC2_IMAGE, hardware_profile="m1.small")
        assert inst.state in ("PENDING", "RUNNING")
        running = inst.wait_for("RUNNING", timeout=120)
        assert running.state == "RUNNING" and "stop" in running.action_names
        stopping = running.stop()
        assert stopping.state in ("STOPPING", "STOPPED")
        stopped = stopping.wait_for("STOPPED", timeout=120)
        assert "start" in stopped.action_names
        stopped.destroy()
        assert stopped.wait_for("FINISH", timeout=120).id == inst.id


def test_ec2_enum_profile_is_checked_locally(server):
    with Client(server.url, *AWS_AUTH, driver="ec2") as ec2:
        small = ec2.hardware_profiles.get("m1.small")
        assert small.property("architecture").values == ("i386", "x86_64")
        with pytest.raises(HardwareProfileError, match="one of i386, x86_64"):
            ec2.instances.create(image=EC2_IMAGE, hardware_profile="m1.small", architecture="sparc")


def test_firewalls_on_ec2(server):
    with Client(server.url, *AWS_AUTH, driver="ec2") as ec2:
        fw = ec2.firewalls.create("client-fw", description="made by the client's tests")
        ruled = fw.add_rule(protocol="tcp", port_from=22, port_to=22, sources=("10.1.2.0/24",))
        assert [(r.allow_protocol, r.port_from, r.port_to) for r in ruled.rules] == [("tcp", "22", "22")]
        ruled.delete_rule(ruled.rules[0].id)
        assert ruled.refresh().rules == ()
        ruled.destroy()
        with pytest.raises(NotFound):
            ec2.firewalls.get(fw.id)


def test_async_client_has_the_same_surface(server):
    async def scenario() -> list[str]:
        async with AsyncClient(server.url, *MOCK_AUTH) as dc:
            api = await dc.api()
            listed = await dc.instances.list()
            inst = await dc.instances.create(image="img1", hardware_profile="m1-large", memory=8192, name="async")
            stopped = await (await inst.stop()).wait_for("STOPPED", timeout=30)
            with pytest.raises(HardwareProfileError):
                await dc.instances.create(image="img1", hardware_profile="m1-large", memory=1)
            bucket = await dc.buckets.get("bucket1")
            blob = await bucket.put("async-blob", b"async bytes", content_type="text/plain")
            content = await blob.read()
            await blob.destroy()
            await stopped.destroy()
            ec2 = dc.with_driver("ec2")
            return [api.driver, (await ec2.api()).driver, str(len(listed) >= 4), stopped.state, content.decode()]

    assert asyncio.run(scenario()) == ["mock", "ec2", "True", "STOPPED", "async bytes"]


def test_async_watch_sees_ec2_changes(server):
    async def scenario() -> list[str]:
        async with AsyncClient(server.url, *AWS_AUTH, driver="ec2") as ec2:
            initial = await ec2.instances.list()
            created = await ec2.instances.create(image=EC2_IMAGE)
            seen: list[str] = []
            async with asyncio.timeout(WATCH_TIMEOUT):  # a watch that misses the change fails, never hangs
                async for change in ec2.instances.watch(initial=initial, interval=0.2):
                    if change.id == created.id:
                        seen.append(change.kind)
                        if change.new_state == "RUNNING":
                            break
            current = await (await ec2.instances.get(created.id)).stop()
            await (await current.wait_for("STOPPED", timeout=120)).destroy()
            return seen

    kinds = asyncio.run(scenario())
    assert kinds[0] == "created"
