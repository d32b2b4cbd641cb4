"""The exception tree: statuses, class names clients read, generic messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deltacloud_core import errors
from deltacloud_core.errors import (
    GENERIC_MESSAGES,
    AuthenticationFailure,
    AuthenticationRequired,
    BackendError,
    CapabilityMissing,
    Conflict,
    DeltacloudError,
    ForbiddenError,
    MethodNotAllowed,
    NotAcceptable,
    NotSupportedError,
    ObjectNotFound,
    PayloadTooLarge,
    ProviderError,
    ProviderTimeout,
    RangeNotSatisfiable,
    RateLimited,
    RequiredParameterMissing,
    UnprocessableEntity,
    ValidationError,
    error_for_status,
)

P = "Deltacloud::Exceptions::"

TABLE = [
    (ValidationError, 400, P + "ValidationFailure"),
    (AuthenticationFailure, 401, P + "AuthenticationFailure"),
    (ForbiddenError, 403, P + "ForbiddenError"),
    (ObjectNotFound, 404, P + "ObjectNotFound"),
    (MethodNotAllowed, 405, P + "MethodNotAllowed"),
    (NotAcceptable, 406, P + "UnknownMediaTypeError"),
    (Conflict, 409, P + "Conflict"),
    (PayloadTooLarge, 413, P + "PayloadTooLarge"),
    (RangeNotSatisfiable, 416, P + "RangeNotSatisfiable"),
    (UnprocessableEntity, 422, P + "UnprocessableEntity"),
    (BackendError, 500, P + "BackendError"),
    (NotSupportedError, 501, P + "NotImplemented"),
    (ProviderError, 502, P + "ProviderError"),
    (ProviderTimeout, 504, P + "ProviderTimeout"),
]


@pytest.mark.parametrize(("cls", "status", "error_class"), TABLE)
def test_status_class_name_and_generic_message(cls, status, error_class):
    err = cls()
    assert isinstance(err, DeltacloudError)
    assert err.status == status
    assert err.error_class == error_class
    assert err.message == GENERIC_MESSAGES[status]
    assert str(err) == GENERIC_MESSAGES[status]
    assert err.headers == {}
    assert err.backend_code is None


def test_generic_messages_of_the_original():
    assert GENERIC_MESSAGES[405] == "Method Not Allowed"
    assert GENERIC_MESSAGES[409] == "Resource Conflict"
    assert GENERIC_MESSAGES[501] == "Not Supported"
    assert GENERIC_MESSAGES[502] == "Backend Server Error"
    assert GENERIC_MESSAGES[504] == "Gateway Timeout"


def test_custom_message_backend_code_and_headers_are_kept():
    headers = {"X-A": "1"}
    err = ObjectNotFound("Instance 'x' not found", backend_code="InvalidInstanceID.NotFound", headers=headers)
    headers["X-B"] = "2"
    assert err.message == "Instance 'x' not found"
    assert err.backend_code == "InvalidInstanceID.NotFound"
    assert err.headers == {"X-A": "1"}  # copied, not aliased


@pytest.mark.parametrize(("cls", "status", "_name"), TABLE)
def test_generic_keeps_class_code_and_headers_but_not_the_message(cls, status, _name):
    err = cls("driver specific text", backend_code="Code.X", headers={"Retry-After": "3"})
    generic = err.generic()
    assert type(generic) is cls
    assert generic.status == status
    assert generic.message == GENERIC_MESSAGES[status]
    assert generic.backend_code == "Code.X"
    assert generic.headers == {"Retry-After": "3"}
    assert err.message == "driver specific text"  # original untouched


def test_required_parameter_missing_text():
    err = RequiredParameterMissing("image_id", ["format", "realm_id"])
    assert isinstance(err, ValidationError)
    assert err.status == 400
    assert err.message == "Required parameter 'image_id' not found in [format,realm_id]"
    assert RequiredParameterMissing("name", []).message == "Required parameter 'name' not found in []"


def test_capability_missing_text_and_capability():
    err = CapabilityMissing("load_balancers")
    assert err.status == 412
    assert err.capability == "load_balancers"
    assert err.message == "The required capability to execute this operation is missing"


def test_authentication_required_is_an_authentication_failure():
    err = AuthenticationRequired()
    assert isinstance(err, AuthenticationFailure)
    assert err.status == 401
    assert err.message == "Unauthorized"


def test_rate_limited():
    err = RateLimited("slow down", retry_after=7)
    assert err.status == 503
    assert err.headers == {"Retry-After": "7"}
    assert RateLimited(status=429).status == 429
    assert RateLimited().headers == {}
    # the status is per instance: one 429 must not change the class default
    assert RateLimited().status == 503


@pytest.mark.parametrize(("cls", "status", "_name"), TABLE)
def test_error_for_status_round_trips(cls, status, _name):
    err = error_for_status(status, "m", backend_code="c")
    assert type(err) is cls
    assert (err.status, err.message, err.backend_code) == (status, "m", "c")


@pytest.mark.parametrize("status", [429, 503])
def test_error_for_status_throttling(status):
    err = error_for_status(status)
    assert isinstance(err, RateLimited)
    assert err.status == status


@given(st.integers(100, 599))
def test_error_for_status_always_builds_a_deltacloud_error(status):
    err = error_for_status(status, "text")
    assert isinstance(err, DeltacloudError)
    assert err.message == "text"
    known = {s for _c, s, _n in TABLE} | {429, 503}
    assert err.status == (status if status in known else 500)


def test_every_exported_error_is_in_the_tree():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, DeltacloudError), name
            assert 400 <= obj.status <= 599, name
            assert obj.error_class.startswith(P), name
