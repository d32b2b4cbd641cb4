"""Who the client is and which cloud it means: credentials, provider, and cached Keystone sessions.

Credentials (HTTP Basic): the user name is ``[DOMAIN/]USER[@PROJECT]`` or ``[DOMAIN/]USER[+PROJECT]``,
the password is the OpenStack password.

* ``PROJECT`` is the project (tenant) to scope the token to. Without it Keystone scopes the token to
  the user's default project; when the user has none, the project named like the user is tried.
* ``DOMAIN`` is the Keystone domain of both user and project (default ``Default``).
* The project is split off at the last ``+``, or else at the last ``@``: a user name that itself
  contains ``@`` (an e-mail address) needs the ``+`` form, ``bob@example.com+web``.

Provider: the Keystone auth URL, optionally followed by ``;REGION``
(``http://keystone:5000/v3;RegionOne``). A URL ending in ``/v3`` uses Identity v3, one ending in
``/v2.0`` Identity v2 (Rackspace's cloud: ``https://identity.api.rackspacecloud.com/v2.0;ORD``), any
other URL is discovered. The region is matched case-insensitively against the catalogue (the server
lower-cases provider strings). Without a provider the environment's ``OS_AUTH_URL`` (and
``OS_REGION_NAME``) is used, if set.

An authenticated session is cached per (credentials digest, provider) until its token expires, so
a request costs no Keystone round trip while the token is good. Nothing is written to disk.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from deltacloud_core import AuthenticationFailure, Credentials, NotSupportedError, ValidationError

from .errors import translated

__all__ = [
    "DEFAULT_TIMEOUT",
    "SERVICE_ALIASES",
    "Account",
    "Cloud",
    "Endpoint",
    "SessionCache",
    "connect",
    "parse_provider",
    "parse_user",
]

#: Seconds one HTTP request to the cloud may take (connect and each read); ``DELTACLOUD_OPENSTACK_TIMEOUT``.
DEFAULT_TIMEOUT = 30.0
#: Nova microversion the driver speaks: >= 2.37 (``networks: none/auto``), <= 2.46 (servers show their
#: flavor's id; personality files and generated key pairs still exist). Lower when the cloud is older.
COMPUTE_MICROVERSION = (2, 46)
#: Catalogue service types, with the older names clouds still register them under.
SERVICE_ALIASES: Mapping[str, tuple[str, ...]] = {
    "compute": ("compute",),
    "image": ("image",),
    "block-storage": ("block-storage", "volumev3", "volumev2", "volume"),
    "object-store": ("object-store",),
    "network": ("network",),
}
_USER_FORMS = "'user', 'user@project', 'user+project', optionally prefixed with 'domain/'"


@dataclass(frozen=True)
class Account:
    """The OpenStack identity a request's credentials name."""

    user: str
    password: str = field(repr=False)
    project: str | None = None
    domain: str = "Default"


def parse_user(credentials: Credentials) -> Account:
    """The :class:`Account` of HTTP Basic credentials (see the module's documentation)."""
    text = credentials.user.strip()
    domain = "Default"
    if "/" in text:
        domain, _, text = text.partition("/")
    if "+" in text:
        user, _, project = text.rpartition("+")
    elif "@" in text:
        user, _, project = text.rpartition("@")
    else:
        user, project = text, None
    if not user or project == "" or not domain:
        raise AuthenticationFailure(f"Unusable user name {credentials.user!r}: expected {_USER_FORMS}.")
    return Account(user=user, password=credentials.password, project=project, domain=domain)


@dataclass(frozen=True)
class Endpoint:
    """A provider: Keystone's URL and, optionally, a region."""

    auth_url: str
    region: str | None = None

    @property
    def identity_version(self) -> str | None:
        path = urlsplit(self.auth_url).path.rstrip("/")
        if path.endswith("/v3"):
            return "3"
        if path.endswith("/v2.0"):
            return "2"
        return None

    def __str__(self) -> str:
        return f"{self.auth_url};{self.region}" if self.region else self.auth_url


def parse_provider(provider: str | None, environ: Mapping[str, str] | None = None) -> Endpoint:
    """The :class:`Endpoint` a provider string names (``URL`` or ``URL;REGION``)."""
    env = os.environ if environ is None else environ
    if not provider:
        url = env.get("OS_AUTH_URL", "").strip()
        if not url:
            raise ValidationError(
                "No provider: name the Keystone URL of the cloud, e.g. X-Deltacloud-Provider: "
                "https://keystone.example.com:5000/v3;RegionOne (or start the server with -P).")
        provider = url + (f";{env['OS_REGION_NAME'].strip()}" if env.get("OS_REGION_NAME", "").strip() else "")
    url, sep, region = provider.strip().rpartition(";")
    if not sep or "/" in region:
        url, region = provider.strip(), ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(
            f"Provider {provider!r} is not a Keystone URL; expected e.g. "
            "https://keystone.example.com:5000/v3 or https://keystone.example.com:5000/v3;RegionOne")
    return Endpoint(auth_url=url.rstrip("/") or url, region=region.strip() or None)


def _timeout() -> float:
    try:
        return float(os.environ.get("DELTACLOUD_OPENSTACK_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def _auth_plugin(account: Account, endpoint: Endpoint, project: str | None) -> Any:
    from keystoneauth1.identity import generic, v2, v3

    version = endpoint.identity_version
    if version == "2":
        return v2.Password(auth_url=endpoint.auth_url, username=account.user, password=account.password,
                           tenant_name=project)
    cls = v3.Password if version == "3" else generic.Password
    kwargs: dict[str, Any] = {"auth_url": endpoint.auth_url, "username": account.user, "password": account.password,
                              "user_domain_name": account.domain}
    if project:
        kwargs.update(project_name=project, project_domain_name=account.domain)
    return cls(**kwargs)


class Cloud:
    """An authenticated view of one OpenStack cloud for one account (thread-safe, cached)."""

    def __init__(self, session: Any, access: Any, endpoint: Endpoint, region: str | None) -> None:
        import openstack

        self.session = session
        self.access = access
        self.endpoint = endpoint
        self.region = region
        self._catalogue = catalogue_of(access)
        self.connection = openstack.connection.Connection(session=session, region_name=region,
                                                          app_name="deltacloud-openstack")
        self._lock = threading.Lock()
        self._compute_microversion: str | bool | None = False  # False: not negotiated yet

    # -- identity ----------------------------------------------------------------------------------
    @property
    def project_id(self) -> str | None:
        return self.access.project_id

    @property
    def user_id(self) -> str | None:
        return self.access.user_id

    @property
    def expires_at(self) -> float:
        """When the token expires (seconds since the epoch)."""
        expires: datetime | None = self.access.expires
        if expires is None:
            return time.time() + 3600.0
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return expires.timestamp()

    # -- catalogue ---------------------------------------------------------------------------------
    def catalogue(self) -> list[dict[str, Any]]:
        """The token's service catalogue, normalised: ``{"type", "region", "interface", "url"}``."""
        return list(self._catalogue)

    def regions(self) -> list[str]:
        return sorted({e["region"] for e in self._catalogue if e["region"]})

    def has_service(self, service: str) -> bool:
        types = SERVICE_ALIASES.get(service, (service,))
        return any(e["type"] in types and (self.region is None or e["region"] == self.region)
                   for e in self._catalogue)

    def require(self, service: str) -> None:
        """NotSupportedError (501) when the catalogue has no endpoint of ``service`` in our region."""
        if not self.has_service(service):
            where = f" in region {self.region}" if self.region else ""
            raise NotSupportedError(f"The cloud's catalogue has no '{service}' service{where}.")

    # -- service adapters --------------------------------------------------------------------------
    @property
    def compute(self) -> Any:
        self.require("compute")
        return self.connection.compute

    @property
    def image(self) -> Any:
        self.require("image")
        return self.connection.image

    @property
    def block_storage(self) -> Any:
        self.require("block-storage")
        return self.connection.block_storage

    @property
    def object_store(self) -> Any:
        self.require("object-store")
        return self.connection.object_store

    @property
    def network(self) -> Any:
        self.require("network")
        return self.connection.network

    @property
    def compute_microversion(self) -> str | None:
        """The Nova microversion to send (None: the cloud has no microversions)."""
        with self._lock:
            if self._compute_microversion is False:
                data = self.compute.get_endpoint_data()
                highest = data.max_microversion if data is not None else None
                if not highest or tuple(highest) < (2, 1):
                    self._compute_microversion = None
                else:
                    chosen = min(tuple(highest)[:2], COMPUTE_MICROVERSION)
                    self._compute_microversion = f"{chosen[0]}.{chosen[1]}"
            return self._compute_microversion  # type: ignore[return-value]

    def compute_supports(self, version: tuple[int, int]) -> bool:
        current = self.compute_microversion
        return current is not None and tuple(int(p) for p in current.split(".")) >= version


def catalogue_of(access: Any) -> tuple[dict[str, Any], ...]:
    """A token's service catalogue (v3 or v2.0), normalised: ``{"type", "region", "interface", "url"}``."""
    entries: list[dict[str, Any]] = []
    for service_type, endpoints in access.service_catalog.get_endpoints().items():
        for ep in endpoints:
            entries.append({"type": service_type, "region": ep.get("region_id") or ep.get("region"),
                            "interface": ep.get("interface", "public"), "url": ep.get("url") or ep.get("publicURL")})
    return tuple(entries)


@translated
def connect(account: Account, endpoint: Endpoint, timeout: float | None = None) -> Cloud:
    """Authenticate ``account`` at ``endpoint``: a :class:`Cloud` (raises the core's errors)."""
    from keystoneauth1 import session as ks_session

    def login(project: str | None) -> tuple[Any, Any]:
        session = ks_session.Session(auth=_auth_plugin(account, endpoint, project),
                                     timeout=timeout if timeout is not None else _timeout(),
                                     app_name="deltacloud-openstack")
        return session, session.auth.get_access(session)

    session, access = login(account.project)
    if account.project is None and not access.project_scoped and endpoint.identity_version != "2":
        # No default project in Keystone: try the project named like the user (admin/admin).
        session, access = login(account.user)
    region = endpoint.region
    if region is not None:
        known = sorted({e["region"] for e in catalogue_of(access) if e["region"]})
        matches = [r for r in known if r.lower() == region.lower()]
        if not matches:
            raise ValidationError(f"Region {region!r} is not in the cloud's catalogue; its regions are: "
                                  f"{', '.join(known) or 'none'}.")
        region = matches[0]
    return Cloud(session, access, endpoint, region)


class SessionCache:
    """Authenticated :class:`Cloud` objects per (credentials digest, provider), kept while the token lives.

    Bounded (least recently used goes first), in memory only. ``skew`` seconds before the token
    expires the entry is dropped, so a request never starts with a token about to expire.
    """

    def __init__(self, maxsize: int = 256, skew: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self.maxsize = maxsize
        self.skew = skew
        self.clock = clock
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}

    def _fresh(self, key: tuple[str, str]) -> Any | None:
        cloud = self._items.get(key)
        if cloud is None:
            return None
        if cloud.expires_at - self.skew <= self.clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return cloud

    def get(self, credentials: Credentials, provider: str, factory: Callable[[], Any]) -> Any:
        """The cached cloud for these credentials and provider, or ``factory()``'s (then cached)."""
        key = (credentials.digest(), provider)
        with self._lock:
            cloud = self._fresh(key)
            if cloud is not None:
                return cloud
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        try:
            with key_lock:  # one login per key at a time: concurrent requests share it
                with self._lock:
                    cloud = self._fresh(key)
                    if cloud is not None:
                        return cloud
                cloud = factory()  # raises on bad credentials: nothing is cached then
                with self._lock:
                    self._items[key] = cloud
                    self._items.move_to_end(key)
                    while len(self._items) > self.maxsize:
                        self._items.popitem(last=False)
                return cloud
        finally:
            with self._lock:  # only logins in flight keep a lock (waiters hold their own reference)
                if self._key_locks.get(key) is key_lock:
                    del self._key_locks[key]

    def forget(self, credentials: Credentials, provider: str) -> None:
        with self._lock:
            self._items.pop((credentials.digest(), provider), None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._key_locks.clear()

    def __len__(self) -> int:
        return len(self._items)


#: The process-wide cache the driver uses.
SESSIONS = SessionCache()
