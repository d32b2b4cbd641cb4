"""``wait_for`` and ``watch`` read the server's event stream (``Link: rel="events"`` on the entry
point) instead of polling: checked against a real ``deltacloudd`` whose access log shows what
the client asked for. The changes are made by a second client once the stream is open, so only
the stream can tell the waiting client in time (``watch`` polls every 600 s otherwise)."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest
from conftest import MOCK_AUTH
from deltacloud_client import Client

from deltacloud_core.testing.server import running_server


@pytest.fixture
def logged_server(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELTACLOUD_")}
    env.update({"DELTACLOUD_MOCK_STORAGE": str(tmp_path / "mock"), "DELTACLOUD_EVENTS_POLL_MIN": "300",
                "DELTACLOUD_EVENTS_POLL_MAX": "300"})
    log = tmp_path / "deltacloudd.log"
    with running_server(driver="mock", env=env, args=["--access-log"], log_path=log) as url:
        yield url, log


def _requests(log: Path) -> list[str]:
    return re.findall(r'"(GET|POST|DELETE) ([^ ]+) HTTP', log.read_text(errors="replace"))


def _when_requested(log: Path, path_part: str, action) -> threading.Thread:
    """Run ``action`` in a thread once the server logged a request containing ``path_part``."""
    def run() -> None:
        deadline = time.monotonic() + 30
        while not any(path_part in path for _m, path in _requests(log)):
            assert time.monotonic() < deadline, f"nobody asked for {path_part}"
            threading.Event().wait(0.05)  # a bounded pause between two looks at the log
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_wait_for_uses_the_event_stream(logged_server) -> None:
    url, log = logged_server
    with Client(url, *MOCK_AUTH) as dc, Client(url, *MOCK_AUTH) as actor:
        assert dc.api().events_url == f"{url}/api/events"
        inst = dc.instances.create(image="img1", name="by-events")
        stopper = _when_requested(log, f"/api/events?collection=instances&id={inst.id}",
                                  lambda: actor.instances.get(inst.id).stop())
        stopped = inst.wait_for("STOPPED", timeout=60)
        stopper.join(10)
        assert stopped.state == "STOPPED"
        shows = [p for m, p in _requests(log) if m == "GET" and p.startswith(f"/api/instances/{inst.id}")]
        assert len(shows) <= 2, shows  # the first look and the stopper's; no polling
        stopped.destroy()


def test_watch_uses_the_event_stream(logged_server) -> None:
    url, log = logged_server
    with Client(url, *MOCK_AUTH) as dc, Client(url, *MOCK_AUTH) as actor:
        changes = dc.instances.watch(interval=600)
        made: list[str] = []
        maker = _when_requested(log, "/api/events?collection=instances",
                                lambda: made.append(actor.instances.create(image="img1", name="watched").id))
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.append(str(next(changes))), daemon=True)
        reader.start()
        reader.join(60)
        maker.join(10)
        assert seen == [f"{made[0]} was created and is now RUNNING"]
        actor.instances.get(made[0]).stop()
        assert str(next(changes)) == f"{made[0]} changed from RUNNING to STOPPED"
        changes.close()
        assert [p for m, p in _requests(log) if m == "GET" and p.startswith("/api/instances?")] == []
