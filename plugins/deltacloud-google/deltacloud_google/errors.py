"""Google's errors as Deltacloud errors, keeping Google's message and reason.

=====================================================  =========================================
Google                                                 Deltacloud
=====================================================  =========================================
400 (invalid name, argument ...)                       400 ValidationError
401, a key Google refuses, a failed token refresh      401 AuthenticationFailure
403                                                    403 ForbiddenError
404                                                    404 ObjectNotFound
409 (a name taken; a bucket that is not empty)          409 Conflict
412 (a precondition: ``ifGenerationMatch`` ...)        412 PreconditionFailed
416                                                    416 RangeNotSatisfiable
429, 503                                               503 RateLimited (``Retry-After`` kept, else 1)
other 5xx, an unreachable or garbled endpoint          502 ProviderError
504, connect or read timeout                           504 ProviderTimeout
=====================================================  =========================================
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from deltacloud_core import (
    AuthenticationFailure,
    Conflict,
    DeltacloudError,
    ForbiddenError,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    RangeNotSatisfiable,
    RateLimited,
    ValidationError,
)

__all__ = ["DEFAULT_RETRY_AFTER", "PreconditionFailed", "for_status", "google_errors", "translate"]

DEFAULT_RETRY_AFTER = 1


class PreconditionFailed(DeltacloudError):
    """Google's 412: a precondition of the request (a generation match ...) does not hold."""

    status = 412
    error_class = "Deltacloud::Exceptions::PreconditionFailed"


def _retry_after(headers: Mapping[str, str] | None) -> int:
    value = str((headers or {}).get("retry-after") or (headers or {}).get("Retry-After") or "").strip()
    return int(value) if value.isdigit() else DEFAULT_RETRY_AFTER


def for_status(status: int, message: str, *, reason: str | None = None,
               headers: Mapping[str, str] | None = None) -> DeltacloudError:
    """The Deltacloud error of Google's HTTP ``status``."""
    code = reason or str(status)
    if status in (429, 503):
        return RateLimited(message, retry_after=_retry_after(headers), backend_code=code)
    classes: dict[int, type[DeltacloudError]] = {
        400: ValidationError, 401: AuthenticationFailure, 403: ForbiddenError, 404: ObjectNotFound,
        409: Conflict, 412: PreconditionFailed, 504: ProviderTimeout,
    }
    if status == 416:
        return RangeNotSatisfiable(message, backend_code=code)
    cls = classes.get(status)
    if cls is not None:
        return cls(message, backend_code=code)
    if 400 <= status < 500:
        return ValidationError(message, backend_code=code)
    return ProviderError(message, backend_code=code)


def _api_error(exc: Any) -> DeltacloudError:
    """A ``google.api_core`` GoogleAPICallError (``.code``, ``.message``, ``.errors``)."""
    reason = None
    for detail in getattr(exc, "errors", None) or ():
        if isinstance(detail, Mapping) and detail.get("reason"):
            reason = str(detail["reason"])
            break
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    return for_status(int(exc.code or 502), str(getattr(exc, "message", "") or exc), reason=reason, headers=headers)


def translate(exc: BaseException) -> DeltacloudError | None:
    """The core error for an SDK exception; None when ``exc`` is not the SDK's."""
    if isinstance(exc, DeltacloudError):
        return exc
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth
    from google.resumable_media import common as media

    name = type(exc).__name__
    if isinstance(exc, api.GoogleAPICallError):
        return _api_error(exc)
    if isinstance(exc, media.InvalidResponse):
        response = exc.response
        status = int(getattr(response, "status_code", 502) or 502)
        text = getattr(response, "text", "") or str(exc)
        return for_status(status, text[:500], headers=getattr(response, "headers", None))
    if isinstance(exc, auth.RefreshError):
        return AuthenticationFailure(f"Google refused the service-account key: {exc}", backend_code=name)
    if isinstance(exc, auth.TransportError | requests.ConnectionError):
        if isinstance(exc, requests.ConnectTimeout):
            return ProviderTimeout(f"Google Cloud Storage did not answer in time: {exc}", backend_code=name)
        return ProviderError(f"Google Cloud Storage could not be reached: {exc}", backend_code=name)
    if isinstance(exc, requests.Timeout):
        return ProviderTimeout(f"Google Cloud Storage did not answer in time: {exc}", backend_code=name)
    if isinstance(exc, auth.GoogleAuthError):
        return AuthenticationFailure(f"The service-account key is not usable: {exc}", backend_code=name)
    if isinstance(exc, requests.RequestException | api.GoogleAPIError | media.DataCorruption):
        return ProviderError(f"Google Cloud Storage answered something unusable: {exc}", backend_code=name)
    return None


@contextmanager
def google_errors() -> Iterator[None]:
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
