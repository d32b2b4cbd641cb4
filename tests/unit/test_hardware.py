"""Hardware profiles: fixed / range / enum properties and validation of hwp_* overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from deltacloud_core.errors import ValidationError
from deltacloud_core.hardware import HardwareProfile, HardwareProperty, format_value, validate_overrides

M1_LARGE = HardwareProfile("m1-large", (
    HardwareProperty.range("cpu", 1, 6, default=1),
    HardwareProperty.range("memory", 7680, 15360, default=10240),
    HardwareProperty.enum("storage", (850, 1024), default=850),
    HardwareProperty.fixed("architecture", "x86_64"),
))
M1_SMALL = HardwareProfile("m1-small", (
    HardwareProperty.fixed("cpu", 1),
    HardwareProperty.fixed("memory", 1740.8),
    HardwareProperty.fixed("storage", 160),
    HardwareProperty.fixed("architecture", "i386"),
))


# -- construction -------------------------------------------------------------------------------

def test_units_and_defaults():
    memory = M1_LARGE.property("memory")
    assert memory is not None
    assert (memory.kind, memory.unit, memory.default, memory.param) == ("range", "MB", 10240, "hwp_memory")
    assert HardwareProperty.range("cpu", 2, 4).default == 2  # range default: first
    assert HardwareProperty.enum("storage", (5, 6)).default == 5  # enum default: first value
    assert M1_LARGE.property("storage").unit == "GB"
    assert M1_LARGE.property("cpu").unit == "count"
    assert M1_LARGE.property("architecture").unit == "label"
    assert M1_LARGE.property("gpu") is None
    assert M1_LARGE.name == "m1-large"


@pytest.mark.parametrize("make", [
    pytest.param(lambda: HardwareProperty.range("memory", 10, 5), id="range-reversed"),
    pytest.param(lambda: HardwareProperty.range("memory", "a", "b"), id="range-not-numbers"),
    pytest.param(lambda: HardwareProperty(name="memory", kind="range", first=1), id="range-without-last"),
    pytest.param(lambda: HardwareProperty.enum("storage", ()), id="enum-empty"),
    pytest.param(lambda: HardwareProperty(name="cpu", kind="fixed"), id="fixed-without-value"),
    pytest.param(lambda: HardwareProperty(name="cpu", kind="weird", value=1), id="unknown-kind"),  # type: ignore[arg-type]
])
def test_malformed_properties_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_profile_refuses_a_property_defined_twice():
    with pytest.raises(ValueError, match="twice"):
        HardwareProfile("dup", (HardwareProperty.fixed("cpu", 1), HardwareProperty.fixed("cpu", 2)))


@pytest.mark.parametrize(("value", "text"), [
    (160, "160"), (1740.8, "1740.8"), (7680.0, "7680.0"), ("x86_64", "x86_64"), (True, "true"),
    (False, "false"), (None, ""),
])
def test_format_value(value, text):
    assert format_value(value) == text


def test_describe():
    assert M1_LARGE.property("memory").describe() == "7680..15360 MB"
    assert M1_LARGE.property("storage").describe() == "one of 850, 1024 GB"
    assert M1_LARGE.property("architecture").describe() == "exactly x86_64"
    assert M1_SMALL.property("memory").describe() == "exactly 1740.8 MB"


def test_sort_key_orders_by_cpu_then_memory_and_puts_incomplete_profiles_last():
    opaque = HardwareProfile("opaque", ())
    ordered = sorted([opaque, M1_LARGE, M1_SMALL], key=HardwareProfile.sort_key)
    assert [p.id for p in ordered] == ["m1-small", "m1-large", "opaque"]


def test_matches_architecture():
    assert M1_LARGE.matches_architecture("x86_64")
    assert not M1_LARGE.matches_architecture("i386")
    assert not HardwareProfile("opaque", ()).matches_architecture("x86_64")


# -- includes: examples ------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "ok"), [
    ("7680", True), ("15360", True), ("7680.0", True), (" 10240 ", True), ("1.024e4", True), (12288, True),
    ("7679", False), ("7679.99", False), ("15360.01", False), ("15361", False), ("", False), ("abc", False),
    ("Infinity", False), ("-Infinity", False),
])
def test_range_bounds_are_inclusive(value, ok):
    assert M1_LARGE.property("memory").includes(value) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("850", True), ("1024", True), ("1024.0", True), ("850.00", True), pytest.param(1024, True, id="int-1024"),
    (" 850", True), ("900", False), ("0", False), ("", False), ("1024 GB", False),
])
def test_enum_membership_numeric_equal_strings_count(value, ok):
    assert M1_LARGE.property("storage").includes(value) is ok


@pytest.mark.parametrize(("prop", "value", "ok"), [
    ("architecture", "x86_64", True), ("architecture", "i386", False), ("architecture", "X86_64", False),
])
def test_fixed_label(prop, value, ok):
    assert M1_LARGE.property(prop).includes(value) is ok


@pytest.mark.parametrize(("value", "ok"), [("1740.8", True), ("1740.80", True), ("1740", False), ("1741", False)])
def test_fixed_float_value(value, ok):
    assert M1_SMALL.property("memory").includes(value) is ok


@pytest.mark.parametrize("value", ["NaN", "nan", "sNaN", "-NaN"])
@pytest.mark.parametrize("prop", ["memory", "storage", "cpu"])
def test_not_a_number_is_refused_not_raised(prop, value):
    """Decimal('NaN') compares by raising InvalidOperation; includes() must answer False."""
    assert M1_LARGE.property(prop).includes(value) is False


# -- includes: properties -----------------------------------------------------------------------

bounds = st.tuples(st.integers(-10**6, 10**6), st.integers(0, 10**6)).map(lambda t: (t[0], t[0] + t[1]))


@given(bounds, st.data())
def test_any_integer_inside_a_range_is_accepted(lohi, data):
    lo, hi = lohi
    prop = HardwareProperty.range("memory", lo, hi)
    value = data.draw(st.integers(lo, hi))
    assert prop.includes(str(value))
    assert prop.includes(value)
    assert prop.includes(f"{value}.0")


@given(bounds, st.data())
def test_any_integer_outside_a_range_is_refused(lohi, data):
    lo, hi = lohi
    prop = HardwareProperty.range("memory", lo, hi)
    value = data.draw(st.integers(max_value=lo - 1) | st.integers(min_value=hi + 1))
    assert not prop.includes(str(value))
    assert not prop.includes(value)


@given(bounds, st.decimals(allow_nan=False, allow_infinity=False, places=3))
def test_decimal_values_are_accepted_exactly_when_within_bounds(lohi, value):
    lo, hi = lohi
    prop = HardwareProperty.range("memory", lo, hi)
    assert prop.includes(str(value)) is (Decimal(lo) <= value <= Decimal(hi))


@given(st.lists(st.integers(0, 10**5), min_size=1, max_size=6, unique=True), st.integers(0, 10**5))
def test_enum_accepts_exactly_its_values(values, candidate):
    prop = HardwareProperty.enum("storage", values)
    assert prop.includes(str(candidate)) is (candidate in values)
    assert prop.includes(f"{candidate}.0") is (candidate in values)


#: Texts that Decimal parses into something unusual.
ODD_NUMBERS = st.sampled_from(["NaN", "sNaN", "-nan", "Infinity", "-inf", "1e999999", "1_024", "\uff11\uff10", "0x10",
                               "+7680", "7.68E3", "-0", "1e-999999"])


@given(st.text(max_size=30) | ODD_NUMBERS)
def test_includes_never_raises_on_arbitrary_text(text):
    for prop in (*M1_LARGE.properties, *M1_SMALL.properties):
        assert prop.includes(text) in (True, False)


# -- validate_overrides ---------------------------------------------------------------------------

def test_valid_overrides_are_returned_stripped_and_blank_ones_skipped():
    got = validate_overrides(M1_LARGE, {"memory": " 8192 ", "cpu": "", "storage": "1024.0", "architecture": "x86_64"})
    assert got == {"memory": "8192", "storage": "1024.0", "architecture": "x86_64"}


def test_out_of_range_names_the_parameter_the_profile_and_the_range():
    with pytest.raises(ValidationError) as info:
        validate_overrides(M1_LARGE, {"memory": "99999"})
    err = info.value
    assert err.status == 400
    assert "hwp_memory" in err.message
    assert "m1-large" in err.message
    assert "7680..15360" in err.message
    assert "99999" in err.message


def test_enum_violation_lists_the_allowed_values():
    with pytest.raises(ValidationError, match="one of 850, 1024"):
        validate_overrides(M1_LARGE, {"storage": "900"})


def test_fixed_property_refuses_another_value():
    with pytest.raises(ValidationError, match="exactly 1"):
        validate_overrides(M1_SMALL, {"cpu": "2"})


def test_unknown_property_names_it():
    with pytest.raises(ValidationError) as info:
        validate_overrides(M1_LARGE, {"gpu": "1"})
    assert "gpu" in info.value.message
    assert "hwp_gpu" in info.value.message
    assert info.value.status == 400


def test_opaque_profile_refuses_any_override():
    with pytest.raises(ValidationError, match="cpu"):
        validate_overrides(HardwareProfile("opaque", ()), {"cpu": "1"})


@given(st.integers(7680, 15360), st.integers(1, 6), st.sampled_from(["850", "1024"]))
def test_overrides_inside_the_profile_pass_through(memory, cpu, storage):
    overrides = {"memory": str(memory), "cpu": str(cpu), "storage": storage}
    assert validate_overrides(M1_LARGE, overrides) == overrides


@given(st.text(max_size=20) | ODD_NUMBERS)
def test_validate_overrides_only_ever_raises_validation_error(text):
    assume(text.strip())
    try:
        got = validate_overrides(M1_LARGE, {"memory": text})
    except ValidationError as exc:
        assert exc.status == 400
    else:
        assert M1_LARGE.property("memory").includes(got["memory"])
