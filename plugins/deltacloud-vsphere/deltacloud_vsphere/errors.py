"""vSphere faults and transport failures as the core's errors, keeping vSphere's own message.

======================================================== ====== =====================================
vSphere (pyVmomi)                                        Status Error
======================================================== ====== =====================================
``InvalidLogin``, ``NotAuthenticated`` (after a re-login) 401   AuthenticationFailure
``NoPermission`` (and other ``SecurityError``)            403   ForbiddenError
``ManagedObjectNotFound``, ``NotFound``, ``FileNotFound`` 404   ObjectNotFound
``InvalidPowerState`` of a start/stop/reboot/destroy      405   MethodNotAllowed (the state machine's
                                                                answer: the VM changed meanwhile)
``InvalidPowerState`` elsewhere, ``InvalidState``,        409   Conflict
``TaskInProgress``, ``DuplicateName``, ``FileAlreadyExists``,
``InsufficientResourcesFault``, ``ToolsUnavailable``
``InvalidArgument``, ``InvalidRequest``, ``InvalidName``, 400   ValidationError
``InvalidDeviceSpec``, ``InvalidDatastorePath``
``NotSupported``, ``NotImplemented``, ``MethodNotFound``  501   NotSupportedError
``HostCommunication``, ``HostConnectFault``,              502   ProviderError
``SystemError``; unreachable, TLS failure, not SOAP
``RequestCanceled``, ``Timedout``; a socket timeout       504   ProviderTimeout
any other fault                                           500   BackendError
======================================================== ====== =====================================

The message is vSphere's (``fault.msg``, else its localized fault message), or the fault's name
when vSphere sent none; ``backend_code`` is always the fault's name (``InvalidPowerState``).
"""

from __future__ import annotations

import http.client
import ssl
import xml.parsers.expat
from collections.abc import Iterator
from contextlib import contextmanager

from deltacloud_core import (
    AuthenticationFailure,
    BackendError,
    Conflict,
    DeltacloudError,
    ForbiddenError,
    MethodNotAllowed,
    NotSupportedError,
    ObjectNotFound,
    ProviderError,
    ProviderTimeout,
    ValidationError,
)
from pyVmomi import vim, vmodl

__all__ = ["TLS_HINT", "TRANSPORT_ERRORS", "fault_message", "fault_name", "translate", "translated_fault",
           "transport_error"]

_NOT_FOUND = (vmodl.fault.ManagedObjectNotFound, vim.fault.NotFound, vim.fault.FileNotFound)
_CONFLICT = (vim.fault.InvalidState, vim.fault.TaskInProgress, vim.fault.DuplicateName,
             vim.fault.FileAlreadyExists, vim.fault.InsufficientResourcesFault, vim.fault.ToolsUnavailable,
             vim.fault.AlreadyExists, vim.fault.ResourceInUse)
_INVALID = (vmodl.fault.InvalidArgument, vmodl.fault.InvalidRequest, vim.fault.InvalidName,
            vim.fault.InvalidDeviceSpec, vim.fault.InvalidDatastorePath, vim.fault.InvalidDatastore)
_UNSUPPORTED = (vmodl.fault.NotSupported, vmodl.fault.NotImplemented, vmodl.fault.MethodNotFound,
                vim.fault.NotSupportedHost)
_UNREACHABLE = (vmodl.fault.HostCommunication, vim.fault.HostConnectFault, vmodl.fault.SystemError)
_TIMEOUT = (vmodl.fault.RequestCanceled, vim.fault.Timedout)

#: The certificate hint every TLS failure carries.
TLS_HINT = ("The operator can name the CA (or the vCenter's self-signed certificate) in "
            "DELTACLOUD_VSPHERE_CA_BUNDLE, or turn checking off for a lab with DELTACLOUD_VSPHERE_INSECURE=1.")


def fault_name(fault: BaseException) -> str:
    """``InvalidPowerState`` for ``vim.fault.InvalidPowerState``."""
    return type(fault).__name__.rsplit(".", 1)[-1]


def fault_message(fault: vmodl.MethodFault) -> str:
    """vSphere's own words for a fault (its ``msg``, else the localized messages), else its name."""
    text = str(getattr(fault, "msg", "") or "").strip()
    if not text or text.startswith("*types."):  # govmomi's simulator sends the Go type's name
        messages = [str(m.message).strip() for m in getattr(fault, "faultMessage", None) or () if m.message]
        text = "; ".join(messages) or ""
    return text or fault_name(fault)


def _power_state_detail(fault: vmodl.MethodFault) -> str:
    existing, requested = getattr(fault, "existingState", None), getattr(fault, "requestedState", None)
    if existing and requested:
        return f" (the virtual machine is {existing}; this needs it {requested})"
    if existing:
        return f" (the virtual machine is {existing})"
    return ""


def translated_fault(fault: vmodl.MethodFault, *, what: str = "", action: bool = False) -> DeltacloudError:
    """The core's error for a vSphere fault. ``what`` prefixes the message (``Power on of vm-42``);
    ``action`` marks a start/stop/reboot/destroy, where a wrong power state is a 405."""
    name = fault_name(fault)
    message = fault_message(fault)
    text = f"{what}: {message}" if what else message
    if isinstance(fault, vim.fault.InvalidLogin):
        return AuthenticationFailure(text, backend_code=name)
    if isinstance(fault, vim.fault.NotAuthenticated):
        return AuthenticationFailure(f"{text} (the vSphere session ended; log in again)", backend_code=name)
    if isinstance(fault, vmodl.fault.SecurityError):
        privilege = getattr(fault, "privilegeId", None)
        extra = f" (missing privilege {privilege})" if privilege else ""
        return ForbiddenError(f"{text}{extra}", backend_code=name)
    if isinstance(fault, vim.fault.InvalidPowerState):
        detail = _power_state_detail(fault)
        return (MethodNotAllowed if action else Conflict)(f"{text}{detail}", backend_code=name)
    if isinstance(fault, _NOT_FOUND):
        return ObjectNotFound(text, backend_code=name)
    if isinstance(fault, _TIMEOUT):
        return ProviderTimeout(text, backend_code=name)
    if isinstance(fault, _UNREACHABLE):
        return ProviderError(text, backend_code=name)
    if isinstance(fault, _INVALID):
        prop = getattr(fault, "invalidProperty", None)
        return ValidationError(f"{text}{f' (property {prop})' if prop else ''}", backend_code=name)
    if isinstance(fault, _UNSUPPORTED):
        return NotSupportedError(text, backend_code=name)
    if isinstance(fault, _CONFLICT):
        return Conflict(text, backend_code=name)
    return BackendError(text, backend_code=name)


def transport_error(exc: BaseException, where: str) -> DeltacloudError:
    """The core's error for a failure to talk to vSphere at all (``where`` is the SDK's URL)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = getattr(exc, "verify_message", None) or exc
        return ProviderError(f"The certificate of {where} could not be verified: {reason}. {TLS_HINT}",
                             backend_code="SSLCertVerificationError")
    if isinstance(exc, TimeoutError):
        return ProviderTimeout(f"{where} did not answer in time ({exc or 'timed out'}); the operator sets the "
                               "bound with DELTACLOUD_VSPHERE_TIMEOUT.", backend_code="Timeout")
    if isinstance(exc, ssl.SSLError):
        return ProviderError(f"TLS with {where} failed: {exc}. {TLS_HINT}", backend_code="SSLError")
    if isinstance(exc, OSError):
        return ProviderError(f"{where} could not be reached: {exc.strerror or exc}", backend_code=type(exc).__name__)
    return ProviderError(f"{where} did not answer as a vSphere SDK does: {exc}", backend_code=type(exc).__name__)


#: What talking to vSphere may raise besides faults: the network, TLS, HTTP and XML layers.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException,
                                                     xml.parsers.expat.ExpatError)


@contextmanager
def translate(where: str, *, what: str = "", action: bool = False) -> Iterator[None]:
    """Turn vSphere faults and transport failures raised inside into the core's errors."""
    try:
        yield
    except DeltacloudError:
        raise
    except vmodl.MethodFault as fault:
        raise translated_fault(fault, what=what, action=action) from fault
    except TRANSPORT_ERRORS as exc:
        raise transport_error(exc, where) from exc

