"""The provider string: which vCenter (or ESXi host) to log in to, and optionally which datacenter.

Forms (as the original driver's ``API_PROVIDER="vsphere.hostname.com"``, plus URLs and a datacenter):

* ``vcenter.example.com``: ``https://vcenter.example.com:443/sdk``;
* ``vcenter.example.com:8443``, ``10.0.0.5``, ``[2001:db8::5]:443``: a host (and port), https;
* ``https://vcenter.example.com/sdk``, ``http://127.0.0.1:8989/sdk``: a URL (path ``/sdk`` when none);
* any of these followed by ``;DATACENTER``: only that datacenter's inventory.

The server lower-cases provider strings that are not URLs, so datacenter names are matched
case-insensitively against the inventory.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from deltacloud_core import ValidationError

__all__ = ["DEFAULT_PATH", "Endpoint", "parse_provider", "provider_hosts"]

DEFAULT_PATH = "/sdk"
_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.%]+)\]|(?P<name>[A-Za-z0-9_.\-]+))(?::(?P<port>\d{1,5}))?$")
_EXAMPLES = ("vcenter.example.com, vcenter.example.com;DC1, https://vcenter.example.com/sdk or "
             "https://vcenter.example.com/sdk;DC1")


@dataclass(frozen=True)
class Endpoint:
    """Where the SOAP API of one vCenter or ESXi host answers, and the datacenter to keep to."""

    scheme: str
    host: str
    port: int
    path: str = DEFAULT_PATH
    datacenter: str | None = None

    @property
    def url(self) -> str:
        """The SDK's URL (without the datacenter): the key of the session cache."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def base_url(self) -> str:
        """``scheme://host:port``: where the datastore file service (``/folder``) answers."""
        return self.url[: -len(self.path)] if self.path else self.url

    def __str__(self) -> str:
        return f"{self.url};{self.datacenter}" if self.datacenter else self.url


def _split_datacenter(provider: str) -> tuple[str, str | None]:
    """``(place, datacenter)``: the datacenter follows the last ``;``."""
    place, sep, datacenter = provider.strip().rpartition(";")
    if not sep:
        return provider.strip(), None
    return place.strip(), (datacenter.strip() or None)


def _invalid(provider: str, why: str) -> ValidationError:
    return ValidationError(f"Provider {provider!r} is not a vCenter or ESXi host: {why}. Expected e.g. {_EXAMPLES}.")


def parse_provider(provider: str | None) -> Endpoint:
    """The :class:`Endpoint` a provider string names (see the module's documentation)."""
    if provider is None or not provider.strip():
        raise ValidationError(
            "No provider: name the vCenter (or ESXi host) to use, e.g. X-Deltacloud-Provider: "
            "vcenter.example.com or https://vcenter.example.com/sdk;DC1 (or start the server with -P).")
    place, datacenter = _split_datacenter(provider)
    if not place:
        raise _invalid(provider, "no host before the ';'")
    if "://" in place:
        try:
            parts = urlsplit(place)
            port = parts.port
        except ValueError as exc:
            raise _invalid(provider, str(exc)) from None
        if parts.scheme not in ("http", "https"):
            raise _invalid(provider, f"the scheme must be https (or http), not {parts.scheme!r}")
        if not parts.hostname:
            raise _invalid(provider, "the URL names no host")
        if parts.username or parts.password:
            raise _invalid(provider, "credentials go in the Authorization header, never in the provider")
        if parts.query or parts.fragment:
            raise _invalid(provider, "a query or fragment has no meaning here")
        path = parts.path.rstrip("/") or DEFAULT_PATH
        return Endpoint(scheme=parts.scheme, host=parts.hostname, port=port or (443 if parts.scheme == "https" else 80),
                        path=path, datacenter=datacenter)
    match = _HOST.match(place)
    if match is None:
        raise _invalid(provider, f"{place!r} is neither a host name, an address nor a URL")
    host = match.group("v6") or match.group("name")
    if match.group("v6"):
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            raise _invalid(provider, f"{host!r} is not an IPv6 address") from None
    port = int(match.group("port") or 443)
    if not 0 < port < 65536:
        raise _invalid(provider, f"port {port} is out of range")
    return Endpoint(scheme="https", host=host, port=port, datacenter=datacenter)


def provider_hosts(provider: str) -> list[str]:
    """The host a provider string makes the server connect to (for the core's provider policy).

    A string that does not parse names the host it would have named, if any, so the policy still
    judges it: the driver refuses it later (400), but the policy's 403 comes first.
    """
    try:
        return [parse_provider(provider).host]
    except ValidationError:
        place, _ = _split_datacenter(provider)
        if "://" in place:
            try:
                host = urlsplit(place).hostname
            except ValueError:
                host = None
            return [host] if host else []
        bare = place.strip("[]")
        try:
            ipaddress.ip_address(bare.split("%", 1)[0])
        except ValueError:
            bare = bare.rsplit(":", 1)[0] if place.count(":") == 1 else bare
        return [bare] if bare else []
