"""OpenStack's errors as the core's, translated at the driver's boundary with the service's own message.

=====================================================  ======================================
What the cloud did                                     What the client gets
=====================================================  ======================================
400 (bad request)                                      400 ValidationFailure
400 about the object's status (Cinder's "Volume        409 Conflict
status must be available ...")
401 (bad credentials, expired token)                   401 AuthenticationFailure
403 (policy)                                           403 ForbiddenError
403 "Quota exceeded" (Nova), 413 (Cinder quota,        413 RateLimited, ``Retry-After`` passed on
old rate limits)
404                                                    404 ObjectNotFound
405, 501, no such service in the catalogue             501 NotImplemented
409 (wrong state: "Cannot 'stop' instance ... while    409 Conflict
it is in vm_state stopped"; duplicates)
429 (rate limit)                                       429 RateLimited, ``Retry-After`` passed on
500, 502, 503 (the service failed)                     502 ProviderError
504; no answer within the timeout                      504 ProviderTimeout
cannot connect (refused, DNS, TLS)                     502 ProviderError
=====================================================  ======================================

The message is the service's own (Nova's ``{"itemNotFound": {"message": ...}}``, Keystone's
``{"error": {...}}``, Swift's and Glance's plain text), and ``backend_code`` is the service's error
name (``itemNotFound``, ``conflictingRequest``, ...) or its HTTP status.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from typing import Any, TypeVar

from deltacloud_core import (
    AuthenticationFailure,
    BackendError,
    Conflict,
    DeltacloudError,
    ForbiddenError,
    NotSupportedError,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ValidationError,
)

__all__ = ["check", "error_from_response", "error_from_status", "service_message", "translate", "translated"]

F = TypeVar("F", bound=Callable[..., Any])

_WRONG_STATE = re.compile(r"status must be|current status is|while it is in|is in (an? )?invalid state", re.I)
_QUOTA = re.compile(r"quota", re.I)
_TAGS = re.compile(r"<[^>]+>")
_STATUS_LINE = re.compile(r"^\d{3} [A-Za-z ]+$")


def service_message(response: Any) -> tuple[str, str | None]:
    """``(message, error name)`` from an error response of any OpenStack service."""
    status = getattr(response, "status_code", None)
    code: str | None = None
    message = ""
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - not JSON: plain text or HTML
        body = None
    if isinstance(body, dict) and body:
        if isinstance(body.get("errors"), list) and body["errors"]:  # placement
            first = body["errors"][0]
            message, code = str(first.get("detail") or first.get("title") or ""), first.get("code")
        else:
            name, value = next(iter(body.items()))
            if isinstance(value, dict):
                message = str(value.get("message") or value.get("detail") or value.get("title") or "")
                code = value.get("type") or (value.get("title") if name == "error" else name)
            elif isinstance(value, str):
                message = value if name in ("message", "error", "detail") else f"{name}: {value}"
    if not message:
        text = getattr(response, "text", "") or ""
        lines = [re.sub(r"\s+", " ", html.unescape(_TAGS.sub(" ", line))).strip() for line in text.splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > 1 and _STATUS_LINE.match(lines[0]):
            lines = lines[1:]
        unique: list[str] = []
        for line in lines:
            if line not in unique:
                unique.append(line)
        message = " ".join(unique)[:1000]
    if not message:
        message = f"HTTP {status} {getattr(response, 'reason', '') or ''}".strip()
    return message, code or (str(status) if status else None)


def _retry_after(response: Any) -> int | None:
    value = (getattr(response, "headers", None) or {}).get("Retry-After")
    try:
        return max(0, int(float(value))) if value is not None else None
    except ValueError:
        return None


def error_from_status(status: int, message: str, code: str | None = None,
                      retry_after: int | None = None) -> DeltacloudError:
    """The core's error for an OpenStack answer of HTTP ``status`` (the table above)."""
    if status == 400:
        if _WRONG_STATE.search(message):
            return Conflict(message, backend_code=code)
        return ValidationError(message, backend_code=code)
    if status == 401:
        return AuthenticationFailure(message, backend_code=code)
    if status == 403:
        if _QUOTA.search(message):
            return RateLimited(message, retry_after=retry_after, backend_code=code, status=413)
        return ForbiddenError(message, backend_code=code)
    if status == 404:
        return ObjectNotFound(message, backend_code=code)
    if status in (405, 501):
        return NotSupportedError(message, backend_code=code)
    if status == 409:
        return Conflict(message, backend_code=code)
    if status in (413, 429):
        return RateLimited(message, retry_after=retry_after, backend_code=code, status=status)
    if status == 504:
        return ProviderTimeout(message, backend_code=code)
    if status >= 500:
        return ProviderError(message, backend_code=code)
    return BackendError(message, backend_code=code)


def error_from_response(response: Any) -> DeltacloudError:
    message, code = service_message(response)
    return error_from_status(response.status_code, message, code, _retry_after(response))


def check(response: Any) -> Any:
    """``response`` when it is a success, else raise its translated error."""
    if response.status_code >= 400:
        raise error_from_response(response)
    return response


def translate(exc: BaseException) -> BaseException:
    """The core's error for an exception raised by keystoneauth, openstacksdk or requests.

    Anything not from those libraries (a bug) is returned unchanged, to surface as a 500.
    """
    if isinstance(exc, DeltacloudError):
        return exc
    import requests
    from keystoneauth1 import exceptions as ks
    from openstack import exceptions as sdk

    response = getattr(exc, "response", None)
    if isinstance(exc, (sdk.HttpException, ks.HttpError)) and response is not None \
            and getattr(response, "status_code", None):
        return error_from_response(response)
    if isinstance(exc, ks.HttpError):  # raised without a response (rare): status and message only
        status = getattr(exc, "http_status", None) or 500
        message = getattr(exc, "details", None) or getattr(exc, "message", None) or str(exc)
        return error_from_status(int(status), str(message), str(status))
    if isinstance(exc, (ks.ConnectTimeout, requests.exceptions.Timeout, sdk.ResourceTimeout)):
        return ProviderTimeout(f"The cloud did not answer in time: {_short(exc)}")
    if isinstance(exc, ks.EndpointNotFound):
        return NotSupportedError(f"The cloud's catalogue has no endpoint for this: {_short(exc)}")
    if isinstance(exc, (ks.ConnectionError, ks.DiscoveryFailure, requests.exceptions.ConnectionError)):
        return ProviderError(f"The cloud could not be reached: {_short(exc)}")
    if isinstance(exc, ks.InvalidResponse):  # e.g. the provider URL is not Keystone's
        return ProviderError(f"The cloud answered something unexpected: {_short(exc)}")
    if isinstance(exc, ks.AuthorizationFailure):
        return AuthenticationFailure(f"Authentication failed: {_short(exc)}")
    if isinstance(exc, (ks.ClientException, sdk.SDKException)):
        return BackendError(_short(exc))
    return exc


def _short(exc: BaseException) -> str:
    return re.sub(r"\s+", " ", str(exc)).strip()[:500] or type(exc).__name__


def translated(func: F) -> F:
    """Run ``func`` with OpenStack's exceptions translated into the core's."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            mapped = translate(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    return wrapper  # type: ignore[return-value]
