"""Content negotiation (API.md §3) as examples and properties of the pure functions."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from deltacloud_core.web.negotiation import FORMAT_MEDIA_TYPES, choose, parse_accept, rank_formats

FORMATS = tuple(FORMAT_MEDIA_TYPES)
#: (media type, format) for every Accept type that selects a format.
MEDIA = [(m, f) for f, types in FORMAT_MEDIA_TYPES.items() for m in types]


def best(format_param: str | None, accept: str | None) -> str | None:
    ranked = rank_formats(format_param, accept)
    return ranked[0] if ranked else None


# -- examples verified against the original ------------------------------------------------------

@pytest.mark.parametrize(("accept", "expected"), [
    (None, "xml"), ("", "xml"), ("   ", "xml"),
    ("application/xml", "xml"), ("text/xml", "xml"), ("application/json", "json"),
    ("text/html", "html"), ("application/xhtml+xml", "html"), ("*/*", "html"),
    ("image/png", "png"), ("application/ghostscript", "gv"),
    ("*/*; q=0.5, application/xml", "xml"),  # RestClient's default
    ("application/json, application/xml", "xml"),
    ("application/xml, application/json", "json"),
    ("text/html, application/json", "json"),
    ("application/json, text/html", "html"),
    ("application/json, */*", "html"),
    ("*/*, application/json", "json"),
    ("application/json;q=0.5, application/xml;q=0.5", "xml"),
    ("application/json;q=0.9, application/xml;q=0.8", "json"),
    ("application/json; q=0.5", "json"),
    ("application/json;q=0, text/xml", "xml"),  # q=0 is "not acceptable" (RFC 9110, unlike the original)
    ("APPLICATION/JSON", "json"),
])
def test_accept_examples(accept, expected):
    assert best(None, accept) == expected


@pytest.mark.parametrize("accept", ["application/unknown", "application/*", "text/*", "image/*", "garbage", ",,,"])
def test_unmatched_accept_is_406(accept):
    assert rank_formats(None, accept) == []


@pytest.mark.parametrize(("accept", "expected"), [
    ("application/json;charset=utf-8", "json"),  # improvement: non-q parameters ignored
    ("text/html; charset=utf-8", "html"),  # the original raised a 500 here
    ("application/json;q=abc", "json"),  # malformed q is not fatal
    ("application/json;q", "json"),
])
def test_improvements_over_the_original(accept, expected):
    assert best(None, accept) == expected


@pytest.mark.parametrize("accept", ["application/json;q=0", "text/html;q=0, */*;q=0", "*/*;q=0.0"])
def test_only_q_zero_types_is_nothing_acceptable(accept):
    assert rank_formats(None, accept) == []


def test_format_param_is_exact_and_case_sensitive():
    assert rank_formats("json", "application/xml") == ["json"]
    assert rank_formats("png", None) == ["png"]
    for bad in ("XML", "", "yaml", "json "):
        assert rank_formats(bad, None) == []


def test_valid_format_wins_over_an_unacceptable_accept():
    assert rank_formats("json", "application/unknown") == ["json"]


def test_parse_accept_defaults_and_sorting():
    assert parse_accept(None) == [("application/xml", 1.0)]
    assert parse_accept("") == [("application/xml", 1.0)]
    assert parse_accept("a/b;q=0.9, c/d, e/f;q=0.1") == [("e/f", 0.1), ("a/b", 0.9), ("c/d", 1.0)]


def test_choose():
    assert choose(["json", "xml"], {"xml", "json"}) == "json"
    assert choose(["png", "xml"], {"xml", "json", "html"}) == "xml"
    assert choose(["png"], {"xml", "json", "html"}) is None
    assert choose([], {"xml"}) is None


# -- properties ---------------------------------------------------------------------------------

q_values = st.sampled_from(["1", "0.9", "0.5", "0.1", "0.001", "1.0", "0.25"])


@given(st.sampled_from(MEDIA), st.sampled_from(MEDIA), q_values)
def test_later_listed_wins_on_equal_q(first, second, q):
    (m1, f1), (m2, f2) = first, second
    assume(f1 != f2)
    assert best(None, f"{m1};q={q}, {m2};q={q}") == f2
    assert best(None, f"{m2};q={q}, {m1};q={q}") == f1
    # without q both default to 1: same rule
    assert best(None, f"{m1}, {m2}") == f2


@given(st.sampled_from(MEDIA), st.sampled_from(MEDIA), st.sampled_from(["0", "0.0", "0.000"]))
def test_a_type_with_q_zero_is_never_chosen(first, second, zero):
    (m1, f1), (m2, f2) = first, second
    assume(f1 != f2)
    assert best(None, f"{m1};q={zero}, {m2};q=0.1") == f2
    assert best(None, f"{m2};q=0.1, {m1};q={zero}") == f2


@given(st.sampled_from(MEDIA), st.sampled_from(MEDIA),
       st.floats(0, 1, allow_nan=False), st.floats(0, 1, allow_nan=False))
def test_higher_q_wins_whatever_the_order(first, second, q1, q2):
    (m1, f1), (m2, f2) = first, second
    assume(f1 != f2 and q1 != q2)
    winner = f1 if q1 > q2 else f2
    assert best(None, f"{m1};q={q1!r}, {m2};q={q2!r}") == winner
    assert best(None, f"{m2};q={q2!r}, {m1};q={q1!r}") == winner


@given(st.sampled_from(FORMATS), st.text(max_size=60) | st.none())
def test_a_valid_format_param_always_wins(fmt, accept):
    assert rank_formats(fmt, accept) == [fmt]


@given(st.text(max_size=10).filter(lambda s: s not in FORMAT_MEDIA_TYPES), st.text(max_size=60) | st.none())
def test_an_unknown_format_param_is_always_406(fmt, accept):
    assert rank_formats(fmt, accept) == []


accept_like = st.lists(
    st.one_of(st.sampled_from([m for m, _f in MEDIA] + ["application/*", "text/*", "x/y"]), st.text(max_size=15))
    .flatmap(lambda m: st.tuples(st.just(m), st.one_of(st.just(""), q_values.map(lambda q: f";q={q}"),
                                                       st.text(max_size=10).map(lambda p: ";" + p)))),
    max_size=8,
).map(lambda parts: ", ".join(m + p for m, p in parts))


@given(st.text(max_size=120) | accept_like)
def test_never_raises_and_ranks_known_formats_without_duplicates(accept):
    pairs = parse_accept(accept)
    assert all(isinstance(m, str) and isinstance(q, float) for m, q in pairs)
    assert [q for _m, q in pairs] == sorted(q for _m, q in pairs)
    ranked = rank_formats(None, accept)
    assert len(ranked) == len(set(ranked))
    assert set(ranked) <= set(FORMATS)
    implemented = frozenset({"xml", "json", "html"})
    chosen = choose(ranked, implemented)
    assert chosen is None or chosen in implemented


@given(accept_like)
def test_ranked_formats_are_exactly_those_with_a_matching_type(accept):
    present = {m for m, _q in parse_accept(accept)}
    expected = {f for f, types in FORMAT_MEDIA_TYPES.items() if present & set(types)}
    assert set(rank_formats(None, accept)) == expected


@given(st.lists(st.sampled_from(MEDIA), min_size=1, max_size=6))
def test_with_plain_types_the_last_listed_format_is_preferred(items):
    accept = ", ".join(m for m, _f in items)
    ranked = rank_formats(None, accept)
    # A format's preference is the header position of the first of its table types that the
    # header lists (all q are equal, so the sort keeps header order); later = preferred.
    media = [m for m, _f in items]

    def position(fmt: str) -> int:
        for t in FORMAT_MEDIA_TYPES[fmt]:
            if t in media:
                return media.index(t)
        raise AssertionError
    assert ranked == sorted(ranked, key=position, reverse=True)
