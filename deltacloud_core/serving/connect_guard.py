"""The last line against SSRF: no socket of the server process connects to a forbidden address.

The provider policy (:mod:`deltacloud_core.providers`) judges the provider a client names before
any driver runs, by its text and by what its host names resolve to. What it cannot see happens
later, inside a driver's SDK: a redirect (a provider's host answering ``307`` to
``http://169.254.169.254/...``), a name that resolves elsewhere the second time (DNS rebinding), a
service catalogue that lists internal endpoints (a Keystone answering with any URLs), a URL parser
that reads the host differently. So ``deltacloudd`` also watches every connection its process
makes (Python's ``socket.connect``/``sendto`` audit events, raised in every thread, by every HTTP
library built on Python sockets): one to a link-local, cloud-metadata or denied
(``DELTACLOUD_DENY_ADDRESSES``) address fails with :class:`ConnectionForbidden` (a
``PermissionError``, so SDKs report a connection error) and a warning in the log.

Addresses the operator named in the provider lists (``DELTACLOUD_PROVIDERS_<DRIVER>``, the default
provider) are allowed: IP literals as written, host names as they resolve when the guard is
installed. Code that is not Python sockets (libvirt's C library, a uvloop transport) is not seen.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from collections.abc import Iterable
from typing import Any

from ..providers import ProviderPolicy, as_ip, hosts_in

__all__ = ["ConnectionForbidden", "install", "installed_guard"]

log = logging.getLogger("deltacloud.providers")

_EVENTS = frozenset({"socket.connect", "socket.sendto"})
_guard: ConnectGuard | None = None


class ConnectionForbidden(PermissionError):
    """A connection the provider policy forbids (see the module docstring)."""


class ConnectGuard:
    """The audit hook: refuses connections to :meth:`ProviderPolicy.forbidden` addresses."""

    def __init__(self, policy: ProviderPolicy, exempt: Iterable[str] = ()) -> None:
        self.policy = policy
        self.exempt = frozenset(str(ip) for ip in (as_ip(a) for a in exempt) if ip is not None)
        self.refused = 0

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in _EVENTS:
            return
        address = args[1] if len(args) > 1 else None
        if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
            return  # a Unix socket path, or nothing to judge
        host = address[0]
        if not self.policy.forbidden(host):
            return
        ip = as_ip(host)
        if ip is not None and str(ip) in self.exempt:
            return
        self.refused += 1
        message = (f"deltacloudd does not connect to {host}: a link-local, cloud metadata or denied address "
                   "(reached through a redirect, a resolved name or a service catalogue?). List a provider "
                   "that names it in DELTACLOUD_PROVIDERS_<DRIVER> to allow it.")
        log.warning("refused a connection to %s (port %s)", host, address[1] if len(address) > 1 else "?")
        raise ConnectionForbidden(message)


def listed_addresses(policy: ProviderPolicy, resolve: bool = True) -> set[str]:
    """The addresses the operator's lists name: IP literals, and what plain host names resolve to."""
    patterns = [p for values in policy.patterns.values() for p in values]
    if policy.default_provider:
        patterns.append(policy.default_provider)
    out: set[str] = set()
    for pattern in patterns:
        for host in hosts_in(pattern):
            ip = as_ip(host)
            if ip is not None:
                out.add(str(ip))
            elif resolve and not any(c in host for c in "*?[]"):
                out.update(_resolved(host))
    return out


def _resolved(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [str(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])) for info in infos]


def install(policy: ProviderPolicy) -> ConnectGuard:
    """Watch this process's connections from now on (once per process; an audit hook cannot be
    removed). Returns the guard in force."""
    global _guard
    if _guard is None:
        _guard = ConnectGuard(policy, listed_addresses(policy))
        sys.addaudithook(_guard)
    return _guard


def installed_guard() -> ConnectGuard | None:
    return _guard
