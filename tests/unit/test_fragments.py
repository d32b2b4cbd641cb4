"""The fragment cache: list answers built from remembered items are the bytes of a fresh rendering."""

from __future__ import annotations

import dataclasses

import pytest

from deltacloud_core.collections.base import Outcome
from deltacloud_core.drivers.registry import DriverRegistry
from deltacloud_core.models import Instance, InstanceAddress, InstanceProfile
from deltacloud_core.schemas.context import RenderContext
from deltacloud_core.web import Settings, create_app
from deltacloud_core.web.renderers import RenderEnv
from deltacloud_core.web.renderers.fragments import FragmentCache


@dataclasses.dataclass
class Mutable:
    id: str


def _instances() -> list[Instance]:
    return [
        Instance(id="i1", state="RUNNING", name="a <b> & \"c\" 'd'", owner_id="mockuser", image_id="img1",
                 realm_id="us", instance_profile=InstanceProfile("m1-large", {"cpu": "2"}),
                 public_addresses=(InstanceAddress("10.0.0.1"), InstanceAddress(" ")),
                 storage_volumes=(("vol1", "/dev/sdb"),), keyname="k&y", create_image=True),
        Instance(id="i 2/ü", state="STOPPED", name="nøn-ascii \u2028 tab\tnew\nline\x01"),
        Instance(id="i3", state="PENDING", name=None, firewalls=(), instance_profile=InstanceProfile("opaque")),
    ]


# -- the cache itself ------------------------------------------------------------------------

def test_a_hit_needs_an_equal_model_in_the_same_scope() -> None:
    cache = FragmentCache(1 << 20)
    item, twin = _instances()[0], dataclasses.replace(_instances()[0])
    cache.put("s", item, b"one")
    assert cache.get("s", item) == b"one"
    assert twin is not item and cache.get("s", twin) == b"one"  # another object, equal: a hit
    assert cache.get("s", dataclasses.replace(item, state="STOPPED")) is None  # same id, changed
    assert cache.get("s", dataclasses.replace(item, id="i9")) is None  # another id
    assert cache.get("other scope", item) is None


def test_models_without_an_id_are_not_kept() -> None:
    cache = FragmentCache(1 << 20)
    nameless = dataclasses.replace(_instances()[0], id=None)  # type: ignore[arg-type]
    cache.put("s", nameless, b"one")
    assert len(cache) == 0 and cache.get("s", nameless) is None


def test_only_frozen_dataclasses_are_kept() -> None:
    cache = FragmentCache(1 << 20)
    for item in (Mutable("x"), {"id": "x"}, ["x"]):
        cache.put("s", item, b"bytes")
        assert cache.get("s", item) is None
    assert len(cache) == 0 and cache.size == 0


def test_the_cache_stays_within_its_bytes_and_forgets_the_oldest() -> None:
    cache = FragmentCache(2_000)
    items = [Instance(id=f"i{n}", state="RUNNING") for n in range(10)]
    for item in items:
        cache.put("s", item, b"x" * 500)
        assert cache.size <= 2_000
    assert cache.get("s", items[0]) is None
    assert cache.get("s", items[-1]) == b"x" * 500
    assert len(cache) == 2_000 // (500 + 200)
    cache.put("s", items[1], b"y" * 5_000)  # larger than the whole cache: not kept
    assert cache.get("s", items[1]) is None
    cache.clear()
    assert len(cache) == 0 and cache.size == 0


def test_replacing_an_entry_keeps_the_size_right() -> None:
    cache = FragmentCache(10_000)
    item = Instance(id="i", state="RUNNING")
    cache.put("s", item, b"a" * 100)
    cache.put("s", item, b"b" * 300)
    assert cache.get("s", item) == b"b" * 300
    assert cache.size == 300 + 200


# -- list answers ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app():
    return create_app(Settings(default_driver="mock"))


_MOCK = DriverRegistry().load("mock")


def _env(app, fragments: FragmentCache | None, api_url: str = "http://h/api", provider: str | None = None) -> RenderEnv:
    driver_cls = _MOCK
    context = RenderContext(api_url=api_url, driver_name="mock", provider=provider, driver_cls=driver_cls,
                            driver=driver_cls(provider=provider), state_machine=app.state_machine_for(driver_cls))
    return RenderEnv(context=context, resources=app.services.resources, fragments=fragments)


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("count", [0, 1, 3])
def test_lists_from_the_cache_are_the_fresh_bytes(app, fmt: str, count: int) -> None:
    renderer = app.renderers[fmt]
    outcome = Outcome.collection("instance", _instances()[:count])
    fresh = renderer.render(outcome, _env(app, None))
    cache = FragmentCache(1 << 20)
    first = renderer.render(outcome, _env(app, cache))
    assert len(cache) == count
    second = renderer.render(outcome, _env(app, cache))
    assert fresh == first == second
    assert len(cache) == count  # the second answer came from the cache


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_different_api_url_or_provider_is_rendered_afresh(app, fmt: str) -> None:
    renderer = app.renderers[fmt]
    outcome = Outcome.collection("instance", _instances())
    cache = FragmentCache(1 << 20)
    renderer.render(outcome, _env(app, cache))
    elsewhere = renderer.render(outcome, _env(app, cache, api_url="https://proxy.example/dc/api"))
    assert b"https://proxy.example/dc/api/instances/i1" in elsewhere
    assert b"http://h/api" not in elsewhere
    assert elsewhere == renderer.render(outcome, _env(app, None, api_url="https://proxy.example/dc/api"))
    renderer.render(outcome, _env(app, cache, provider="other"))
    assert len(cache) == 3 * len(_instances())


def test_a_changed_model_is_a_new_object_and_rendered_afresh(app) -> None:
    renderer = app.renderers["json"]
    cache = FragmentCache(1 << 20)
    before = _instances()
    renderer.render(Outcome.collection("instance", before), _env(app, cache))
    after = [dataclasses.replace(before[0], state="STOPPED"), *before[1:]]
    body = renderer.render(Outcome.collection("instance", after), _env(app, cache))
    assert body == renderer.render(Outcome.collection("instance", after), _env(app, None))
    assert b'"state":"STOPPED"' in body.split(b'"id":"i 2')[0]


def test_the_setting_turns_the_cache_off(app) -> None:
    assert create_app(Settings(default_driver="mock", render_cache_bytes=0)).services.fragments.enabled is False
    assert app.services.fragments.enabled is True


# -- whole documents and their ETags ---------------------------------------------------------

def test_a_document_of_the_same_fragments_is_the_same_object_with_the_same_etag() -> None:
    import hashlib

    cache = FragmentCache(1 << 20)
    parts = [b"a", b"b"]
    joins: list[int] = []

    def join(p: list[bytes]) -> bytes:
        joins.append(1)
        return b"[" + b",".join(p) + b"]"

    first = cache.document("s", parts, join)
    again = cache.document("s", list(parts), join)
    assert again is first
    assert len(joins) == 1
    assert cache.etag(first) == hashlib.md5(b"[a,b]").hexdigest()
    assert cache.etag(b"[a,b]") == hashlib.md5(b"[a,b]").hexdigest()  # any other body: computed
    changed = cache.document("s", [parts[0], b"c"], join)  # a new fragment object: joined afresh
    assert changed == b"[a,c]"
    assert cache.etag(changed) == hashlib.md5(b"[a,c]").hexdigest()
    assert len(joins) == 2
    equal_not_same = cache.document("s", [b"a", bytes(bytearray(b"c"))], join)
    assert equal_not_same == changed
    assert len(joins) == 3


def test_documents_stay_within_a_quarter_of_the_cache() -> None:
    cache = FragmentCache(4_000)
    for n in range(10):
        cache.document(f"scope{n}", [b"x" * 300], lambda p: b"".join(p))
        assert cache.document_size <= 1_000
    big = cache.document("big", [b"y" * 2_000], lambda p: b"".join(p))
    assert big == b"y" * 2_000
    assert cache.document_size <= 1_000
    cache.clear()
    assert cache.document_size == 0


def test_an_xml_item_only_xmltodict_can_write_falls_back_to_the_whole_document(
        app, monkeypatch: pytest.MonkeyPatch) -> None:
    from deltacloud_core.web.renderers import xml, xmlwriter

    def unsupported(_tag: str, _tree: object) -> bytes:
        raise xmlwriter.Unsupported("as xmltodict alone would write it")

    outcome = Outcome.collection("instance", _instances())
    fresh = app.renderers["xml"].render(outcome, _env(app, None))
    monkeypatch.setattr(xml, "_element", unsupported)
    cache = FragmentCache(1 << 20)
    assert app.renderers["xml"].render(outcome, _env(app, cache)) == fresh
    assert len(cache) == 0
