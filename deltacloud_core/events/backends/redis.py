"""Leases, snapshots and histories in Redis, shared by every worker and host.

Per watcher key ``N`` (:attr:`~deltacloud_core.events.WatchKey.name`: the driver, a hash of the
provider, the credentials' digest, never the credentials themselves), under ``deltacloud:events:N:``:

``lease``    the identity of the one process that polls (``SET NX PX``; renewed by its holder,
             taken over by another process once it expires)
``stream``   the events (a Redis Stream trimmed to about ``history`` entries; its ids are the
             events' ids, so ``Last-Event-ID`` is a stream id)
``snap``     the snapshot: each collection's documents, ``_origin`` (where this history began)
             and ``_last`` (the newest event it covers)
``demand``   which collections each process's subscribers want (refreshed, with an expiry)
``nudge``    a short stream of drivers' announcements, read by the polling process

Appending events and replacing the snapshot is one Lua script that first checks the lease, so a
process that lost its lease (paused, cut off) can never write: no duplicated or lost events
across a takeover. Everything expires ``retention`` seconds after the last write.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from ..model import Event, WatchKey, compare_ids
from .base import Deliver, Docs, Draft, EventBackend, Hold, Nudge, Snapshot

__all__ = ["RedisBackend"]

log = logging.getLogger("deltacloud.events")
PREFIX = "deltacloud:events:"
#: The longest a blocking read of a stream waits (milliseconds).
BLOCK_MS = 2000

# Returns {1} when renewed, {2, <the nudge stream's newest id>} when taken (the new holder reads
# nudges after that id: those before are covered by the listing it makes first), 0 when not held.
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
local answer = {1}
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif holder then
  return 0
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  local newest = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
  answer = {2, newest[1] and newest[1][1] or '0-0'}
end
if redis.call('HEXISTS', KEYS[2], '_origin') == 0 then
  local id = redis.call('XADD', KEYS[3], '*', 'k', '_origin')
  redis.call('HSET', KEYS[2], '_origin', id, '_last', id)
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return answer
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_COMMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
local ids = {}
local n = tonumber(ARGV[6])
for i = 0, n - 1 do
  local b = 7 + i * 6
  ids[#ids + 1] = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'k', ARGV[b], 'c', ARGV[b + 1],
                             'r', ARGV[b + 2], 'd', ARGV[b + 3], 'o', ARGV[b + 4], 'n', ARGV[b + 5])
end
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
if n > 0 then
  redis.call('HSET', KEYS[3], '_last', ids[#ids])
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return ids
"""

_NUDGE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '1000', '*', 'c', ARGV[1], 'r', ARGV[2], 'd', ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return 1
end
return 0
"""


def _keys(key: WatchKey) -> dict[str, str]:
    base = f"{PREFIX}{key.name}:"
    return {part: base + part for part in ("lease", "stream", "snap", "demand", "nudge")}


def _event(entry_id: str, fields: dict[str, str]) -> Event | None:
    kind = fields.get("k", "")
    if not kind or kind.startswith("_"):
        return None  # a marker (the start of a history)
    return Event(entry_id, kind, fields.get("c", ""), fields.get("r", ""), fields.get("d", "{}"),
                 fields.get("o") or None, fields.get("n") or None)


class RedisBackend(EventBackend):
    shared = True

    def __init__(self, url: str, history: int, retention: float, lease_ttl: float) -> None:
        super().__init__(history, retention, lease_ttl)
        self.url = url
        self._redis: Any = None
        self._scripts: dict[str, Any] = {}
        self._readers: dict[WatchKey, asyncio.Task[None]] = {}
        self._positions: dict[WatchKey, str] = {}
        self._nudge_cursors: dict[WatchKey, str] = {}
        self._demand: dict[WatchKey, frozenset[str]] = {}
        self._refresher: asyncio.Task[None] | None = None

    @property
    def retention_ms(self) -> int:
        return max(1000, int(self.retention * 1000))

    async def start(self, deliver: Deliver) -> None:
        await super().start(deliver)
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:  # pragma: no cover - the extra is missing
            raise RuntimeError("DELTACLOUD_REDIS_URL is set but the redis package is not installed: "
                               "pip install 'deltacloud-core[redis]'") from exc
        # Blocking reads wait at most BLOCK_MS; a socket timeout above that only catches a dead server.
        self._redis = aioredis.from_url(self.url, decode_responses=True, socket_timeout=BLOCK_MS / 1000 + 10,
                                        socket_connect_timeout=5, health_check_interval=30)
        for name, source in (("acquire", _ACQUIRE), ("release", _RELEASE), ("commit", _COMMIT),
                             ("nudge", _NUDGE)):
            self._scripts[name] = self._redis.register_script(source)
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_demand())

    async def close(self) -> None:
        tasks = [t for t in (self._refresher, *self._readers.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing anyway
                pass
        self._readers.clear()
        if self._redis is not None:
            for key in list(self._demand):
                try:
                    await self._redis.hdel(_keys(key)["demand"], self.identity)
                except Exception:  # noqa: BLE001 - the entry expires by itself
                    pass
            await self._redis.aclose()
            self._redis = None

    # -- the lease -----------------------------------------------------------------------------
    async def acquire(self, key: WatchKey) -> Hold:
        k = _keys(key)
        held = await self._scripts["acquire"](keys=[k["lease"], k["snap"], k["stream"], k["nudge"]],
                                              args=[self.identity, int(self.lease_ttl * 1000), self.retention_ms])
        if not held:
            return Hold.LOST
        if int(held[0]) == Hold.TAKEN.value:
            self._nudge_cursors[key] = str(held[1])
            return Hold.TAKEN
        return Hold.RENEWED

    async def release(self, key: WatchKey) -> None:
        if self._redis is not None:
            await self._scripts["release"](keys=[_keys(key)["lease"]], args=[self.identity])

    # -- state and history ---------------------------------------------------------------------
    async def load(self, key: WatchKey) -> Snapshot | None:
        raw: dict[str, str] = await self._redis.hgetall(_keys(key)["snap"])
        if "_origin" not in raw:
            return None
        docs = {name: json.loads(text) for name, text in raw.items() if not name.startswith("_")}
        return Snapshot(docs, raw["_origin"], raw.get("_last", raw["_origin"]))

    async def has_baseline(self, key: WatchKey, collections: frozenset[str]) -> bool:
        names = sorted(collections)
        found = await self._redis.hmget(_keys(key)["snap"], names)
        return all(value is not None for value in found)

    async def commit(self, key: WatchKey, collection: str, docs: Docs, drafts: list[Draft]) -> list[Event] | None:
        k = _keys(key)
        args: list[Any] = [self.identity, self.history, self.retention_ms, collection,
                           json.dumps(docs, separators=(",", ":"), ensure_ascii=False), len(drafts)]
        for d in drafts:
            args += [d.kind, d.collection, d.resource_id, d.data, d.old_state or "", d.new_state or ""]
        ids = await self._scripts["commit"](keys=[k["lease"], k["stream"], k["snap"]], args=args)
        if ids is None:
            return None
        return [d.with_id(str(i)) for d, i in zip(drafts, ids, strict=True)]

    async def since(self, key: WatchKey, after: str) -> list[Event] | None:
        k = _keys(key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(k["snap"], "_origin")
            pipe.exists(k["stream"])
            pipe.xrange(k["stream"], min=f"({after}", max="+", count=self.history + 1)
            origin, exists, entries = await pipe.execute()
        if origin is None or not exists:
            return None
        info = await self._redis.xinfo_stream(k["stream"])
        last = str(info.get("last-generated-id", "0-0"))
        deleted = str(info.get("max-deleted-entry-id", "0-0"))
        if compare_ids(after, origin) < 0 or compare_ids(after, last) > 0 or compare_ids(after, deleted) < 0:
            return None
        return [e for e in (_event(i, f) for i, f in entries) if e is not None]

    # -- demand --------------------------------------------------------------------------------
    async def set_demand(self, key: WatchKey, collections: frozenset[str]) -> None:
        if collections:
            self._demand[key] = collections
            await self._write_demand(key, collections)
        else:
            self._demand.pop(key, None)
            if self._redis is not None:
                await self._redis.hdel(_keys(key)["demand"], self.identity)

    async def _write_demand(self, key: WatchKey, collections: frozenset[str]) -> None:
        until = int((time.time() + 3 * self.lease_ttl) * 1000)
        k = _keys(key)["demand"]
        await self._redis.hset(k, self.identity, json.dumps({"c": sorted(collections), "t": until}))
        await self._redis.pexpire(k, self.retention_ms)

    async def _refresh_demand(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ttl / 3)
            for key, collections in list(self._demand.items()):
                try:
                    await self._write_demand(key, collections)
                except Exception as exc:  # noqa: BLE001 - tried again at the next round
                    log.warning("events: could not refresh demand in Redis: %s", exc)

    async def demand(self, key: WatchKey) -> frozenset[str]:
        k = _keys(key)["demand"]
        raw: dict[str, str] = await self._redis.hgetall(k)
        now = time.time() * 1000
        wanted: set[str] = set()
        stale = []
        for identity, text in raw.items():
            try:
                entry = json.loads(text)
            except ValueError:
                entry = {}
            if float(entry.get("t", 0)) < now:
                stale.append(identity)
            else:
                wanted.update(str(c) for c in entry.get("c", ()))
        if stale:
            await self._redis.hdel(k, *stale)
        return frozenset(wanted)

    # -- nudges --------------------------------------------------------------------------------
    async def nudge(self, key: WatchKey, nudge: Nudge) -> None:
        if self._redis is None:
            return
        k = _keys(key)
        await self._scripts["nudge"](keys=[k["lease"], k["nudge"]],
                                     args=[nudge.collection, nudge.resource_id or "", self.retention_ms,
                                           nudge.doc or ""])

    async def next_nudges(self, key: WatchKey, timeout: float) -> list[Nudge]:
        stream = _keys(key)["nudge"]
        cursor = self._nudge_cursors.get(key)
        if cursor is None:
            cursor = self._nudge_cursors[key] = await self._last_id(stream)
        block = min(int(timeout * 1000), BLOCK_MS)
        found = await self._redis.xread({stream: cursor}, count=100, block=block if block > 0 else None)
        out: list[Nudge] = []
        for _name, entries in found or ():
            for entry_id, fields in entries:
                cursor = entry_id
                out.append(Nudge(fields.get("c", ""), fields.get("r") or None, fields.get("d") or None))
        self._nudge_cursors[key] = cursor
        return out

    async def _last_id(self, stream: str) -> str:
        newest = await self._redis.xrevrange(stream, count=1)
        return str(newest[0][0]) if newest else "0-0"

    # -- this process's readers ----------------------------------------------------------------
    async def follow(self, key: WatchKey) -> None:
        if key in self._readers and not self._readers[key].done():
            return
        stream = _keys(key)["stream"]
        self._positions[key] = await self._last_id(stream)
        self._readers[key] = asyncio.get_running_loop().create_task(self._read(key, stream),
                                                                    name=f"events reader {key.name}")

    async def unfollow(self, key: WatchKey) -> None:
        task = self._readers.pop(key, None)
        self._nudge_cursors.pop(key, None)
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping anyway
                pass
        self._positions.pop(key, None)

    def position(self, key: WatchKey) -> str:
        return self._positions.get(key, "0-0")

    async def _read(self, key: WatchKey, stream: str) -> None:
        """Hand every new entry of ``stream`` to this process's subscribers, in order."""
        pause = 0.5
        while True:
            try:
                found = await self._redis.xread({stream: self._positions[key]}, count=500, block=BLOCK_MS)
                pause = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis away: try again, a little later each time
                log.warning("events: reading %s from Redis failed: %s", key.driver, exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)
                continue
            for _name, entries in found or ():
                events = []
                for entry_id, fields in entries:
                    self._positions[key] = entry_id
                    event = _event(entry_id, fields)
                    if event is not None:
                        events.append(event)
                if events and self.deliver is not None:
                    self.deliver(key, events)
