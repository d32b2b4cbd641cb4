"""The operator's settings of the driver, from the server's environment (never from a client).

=================================== ========== ========================================================
Variable                            Default    Meaning
=================================== ========== ========================================================
``DELTACLOUD_VSPHERE_CA_BUNDLE``    (none)     PEM file of the CAs (or self-signed certificates) that
                                               vCenter certificates are checked against, instead of the
                                               system's trust store
``DELTACLOUD_VSPHERE_INSECURE``     ``0``      ``1``: do not check certificates at all (a lab only)
``DELTACLOUD_VSPHERE_TIMEOUT``      ``30``     seconds one HTTP request to vSphere may take
``DELTACLOUD_VSPHERE_TASK_TIMEOUT`` ``45``     seconds a request waits for vSphere's tasks (clone,
                                               reconfigure, power on ... together); keep it below the
                                               server's ``DELTACLOUD_BACKEND_TIMEOUT`` (60)
``DELTACLOUD_VSPHERE_SESSIONS``     ``64``     vSphere sessions kept (one per host and credentials)
``DELTACLOUD_VSPHERE_SESSION_IDLE`` ``1200``   seconds an unused session is kept (vCenter drops idle
                                               sessions after 30 minutes by default)
``DELTACLOUD_VSPHERE_MAX_ISO_MB``   ``64``     largest ``user_iso`` accepted, once unzipped
=================================== ========== ========================================================
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deltacloud_core import BackendError

__all__ = ["Settings"]

_PREFIX = "DELTACLOUD_VSPHERE_"


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(_PREFIX + name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BackendError(f"The server's {_PREFIX}{name} must be a number of seconds (or a count), "
                              f"not {raw!r}; the operator must fix it.") from None
    if value <= 0:
        raise BackendError(f"The server's {_PREFIX}{name} must be positive, not {raw!r}.")
    return value


@dataclass(frozen=True)
class Settings:
    """What the operator configured (see the module's table)."""

    ca_bundle: str | None = None
    insecure: bool = False
    timeout: float = 30.0
    task_timeout: float = 45.0
    max_sessions: int = 64
    session_idle: float = 1200.0
    max_iso_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        bundle = env.get(_PREFIX + "CA_BUNDLE", "").strip() or None
        if bundle is not None and not Path(bundle).is_file():
            raise BackendError(f"The server's {_PREFIX}CA_BUNDLE names {bundle!r}, which is not a file; "
                                  "the operator must fix it.")
        return cls(
            ca_bundle=bundle,
            insecure=env.get(_PREFIX + "INSECURE", "").strip().lower() in ("1", "true", "yes", "on"),
            timeout=_number(env, "TIMEOUT", cls.timeout),
            task_timeout=_number(env, "TASK_TIMEOUT", cls.task_timeout),
            max_sessions=int(_number(env, "SESSIONS", cls.max_sessions)),
            session_idle=_number(env, "SESSION_IDLE", cls.session_idle),
            max_iso_bytes=int(_number(env, "MAX_ISO_MB", cls.max_iso_bytes / 2**20) * 2**20),
        )

    @property
    def tls_key(self) -> tuple[str | None, bool]:
        """What decides how certificates are checked (part of the session cache's key)."""
        return (self.ca_bundle, self.insecure)

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context of every connection to vSphere: verified unless the operator said not to."""
        if self.insecure:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.ca_bundle)
