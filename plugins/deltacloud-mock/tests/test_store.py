"""The SQLite store: seeding, ordering, transactions, reset, persistence."""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from deltacloud_mock import store as store_module
from deltacloud_mock.store import DB_FILENAME, ENV_VAR, MockStore, get_store, load_fixtures, storage_root


def test_location_from_env(storage: Path, store: MockStore):
    assert storage_root() == storage
    assert store.root == storage
    store.list("images")
    assert (storage / DB_FILENAME).is_file()
    assert stat.S_IMODE(storage.stat().st_mode) & 0o007 == 0


def test_default_location(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(store_module.platformdirs, "user_data_dir", lambda app: f"/nonexistent/{app}")
    assert storage_root() == Path("/nonexistent/deltacloud/mock")


def test_get_store_is_shared_per_directory(storage: Path, tmp_path: Path):
    assert get_store() is get_store()
    assert get_store() is get_store(storage)
    assert get_store(tmp_path / "other") is not get_store()


def test_wal_and_seed_meta(store: MockStore):
    store.list("images")
    conn = sqlite3.connect(store.db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"objects", "meta"} <= tables
    finally:
        conn.close()
    assert store.meta("seed_count") == "1"
    assert store.meta("seeded")


def test_seeded_once_and_persistent(storage: Path):
    first = MockStore(storage)
    first.delete("images", "img1")
    first.put("keys", "k", {"credential_type": "key"})
    first.close()
    second = MockStore(storage)  # like a restarted server
    assert second.ids("images") == ["img2", "img3"]
    assert second.get("keys", "k") == {"id": "k", "credential_type": "key"}
    assert second.meta("seed_count") == "1"


def test_fixture_copy_is_independent():
    a = load_fixtures()
    a["images"].clear()
    assert len(load_fixtures()["images"]) == 3


def test_crud_and_byte_order(store: MockStore):
    for id in ("b", "a", "Z", "a-1", "é", "10", "9"):
        store.put("things", id, {"value": id})
    assert store.ids("things") == ["10", "9", "Z", "a", "a-1", "b", "é"]
    assert [r["value"] for r in store.list("things")] == store.ids("things")
    assert store.get("things", "a") == {"id": "a", "value": "a"}
    assert store.exists("things", "a")
    assert store.get("things", "nope") is None
    assert store.put("things", "a", {"value": 2, "id": "ignored"}) == {"id": "a", "value": 2}
    assert store.get("things", "a") == {"id": "a", "value": 2}
    assert store.insert("things", "a", {"value": 3}) is None
    assert store.insert("things", "new", {"value": 3}) == {"id": "new", "value": 3}
    assert store.delete("things", "a") is True
    assert store.delete("things", "a") is False
    assert store.find("things", value="b") == [{"id": "b", "value": "b"}]
    assert store.delete_where("things", value=3) == ["new"]
    assert store.list("nothing") == []
    # Collections are independent.
    store.put("other", "b", {"x": 1})
    assert store.get("things", "b") == {"id": "b", "value": "b"}


def test_transaction_commit_and_rollback(store: MockStore):
    with store.transaction() as tx:
        new_id = tx.next_free_id("instances", "inst")
        tx.put("instances", new_id, {"state": "RUNNING"})
        assert store.get("instances", new_id) is not None  # same thread sees its own writes
    assert new_id == "inst4"
    assert store.exists("instances", "inst4")

    class Boom(Exception):
        pass

    def failing_update() -> None:
        with store.transaction() as tx:
            tx.put("instances", "inst5", {"state": "RUNNING"})
            tx.delete("instances", "inst0")
            store.put("keys", "nested", {})  # joins the outer transaction
            raise Boom

    with pytest.raises(Boom):
        failing_update()
    assert not store.exists("instances", "inst5")
    assert store.exists("instances", "inst0")
    assert not store.exists("keys", "nested")
    # The connection is usable afterwards.
    store.put("keys", "after", {})
    assert store.exists("keys", "after")


def test_next_free_id(store: MockStore):
    with store.transaction() as tx:
        assert tx.next_free_id("instances", "inst") == "inst4"
        assert tx.next_free_id("empty", "x") == "x0"
        assert tx.next_free_id("empty", "x", start=1) == "x1"
        tx.delete("instances", "inst1")
        assert tx.next_free_id("instances", "inst") == "inst1"


def test_new_id_is_never_one_given_before(store: MockStore):
    with store.transaction() as tx:
        assert tx.new_id("instances", "inst") == "inst4"  # above the fixtures' inst0..inst3
        assert tx.new_id("instances", "inst") == "inst5"  # given, not stored: still never again
        tx.delete("instances", "inst3")
        assert tx.new_id("instances", "inst") == "inst6"
        tx.put("instances", "inst40", {"state": "RUNNING"})  # an id put by hand moves the mark too
        assert tx.new_id("instances", "inst") == "inst41"
        assert tx.new_id("empty", "x", start=1) == "x1"


def test_reset(store: MockStore):
    store.delete("images", "img1")
    store.put("instances", "inst7", {"state": "RUNNING"})
    store.put("whatever", "w", {})
    store.reset()
    assert store.ids("images") == ["img1", "img2", "img3"]
    assert store.ids("instances") == ["inst0", "inst1", "inst2", "inst3"]
    assert store.ids("whatever") == []
    assert store.meta("seed_count") == "2"


def test_threads_share_store(store: MockStore):
    errors: list[BaseException] = []
    created: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4, timeout=30)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(20):
                with store.transaction() as tx:
                    new_id = tx.next_free_id("instances", "inst")
                    tx.put("instances", new_id, {"state": "RUNNING"})
                with lock:
                    created.append(new_id)
            store.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(created) == 80
    assert len(set(created)) == 80
    assert set(created) == {f"inst{n}" for n in range(4, 84)}


# -- texts: the last listing is reused only while nothing changed ---------------------------

def _ids(texts: tuple[str, ...]) -> list[str]:
    return [json.loads(t)["id"] for t in texts]


def test_texts_reuse_unchanged_rows_and_see_every_change(store: MockStore):
    first = store.texts("instances")
    again = store.texts("instances")
    assert _ids(first) == _ids(again) == [r["id"] for r in store.list("instances")]
    assert again is first  # nothing changed: the rows were not read again
    assert isinstance(first, tuple)  # immutable: no caller can change what others are handed

    # A change through this connection (total_changes) ...
    store.put("instances", "zz-mine", {"name": "mine", "owner_id": "mockuser", "state": "RUNNING"})
    assert "zz-mine" in _ids(store.texts("instances"))
    # ... through another connection, as another worker would (data_version) ...
    other = MockStore(store.root)
    try:
        other.put("instances", "zz-other", {"name": "other", "owner_id": "mockuser", "state": "STOPPED"})
        assert "zz-other" in _ids(store.texts("instances"))
        other.put("instances", "zz-other", {"name": "other", "owner_id": "mockuser", "state": "RUNNING"})
        changed = {json.loads(t)["id"]: json.loads(t) for t in store.texts("instances")}
        assert changed["zz-other"]["state"] == "RUNNING"
        other.delete("instances", "zz-other")
        assert "zz-other" not in _ids(store.texts("instances"))
    finally:
        other.close()
    # ... and inside a transaction, its own uncommitted writes.
    with store.transaction() as tx:
        tx.delete("instances", "zz-mine")
        assert "zz-mine" not in _ids(store.texts("instances"))
    assert "zz-mine" not in _ids(store.texts("instances"))


def test_texts_in_another_thread_see_changes_made_here(store: MockStore):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as there:  # one long-lived thread, its own connection
        before = there.submit(lambda: _ids(store.texts("instances"))).result()
        store.put("instances", "zz-here", {"name": "here", "owner_id": "mockuser", "state": "RUNNING"})
        after = there.submit(lambda: _ids(store.texts("instances"))).result()
    assert "zz-here" not in before
    assert "zz-here" in after
