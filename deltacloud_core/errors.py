"""One exception tree for the whole server; each class carries its HTTP status.

::

    DeltacloudError                          500  (base; unknown failures)
    ├── ValidationError                      400  bad parameter value (driver or core)
    │   └── RequiredParameterMissing         400  plain-text answer, before auth
    ├── AuthenticationFailure                401  wrong credentials (driver says so)
    │   └── AuthenticationRequired           401  no credentials; WWW-Authenticate
    ├── ForbiddenError                       403
    ├── ObjectNotFound                       404
    ├── MethodNotAllowed                     405  action not allowed in this state
    ├── NotAcceptable                        406  no representation (empty body)
    ├── Conflict                             409
    ├── PayloadTooLarge                      413
    ├── RangeNotSatisfiable                  416  no byte of the Range exists (+ Content-Range)
    ├── UnprocessableEntity                  422  an Idempotency-Key reused for another request
    ├── CapabilityMissing                    412  plain-text answer + Expect header
    ├── RateLimited                          429/503 (+ Retry-After)
    ├── BackendError                         500  the cloud failed in a way we know
    │   └── RuntimeFailure                   500  a surprise, or a driver that cannot load
    ├── NotSupportedError                    501  the driver does not do this
    ├── ProviderError                        502  the cloud could not be reached / answered badly
    └── ProviderTimeout                      504  the cloud did not answer in time

Drivers translate their SDK's exceptions into these at their own boundary; the web layer
renders any of them in the negotiated format (one handler). ``error_class`` is the
class name the original server reported (``Deltacloud::Exceptions::...``), which
clients read from JSON error documents.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "GENERIC_MESSAGES",
    "AuthenticationFailure",
    "AuthenticationRequired",
    "BackendError",
    "CapabilityMissing",
    "Conflict",
    "DeltacloudError",
    "ForbiddenError",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotSupportedError",
    "ObjectNotFound",
    "PayloadTooLarge",
    "ProviderError",
    "ProviderTimeout",
    "RangeNotSatisfiable",
    "RateLimited",
    "RequiredParameterMissing",
    "RuntimeFailure",
    "UnprocessableEntity",
    "ValidationError",
    "error_for_status",
]

#: The generic message the original used for each status (index errors, 404 of show, ...).
GENERIC_MESSAGES: Mapping[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Resource Conflict",
    412: "Precondition Failed",
    413: "Payload Too Large",
    416: "Range Not Satisfiable",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Supported",
    502: "Backend Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_PREFIX = "Deltacloud::Exceptions::"


class DeltacloudError(Exception):
    """Base of every error the server renders; ``status`` is the HTTP status."""

    status: int = 500
    error_class: str = _PREFIX + "BackendError"

    def __init__(
        self,
        message: str | None = None,
        *,
        backend_code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message if message is not None else GENERIC_MESSAGES.get(self.status, "Error")
        #: The backend's own error code (e.g. ``InvalidInstanceID.NotFound``), shown in documents.
        self.backend_code = backend_code
        #: Extra response headers (``Retry-After`` ...).
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)

    def generic(self) -> DeltacloudError:
        """The same error with the generic message for its status (used by index operations)."""
        clone = type(self).__new__(type(self))
        DeltacloudError.__init__(clone, GENERIC_MESSAGES.get(self.status), backend_code=self.backend_code,
                                 headers=self.headers)
        clone.status = self.status  # a RateLimited 413/429 keeps its own status
        return clone


class ValidationError(DeltacloudError):
    status = 400
    error_class = _PREFIX + "ValidationFailure"


class RequiredParameterMissing(ValidationError):
    """A required parameter is absent; answered as the original's plain text, before auth."""

    def __init__(self, name: str, received: list[str]) -> None:
        self.name = name
        self.received = received
        super().__init__(f"Required parameter '{name}' not found in [{','.join(received)}]")


class AuthenticationFailure(DeltacloudError):
    status = 401
    error_class = _PREFIX + "AuthenticationFailure"


class AuthenticationRequired(AuthenticationFailure):
    """No (usable) credentials were sent; the answer carries ``WWW-Authenticate``."""

    def __init__(self, message: str = "Unauthorized") -> None:
        super().__init__(message)


class ForbiddenError(DeltacloudError):
    status = 403
    error_class = _PREFIX + "ForbiddenError"


class ObjectNotFound(DeltacloudError):
    status = 404
    error_class = _PREFIX + "ObjectNotFound"


class MethodNotAllowed(DeltacloudError):
    status = 405
    error_class = _PREFIX + "MethodNotAllowed"


class NotAcceptable(DeltacloudError):
    """No acceptable representation; rendered as an empty body."""

    status = 406
    error_class = _PREFIX + "UnknownMediaTypeError"


class Conflict(DeltacloudError):
    status = 409
    error_class = _PREFIX + "Conflict"


class UnprocessableEntity(DeltacloudError):
    status = 422
    error_class = _PREFIX + "UnprocessableEntity"


class CapabilityMissing(DeltacloudError):
    """The selected driver lacks what the operation needs; plain text + ``Expect``."""

    status = 412
    error_class = _PREFIX + "CapabilityMissing"

    def __init__(self, capability: str) -> None:
        self.capability = capability
        super().__init__("The required capability to execute this operation is missing")


class PayloadTooLarge(DeltacloudError):
    status = 413
    error_class = _PREFIX + "PayloadTooLarge"


class RangeNotSatisfiable(DeltacloudError):
    """A blob download's ``Range`` names no byte of the blob; ``size`` is the blob's length
    (sent as ``Content-Range: bytes */<size>``), None when unknown."""

    status = 416
    error_class = _PREFIX + "RangeNotSatisfiable"

    def __init__(self, message: str | None = None, *, size: int | None = None,
                 backend_code: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        self.size = size
        merged = dict(headers or {})
        if size is not None:
            merged["Content-Range"] = f"bytes */{size}"
        super().__init__(message, backend_code=backend_code, headers=merged or None)


class RateLimited(DeltacloudError):
    """The backend throttles us (HTTP 503 by default, with ``Retry-After`` when known)."""

    status = 503
    error_class = _PREFIX + "RateLimited"

    def __init__(self, message: str | None = None, *, retry_after: int | None = None,
                 backend_code: str | None = None, status: int = 503) -> None:
        self.status = status
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__(message, backend_code=backend_code, headers=headers)


class BackendError(DeltacloudError):
    status = 500
    error_class = _PREFIX + "BackendError"


class RuntimeFailure(BackendError):
    """An unexpected failure (reported with a request id) or a driver that is not installed or
    cannot be imported, with the class name clients saw from the original (``RuntimeError``)."""

    def __init__(self, message: str, error_class: str = "RuntimeError") -> None:
        super().__init__(message)
        self.error_class = error_class


class NotSupportedError(DeltacloudError):
    status = 501
    error_class = _PREFIX + "NotImplemented"


class ProviderError(DeltacloudError):
    status = 502
    error_class = _PREFIX + "ProviderError"


class ProviderTimeout(DeltacloudError):
    status = 504
    error_class = _PREFIX + "ProviderTimeout"


_BY_STATUS: dict[int, type[DeltacloudError]] = {
    400: ValidationError,
    401: AuthenticationFailure,
    403: ForbiddenError,
    404: ObjectNotFound,
    405: MethodNotAllowed,
    406: NotAcceptable,
    409: Conflict,
    413: PayloadTooLarge,
    416: RangeNotSatisfiable,
    422: UnprocessableEntity,
    500: BackendError,
    501: NotSupportedError,
    502: ProviderError,
    504: ProviderTimeout,
}


def error_for_status(status: int, message: str | None = None, *, backend_code: str | None = None) -> DeltacloudError:
    """Build the error class that belongs to ``status`` (used by drivers' translation tables)."""
    if status in (429, 503):
        return RateLimited(message, backend_code=backend_code, status=status)
    cls = _BY_STATUS.get(status, BackendError)
    return cls(message, backend_code=backend_code)
