"""Connections to libvirt: opened with the request's credentials, cached, re-opened when they died.

* **Credentials pass through.** :func:`open_connection` opens the URI with ``virConnectOpenAuth`` and
  answers libvirt's own questions (``VIR_CRED_AUTHNAME``, ``VIR_CRED_PASSPHRASE``: SASL on libvirtd)
  with the HTTP Basic user and password. A wrong password is libvirt's ``VIR_ERR_AUTH_FAILED`` (401).
* **A URI that asks for nothing is refused.** When libvirt opened the connection without asking for
  any credential (a local unix socket, whose file permissions are the only protection, ``qemu+ssh``
  with the server's own key, ``test:///``), any client of the server could use it with any password;
  the connection is closed again and the request refused (403) unless the operator lists the URI in
  ``DELTACLOUD_LIBVIRT_NO_AUTH_URIS``.
* **One connection per (URI, credentials digest)**, shared by requests in :class:`Connections`:
  bounded in number and age, in memory only. An evicted connection is closed after a delay (a request
  may still be using it); a dead one is replaced at once.
* **libvirtd restarts** are noticed by libvirt's own event loop (:func:`ensure_event_loop`, one daemon
  thread) with keepalive: the connection's close callback marks it dead, so the next request opens a
  new one instead of failing on the old socket.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import libvirt
from deltacloud_core import Credentials, ForbiddenError

from .errors import translate

__all__ = ["CONNECTIONS", "NO_AUTH_SETTING", "Connections", "ensure_event_loop", "open_connection"]

NO_AUTH_SETTING = "DELTACLOUD_LIBVIRT_NO_AUTH_URIS"
#: Seconds between keepalive messages, and how many may go unanswered before libvirt closes.
KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3
#: Seconds an evicted (still working) connection stays open for requests that hold it.
CLOSE_DELAY = 180.0

_loop_lock = threading.Lock()
_loop_started = False


def ensure_event_loop() -> None:
    """Run libvirt's default event loop in a daemon thread (once per process), before any open.

    It is what delivers keepalives and close callbacks, so a connection to a libvirtd that went away
    is known to be dead before a request tries to use it.
    """
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-event-loop", daemon=True).start()
        _loop_started = True


def _silence_libvirt() -> None:
    """libvirt prints every error on stderr unless a handler takes them; ours are raised instead."""
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


_silence_libvirt()


def open_connection(uri: str, credentials: Credentials, *, allow_no_auth: bool) -> libvirt.virConnect:
    """A connection to ``uri`` authenticated with ``credentials`` (see the module docstring)."""
    ensure_event_loop()
    asked: list[int] = []

    def answer(questions: list[list[object]], _opaque: object) -> int:
        for question in questions:
            kind = question[0]
            asked.append(int(kind))  # type: ignore[call-overload]
            if kind == libvirt.VIR_CRED_AUTHNAME:
                question[4] = credentials.user
            elif kind == libvirt.VIR_CRED_PASSPHRASE:
                question[4] = credentials.password
            else:
                return -1  # a question HTTP Basic has no answer to
        return 0

    auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], answer, None]
    try:
        conn = libvirt.openAuth(uri, auth, 0)
    except libvirt.libvirtError as exc:
        raise translate(exc) from exc
    if not asked and not allow_no_auth:
        conn.close()
        raise ForbiddenError(
            f"libvirt at {uri} asked for no credentials (its socket's permissions, or the server's own SSH "
            f"key, are all that protect it), so any client could use it; the operator may allow it by listing "
            f"the URI in {NO_AUTH_SETTING}")
    with contextlib.suppress(libvirt.libvirtError):  # local drivers (test:///) have no keepalive
        conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
    return conn


@dataclass
class _Entry:
    conn: libvirt.virConnect
    opened: float
    dead: threading.Event = field(default_factory=threading.Event)


class Connections:
    """Open connections keyed by (URI, credentials digest): an LRU with a maximum age."""

    def __init__(self, maxsize: int = 32, max_age: float = 3600.0, close_delay: float = CLOSE_DELAY) -> None:
        self.maxsize = maxsize
        self.max_age = max_age
        self.close_delay = close_delay
        self._items: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        #: Connections opened (for tests and the benchmark: a cache hit opens none).
        self.opened = 0

    def get(self, uri: str, credentials: Credentials, opener: Callable[[], libvirt.virConnect]) -> libvirt.virConnect:
        """The cached connection for ``uri`` and ``credentials``, or a new one from ``opener()``."""
        key = (uri, credentials.digest())
        now = time.monotonic()
        with self._lock:
            entry = self._items.get(key)
            if entry is not None and not entry.dead.is_set() and now - entry.opened < self.max_age \
                    and _alive(entry.conn):
                self._items.move_to_end(key)
                return entry.conn
            if entry is not None:
                del self._items[key]
                self._retire(entry)
        conn = opener()
        fresh = _Entry(conn, now)
        _watch(fresh)
        with self._lock:
            self.opened += 1
            old = self._items.pop(key, None)
            if old is not None:
                self._retire(old)
            self._items[key] = fresh
            while len(self._items) > self.maxsize:
                _key, evicted = self._items.popitem(last=False)
                self._retire(evicted)
        return conn

    def forget(self, conn: libvirt.virConnect) -> None:
        """Drop ``conn`` from the cache (it failed at the transport level); closed later."""
        with self._lock:
            for key, entry in list(self._items.items()):
                if entry.conn is conn:
                    del self._items[key]
                    self._retire(entry)

    def clear(self) -> None:
        """Close every cached connection now (tests, shutdown)."""
        with self._lock:
            entries = list(self._items.values())
            self._items.clear()
        for entry in entries:
            _close(entry.conn)

    def __len__(self) -> int:
        return len(self._items)

    def _retire(self, entry: _Entry) -> None:
        if entry.dead.is_set() or not _alive(entry.conn):
            _close(entry.conn)
            return
        timer = threading.Timer(self.close_delay, _close, args=(entry.conn,))
        timer.daemon = True
        timer.start()


def _alive(conn: libvirt.virConnect) -> bool:
    try:
        return conn.isAlive() == 1
    except libvirt.libvirtError:
        return False


def _watch(entry: _Entry) -> None:
    """Mark ``entry`` dead when libvirt closes its connection (daemon gone, keepalive timeout)."""
    with contextlib.suppress(libvirt.libvirtError):  # drivers without a transport never close on their own
        entry.conn.registerCloseCallback(lambda _conn, _reason, _opaque: entry.dead.set(), None)


def _close(conn: libvirt.virConnect) -> None:
    with contextlib.suppress(libvirt.libvirtError, AttributeError):
        conn.unregisterCloseCallback()
    with contextlib.suppress(libvirt.libvirtError):
        conn.close()


CONNECTIONS = Connections()
