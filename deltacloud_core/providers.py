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
from typing import Protocol
from urllib.parse import urlsplit

from .errors import ForbiddenError

__all__ = ["DENY_SETTING", "ProviderPolicy", "as_ip", "forbidden_address", "hosts_in", "parse_networks",
           "setting_name"]

ENV_PREFIX = "DELTACLOUD_PROVIDERS_"
#: The operator's networks no unlisted provider may reach (whitespace-separated CIDRs).
DENY_SETTING = "DELTACLOUD_DENY_ADDRESSES"
_WHAT = f"a link-local or cloud metadata address (or one denied in {DENY_SETTING})"

#: Names of cloud metadata services, refused like their addresses.
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal", "metadata.azure.com", "metadata.tencentyun.com"})
#: Metadata addresses outside the link-local ranges (Alibaba, Oracle's legacy one, AWS over IPv6
#: is inside fd00:ec2::/32).
METADATA_ADDRESSES = (ipaddress.ip_network("100.100.100.200/32"), ipaddress.ip_network("192.0.0.192/32"),
                      ipaddress.ip_network("fd00:ec2::/32"))

#: Where an authority ends for the URL parsers SDKs use (urllib3 and WHATWG stop at a backslash,
#: Python's urlsplit does not): every reading counts.
_AUTHORITY_ENDS = (re.compile(r"[/\\?#]"), re.compile(r"[/?#]"))
#: IPv4 in the forms ``inet_aton`` (and so every resolver) reads: 2130706433, 0x7f.1, 0177.0.0.1, 127.1.
_NUMERIC_IPV4 = re.compile(r"(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+)){0,3}", re.IGNORECASE)
#: An IPv6 prefix whose addresses carry an IPv4 one in their last 32 bits (NAT64, IPv4-compatible).
_EMBEDDING_V4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"),
                 ipaddress.ip_network("::/96"))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _DriverClass(Protocol):
    driver_id: str
    OPEN_PROVIDERS: bool

    def provider_hosts(self, provider: str) -> list[str]: ...


def setting_name(driver_id: str) -> str:
    """``DELTACLOUD_PROVIDERS_EC2`` for ``ec2``."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", driver_id.upper())


def hosts_in(provider: str) -> list[str]:
    """The hosts a provider string names, lower-cased: the host of every URL
    (``scheme://[user@]host[:port]/...``, as each URL parser an SDK may use reads it) and of every
    scheme-less ``host[:port][/path]`` in its ``;``/``,``-separated parts
    (``ec2=http://10.0.0.1:8773;s3=h:9000``), a bare IP literal in any form a resolver reads
    (``169.254.169.254``, ``2852039166``) and a bare dotted name. A bare word (``eu-west-1``,
    ``default``) names none, unless it is a metadata service's name."""
    hosts: list[str] = []
    for part in re.split(r"[;,\s]+", provider):
        value = part.split("=", 1)[1] if re.match(r"^[A-Za-z_][\w-]*=", part) else part
        if not value:
            continue
        _scheme, sep, rest = value.partition("://")
        found = _url_hosts(value, rest) if sep else _bare_hosts(value)
        hosts.extend(h for h in found if h not in hosts)
    return hosts


def _url_hosts(url: str, after_scheme: str) -> list[str]:
    found: list[str] = []
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if host:
        found.append(host.lower())
    for ends in _AUTHORITY_ENDS:
        authority = ends.split(after_scheme, 1)[0]
        found.append(_host_of(authority.rpartition("@")[2]))
    return [h for i, h in enumerate(found) if h and h not in found[:i]]


def _bare_hosts(value: str) -> list[str]:
    authority = _AUTHORITY_ENDS[0].split(value, 1)[0]
    host = _host_of(authority.rpartition("@")[2])
    if not host:
        return []
    if as_ip(host) is not None or host.rstrip(".") in METADATA_NAMES:
        return [host]
    has_port = authority != host and re.search(r":\d{1,5}$", authority) is not None
    if has_port or "." in host.strip("."):
        return [host]
    return []


def _host_of(authority: str) -> str:
    """``host`` of ``host[:port]`` or ``[v6][:port]``, lower-cased."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    if authority.count(":") > 1:  # a bare IPv6 literal
        return authority
    return authority.partition(":")[0]


def as_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address an IP literal stands for, in any form a resolver reads (``[fe80::1%eth0]``,
    ``2852039166``, ``0xa9.0376.43518``); None for a name."""
    text = text.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _NUMERIC_IPV4.fullmatch(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _is_ip(text: str) -> bool:
    return as_ip(text) is not None


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 one carries (mapped, 6to4, Teredo, NAT64, IPv4-compatible)."""
    out: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        out.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        out.append(ip.sixtofour)
    if ip.teredo is not None:
        out.extend(ip.teredo)
    if any(ip in net for net in _EMBEDDING_V4) and int(ip) & 0xFFFFFFFF > 1:
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def forbidden_address(address: str, denied: Iterable[Network] = ()) -> bool:
    """Link-local (169.254.0.0/16, fe80::/10, where clouds keep their metadata services), a known
    metadata address, or one of the operator's ``denied`` networks; also when an IPv6 address
    carries such an IPv4 one."""
    ip = as_ip(address)
    if ip is None:
        return False
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates.extend(_embedded_v4(ip))
    nets = (*METADATA_ADDRESSES, *denied)
    return any(c.is_link_local or any(c in net for net in nets if c.version == net.version) for c in candidates)


def parse_networks(text: str) -> tuple[Network, ...]:
    """Whitespace-separated addresses or CIDR networks (``10.0.0.0/8 fd00::/8 192.0.2.7``);
    ValueError names a wrong one."""
    nets: list[Network] = []
    for item in text.split():
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"not an address or network (CIDR): {item!r}") from None
    return tuple(nets)


#: What a ``*`` or ``?`` of a pattern never matches: another part of the provider, a user name in
#: front of a host, a backslash (so ``http://10.0.0.1:*`` lets no ``@evil.example.com`` through).
_GLOB_STOP = r"[^;,\s@\\]"


def _glob(pattern: str) -> re.Pattern[str]:
    """An ``fnmatch`` pattern whose wildcards stay inside one part of one host (see ``_GLOB_STOP``);
    ``*`` alone matches every provider."""
    if pattern == "*":
        return re.compile(r".*", re.DOTALL)
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(_GLOB_STOP + "*")
        elif char == "?":
            out.append(_GLOB_STOP)
        elif char == "[" and "]" in pattern[i + 2:]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE)


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
    #: The operator's networks never reached unless listed, besides link-local and metadata ones
    #: (``DELTACLOUD_DENY_ADDRESSES``).
    denied: tuple[Network, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, default_driver: str = "mock",
                 default_provider: str | None = None, server_credentials: bool = False) -> ProviderPolicy:
        env = os.environ if env is None else env
        patterns = {key[len(ENV_PREFIX):].lower(): tuple(value.split())
                    for key, value in env.items() if key.startswith(ENV_PREFIX) and value.strip()}
        return cls(patterns=patterns, default_driver=default_driver, default_provider=default_provider,
                   server_credentials=server_credentials, denied=parse_networks(env.get(DENY_SETTING, "")))

    def forbidden(self, address: str) -> bool:
        """Never reached unless listed: link-local, metadata, or one of :attr:`denied`."""
        return forbidden_address(address, self.denied)

    def allowed_for(self, driver_id: str) -> tuple[str, ...]:
        """The operator's patterns for a driver (``-`` and ``_`` are the same in the setting's name)."""
        return self.patterns.get(driver_id.lower().replace("-", "_"), ())

    def listed(self, driver_id: str, provider: str) -> bool:
        if driver_id == self.default_driver and self.default_provider is not None \
                and provider.lower() == self.default_provider.lower():
            return True
        return any(_glob(p).fullmatch(provider) for p in self.allowed_for(driver_id))

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
            if host.lower().rstrip(".") in METADATA_NAMES or self.forbidden(host):
                self._refuse(driver_cls.driver_id, provider, f"it reaches {host}, {_WHAT}")

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
                if self.forbidden(address):
                    self._refuse(driver_cls.driver_id, provider or "", f"{host} resolves to {address}, {_WHAT}")

    @staticmethod
    def _refuse(driver_id: str, provider: str, reason: str) -> None:
        raise ForbiddenError(
            f"Provider '{provider}' is not allowed for driver '{driver_id}': {reason}. The operator "
            f"lists the providers clients may choose in {setting_name(driver_id)} (whitespace-separated "
            f"patterns; deltacloudd --allow-provider {driver_id}=PATTERN).")
