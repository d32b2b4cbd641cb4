"""The feature catalogue (FEATURES.md §1) and the feature registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deltacloud_core.features import CORE_FEATURES, Feature, FeatureParam, FeatureRegistry
from deltacloud_core.features_plugin import deltacloud_register_features

FEATURES_MD = Path("/work/shared/spec/FEATURES.md")


def catalogue_rows() -> list[tuple[str, str, str | None, list[str]]]:
    """(name, collection, operation, params) from the catalogue table of FEATURES.md."""
    rows = []
    for line in FEATURES_MD.read_text().splitlines():
        m = re.match(r"\|\s*\d+\s*\|\s*`(\w+)`\s*\|\s*(\w+)\s*\|\s*([^|]+)\|\s*([^|]+)\|", line)
        if m:
            op = m.group(3).strip()
            op = None if op.startswith("\u2013") else op  # an en dash: no operation
            rows.append((m.group(1), m.group(2), op, re.findall(r"`(\w+)`", m.group(4))))
    return rows


@pytest.mark.skipif(not FEATURES_MD.exists(), reason="spec not available")
def test_catalogue_matches_the_spec_in_order():
    rows = catalogue_rows()
    assert len(rows) == 21
    assert [(f.name, f.collection, f.operation, [p.name for p in f.params]) for f in CORE_FEATURES] == rows


def test_catalogue_names_are_unique_per_collection():
    keys = [(f.collection, f.name) for f in CORE_FEATURES]
    assert len(keys) == len(set(keys))


def test_feature_params_are_always_optional():
    for feature in CORE_FEATURES:
        for param in feature.params:
            assert param.spec() == f"{param.name}:{param.type}:optional"


def test_firewalls_param_is_an_array():
    firewalls = next(f for f in CORE_FEATURES if f.name == "firewalls")
    assert firewalls.params[0].spec() == "firewalls:array:optional"


def test_registry_keeps_registration_order_and_filters_by_collection():
    reg = FeatureRegistry()
    deltacloud_register_features(registry=reg)
    assert list(reg) == list(CORE_FEATURES)
    assert len(reg) == len(CORE_FEATURES)
    instances = reg.for_collection("instances")
    assert [f.name for f in instances] == [f.name for f in CORE_FEATURES if f.collection == "instances"]
    assert reg.get("instances", "user_name") is not None
    assert reg.get("images", "user_name") is None
    assert reg.for_collection("nothing") == []


def test_registry_refuses_a_duplicate_naming_both_owners():
    reg = FeatureRegistry()
    feature = Feature("shiny", "instances", "create", (FeatureParam("shine"),))
    reg.register(feature, owner="plugin_a")
    with pytest.raises(ValueError, match=r"'shiny'.*by plugin_a and by plugin_b"):
        reg.register(Feature("shiny", "instances", "index"), owner="plugin_b")
    assert reg.get("instances", "shiny") is feature
    assert len(reg) == 1


def test_core_catalogue_registered_twice_names_the_core():
    reg = FeatureRegistry()
    deltacloud_register_features(registry=reg)
    with pytest.raises(ValueError, match="deltacloud_core and by intruder"):
        reg.register(CORE_FEATURES[0], owner="intruder")


def test_same_name_in_another_collection_is_allowed():
    reg = FeatureRegistry()
    reg.register(Feature("name", "instances", "create"))
    reg.register(Feature("name", "keys", "create"))
    assert [f.collection for f in reg] == ["instances", "keys"]


names = st.text(st.characters(codec="ascii", categories=["Ll"]), min_size=1, max_size=6)


@given(st.lists(st.tuples(names, st.sampled_from(["instances", "images", "keys"])), max_size=15))
def test_registry_accepts_exactly_the_first_of_each_key(entries):
    reg = FeatureRegistry()
    accepted: list[tuple[str, str]] = []
    for name, collection in entries:
        if (name, collection) in accepted:
            with pytest.raises(ValueError):
                reg.register(Feature(name, collection, None))
        else:
            reg.register(Feature(name, collection, None))
            accepted.append((name, collection))
    assert [(f.name, f.collection) for f in reg] == accepted
