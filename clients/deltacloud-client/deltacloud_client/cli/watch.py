"""``deltacloud instances watch``: the seeds' Listing 1 as one command, for one cloud or several.

First a summary of the instances by state, then every change as it happens::

    RUNNING: 3 (inst0, inst1, inst2)
    STOPPED: 1 (inst3)
    inst1 changed from RUNNING to STOPPED
    inst9 was created and is now RUNNING

With several profiles every line starts with ``[profile]`` and the clouds are watched at once
(one task each on the async client). ``-o json`` prints one JSON object per line instead.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

import anyio

from ..aio import AsyncClient, AsyncInstance
from ..errors import DeltacloudError
from ..operations import Change
from .config import Connection
from .output import plain

__all__ = ["summary", "watch_profiles"]


def summary(instances: Sequence[Any], source: str | None = None) -> list[str]:
    prefix = f"[{source}] " if source else ""
    by_state: dict[str, list[str]] = {}
    for instance in instances:
        by_state.setdefault(instance.state or "UNKNOWN", []).append(instance.id)
    counts = Counter({state: len(ids) for state, ids in by_state.items()})
    if not counts:
        return [f"{prefix}no instances"]
    return [f"{prefix}{state}: {counts[state]} ({', '.join(by_state[state])})" for state in sorted(counts)]


def _line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _json(change: Change) -> str:
    return json.dumps({"source": change.source, "kind": change.kind, "id": change.id, "from": change.old_state,
                       "to": change.new_state, "fields": list(change.fields), "text": str(change),
                       "instance": plain(change.resource) if change.resource is not None else None})


async def _watch_one(connection: Connection, source: str | None, interval: float, output: str,
                     budget: list[int | None], done: anyio.Event) -> None:
    async with AsyncClient(connection.url, connection.user, connection.password, driver=connection.driver,
                           provider=connection.provider,
                           format="xml" if connection.format == "xml" else "json") as client:
        initial: list[AsyncInstance] = await client.instances.list()
        for text in summary(initial, source):
            if output == "json":
                _line(json.dumps({"source": source, "kind": "summary", "text": text}))
            else:
                _line(text)
        async for change in client.instances.watch(initial=initial, interval=interval, source=source):
            _line(_json(change) if output == "json" else str(change))
            if budget[0] is not None:
                budget[0] -= 1
                if budget[0] <= 0:
                    done.set()
                    return


def watch_profiles(connections: Sequence[Connection], *, interval: float, count: int | None, output: str) -> None:
    several = len(connections) > 1

    async def run() -> None:
        budget: list[int | None] = [count]
        done = anyio.Event()
        failures: list[tuple[str, DeltacloudError]] = []

        async def one(connection: Connection) -> None:
            try:
                await _watch_one(connection, connection.name if several else None, interval, output, budget, done)
            except DeltacloudError as exc:  # one cloud failing does not stop the others
                failures.append((connection.name, exc))
                if several:
                    sys.stderr.write(f"[{connection.name}] stopped watching: {exc}\n")
                if len(failures) == len(connections):
                    done.set()

        async with anyio.create_task_group() as group:
            for connection in connections:
                group.start_soon(one, connection)
            group.start_soon(_cancel_when, done, group)
        if failures and len(failures) == len(connections):
            raise failures[0][1]

    anyio.run(run)


async def _cancel_when(done: anyio.Event, group: anyio.abc.TaskGroup) -> None:
    await done.wait()
    group.cancel_scope.cancel()
