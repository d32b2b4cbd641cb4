"""libvirt's errors as the core's, translated at the driver's boundary with libvirt's own message.

==============================================================  ==========================
libvirt error code                                              What the client gets
==============================================================  ==========================
``NO_DOMAIN``, ``NO_STORAGE_VOL``, ``NO_NETWORK``,              404 ObjectNotFound
``NO_DOMAIN_SNAPSHOT``
``OPERATION_INVALID`` (not in this state: "domain is not        409 Conflict
running"), ``STORAGE_VOL_EXIST``, ``DOM_EXIST``,
``NETWORK_EXIST``, ``STORAGE_POOL_BUILT``
``AUTH_FAILED``, ``AUTH_CANCELLED``, ``AUTH_UNAVAILABLE``       401 AuthenticationFailure
``OPERATION_DENIED``, ``ACCESS_DENIED``                         403 ForbiddenError
``INVALID_ARG``, ``XML_ERROR``, ``XML_DETAIL``,                 400 ValidationFailure
``CONFIG_UNSUPPORTED``, ``INVALID_DOMAIN`` ...
``NO_SUPPORT``, ``OPERATION_UNSUPPORTED``,                      501 NotImplemented
``ARGUMENT_UNSUPPORTED``
``OPERATION_TIMEOUT``, ``AGENT_UNRESPONSIVE``                   504 ProviderTimeout
``NO_CONNECT``, ``SYSTEM_ERROR`` / ``RPC`` (socket refused,     502 ProviderError
daemon gone), ``INTERNAL_ERROR`` from the RPC layer
anything else (``OPERATION_FAILED`` ...)                        500 BackendError
==============================================================  ==========================

The message is libvirt's (``get_error_message()``), and ``backend_code`` is the error code's name
(``VIR_ERR_NO_DOMAIN``).
"""

from __future__ import annotations

import libvirt
from deltacloud_core import (
    AuthenticationFailure,
    BackendError,
    Conflict,
    ForbiddenError,
    NotSupportedError,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    ValidationError,
)

__all__ = ["code_name", "is_code", "translate"]

def _codes(*names: str) -> frozenset[int]:
    """The values of the ``VIR_ERR_*`` constants this libvirt-python has (older ones lack a few)."""
    return frozenset(getattr(libvirt, f"VIR_ERR_{name}") for name in names if hasattr(libvirt, f"VIR_ERR_{name}"))


_NOT_FOUND = _codes("NO_DOMAIN", "NO_STORAGE_VOL", "NO_STORAGE_POOL", "NO_NETWORK", "NO_DOMAIN_SNAPSHOT",
                    "NO_INTERFACE", "NO_NODE_DEVICE")
_CONFLICT = _codes("OPERATION_INVALID", "STORAGE_VOL_EXIST", "DOM_EXIST", "NETWORK_EXIST", "STORAGE_POOL_BUILT",
                   "BLOCK_COPY_ACTIVE")
_AUTH = _codes("AUTH_FAILED", "AUTH_CANCELLED", "AUTH_UNAVAILABLE")
_FORBIDDEN = _codes("OPERATION_DENIED", "ACCESS_DENIED")
_INVALID = _codes("INVALID_ARG", "XML_ERROR", "XML_DETAIL", "CONFIG_UNSUPPORTED", "INVALID_DOMAIN",
                  "INVALID_STORAGE_VOL", "INVALID_NETWORK", "XML_INVALID_SCHEMA", "NO_NAME", "NO_SOURCE",
                  "NO_TARGET", "NO_DEVICE", "INVALID_MAC")
_UNSUPPORTED = _codes("NO_SUPPORT", "OPERATION_UNSUPPORTED", "ARGUMENT_UNSUPPORTED")
_TIMEOUT = _codes("OPERATION_TIMEOUT", "AGENT_UNRESPONSIVE")
_UNREACHABLE = _codes("NO_CONNECT", "SYSTEM_ERROR", "RPC", "INVALID_CONN")
_RPC_DOMAINS = frozenset(getattr(libvirt, name) for name in ("VIR_FROM_RPC", "VIR_FROM_REMOTE", "VIR_FROM_SSH")
                         if hasattr(libvirt, name))
_NAMES = {getattr(libvirt, name): name for name in dir(libvirt) if name.startswith("VIR_ERR_")
          and isinstance(getattr(libvirt, name), int) and name not in ("VIR_ERR_NONE", "VIR_ERR_WARNING",
                                                                      "VIR_ERR_ERROR")}


def code_name(exc: libvirt.libvirtError) -> str:
    """``VIR_ERR_NO_DOMAIN`` for an error of that code (``VIR_ERR_<number>`` when unknown)."""
    code = exc.get_error_code()
    return _NAMES.get(code, f"VIR_ERR_{code}")


def is_code(exc: BaseException, *names: str) -> bool:
    """``exc`` is a libvirt error with one of the codes ``names`` (``"NO_DOMAIN"`` ...)."""
    return isinstance(exc, libvirt.libvirtError) and exc.get_error_code() in _codes(*names)


def _message(exc: libvirt.libvirtError) -> str:
    return (exc.get_error_message() or str(exc) or code_name(exc)).strip()


def translate(exc: BaseException) -> BaseException:
    """The core's error for a libvirt error (the table above); anything else is returned unchanged."""
    if not isinstance(exc, libvirt.libvirtError):
        return exc
    code = exc.get_error_code()
    message, backend_code = _message(exc), code_name(exc)
    if code in _NOT_FOUND:
        return ObjectNotFound(message, backend_code=backend_code)
    if code in _CONFLICT:
        return Conflict(message, backend_code=backend_code)
    if code in _AUTH:
        return AuthenticationFailure(message, backend_code=backend_code)
    if code in _FORBIDDEN:
        return ForbiddenError(message, backend_code=backend_code)
    if code in _INVALID:
        return ValidationError(message, backend_code=backend_code)
    if code in _UNSUPPORTED:
        return NotSupportedError(message, backend_code=backend_code)
    if code in _TIMEOUT:
        return ProviderTimeout(message, backend_code=backend_code)
    if code in _UNREACHABLE or exc.get_error_domain() in _RPC_DOMAINS:
        return ProviderError(message, backend_code=backend_code)
    return BackendError(message, backend_code=backend_code)
