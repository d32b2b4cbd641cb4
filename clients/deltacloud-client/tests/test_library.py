"""The blocking library against a real deltacloudd on the mock driver."""

from __future__ import annotations

import threading

import httpx
import pytest
from conftest import MOCK_AUTH
from deltacloud_client import (
    ActionNotAvailable,
    BadRequest,
    Client,
    HardwareProfileError,
    MethodNotAllowed,
    NotFound,
    NotSupported,
    Unauthorized,
    UsageError,
    WaitTimeout,
    models,
)

COLLECTIONS = ["realms", "hardware_profiles", "images", "instances", "keys", "storage_volumes", "storage_snapshots",
               "buckets", "addresses", "metrics", "networks", "subnets", "network_interfaces", "drivers"]


class CountingTransport(httpx.HTTPTransport):
    """A real transport that remembers what it sent (to prove what was, or was not, sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.sent.append(request)
        return super().handle_request(request)


def test_entry_point_is_discovered(dc):
    api = dc.api()
    assert (api.driver, api.version) == ("mock", "1.1.3")
    assert set(COLLECTIONS) <= set(api.collections)
    assert "firewalls" not in api.collections
    create = [f.name for f in api.collections["instances"].features if f.operation == "create"]
    assert "user_name" in create and "authentication_key" in create
    assert api.idempotency is True  # X-Deltacloud-Idempotency: supported (issue 21)
    assert api.events_url == f"{dc.url}/events"  # the entry point's Link: <...>; rel="events" (issue 15)


@pytest.mark.parametrize("name", COLLECTIONS)
def test_every_collection_lists_typed_frozen_models(dc, name):
    items = getattr(dc, name).list()
    assert items, name
    for item in items:
        assert isinstance(item, models.Resource) and item.id
        with pytest.raises(AttributeError):
            item.id = "changed"  # frozen
    if name != "drivers":
        again = getattr(dc, name).get(items[0].id)
        assert again.id == items[0].id


def test_instance_model_reads_what_the_server_says(dc):
    inst = dc.instances.get("inst0")
    assert inst.state == "RUNNING" and inst.owner_id == "mockuser"
    assert inst.image.id == "img1" and inst.realm.id == "us"
    assert inst.hardware_profile.id == "m1-large" and inst.hardware_profile.overrides == {"memory": "12288"}
    assert inst.action_names == ("reboot", "stop", "run", "create_image")
    assert inst.public_addresses[0].address == "img1.inst0.public.com"
    assert inst.allows_create_image is True


def test_hardware_profiles_carry_kinds_and_bounds(dc):
    large = dc.hardware_profiles.get("m1-large")
    memory = large.property("memory")
    assert (memory.kind, memory.first, memory.last, memory.default, memory.unit) == ("range", "7680", "15360",
                                                                                      "10240", "MB")
    storage = large.property("storage")
    assert (storage.kind, storage.values) == ("enum", ("850", "1024"))
    assert large.property("architecture").kind == "fixed"


def test_the_life_of_an_instance(dc):
    inst = dc.instances.create(image="img1", hardware_profile="m1-large", memory=12288, name="life")
    assert inst.state == "RUNNING" and inst.name == "life"
    assert inst.hardware_profile.overrides == {"memory": "12288"}
    with pytest.raises(ActionNotAvailable) as refused:
        inst.start()
    assert refused.value.available == ("reboot", "stop", "run", "create_image")
    assert "offers: reboot, stop, run, create_image" in str(refused.value)
    stopped = inst.stop().wait_for("STOPPED", timeout=30)
    assert stopped.state == "STOPPED" and "start" in stopped.action_names and "destroy" in stopped.action_names
    started = stopped.start()
    assert started.wait_for("RUNNING", timeout=30).state == "RUNNING"
    started.stop().destroy()
    with pytest.raises(NotFound) as gone:
        dc.instances.get(inst.id)
    assert gone.value.status == 404 and gone.value.error_class == "Deltacloud::Exceptions::ObjectNotFound"
    assert stopped.wait_for("FINISH", timeout=5).id == inst.id  # gone counts as FINISH


def test_hardware_profile_overrides_are_checked_before_sending(server):
    transport = CountingTransport()
    with Client(server.url, *MOCK_AUTH, transport=transport) as dc:
        before = len(dc.instances.list())
        with pytest.raises(HardwareProfileError) as refused:
            dc.instances.create(image="img1", hardware_profile="m1-large", memory=99999999)
        assert "7680..15360" in str(refused.value) and refused.value.prop == "memory"
        with pytest.raises(HardwareProfileError, match="one of 850, 1024"):
            dc.instances.create(image="img1", hardware_profile="m1-large", storage=900)
        with pytest.raises(HardwareProfileError, match="has no property 'cpu'"):
            dc.instances.create(image="img1", hardware_profile="opaque", cpu=2)
        with pytest.raises(UsageError, match="give hardware_profile="):
            dc.instances.create(image="img1", memory=8192)
        assert not [r for r in transport.sent if r.method == "POST"], "nothing may be sent"
        assert len(dc.instances.list()) == before


def test_the_servers_error_documents_become_exceptions(server, dc):
    with Client(server.url, "mockuser", "wrong") as bad, pytest.raises(Unauthorized) as denied:
        bad.instances.list()
    assert denied.value.status == 401 and denied.value.driver == "mock"
    assert "wrong" not in str(denied.value)
    inst = dc.instances.create(image="img1", name="stale")
    dc.instances.get(inst.id).stop()
    with pytest.raises(MethodNotAllowed) as refused:  # the stale copy still offers stop: the server says no
        inst.stop()
    assert refused.value.status == 405 and refused.value.message == "Method Not Allowed"
    dc.instances.get(inst.id).destroy()


def test_collections_the_driver_lacks_are_refused_by_name(dc):
    with pytest.raises(NotSupported, match="offers no firewalls"):
        dc.firewalls.list()


def test_wait_for_gives_up_and_says_how_to_get_there(server):
    with Client(server.url, *MOCK_AUTH) as dc:
        inst = dc.instances.create(image="img1", name="waiting")
        with pytest.raises(WaitTimeout) as late:
            inst.wait_for("STOPPED", timeout=0.5)
        assert late.value.last_state == "RUNNING"
        assert "from RUNNING it reaches STOPPED by: stop" in str(late.value)
        with pytest.raises(UsageError, match="not a state"):
            inst.wait_for("SLEEPING")
        inst.stop().destroy()


def test_watch_polls_and_tells_the_changes(server):
    with Client(server.url, *MOCK_AUTH) as watcher, Client(server.url, *MOCK_AUTH) as actor:
        first = actor.instances.create(image="img1", name="watched")
        initial = watcher.instances.list()
        changes = watcher.instances.watch(initial=initial, interval=0.1)
        actor.instances.get(first.id).stop()
        second = actor.instances.create(image="img2", name="newcomer")
        seen = [next(changes), next(changes)]
        texts = sorted(str(c) for c in seen)
        assert texts == sorted([f"{first.id} changed from RUNNING to STOPPED",
                                f"{second.id} was created and is now RUNNING"])
        actor.instances.get(first.id).destroy()
        assert str(next(changes)) == f"{first.id} was destroyed"
        changes.close()
        actor.instances.get(second.id).stop().destroy()


def test_with_driver_switches_per_request_and_keeps_the_pool(server):
    with Client(server.url, *MOCK_AUTH) as dc:
        assert dc.with_driver("mock", provider="somewhere").api().provider == "somewhere"
        assert dc.api().provider is None
        with pytest.raises(BadRequest) as unknown:  # a driver this server does not offer: the client's 400
            dc.with_driver("nosuch").api()
        assert "nosuch" in str(unknown.value) and "mock" in str(unknown.value)  # it names the drivers there are


def test_xml_reads_the_same_as_json(server):
    with Client(server.url, *MOCK_AUTH) as as_json, Client(server.url, *MOCK_AUTH, format="xml") as as_xml:
        for name in ["instances", "images", "realms", "hardware_profiles", "storage_volumes", "buckets", "addresses",
                     "networks"]:
            a = {r.id: r for r in getattr(as_json, name).list()}
            b = {r.id: r for r in getattr(as_xml, name).list()}
            assert set(a) == set(b), name
        for inst_id in ["inst0", "inst1", "inst2"]:
            j, x = as_json.instances.get(inst_id), as_xml.instances.get(inst_id)
            assert (j.state, j.image, j.realm, j.hardware_profile, j.action_names, j.public_addresses) == (
                x.state, x.image, x.realm, x.hardware_profile, x.action_names, x.public_addresses)
        assert as_json.hardware_profiles.get("m1-xlarge").properties == as_xml.hardware_profiles.get(
            "m1-xlarge").properties
        assert as_xml.api().collections.keys() == as_json.api().collections.keys()
        inst = as_xml.instances.create(image="img1", name="via-xml")
        assert inst.stop().wait_for("STOPPED", timeout=30).state == "STOPPED"
        inst.refresh().destroy()


def test_creates_carry_a_fresh_idempotency_key_when_the_server_offers_it(server):
    transport = CountingTransport()
    with Client(server.url, *MOCK_AUTH, transport=transport) as dc:
        for name in ("idem-key", "idem-key-2"):
            key = dc.keys.create(name)
            assert key.id == name and key.pem_rsa_key
            key.destroy()
    posts = [r for r in transport.sent if r.method == "POST"]
    keys = [r.headers.get("idempotency-key") for r in posts]
    assert len(keys) == 2 and all(keys) and keys[0] != keys[1]  # one per create, never reused
    assert all("mockpassword" not in str(r.url) for r in transport.sent)


def test_other_collections_create_and_destroy(dc):
    volume = dc.storage_volumes.create(capacity=2, name="lib-vol")
    assert volume.capacity == "2"
    attached = volume.attach("inst1", "/dev/sdh")
    assert attached.state == "IN-USE" and attached.instance.id == "inst1"
    snapshot = attached.snapshot(name="lib-snap")
    assert snapshot.storage_volume.id == volume.id
    snapshot.destroy()
    detached = attached.detach()
    assert detached.instance is None
    detached.destroy()
    address = dc.addresses.create()
    address.associate("inst2")
    assert dc.addresses.get(address.id).instance_id == "inst2"
    dc.addresses.get(address.id).disassociate()
    dc.addresses.get(address.id).destroy()
    image = dc.instances.get("inst1").create_image(name="lib-image", description="from inst1")
    assert image.id == "lib-image"
    launched = dc.images.get("lib-image").launch(name="from-image")
    assert launched.image.id == "lib-image"
    launched.stop().destroy()
    image.destroy()
