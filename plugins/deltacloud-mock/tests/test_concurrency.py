"""Several worker processes share one storage directory safely."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
from deltacloud_core.credentials import Credentials

from deltacloud_mock.driver import MockDriver
from deltacloud_mock.store import ENV_VAR, MockStore

TIMEOUT = 120


def _create_instances(root: str, count: int, barrier: Any, results: Any) -> None:
    try:
        os.environ[ENV_VAR] = root
        driver = MockDriver(credentials=Credentials("mockuser", "mockpassword"))
        barrier.wait(timeout=TIMEOUT)
        ids = [driver.create_instance(image_id="img1", name=f"p{os.getpid()}-{n}").id for n in range(count)]
        results.put(("ok", ids))
    except BaseException as exc:  # report to the parent instead of dying silently
        results.put(("error", repr(exc)))


def _open_store(root: str, barrier: Any, results: Any) -> None:
    try:
        os.environ[ENV_VAR] = root
        barrier.wait(timeout=TIMEOUT)
        driver = MockDriver(credentials=Credentials("mockuser", "mockpassword"))
        results.put(("ok", [i.id for i in driver.list_instances()]))
    except BaseException as exc:
        results.put(("error", repr(exc)))


def _run(target: Any, nprocs: int, *args: Any) -> list[Any]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(nprocs)
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, results)) for _ in range(nprocs)]
    for p in procs:
        p.start()
    try:
        outcomes = [results.get(timeout=TIMEOUT) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=TIMEOUT)
            if p.is_alive():  # pragma: no cover - only on a hang
                p.kill()
                p.join(timeout=10)
    errors = [detail for status, detail in outcomes if status != "ok"]
    assert not errors, errors
    assert all(p.exitcode == 0 for p in procs)
    return [detail for _, detail in outcomes]


def test_two_processes_create_100_instances(tmp_path: Path):
    root = tmp_path / "shared"
    lists = _run(_create_instances, 2, str(root), 50)
    created = [i for ids in lists for i in ids]
    assert len(created) == 100
    assert len(set(created)) == 100
    assert set(created) == {f"inst{n}" for n in range(4, 104)}
    store = MockStore(root)
    assert len(store.ids("instances")) == 104
    names = {r["name"] for r in store.list("instances")}
    assert len(names) == 104  # nothing lost or overwritten
    assert store.meta("seed_count") == "1"


def test_processes_starting_together_seed_once(tmp_path: Path):
    root = tmp_path / "fresh"
    lists = _run(_open_store, 4, str(root))
    assert lists == [["inst0", "inst1", "inst2", "inst3"]] * 4
    store = MockStore(root)
    assert store.meta("seed_count") == "1"
    assert store.ids("images") == ["img1", "img2", "img3"]


def _forked_create(store: MockStore, results: Any) -> None:
    try:
        with store.transaction() as tx:  # must not reuse the parent's connection
            new_id = tx.next_free_id("instances", "inst")
            tx.put("instances", new_id, {"state": "RUNNING", "owner_id": "mockuser"})
        results.put(("ok", new_id))
    except BaseException as exc:
        results.put(("error", repr(exc)))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_store_opened_before_fork(tmp_path: Path):
    store = MockStore(tmp_path / "forked")
    assert store.ids("instances") == ["inst0", "inst1", "inst2", "inst3"]  # parent connection open
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_forked_create, args=(store, results))
    child.start()
    try:
        outcome = results.get(timeout=TIMEOUT)
    finally:
        child.join(timeout=TIMEOUT)
    assert outcome == ("ok", "inst4")
    assert child.exitcode == 0
    assert store.ids("instances") == ["inst0", "inst1", "inst2", "inst3", "inst4"]
    store.put("keys", "parent-still-works", {})
    assert store.exists("keys", "parent-still-works")
