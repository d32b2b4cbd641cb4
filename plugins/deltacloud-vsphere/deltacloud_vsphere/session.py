"""Logged-in vSphere sessions, cached per (SDK URL, certificate settings, credentials digest).

A request's HTTP Basic credentials are the vSphere login. The first request of a user logs in
(``SessionManager.Login``) and the session is kept, in memory only, for the next ones: requests
cost no login while it lives. A session unused for ``DELTACLOUD_VSPHERE_SESSION_IDLE`` seconds,
or pushed out of the bounded cache (``DELTACLOUD_VSPHERE_SESSIONS``), is logged out (in a
background thread, so no request waits for it). A session vCenter ended on its side (idle
timeout, an administrator) answers ``NotAuthenticated``: the driver then logs in again once, with
the request's credentials, and repeats the call (:meth:`SessionCache.renew`). Wrong credentials
are never cached. The password is used for the login and never kept.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import threading
import time
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deltacloud_core import Credentials, ProviderError
from pyVmomi import SoapStubAdapter, VmomiSupport, vim

from .errors import translate
from .provider import Endpoint
from .settings import Settings

__all__ = ["FALLBACK_VERSION", "SESSIONS", "Session", "SessionCache", "login", "negotiate_version"]

log = logging.getLogger("deltacloud.vsphere")

#: The API version spoken when the server does not publish ``vimServiceVersions.xml`` (vSphere 6.5).
FALLBACK_VERSION = "vim.version.version11"


@dataclass
class Session:
    """One logged-in session: the service content, and what it learned that does not change."""

    endpoint: Endpoint
    user: str
    instance: Any  # vim.ServiceInstance
    content: Any  # vim.ServiceContent
    version: str
    #: Container views kept for the session's life (key: what they contain), see :mod:`.query`.
    views: dict[tuple[str, ...], Any] = field(default_factory=dict)
    #: Facts looked up once per session (the performance counters' ids ...).
    facts: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)

    @property
    def stub(self) -> Any:
        return self.instance._stub

    @property
    def cookie(self) -> str:
        """The session's cookie (``vmware_soap_session="..."``), for the datastore file service."""
        return str(self.stub.cookie or "")

    def managed(self, kind: type, moref: str) -> Any:
        """A reference to managed object ``moref`` of ``kind`` (``vim.VirtualMachine``) in this session."""
        return kind(moref, self.stub)

    def logout(self) -> None:
        try:
            with translate(self.endpoint.url):
                self.content.sessionManager.Logout()
        except Exception as exc:  # noqa: BLE001 - a logout that fails leaves a session vCenter expires itself
            log.info("vSphere logout of %s at %s failed: %s", self.user, self.endpoint.url, exc)
        finally:
            with contextlib.suppress(Exception):  # closing the sockets of a dead session
                self.stub.DropConnections()


def _known_versions() -> list[tuple[str, str]]:
    """``(pyVmomi version name, API version id)`` of vim25, newest first."""
    return [(name, VmomiSupport.versionIdMap[name]) for name in VmomiSupport.GetServiceVersions("vim25")]


def negotiate_version(endpoint: Endpoint, settings: Settings) -> str:
    """The newest vim25 API version both pyVmomi and the server speak, from the server's
    ``vimServiceVersions.xml`` (bounded by the operator's timeout, checked like every connection)."""
    connection: http.client.HTTPConnection
    if endpoint.scheme == "https":
        connection = http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=settings.timeout,
                                                 context=settings.ssl_context())
    else:
        connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=settings.timeout)
    try:
        connection.request("GET", f"{endpoint.path}/vimServiceVersions.xml")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        return FALLBACK_VERSION
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return FALLBACK_VERSION
    offered: set[str] = set()
    for namespace in root.iter("namespace"):
        if (namespace.findtext("name") or "").strip() != "urn:vim25":
            continue
        offered.update((v.text or "").strip() for v in namespace.iter("version"))
    for name, version_id in _known_versions():
        if version_id in offered:
            return name
    return FALLBACK_VERSION


def login(endpoint: Endpoint, credentials: Credentials, settings: Settings) -> Session:
    """Log in to ``endpoint``: a :class:`Session` (raises the core's errors: 401 for a wrong password)."""
    with translate(endpoint.url):
        version = negotiate_version(endpoint, settings)
        stub = SoapStubAdapter(url=endpoint.url, version=version, httpConnectionTimeout=settings.timeout,
                               sslContext=settings.ssl_context() if endpoint.scheme == "https" else None)
        instance = vim.ServiceInstance("ServiceInstance", stub)
        content = instance.RetrieveContent()
        if content.sessionManager is None:
            raise ProviderError(f"{endpoint.url} has no session manager: it is no vCenter or ESXi host.")
        content.sessionManager.Login(credentials.user, credentials.password, None)
    return Session(endpoint=endpoint, user=credentials.user, instance=instance, content=content, version=version)


Key = tuple[str, tuple[str | None, bool], str]


class SessionCache:
    """Logged-in sessions per (SDK URL, certificate settings, credentials digest); see the module."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._items: OrderedDict[Key, Session] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Key, threading.Lock] = {}

    @staticmethod
    def key(endpoint: Endpoint, credentials: Credentials, settings: Settings) -> Key:
        return (endpoint.url, settings.tls_key, credentials.digest())

    def _take(self, key: Key, settings: Settings) -> Session | None:
        session = self._items.get(key)
        if session is None:
            return None
        if self.clock() - session.last_used > settings.session_idle:
            del self._items[key]
            self._retire([session])
            return None
        session.last_used = self.clock()
        self._items.move_to_end(key)
        return session

    def get(self, endpoint: Endpoint, credentials: Credentials, settings: Settings) -> Session:
        """The cached session for these credentials at this endpoint, or a new login (then cached)."""
        key = self.key(endpoint, credentials, settings)
        with self._lock:
            session = self._take(key, settings)
            if session is not None:
                return session
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        try:
            with key_lock:  # one login per key at a time: concurrent first requests share it
                with self._lock:
                    session = self._take(key, settings)
                    if session is not None:
                        return session
                session = login(endpoint, credentials, settings)
                session.last_used = self.clock()
                with self._lock:
                    self._items[key] = session
                    self._items.move_to_end(key)
                    evicted = []
                    while len(self._items) > settings.max_sessions:
                        evicted.append(self._items.popitem(last=False)[1])
                self._retire(evicted)
                return session
        finally:
            with self._lock:
                if self._key_locks.get(key) is key_lock:
                    del self._key_locks[key]

    def renew(self, stale: Session, credentials: Credentials, settings: Settings) -> Session:
        """A fresh login after vCenter ended ``stale`` (``NotAuthenticated``)."""
        key = self.key(stale.endpoint, credentials, settings)
        with self._lock:
            if self._items.get(key) is stale:
                del self._items[key]
        stale.stub.DropConnections()
        return self.get(stale.endpoint, credentials, settings)

    def _retire(self, sessions: list[Session]) -> None:
        """Log out sessions that leave the cache, without making a request wait for it."""
        for session in sessions:
            threading.Thread(target=session.logout, name="vsphere-logout", daemon=True).start()

    def clear(self, *, logout: bool = True) -> None:
        with self._lock:
            sessions = list(self._items.values())
            self._items.clear()
        if logout:
            for session in sessions:
                session.logout()

    def __len__(self) -> int:
        return len(self._items)


#: The process-wide cache the driver uses.
SESSIONS = SessionCache()
