"""Matrix parameters: ``/api;driver=ec2;provider=eu-west-1/instances`` (API.md §4.2)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deltacloud_core.web.matrix import parse_matrix_path


def test_driver_and_provider_on_the_api_segment():
    m = parse_matrix_path("/api;driver=ec2;provider=eu-west-1/instances")
    assert m.path == "/api/instances"
    assert m.params == {"api": {"driver": "ec2", "provider": "eu-west-1"}}
    assert m.last == {}
    assert not m.malformed


def test_matrix_on_the_entry_point_itself():
    m = parse_matrix_path("/api;driver=mock")
    assert m.path == "/api"
    assert m.params == {"api": {"driver": "mock"}}
    assert m.last == {"driver": "mock"}


def test_matrix_on_the_last_segment_of_a_post_target():
    m = parse_matrix_path("/api/images;instance_id=inst1")
    assert m.path == "/api/images"
    assert m.params == {"images": {"instance_id": "inst1"}}
    assert m.last == {"instance_id": "inst1"}
    run = parse_matrix_path("/api/instances/inst0/run;id=inst0")
    assert run.path == "/api/instances/inst0/run"
    assert run.last == {"id": "inst0"}


def test_matrix_followed_by_a_trailing_slash_still_counts_as_last():
    m = parse_matrix_path("/api/images;instance_id=inst1/")
    assert m.path == "/api/images/"
    assert m.last == {"instance_id": "inst1"}


def test_matrix_in_the_middle_is_not_last():
    m = parse_matrix_path("/api/instances;foo=bar/inst1")
    assert m.params == {"instances": {"foo": "bar"}}
    assert m.last == {}
    assert m.path == "/api/instances/inst1"


def test_values_are_percent_decoded_but_slashes_do_not_split():
    m = parse_matrix_path("/api;provider=" + quote("https://keystone:5000/v2.0;RegionOne", safe="") + "/realms")
    assert m.path == "/api/realms"
    assert m.params["api"]["provider"] == "https://keystone:5000/v2.0;RegionOne"


def test_empty_value_is_allowed():
    m = parse_matrix_path("/api;provider=/instances")
    assert m.params == {"api": {"provider": ""}}
    assert not m.malformed


@pytest.mark.parametrize("raw", ["/api;driver", "/api;=x/instances", "/api;driver=mock;provider/instances",
                                 "/api/instances;novalue"])
def test_malformed_pairs_are_flagged(raw):
    m = parse_matrix_path(raw)
    assert m.malformed
    assert ";" not in m.path


def test_empty_pairs_are_skipped():
    m = parse_matrix_path("/api;;driver=mock;/instances")
    assert not m.malformed
    assert m.params == {"api": {"driver": "mock"}}
    assert m.path == "/api/instances"


@pytest.mark.parametrize(("raw", "path"), [
    ("/api//instances", "/api/instances"), ("/api///instances//inst1", "/api/instances/inst1"),
    ("/api/", "/api/"), ("/api", "/api"), ("/", "/"), ("/api/instances/a%20b", "/api/instances/a b"),
])
def test_path_clean_up(raw, path):
    assert parse_matrix_path(raw).path == path


def test_repeated_key_later_wins():
    assert parse_matrix_path("/api;driver=ec2;driver=mock").params == {"api": {"driver": "mock"}}


# -- properties ---------------------------------------------------------------------------------

segment = st.text(st.characters(codec="ascii", exclude_characters="/;%?#\x00"), min_size=1, max_size=10)
key = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=8)
value = st.text(max_size=12)


@given(st.lists(segment, min_size=1, max_size=5))
def test_paths_without_matrix_are_unchanged(segments):
    raw = "/" + "/".join(segments)
    m = parse_matrix_path(raw)
    assert m.path == raw
    assert m.params == {}
    assert m.last == {}
    assert not m.malformed


@given(st.lists(segment, min_size=1, max_size=4), st.data())
def test_pairs_round_trip_through_percent_encoding(segments, data):
    index = data.draw(st.integers(0, len(segments) - 1))
    pairs = data.draw(st.dictionaries(key, value, min_size=1, max_size=3))
    matrix = "".join(f";{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs.items())
    raw_segments = list(segments)
    raw_segments[index] += matrix
    m = parse_matrix_path("/" + "/".join(raw_segments))
    assert m.path == "/" + "/".join(segments)
    assert not m.malformed
    assert m.params.get(segments[index]) == pairs
    if index == len(segments) - 1:
        assert m.last == pairs
    elif segments[-1] not in m.params:
        assert m.last == {}


@given(st.text(max_size=80))
def test_never_raises(raw):
    m = parse_matrix_path("/" + raw)
    assert isinstance(m.path, str)
    assert all(isinstance(v, dict) for v in m.params.values())
