"""The mock cloud's storage: one small SQLite database in a data directory.

Every object of every collection is one row of a generic table::

    objects(collection TEXT, id TEXT, data TEXT /* JSON */, PRIMARY KEY (collection, id))

plus a ``meta`` table (``seeded``, ``seed_count``, ...). The database runs in WAL mode
with a busy timeout; each thread of each process has its own connection, and writes run
inside ``BEGIN IMMEDIATE`` transactions, so several server workers (threads or
processes) can share one directory safely. Read-modify-write sequences (allocating a new
``inst<N>`` id, "create unless it exists") go through :meth:`MockStore.transaction`.

The directory is ``$DELTACLOUD_MOCK_STORAGE`` or, by default,
``platformdirs.user_data_dir("deltacloud")/mock``. The fixtures shipped with this
package (``fixtures.json``) are copied in the first time the database is opened: in one
transaction, guarded by the ``meta`` table, so several processes starting together seed
exactly once. Like the original, the store is per server owner, not per API user.
Deleting the directory (or calling :meth:`MockStore.reset`) resets the mock cloud.
"""

from __future__ import annotations

import builtins
import copy
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

__all__ = [
    "COLLECTIONS",
    "DB_FILENAME",
    "ENV_VAR",
    "MockStore",
    "Record",
    "Transaction",
    "default_root",
    "get_store",
    "load_fixtures",
    "storage_root",
]

#: Environment variable naming the data directory.
ENV_VAR = "DELTACLOUD_MOCK_STORAGE"
#: File name of the database inside the data directory.
DB_FILENAME = "mock.sqlite3"
#: How long a connection waits for another writer before giving up (milliseconds).
BUSY_TIMEOUT_MS = 30_000
#: The collections the fixtures fill (others may be used freely: the table is generic).
COLLECTIONS: tuple[str, ...] = (
    "images", "instances", "keys", "storage_volumes", "storage_snapshots", "buckets", "blobs",
    "addresses", "networks", "subnets", "network_interfaces",
)

#: One stored object: a JSON-compatible mapping that always has an ``id``.
Record = dict[str, Any]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS objects (
           collection TEXT NOT NULL,
           id TEXT NOT NULL,
           data TEXT NOT NULL,
           PRIMARY KEY (collection, id)
       ) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

# Connections inherited through fork() must never be used nor closed by the child
# (SQLite forbids it); they are parked here so the garbage collector never closes them.
_INHERITED: builtins.list[sqlite3.Connection] = []


def default_root() -> Path:
    """The per-user default data directory: ``user_data_dir("deltacloud")/mock``."""
    return Path(platformdirs.user_data_dir("deltacloud")) / "mock"


def storage_root() -> Path:
    """The data directory in force now: ``$DELTACLOUD_MOCK_STORAGE`` or :func:`default_root`."""
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env).expanduser() if env else default_root()


@cache
def _fixture_text() -> str:
    return resources.files("deltacloud_mock").joinpath("fixtures.json").read_text(encoding="utf-8")


def load_fixtures() -> dict[str, builtins.list[Record]]:
    """The shipped fixture data, ``collection -> [record, ...]`` (a fresh copy on each call)."""
    data = json.loads(_fixture_text())
    return copy.deepcopy(data["collections"])


def _dump(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class Transaction:
    """Reads and writes on one connection; obtained from :meth:`MockStore.transaction`.

    Inside ``with store.transaction() as tx:`` everything runs in one ``BEGIN IMMEDIATE``
    transaction: other writers wait, so a read followed by a write is atomic.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # -- reads -----------------------------------------------------------------------------
    def get(self, collection: str, id: str) -> Record | None:
        """The object ``id`` of ``collection``, or None."""
        row = self._conn.execute("SELECT data FROM objects WHERE collection = ? AND id = ?",
                                 (collection, id)).fetchone()
        return json.loads(row[0]) if row else None

    def exists(self, collection: str, id: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM objects WHERE collection = ? AND id = ?",
                                 (collection, id)).fetchone()
        return row is not None

    def list(self, collection: str) -> builtins.list[Record]:
        """Every object of ``collection``, sorted by id (byte order)."""
        rows = self._conn.execute("SELECT data FROM objects WHERE collection = ? ORDER BY id",
                                  (collection,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def texts(self, collection: str) -> builtins.list[str]:
        """The stored JSON text of every object of ``collection``, sorted by id (byte order)."""
        rows = self._conn.execute("SELECT data FROM objects WHERE collection = ? ORDER BY id",
                                  (collection,)).fetchall()
        return [r[0] for r in rows]

    def ids(self, collection: str) -> builtins.list[str]:
        """The ids of ``collection``, sorted (byte order)."""
        rows = self._conn.execute("SELECT id FROM objects WHERE collection = ? ORDER BY id",
                                  (collection,)).fetchall()
        return [r[0] for r in rows]

    def find(self, collection: str, **equals: Any) -> builtins.list[Record]:
        """Objects of ``collection`` whose top-level fields equal the given values."""
        return [r for r in self.list(collection) if all(r.get(k) == v for k, v in equals.items())]

    def next_free_id(self, collection: str, prefix: str, start: int = 0) -> str:
        """The smallest ``<prefix><N>`` (N >= start) not used in ``collection`` now (a name derived
        from a client's, ``bucket_2``: free names are taken again); new object ids use :meth:`new_id`.

        Only atomic together with the following :meth:`put` inside one transaction.
        """
        used = set(self.ids(collection))
        n = start
        while f"{prefix}{n}" in used:
            n += 1
        return f"{prefix}{n}"

    def new_id(self, collection: str, prefix: str, start: int = 0) -> str:
        """A ``<prefix><N>`` never used before in ``collection`` (of this store, until it is deleted):
        N is above every N held now and every N given before (kept in ``meta``), so the id of a
        destroyed object is never given again and a stale reference never reaches a newer object.

        Only atomic together with the following :meth:`put` inside one transaction.
        """
        mark = f"last_id:{collection}:{prefix}"
        last = self.meta(mark)
        n = start if last is None else max(start, int(last) + 1)
        for existing in self.ids(collection):
            suffix = existing[len(prefix):]
            if existing.startswith(prefix) and suffix.isdigit() and int(suffix) >= n:
                n = int(suffix) + 1
        self.set_meta(mark, str(n))
        return f"{prefix}{n}"

    # -- writes ----------------------------------------------------------------------------
    def put(self, collection: str, id: str, data: Mapping[str, Any]) -> Record:
        """Create or replace object ``id``; its ``id`` field is set to ``id``. Returns the record."""
        record: Record = {**data, "id": id}
        self._conn.execute(
            "INSERT INTO objects (collection, id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data",
            (collection, id, _dump(record)))
        return record

    def insert(self, collection: str, id: str, data: Mapping[str, Any]) -> Record | None:
        """Create object ``id`` unless it exists; the new record, or None when it existed."""
        record: Record = {**data, "id": id}
        cur = self._conn.execute(
            "INSERT INTO objects (collection, id, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (collection, id, _dump(record)))
        return record if cur.rowcount == 1 else None

    def delete(self, collection: str, id: str) -> bool:
        """Delete object ``id``; False when it did not exist (not an error)."""
        cur = self._conn.execute("DELETE FROM objects WHERE collection = ? AND id = ?", (collection, id))
        return cur.rowcount > 0

    def delete_where(self, collection: str, **equals: Any) -> builtins.list[str]:
        """Delete the objects :meth:`find` returns; the deleted ids."""
        gone = [r["id"] for r in self.find(collection, **equals)]
        for id in gone:
            self.delete(collection, id)
        return gone

    # -- meta ------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


class MockStore:
    """The object store in one data directory. Thread- and process-safe.

    Obtain the shared instance with :func:`get_store`. Plain methods (``get``, ``put``...)
    each run on their own (writes in their own transaction); inside
    :meth:`transaction` on the same thread they join that transaction.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else storage_root()
        self.db_path = self.root / DB_FILENAME
        self._local = threading.local()
        self._init_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._write_lock_pid = os.getpid()
        self._ready_pid: int | None = None

    def __repr__(self) -> str:
        return f"MockStore({str(self.root)!r})"

    # -- connections -----------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        local = self._local
        pid = os.getpid()
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and local.pid == pid:
            return conn
        if conn is not None:  # inherited through fork: leave it alone
            _INHERITED.append(conn)
        local.conn = None
        local.tx = None
        self.root.mkdir(mode=0o750, parents=True, exist_ok=True)
        conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        if self._ready_pid != pid:
            with self._init_lock:
                if self._ready_pid != pid:
                    self._initialize(conn)
                    self._ready_pid = pid
        local.conn, local.pid = conn, pid
        #: collection -> ((data_version, total_changes), texts) of this connection's last listing.
        local.listings = {}
        return conn

    @staticmethod
    def _enable_wal(conn: sqlite3.Connection) -> None:
        # Switching a fresh database to WAL needs a short exclusive lock; retry a bounded
        # number of times in case another process is doing the same at this moment.
        for attempt in range(100):
            try:
                conn.execute("PRAGMA journal_mode = WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.02)

    def _initialize(self, conn: sqlite3.Connection) -> None:
        """Create the tables and seed the fixtures unless already done (in one transaction)."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            tx = Transaction(conn)
            if tx.meta("seeded") is None:
                self._seed(tx)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _seed(tx: Transaction) -> None:
        for collection, records in load_fixtures().items():
            for record in records:
                tx.put(collection, record["id"], record)
        count = int(tx.meta("seed_count") or "0") + 1
        tx.set_meta("seed_count", str(count))
        tx.set_meta("seeded", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error); nested calls join the outer one."""
        conn = self._connection()
        local = self._local
        if local.tx is not None:
            yield local.tx
            return
        # Writers of this process queue on a lock: SQLite's busy handler makes a waiting writer
        # sleep in growing steps (up to 100 ms), which put the p99 of create + destroy at
        # 20 connections at 300-600 ms; a lock hands over at once. Other processes (workers)
        # still meet at SQLite's lock.
        if self._write_lock_pid != os.getpid():  # a forked child: the parent's lock may be held
            self._write_lock, self._write_lock_pid = threading.Lock(), os.getpid()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            tx = Transaction(conn)
            local.tx = tx
            committed = False
            try:
                yield tx
                conn.execute("COMMIT")
                committed = True
            finally:
                local.tx = None
                if not committed and conn.in_transaction:
                    conn.execute("ROLLBACK")

    def _reader(self) -> Transaction:
        conn = self._connection()
        return self._local.tx or Transaction(conn)

    def close(self) -> None:
        """Close this thread's connection (a later call opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None
        self._local.tx = None

    # -- reads -----------------------------------------------------------------------------
    def get(self, collection: str, id: str) -> Record | None:
        return self._reader().get(collection, id)

    def exists(self, collection: str, id: str) -> bool:
        return self._reader().exists(collection, id)

    def list(self, collection: str) -> builtins.list[Record]:
        return self._reader().list(collection)

    def ids(self, collection: str) -> builtins.list[str]:
        return self._reader().ids(collection)

    def texts(self, collection: str) -> tuple[str, ...]:
        """The stored JSON text of every object of ``collection`` (sorted by id), unchanged objects
        as the very same strings as last time.

        While nothing changed since this connection last listed the collection (no other
        connection, thread or worker, has committed: ``data_version``; this one changed no row:
        ``total_changes``) the last listing is still true and the rows are not read again; a
        caller that memoizes what it decodes from a text (a pure function of an immutable
        string) then decodes nothing. A 1,000-instance list was mostly ``json.loads`` and
        building models (10 ms per request) before.
        """
        reader = self._reader()
        local = self._local
        version: tuple[int, int] | None = None
        if local.tx is None:
            conn = reader._conn
            version = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes)
            known = local.listings.get(collection)
            if known is not None and known[0] == version:
                return known[1]  # type: ignore[no-any-return]
        texts = tuple(reader.texts(collection))
        if version is not None:
            local.listings[collection] = (version, texts)
        return texts

    def find(self, collection: str, **equals: Any) -> builtins.list[Record]:
        return self._reader().find(collection, **equals)

    def meta(self, key: str) -> str | None:
        return self._reader().meta(key)

    # -- writes ----------------------------------------------------------------------------
    def put(self, collection: str, id: str, data: Mapping[str, Any]) -> Record:
        with self.transaction() as tx:
            return tx.put(collection, id, data)

    def insert(self, collection: str, id: str, data: Mapping[str, Any]) -> Record | None:
        with self.transaction() as tx:
            return tx.insert(collection, id, data)

    def delete(self, collection: str, id: str) -> bool:
        with self.transaction() as tx:
            return tx.delete(collection, id)

    def delete_where(self, collection: str, **equals: Any) -> builtins.list[str]:
        with self.transaction() as tx:
            return tx.delete_where(collection, **equals)

    def reset(self) -> None:
        """Wipe every object and seed the fixtures again (one transaction; for tests)."""
        with self.transaction() as tx:
            tx._conn.execute("DELETE FROM objects")
            self._seed(tx)


_STORES: dict[str, MockStore] = {}
_STORES_LOCK = threading.Lock()


#: What chooses the default directory (``$DELTACLOUD_MOCK_STORAGE``, else the per-user data
#: directory) -> its store: the hot path (every driver call) skips resolving the path on
#: disk, which cost more than the SQLite read itself. Relative paths are not cached.
_BY_ENV: dict[tuple[str | None, ...], MockStore] = {}


def _env_key() -> tuple[str | None, ...] | None:
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return (env,) if os.path.isabs(env) else None
    return ("", os.environ.get("XDG_DATA_HOME"), os.environ.get("HOME"))


def get_store(root: str | os.PathLike[str] | None = None) -> MockStore:
    """The shared store of ``root`` (default: :func:`storage_root`, read at each call)."""
    env_key = _env_key() if root is None else None
    if env_key is not None:
        store = _BY_ENV.get(env_key)
        if store is not None:
            return store
    path = Path(root).expanduser() if root is not None else storage_root()
    key = str(path.resolve())
    store = _STORES.get(key)
    if store is None:
        with _STORES_LOCK:
            store = _STORES.get(key)
            if store is None:
                store = _STORES[key] = MockStore(path)
    if env_key is not None:
        _BY_ENV[env_key] = store
    return store
