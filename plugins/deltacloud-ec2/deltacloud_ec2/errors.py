"""AWS errors translated into the core's error tree, at the driver's boundary.

Every error keeps the backend's own code (``backend_code``: ``InvalidInstanceID.NotFound``,
``EndpointConnectionError`` ...) and message. The rules, first match wins:

=====================================================================  ======================
AWS error                                                              Deltacloud status
=====================================================================  ======================
bad or missing credentials (``AuthFailure``, ``InvalidAccessKeyId``,   401 AuthenticationFailure
``SignatureDoesNotMatch`` ...)
throttling (``RequestLimitExceeded``, ``Throttling``, ``SlowDown`` ...)  503 RateLimited + ``Retry-After``
unknown ids (``*.NotFound``, ``*NotFound``, ``NoSuchBucket``, malformed  404 ObjectNotFound
ids, ``Invalid availability zone``)
``IncorrectInstanceState``                                             405 MethodNotAllowed
other wrong states, duplicates, objects in use (``IncorrectState``,    409 Conflict
``VolumeInUse``, ``*.Duplicate``, ``DependencyViolation`` ...)
refusals and quotas (``UnauthorizedOperation``, ``BucketNotEmpty``,    403 ForbiddenError
``*LimitExceeded``)
bad parameters (``InvalidParameterValue``, other ``Invalid*`` ...)     400 ValidationError
``NotImplemented``                                                     501 NotSupportedError
AWS server errors (``InternalError`` ...), anything else               502 ProviderError
endpoint unreachable (connection refused, DNS, TLS), unreadable answer  502 ProviderError
connect or read timeout                                                504 ProviderTimeout
=====================================================================  ======================

An unknown code falls back on the HTTP status AWS answered with (4xx kept, 5xx -> 502).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore import exceptions as bx
from botocore.parsers import ResponseParserError

from deltacloud_core import (
    AuthenticationFailure,
    Conflict,
    DeltacloudError,
    ForbiddenError,
    MethodNotAllowed,
    NotSupportedError,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ValidationError,
    error_for_status,
)

__all__ = ["DEFAULT_RETRY_AFTER", "aws_errors", "client_error_code", "translate"]

#: Seconds clients are asked to wait when AWS throttles without saying how long.
DEFAULT_RETRY_AFTER = 1

_AUTH = frozenset({
    "AuthFailure", "InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch",
    "UnrecognizedClientException", "IncompleteSignature", "MissingAuthenticationToken", "InvalidToken",
    "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "InvalidSecurity", "NotSignedUp",
    "AuthMissingFailure",
})
_THROTTLE = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "RequestThrottled",
    "TooManyRequestsException", "RequestLimitExceeded", "BandwidthLimitExceeded", "SlowDown",
    "PriorRequestNotComplete", "EC2ThrottledException", "ServiceUnavailable", "Unavailable",
    "InsufficientInstanceCapacity", "InsufficientAddressCapacity", "InsufficientCapacity",
})
_NOT_FOUND = frozenset({"NoSuchBucket", "NoSuchKey", "NoSuchUpload", "NoSuchEntity", "NoSuchVersion", "404"})
_CONFLICT = frozenset({
    "IncorrectState", "InvalidState", "VolumeInUse", "DependencyViolation", "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou", "DuplicateLoadBalancerName", "DuplicateAccessPointName", "OperationAborted",
    "Resource.AlreadyAssociated", "Conflict", "ConflictException", "InvalidStateTransition",
})
_FORBIDDEN = frozenset({
    "UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "Forbidden", "BucketNotEmpty",
    "OptInRequired", "Blocked", "PendingVerification", "TooManyBuckets", "TooManyLoadBalancers",
    "TooManyAccessPoints", "AccountProblem",
})
_INVALID = frozenset({
    "MissingParameter", "ValidationError", "InvalidInput", "InvalidRequest", "InvalidArgument", "MalformedXML",
    "Unsupported", "UnsupportedOperation", "MalformedPolicyDocument", "EntityTooSmall", "EntityTooLarge",
    "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "KeyTooLongError",
    "MetadataTooLarge", "InvalidBucketName", "InvalidLocationConstraint",
})
_MALFORMED_ID = re.compile(r"^Invalid[A-Za-z]*I[Dd]\.(Malformed|Unavailable)$")
_NOT_FOUND_MESSAGE = re.compile(r"Invalid availability zone", re.IGNORECASE)
_CODE_IN_BODY = re.compile(r"<Code>([^<]+)</Code>")
_MESSAGE_IN_BODY = re.compile(r"<Message>([^<]*)</Message>")


def _status_for_code(code: str, message: str) -> int | None:
    """The status a known AWS error code stands for; None when the code is not known."""
    if code in _AUTH:
        return 401
    if code in _THROTTLE:
        return 503
    if (code in _NOT_FOUND or code.endswith(".NotFound") or code.endswith("NotFound")
            or code.endswith("NotFoundException") or _MALFORMED_ID.match(code) or _NOT_FOUND_MESSAGE.search(message)):
        return 404
    if code == "IncorrectInstanceState":
        return 405
    if code in _CONFLICT or code.endswith(".Duplicate") or code.endswith(".InUse") or code.endswith("InUse"):
        return 409
    if code in _FORBIDDEN or code.endswith("LimitExceeded") or code.endswith("LimitExceededException"):
        return 403
    if code in _INVALID or code.startswith("Invalid") or code.startswith("Malformed"):
        return 400
    if code == "NotImplemented":
        return 501
    if code in ("InternalError", "InternalFailure", "ServiceFailure", "InternalServerError"):
        return 502
    if code in ("RequestTimeout", "RequestTimeoutException"):
        return 504
    return None


def _status_for_http(http_status: int) -> int:
    if http_status in (400, 401, 403, 404, 405, 409):
        return http_status
    if http_status in (429, 503):
        return 503
    return 502


def client_error_code(exc: bx.ClientError) -> tuple[str, str]:
    """The AWS error code and message of a ClientError (read from the raw body when botocore could not)."""
    error: Mapping[str, Any] = exc.response.get("Error", {}) or {}
    code = str(error.get("Code") or "")
    message = str(error.get("Message") or "")
    if not code or code.isdigit():
        found = _CODE_IN_BODY.search(message)
        if found:
            text = _MESSAGE_IN_BODY.search(message)
            code, message = found.group(1), (text.group(1) if text else message)
    return code or "Unknown", message or code


def _retry_after(headers: Mapping[str, str]) -> int:
    value = str(headers.get("retry-after", "")).strip()
    return int(value) if value.isdigit() else DEFAULT_RETRY_AFTER


def _from_client_error(exc: bx.ClientError) -> DeltacloudError:
    code, message = client_error_code(exc)
    meta = exc.response.get("ResponseMetadata", {}) or {}
    http_status = int(meta.get("HTTPStatusCode") or 0)
    status = _status_for_code(code, message)
    if status is None:
        status = _status_for_http(http_status)
    if status == 503:
        return RateLimited(message, retry_after=_retry_after(meta.get("HTTPHeaders") or {}), backend_code=code)
    classes: dict[int, type[DeltacloudError]] = {
        400: ValidationError, 401: AuthenticationFailure, 403: ForbiddenError, 404: ObjectNotFound,
        405: MethodNotAllowed, 409: Conflict, 501: NotSupportedError, 502: ProviderError, 504: ProviderTimeout,
    }
    cls = classes.get(status)
    return cls(message, backend_code=code) if cls else error_for_status(status, message, backend_code=code)


def translate(exc: BaseException) -> DeltacloudError | None:
    """The core error for an SDK exception; None when ``exc`` is not the SDK's (let it through)."""
    if isinstance(exc, DeltacloudError):
        return exc
    name = type(exc).__name__
    if isinstance(exc, bx.ClientError):
        return _from_client_error(exc)
    if isinstance(exc, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return ProviderTimeout(f"The cloud did not answer in time: {exc}", backend_code=name)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return AuthenticationFailure("Authentication Failure", backend_code=name)
    if isinstance(exc, bx.ParamValidationError):
        return ValidationError(str(exc), backend_code=name)
    if isinstance(exc, bx.NoRegionError | bx.InvalidRegionError | bx.UnknownEndpointError):
        return ValidationError(str(exc), backend_code=name)
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectionClosedError | bx.HTTPClientError
                  | bx.SSLError | bx.ProxyConnectionError):
        return ProviderError(f"The cloud could not be reached: {exc}", backend_code=name)
    if isinstance(exc, ResponseParserError):
        return ProviderError(f"The cloud answered something that is not an AWS response: {exc}", backend_code=name)
    if isinstance(exc, bx.BotoCoreError):
        return ProviderError(str(exc), backend_code=name)
    return None


@contextmanager
def aws_errors() -> Iterator[None]:
    """Translate SDK exceptions raised inside the block (anything else passes unchanged)."""
    try:
        yield
    except DeltacloudError:
        raise
    except Exception as exc:
        translated = translate(exc)
        if translated is None:
            raise
        raise translated from exc
