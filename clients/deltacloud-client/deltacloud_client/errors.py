"""One exception tree for everything the client raises.

::

    DeltacloudError                       base of them all
    ├── UsageError                        refused before anything was sent (also a ValueError)
    │   ├── HardwareProfileError          an override outside the profile's range / enum
    │   ├── ActionNotAvailable            the resource offers no such action (names those it has)
    │   └── NotSupported                  the server (driver) has no such collection or operation
    ├── WaitTimeout                       wait_for() gave up; says the last state seen
    ├── TransportError                    no answer: the server could not be reached
    │   ├── ConnectionFailed
    │   └── Timeout
    └── APIError                          the server answered with an error status
        ├── BadRequest                    400
        ├── Unauthorized                  401
        ├── Forbidden                     403
        ├── NotFound                      404
        ├── MethodNotAllowed              405  (an action the instance's state does not allow)
        ├── NotAcceptable                 406
        ├── Conflict                      409
        ├── PreconditionFailed            412  (the driver lacks the capability; ``expect``)
        ├── PayloadTooLarge               413
        ├── UnprocessableEntity           422  (an idempotency key reused for another request)
        ├── RateLimited                   429, 503  (``retry_after``)
        └── ServerError                   500 and any other 5xx
            ├── NotImplementedByServer    501
            ├── BadGateway                502  (the cloud could not be reached or answered badly)
            └── GatewayTimeout            504  (the cloud did not answer in time)

An :class:`APIError` is made from the server's error document, in JSON
(``{"code","message","error"[,"backend_code"]}``) or XML (``<error status url><backend driver
provider code/><message/>...``), or from a plain-text answer (the 400/412 texts of the original):
``status``, ``message``, ``error_class`` (``Deltacloud::Exceptions::ObjectNotFound``),
``backend_code`` / ``backend_message`` (the cloud's own, when the server tells them), ``driver``,
``provider``, ``request_id`` (``X-Request-Id``) and ``url``. Credentials never appear in any of it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "APIError",
    "ActionNotAvailable",
    "BadGateway",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "DeltacloudError",
    "Forbidden",
    "GatewayTimeout",
    "HardwareProfileError",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "NotImplementedByServer",
    "NotSupported",
    "PayloadTooLarge",
    "PreconditionFailed",
    "RateLimited",
    "ServerError",
    "Timeout",
    "TransportError",
    "Unauthorized",
    "UnprocessableEntity",
    "UsageError",
    "WaitTimeout",
    "error_from_answer",
]


class DeltacloudError(Exception):
    """Base of every error this package raises."""


class UsageError(DeltacloudError, ValueError):
    """The call cannot be made as asked; nothing was sent to the server."""


class HardwareProfileError(UsageError):
    """An ``hwp_*`` override the hardware profile does not allow (checked before sending)."""

    def __init__(self, message: str, *, profile: str, prop: str) -> None:
        super().__init__(message)
        self.profile = profile
        self.prop = prop


class ActionNotAvailable(UsageError):
    """The resource's links offer no such action; ``available`` lists those it offers."""

    def __init__(self, resource: str, action: str, available: Sequence[str]) -> None:
        self.resource = resource
        self.action = action
        self.available = tuple(available)
        offered = ", ".join(self.available) if self.available else "none"
        super().__init__(f"{resource} does not offer '{action}' now (it offers: {offered})")


class NotSupported(UsageError):
    """The server's entry point (for this driver) lacks the collection or operation."""


class WaitTimeout(DeltacloudError):
    """``wait_for`` ran out of time; ``last_state`` is what the server said last."""

    def __init__(self, message: str, *, last_state: str | None) -> None:
        super().__init__(message)
        self.last_state = last_state


class TransportError(DeltacloudError):
    """The server gave no answer (connection refused, reset, DNS, TLS, timeout)."""


class ConnectionFailed(TransportError):
    pass


class Timeout(TransportError):
    pass


class APIError(DeltacloudError):
    """The server answered with an error; see the module docstring for the attributes."""

    status_code: ClassVar[int] = 0

    def __init__(self, message: str, *, status: int, error_class: str | None = None,
                 backend_code: str | None = None, backend_message: str | None = None,
                 driver: str | None = None, provider: str | None = None, request_id: str | None = None,
                 url: str | None = None, retry_after: float | None = None, expect: str | None = None) -> None:
        self.status = status
        self.message = message
        self.error_class = error_class
        self.backend_code = backend_code
        self.backend_message = backend_message
        self.driver = driver
        self.provider = provider
        self.request_id = request_id
        self.url = url
        self.retry_after = retry_after
        self.expect = expect
        super().__init__(self._text())

    def _text(self) -> str:
        text = f"{self.status} {self.message}"
        backend = " ".join(x for x in (self.backend_code, self.backend_message) if x)
        if backend:
            text += f" (backend: {backend})"
        if self.expect:
            text += f" (missing capability: {self.expect})"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text


class BadRequest(APIError):
    status_code = 400


class Unauthorized(APIError):
    status_code = 401


class Forbidden(APIError):
    status_code = 403


class NotFound(APIError):
    status_code = 404


class MethodNotAllowed(APIError):
    status_code = 405


class NotAcceptable(APIError):
    status_code = 406


class Conflict(APIError):
    status_code = 409


class PreconditionFailed(APIError):
    status_code = 412


class PayloadTooLarge(APIError):
    status_code = 413


class UnprocessableEntity(APIError):
    status_code = 422


class RateLimited(APIError):
    status_code = 429


class ServerError(APIError):
    status_code = 500


class NotImplementedByServer(ServerError):
    status_code = 501


class BadGateway(ServerError):
    status_code = 502


class GatewayTimeout(ServerError):
    status_code = 504


_BY_STATUS: Mapping[int, type[APIError]] = {
    cls.status_code: cls for cls in (BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, NotAcceptable,
                                     Conflict, PreconditionFailed, PayloadTooLarge, UnprocessableEntity, RateLimited,
                                     ServerError, NotImplementedByServer, BadGateway, GatewayTimeout)
}

_GENERIC = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            406: "Not Acceptable", 409: "Conflict", 412: "Precondition Failed", 413: "Payload Too Large",
            422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
            501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _class_for(status: int) -> type[APIError]:
    if status == 503:
        return RateLimited
    found = _BY_STATUS.get(status)
    if found is not None:
        return found
    if status >= 500:
        return ServerError
    return APIError


def _from_json(body: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict) or "message" not in doc:
        return None
    return {"message": str(doc.get("message")), "error_class": doc.get("error"),
            "backend_code": doc.get("backend_code"), "backend_message": doc.get("backend_message")}


def _from_xml(body: bytes) -> dict[str, Any] | None:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if root.tag != "error":
        return None
    backend = root.find("backend")
    found: dict[str, Any] = {"message": (root.findtext("message") or "").strip()}
    if backend is not None:
        found["driver"] = backend.get("driver")
        found["provider"] = backend.get("provider")
        found["backend_code"] = backend.get("code") or (backend.findtext("code") or "").strip() or None
        found["backend_message"] = (backend.findtext("message") or "").strip() or None
    return found


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: not worth parsing for a hint


def error_from_answer(status: int, headers: Mapping[str, str], body: bytes, *, url: str | None = None) -> APIError:
    """The :class:`APIError` subclass for an error answer, with what its document tells."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    found: dict[str, Any] | None = None
    if content_type == "application/json":
        found = _from_json(body)
    elif content_type in ("application/xml", "text/xml"):
        found = _from_xml(body)
    elif body and content_type in ("text/plain", "text/html") and b"<" not in body[:200]:
        found = {"message": body.decode("utf-8", "replace").strip()}  # the original's plain-text errors
    found = found or {}
    message = found.pop("message", None) or _GENERIC.get(status, "Error")
    cls = _class_for(status)
    return cls(message, status=status, url=url, request_id=headers.get("x-request-id"),
               driver=found.pop("driver", None) or headers.get("x-deltacloud-driver"),
               provider=found.pop("provider", None) or headers.get("x-deltacloud-provider"),
               retry_after=_retry_after(headers.get("retry-after")), expect=headers.get("expect"), **found)
