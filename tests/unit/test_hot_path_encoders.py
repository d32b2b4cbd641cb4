"""The hot path's fast encoders write exactly what the slow, obvious ones write.

* ``renderers.json.dumps`` (orjson, with a standard-library fallback) vs ``json`` compact;
* ``renderers.xmlwriter.unparse`` vs ``xmltodict.unparse`` as the XML renderer calls it;
* ``schemas.fastdump.dumper(schema)`` vs ``schema.dump`` for every resource schema.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st

from deltacloud_core.web.renderers import xmlwriter
from deltacloud_core.web.renderers.json import dumps

_std = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

# -- JSON ------------------------------------------------------------------------------------

_json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
                 | st.floats(allow_nan=False, allow_infinity=False) | st.text())
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


def _std_dumps(value: object) -> bytes:
    return _std.encode(value).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(_json_values)
def test_json_matches_the_standard_library(value: object) -> None:
    try:
        expected = _std_dumps(value)
    except UnicodeEncodeError:  # lone surrogates: both refuse
        with pytest.raises((UnicodeEncodeError, TypeError)):
            dumps(value)
        return
    assert dumps(value) == expected


@pytest.mark.parametrize("value", [
    1e-05, 1e16, 1.5e300, 5e-324, -2.5e-7, 0.0001, 1740.8, {"a": [1e22, 0.1]}, {1: "int key"},
    {"big": 2**64}, {"s": "e-e1e2e30.0000"}, "\u2028\x00\x1f\x7f", [True, False, None],
])
def test_json_edge_cases(value: object) -> None:
    assert dumps(value) == _std_dumps(value)


def test_json_types_the_standard_library_refuses_are_still_refused() -> None:
    import dataclasses
    import datetime

    @dataclasses.dataclass
    class Thing:
        a: int

    for value in (Thing(1), datetime.datetime(2020, 1, 1), {"x": {1, 2}}):
        with pytest.raises(TypeError):
            dumps(value)


def test_json_nan_is_the_one_documented_difference() -> None:
    assert math.isnan(float("nan"))
    assert dumps({"x": float("nan")}) in (b'{"x":NaN}', b'{"x":null}')


@pytest.mark.parametrize(("value", "exact_path"), [
    ({"id": "i-6cfe03790df773b9e", "image": "ami-1e2e3e"}, False),  # hex ids: orjson's own output
    ({"name": "a:1e5,b", "n": 1}, True),  # text that looks like a float where a value starts
    ({"x": 1e16}, True), ({"x": [2.5e-7]}, True), ({"x": 1e-05}, True), ({"x": -1.2345678901234567e20}, True),
    (1e16, True), ([0.00001], True), ({"x": 0.5, "y": 10}, False),
])
def test_json_takes_the_exact_path_only_when_a_float_may_differ(value: object, exact_path: bool) -> None:
    import orjson

    from deltacloud_core.web.renderers.json import _may_differ

    assert _may_differ(orjson.dumps(value)) is exact_path
    assert dumps(value) == _std_dumps(value)


# -- XML -------------------------------------------------------------------------------------

_names = st.sampled_from(["instance", "link", "a", "b-c", "d_e", "ns:f", "x1"])
_xml_text = st.text(alphabet=st.sampled_from(list("ab &<>\"'\n\r\t\u00e9\u2028 ")), max_size=8)
_xml_scalars = st.none() | st.booleans() | st.integers(-5, 5) | _xml_text


def _element(inner: st.SearchStrategy) -> st.SearchStrategy:
    attrs = st.dictionaries(_names.map(lambda n: "@" + n), _xml_scalars, max_size=3)
    children = st.dictionaries(_names, inner, max_size=3)
    text = st.one_of(st.just({}), _xml_scalars.map(lambda t: {"#text": t}))
    return st.tuples(attrs, children, text).map(lambda p: {**p[0], **p[1], **p[2]})


_xml_values = st.recursive(
    _xml_scalars,
    lambda inner: _element(inner) | st.lists(inner | _element(inner), max_size=3),
    max_leaves=25)


def _slow(doc: dict) -> str:
    return xmltodict.unparse(doc, full_document=False, pretty=True, indent="  ", short_empty_elements=False)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(_names, _xml_values, min_size=1, max_size=2))
def test_xml_matches_xmltodict(doc: dict) -> None:
    assert xmlwriter.unparse(doc) == _slow(doc)


@pytest.mark.parametrize("doc", [
    {"a": {"#comment": "hi", "b": "x"}},
    {"a": {"@xmlns": {"x": "urn:x"}}},
    {"a": b"bytes"},
    {"a": {1: "non-string child"}},
    {"bad name": "x"},
    {"a": {"@bad=attr": "x"}},
])
def test_xml_leaves_the_unusual_to_xmltodict(doc: dict) -> None:
    with pytest.raises(xmlwriter.Unsupported):
        xmlwriter.unparse(doc)


def test_xml_renderer_output_is_unchanged_for_the_unusual() -> None:
    from deltacloud_core.web.renderers.xml import to_xml

    doc = {"a": {"#comment": "hi", "b": "x"}}
    assert to_xml(doc, False).decode() == _slow(doc) + "\n"
    with pytest.raises(ValueError):
        to_xml({"bad name": "x"}, False)


# -- precompiled dumpers ---------------------------------------------------------------------

def _instances() -> list:
    from deltacloud_core.models import Instance, InstanceAddress, InstanceProfile

    return [
        Instance(id="i1", state="RUNNING", name="a <b> & 'c'", owner_id="me", image_id="img1", realm_id="us",
                 instance_profile=InstanceProfile("m1-large", {"cpu": "2", "memory": "8192"}),
                 public_addresses=(InstanceAddress("1.2.3.4"), InstanceAddress(" ", "hostname")),
                 private_addresses=(InstanceAddress("10.0.0.1", "ipv4", 22),), create_image=True,
                 storage_volumes=(("v1", "/dev/sdb"), ("v2", None)), firewalls=("fw1",), keyname="k",
                 username="u", password="p", network_interfaces=("n1",)),
        Instance(id="i 2/x", state="STOPPED", actions=("start", "destroy")),
        Instance(id="i3", state="PENDING", name=None, firewalls=(), network_interfaces=(),
                 authn_error="no key", instance_profile=InstanceProfile("opaque")),
    ]


def test_fast_dumpers_match_marshmallow_for_every_resource() -> None:
    from deltacloud_core.drivers.registry import DriverRegistry
    from deltacloud_core.schemas.context import RenderContext, rendering
    from deltacloud_core.schemas.fastdump import dumper
    from deltacloud_core.web import Settings, create_app

    app = create_app(Settings(default_driver="mock"))
    driver_cls = DriverRegistry().load("mock")
    ctx = RenderContext(api_url="http://h/api", driver_cls=driver_cls, state_machine=driver_cls.INSTANCE_STATES)
    objects = {"instance": _instances()}
    checked = 0
    with rendering(ctx):
        for resource in app.services.resources.values():
            for schema in resource.schemas.values():
                for obj in objects.get(resource.name, []):
                    assert dumper(schema)(obj) == schema.dump(obj)
                    assert list(dumper(schema)(obj)) == list(schema.dump(obj))  # key order too
                    checked += 1
    assert checked >= 6


# -- the compiled dumpers against marshmallow, for every model the schemas dump -------------------

def _models_by_resource() -> dict[str, type]:
    from deltacloud_core import models
    from deltacloud_core.hardware import HardwareProfile

    return {"address": models.Address, "blob": models.Blob, "bucket": models.Bucket, "firewall": models.Firewall,
            "firewall_index": models.Firewall, "hardware_profile": HardwareProfile, "image": models.Image,
            "instance": models.Instance, "run_result": models.RunResult, "key": models.Key,
            "load_balancer": models.LoadBalancer, "metric": models.Metric,
            "network_interface": models.NetworkInterface, "network": models.Network, "realm": models.Realm,
            "storage_snapshot": models.StorageSnapshot, "storage_volume": models.StorageVolume,
            "subnet": models.Subnet}


def test_every_dump_schema_has_a_model_here() -> None:
    """The hypothesis check below covers every resource whose schemas are marshmallow DumpSchemas."""
    from deltacloud_core.schemas.base import DumpSchema
    from deltacloud_core.web import Settings, create_app

    app = create_app(Settings(default_driver="mock"))
    dumped = {name for name, res in app.services.resources.items()
              if any(isinstance(s, DumpSchema) for s in res.schemas.values())}
    assert dumped == set(_models_by_resource())


def _model_strategy(cls: type) -> Any:
    """A hypothesis strategy for a frozen model: every field drawn from its annotated type (``extra``
    left empty: no schema dumps it), hardware properties through their own constructors."""
    import dataclasses
    import typing

    from hypothesis import strategies as st

    from deltacloud_core.hardware import HardwareProperty

    name = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)
    number = st.one_of(st.integers(-5, 10_000), st.floats(0, 1e6, allow_nan=False))
    prop = st.one_of(st.builds(HardwareProperty.fixed, name, number),
                     st.builds(lambda n, a, b: HardwareProperty.range(n, min(a, b), max(a, b)), name, number, number),
                     st.builds(lambda n, v: HardwareProperty.enum(n, tuple(v)), name,
                               st.lists(number, min_size=1, max_size=3, unique=True)))
    hints = typing.get_type_hints(cls)
    fields = {}
    for field in dataclasses.fields(cls):
        if field.name == "extra":
            fields[field.name] = st.just({})
        elif hints[field.name] == tuple[HardwareProperty, ...]:
            fields[field.name] = st.lists(prop, max_size=3, unique_by=lambda p: p.name).map(tuple)
        else:
            fields[field.name] = st.from_type(hints[field.name])
    return st.builds(cls, **fields)


@pytest.mark.parametrize("resource", sorted(_models_by_resource()))
def test_fast_dumpers_match_marshmallow_for_any_model(resource: str) -> None:
    """Whatever values a model holds (hypothesis builds them from the dataclass's types), the
    compiled dumper gives what marshmallow's ``schema.dump`` gives, keys in the same order."""
    from hypothesis import HealthCheck, given, settings

    from deltacloud_core import Driver, StateMachine
    from deltacloud_core.schemas.context import RenderContext, rendering
    from deltacloud_core.schemas.fastdump import dumper
    from deltacloud_core.web import Settings, create_app

    class SomeDriver(Driver):
        driver_id = "some"
        INSTANCE_STATES = (StateMachine.builder().on("start", "create", "running")
                           .on("running", "stop", "stopped").on("stopped", "destroy", "finish").build())
        FEATURES = {"instances": ("authentication_key",)}

        def destroy_image(self, id: str) -> None: ...

        def run_on_instance(self, id: str, **kwargs: object) -> None: ...

    app = create_app(Settings(default_driver="mock"))
    schemas = app.services.resources[resource].schemas
    ctx = RenderContext(api_url="http://h/api", driver_name="some", driver_cls=SomeDriver,
                        driver=SomeDriver(), state_machine=SomeDriver.INSTANCE_STATES)
    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(_model_strategy(_models_by_resource()[resource]))
    def check(model: object) -> None:
        with rendering(ctx):
            for schema in schemas.values():
                fast, slow = dumper(schema)(model), schema.dump(model)
                assert fast == slow
                assert list(fast) == list(slow)

    check()
