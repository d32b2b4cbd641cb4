"""Azure's errors as Deltacloud's: the driver's boundary (``with translated(): ...``).

==========================================================  ======  =========================
Azure (azure-core exception, storage error code, status)    status  Deltacloud error
==========================================================  ======  =========================
AuthenticationFailed, AuthorizationFailure,                  401     AuthenticationFailure
InvalidAuthenticationInfo, NoAuthenticationInformation;
an account key that is not base64 (the SDK cannot sign)
any other 403 (AuthorizationPermissionMismatch ...)          403     ForbiddenError
404 (ContainerNotFound, BlobNotFound ...)                    404     ObjectNotFound
409 (ContainerAlreadyExists, ContainerBeingDeleted,          409     Conflict
LeaseIdMissing ...); 412 ConditionNotMet (changed meanwhile)
400 (InvalidResourceName, OutOfRangeInput, InvalidMetadata)  400     ValidationError
413 RequestBodyTooLarge                                      413     PayloadTooLarge
429 / 503 ServerBusy                                         503     RateLimited (+Retry-After)
500 OperationTimedOut, 504                                   504     ProviderTimeout
any other 5xx                                                502     ProviderError
connection refused, DNS failure, reset (ServiceRequestError  502     ProviderError
/ ServiceResponseError)
connect or read timeout (Service*TimeoutError)               504     ProviderTimeout
anything else azure-core raises                              500     BackendError
==========================================================  ======  =========================

Every translated error carries Azure's error code as ``backend_code`` (shown in the error
document) and Azure's message without its ``RequestId``/``Time`` lines.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from contextlib import contextmanager

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from deltacloud_core import (
    AuthenticationFailure,
    DeltacloudError,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    error_for_status,
)

__all__ = ["AUTHENTICATION_CODES", "error_code", "translate", "translated"]

#: Storage error codes that mean "these credentials are not accepted" (HTTP 403 from Azure).
AUTHENTICATION_CODES = frozenset({
    "AuthenticationFailed", "AuthorizationFailure", "InvalidAuthenticationInfo", "NoAuthenticationInformation",
})
_TIMEOUT_CODES = frozenset({"OperationTimedOut"})


def error_code(exc: BaseException) -> str | None:
    """Azure's error code (``ContainerNotFound``) of an SDK exception, as a plain string."""
    code = getattr(exc, "error_code", None)
    if code is None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None) or {}
        code = headers.get("x-ms-error-code")
    if code is None:
        return None
    return str(getattr(code, "value", code))


def _message(exc: BaseException, fallback: str) -> str:
    """Azure's message, first line only (the rest is RequestId, Time, the raw XML)."""
    text = str(getattr(exc, "message", None) or exc or "").strip()
    return text.splitlines()[0].strip() if text else fallback


def _status(exc: HttpResponseError) -> int | None:
    status = exc.status_code
    if status is None and exc.response is not None:
        status = exc.response.status_code
    return status


def translate(exc: BaseException) -> DeltacloudError:
    """The Deltacloud error for an exception raised by azure-storage-blob / azure-core."""
    if isinstance(exc, DeltacloudError):
        return exc
    if isinstance(exc, binascii.Error) or isinstance(exc.__cause__, binascii.Error):
        return AuthenticationFailure("Authentication Failure: the account key (password) is not valid base64")
    code = error_code(exc)
    if isinstance(exc, HttpResponseError) and _status(exc) is not None:
        status = _status(exc) or 500
        message = _message(exc, f"Azure answered HTTP {status}")
        if code in AUTHENTICATION_CODES or status == 401:
            return AuthenticationFailure(f"Authentication Failure: {message}", backend_code=code)
        if status in (429, 503):
            retry = exc.response.headers.get("Retry-After") if exc.response is not None else None
            return RateLimited(message, retry_after=int(retry) if retry and retry.isdigit() else None,
                               backend_code=code)
        if status == 504 or code in _TIMEOUT_CODES:
            return ProviderTimeout(message, backend_code=code)
        if status == 412:
            return error_for_status(409, message, backend_code=code)
        if status >= 500:
            return ProviderError(message, backend_code=code)
        if status == 416:
            return error_for_status(416, message, backend_code=code)
        if status in (400, 403, 404, 409, 413):
            return error_for_status(status, message, backend_code=code)
        return error_for_status(500, f"Azure answered HTTP {status}: {message}", backend_code=code)
    if isinstance(exc, ServiceRequestTimeoutError | ServiceResponseTimeoutError):
        return ProviderTimeout(f"Azure Storage did not answer in time: {_message(exc, 'timeout')}",
                               backend_code=code)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        if _is_timeout(exc):
            return ProviderTimeout(f"Azure Storage did not answer in time: {_message(exc, 'timeout')}",
                                   backend_code=code)
        return ProviderError(f"Azure Storage could not be reached: {_message(exc, 'connection failed')}",
                             backend_code=code)
    if isinstance(exc, HttpResponseError) and code in AUTHENTICATION_CODES:
        return AuthenticationFailure(f"Authentication Failure: {_message(exc, code or '')}", backend_code=code)
    if isinstance(exc, AzureError):
        return error_for_status(500, f"Azure Storage failed: {_message(exc, type(exc).__name__)}",
                                backend_code=code)
    raise TypeError(f"not an Azure error: {exc!r}")


def _is_timeout(exc: BaseException) -> bool:
    """A timeout that azure-core reports as a plain ServiceRequestError/ServiceResponseError."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError) or "timed out" in str(current).lower() or "timeout" in type(
                current).__name__.lower():
            return True
        current = getattr(current, "inner_exception", None) or current.__cause__ or current.__context__
    return False


@contextmanager
def translated() -> Iterator[None]:
    """Run SDK calls; whatever Azure raises leaves as the matching Deltacloud error."""
    try:
        yield
    except (AzureError, binascii.Error) as exc:
        raise translate(exc) from exc
