"""Which providers a client may choose: the operator's lists, and the addresses never reached.

A provider (``;provider=`` or ``X-Deltacloud-Provider``) can name a place the server then connects
to: a Keystone URL, an EC2-compatible endpoint, a libvirt URI, a vCenter host. Left open, any
client could make the server connect anywhere (SSRF), and with server-side credentials
(``API_USER``/``API_PASSWORD``) send the operator's secrets there. :class:`ProviderPolicy` decides,
before a driver is built, from four facts:

* the operator's patterns per driver (``DELTACLOUD_PROVIDERS_<DRIVER>``, whitespace-separated
  ``fnmatch`` globs; ``deltacloudd --allow-provider DRIVER=PATTERN``): a listed provider is allowed;
* the default provider of the default driver (``deltacloudd -P``), and a request that names no
  provider (the driver's own default): always allowed;
* server-side credentials: then nothing else is allowed, for any driver;
* a list for the driver: then nothing else is allowed for that driver;
* the driver's :attr:`~deltacloud_core.Driver.OPEN_PROVIDERS`: False (libvirt) allows nothing else
  either; True, with no list for the driver, allows any other provider except one whose hosts
  (:meth:`~deltacloud_core.Driver.provider_hosts`) are link-local or cloud-metadata addresses.

A refusal is a 403 whose message names the setting that would allow it. Host names are checked
as written (:meth:`ProviderPolicy.check`) and, before the request's first backend call, by what
they resolve to (:meth:`ProviderPolicy.check_resolved`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Protocol
from urllib.parse import urlsplit

from .errors import ForbiddenError

__all__ = ["ProviderPolicy", "hosts_in", "setting_name"]

ENV_PREFIX = "DELTACLOUD_PROVIDERS_"

#: Names of cloud metadata services, refused like their addresses.
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal", "metadata.azure.com", "metadata.tencentyun.com"})
#: Metadata addresses outside the link-local ranges (Alibaba, Oracle's legacy one, AWS over IPv6
#: is inside fd00:ec2::/32).
METADATA_ADDRESSES = (ipaddress.ip_network("100.100.100.200/32"), ipaddress.ip_network("192.0.0.192/32"),
                      ipaddress.ip_network("fd00:ec2::/32"))

_HOST_PORT = re.compile(r"^\[?([A-Za-z0-9.\-:%]+?)\]?:\d{1,5}$")


class _DriverClass(Protocol):
    driver_id: str
    OPEN_PROVIDERS: bool

    def provider_hosts(self, provider: str) -> list[str]: ...


def setting_name(driver_id: str) -> str:
    """``DELTACLOUD_PROVIDERS_EC2`` for ``ec2``."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", driver_id.upper())


def hosts_in(provider: str) -> list[str]:
    """The hosts a provider string names: the host of every URL (``scheme://[user@]host[:port]/...``)
    and every ``host:port`` in its ``;``/``,``-separated parts (``ec2=http://10.0.0.1:8773;s3=h:9000``).
    A bare name (``eu-west-1``, ``default``) names none."""
    hosts: list[str] = []
    for part in re.split(r"[;,\s]+", provider):
        value = part.split("=", 1)[1] if re.match(r"^[A-Za-z_][\w-]*=", part) else part
        if not value:
            continue
        if "://" in value:
            try:
                host = urlsplit(value).hostname
            except ValueError:
                host = None
            if host:
                hosts.append(host)
            continue
        match = _HOST_PORT.match(value)
        if match:
            hosts.append(match.group(1))
        elif _is_ip(value):
            hosts.append(value)
    return hosts


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def forbidden_address(address: str) -> bool:
    """Link-local (169.254.0.0/16, fe80::/10, where clouds keep their metadata services) or a
    known metadata address."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_link_local or any(ip in net for net in METADATA_ADDRESSES if ip.version == net.version)


Resolver = Callable[[str], Iterable[str]]


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []  # unknown names fail later in the driver, as a 502
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class ProviderPolicy:
    """The operator's provider rules for one server."""

    #: Driver id -> the operator's patterns.
    patterns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    default_driver: str = "mock"
    default_provider: str | None = None
    #: True when the server uses its own credentials for every request.
    server_credentials: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, default_driver: str = "mock",
                 default_provider: str | None = None, server_credentials: bool = False) -> ProviderPolicy:
        env = os.environ if env is None else env
        patterns = {key[len(ENV_PREFIX):].lower(): tuple(value.split())
                    for key, value in env.items() if key.startswith(ENV_PREFIX) and value.strip()}
        return cls(patterns=patterns, default_driver=default_driver, default_provider=default_provider,
                   server_credentials=server_credentials)

    def allowed_for(self, driver_id: str) -> tuple[str, ...]:
        """The operator's patterns for a driver (``-`` and ``_`` are the same in the setting's name)."""
        return self.patterns.get(driver_id.lower().replace("-", "_"), ())

    def listed(self, driver_id: str, provider: str) -> bool:
        if driver_id == self.default_driver and self.default_provider is not None \
                and provider.lower() == self.default_provider.lower():
            return True
        return any(fnmatchcase(provider, p) or fnmatchcase(provider.lower(), p.lower())
                   for p in self.allowed_for(driver_id))

    def check(self, driver_cls: _DriverClass, provider: str | None) -> None:
        """Refuse (403) a provider this server must not use for ``driver_cls``; host names are
        judged as written (see :meth:`check_resolved` for what they resolve to)."""
        if provider is None or self.listed(driver_cls.driver_id, provider):
            return
        if self.server_credentials:
            self._refuse(driver_cls.driver_id, provider, "this server uses its own credentials "
                         "(API_USER), which go only to the providers the operator lists")
        if not driver_cls.OPEN_PROVIDERS:
            self._refuse(driver_cls.driver_id, provider, "this driver connects only to the providers "
                         "the operator lists")
        if self.allowed_for(driver_cls.driver_id):
            self._refuse(driver_cls.driver_id, provider, "it is not one the operator lists")
        for host in driver_cls.provider_hosts(provider):
            if host.lower().rstrip(".") in METADATA_NAMES or forbidden_address(host):
                self._refuse(driver_cls.driver_id, provider,
                             f"it reaches {host}, a link-local or cloud metadata address")

    def needs_resolving(self, driver_cls: _DriverClass, provider: str | None) -> list[str]:
        """The host names (not IP literals) whose addresses :meth:`check_resolved` must judge."""
        if provider is None or self.listed(driver_cls.driver_id, provider):
            return []
        return [h for h in driver_cls.provider_hosts(provider) if not _is_ip(h)]

    def check_resolved(self, driver_cls: _DriverClass, provider: str | None,
                       resolve: Resolver = _resolve) -> None:
        """Refuse a provider whose host names resolve to a link-local or metadata address (blocking:
        call it from a worker thread)."""
        for host in self.needs_resolving(driver_cls, provider):
            for address in resolve(host):
                if forbidden_address(address):
                    self._refuse(driver_cls.driver_id, provider or "",
                                 f"{host} resolves to {address}, a link-local or cloud metadata address")

    @staticmethod
    def _refuse(driver_id: str, provider: str, reason: str) -> None:
        raise ForbiddenError(
            f"Provider '{provider}' is not allowed for driver '{driver_id}': {reason}. The operator "
            f"lists the providers clients may choose in {setting_name(driver_id)} (whitespace-separated "
            f"patterns; deltacloudd --allow-provider {driver_id}=PATTERN).")
