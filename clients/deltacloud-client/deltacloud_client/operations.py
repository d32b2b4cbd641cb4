"""Every operation of the library, written once as a :mod:`.protocol` generator.

The sync and async facades (:mod:`.client`, :mod:`.aio`) only pick the runner. Nothing is
hard-coded about a server: collection URLs come from the entry point, actions from each
resource's links, hardware-profile bounds from the profiles, states from ``instance_states``.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import IO, Any, Literal, TypeVar
from urllib.parse import quote, unquote

import httpx

from .discovery import EntryPoint
from .errors import (
    ActionNotAvailable,
    APIError,
    BadGateway,
    DeltacloudError,
    GatewayTimeout,
    NotFound,
    NotSupported,
    RateLimited,
    TransportError,
    UsageError,
    WaitTimeout,
    error_from_answer,
)
from .hardware import check_overrides
from .models import Blob, Driver, HardwareProfile, Instance, Resource, StateMachine
from .protocol import Answer, CloseStream, Emit, NextLine, Op, OpenStream, Request, Sleep, exchange
from .session import Session
from .sse import EventParser, ServerEvent

__all__ = ["Change", "Progress", "StateUnreachable"]

M = TypeVar("M", bound=Resource)
IT = TypeVar("IT", bound=Instance)
B = TypeVar("B", bound=Blob)
#: ``progress(bytes_done, bytes_total_or_None)``
Progress = Callable[[int, int | None], None]
CHUNK = 64 * 1024
#: Failures a watcher rides out (it tries again at the next interval).
TRANSIENT: tuple[type[DeltacloudError], ...] = (TransportError, RateLimited, BadGateway, GatewayTimeout)


class StateUnreachable(WaitTimeout):
    """The instance is in a state from which the state machine has no way to the one awaited."""


# -- plumbing ------------------------------------------------------------------------------------

def _headers(s: Session, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**s.settings.headers(), **(extra or {})}


def _get(s: Session, url: str, params: Mapping[str, str] | None = None) -> Op[Answer]:
    request = Request("GET", url, params=params or None, headers=_headers(s), retry=True)
    return (yield from exchange(request, s.settings.retry))


def _is_json(s: Session, answer: Answer) -> bool:
    kind = (answer.header("content-type") or "").split(";")[0].strip().lower()
    if kind in ("application/json",):
        return True
    if kind in ("application/xml", "text/xml"):
        return False
    return s.settings.format == "json"


def decode(s: Session, answer: Answer) -> Any:
    """The answer's document: parsed JSON, or the XML root element."""
    try:
        return json.loads(answer.content) if _is_json(s, answer) else ET.fromstring(answer.content)
    except (ValueError, ET.ParseError) as exc:
        raise APIError(f"the server's answer is not a {s.settings.format.upper()} document: {exc}",
                       status=answer.status, url=answer.url) from None


def parse_many(s: Session, cls: type[M], answer: Answer, bound: Any) -> list[M]:
    doc = decode(s, answer)
    if isinstance(doc, ET.Element):
        if doc.tag == cls.SINGULAR:
            return [cls.from_xml(doc, bound)]
        return [cls.from_xml(child, bound) for child in doc if child.tag == cls.SINGULAR]
    if isinstance(doc, list):
        return [cls.from_json(item, bound) for item in doc if isinstance(item, Mapping)]
    if isinstance(doc, Mapping):
        if isinstance(doc.get(cls.COLLECTION), list):
            return [cls.from_json(item, bound) for item in doc[cls.COLLECTION] if isinstance(item, Mapping)]
        if isinstance(doc.get(cls.SINGULAR), Mapping):
            return [cls.from_json(doc[cls.SINGULAR], bound)]
        if "id" in doc:
            return [cls.from_json(doc, bound)]  # instance actions answer the bare object
    raise APIError(f"the server's answer holds no {cls.SINGULAR}", status=answer.status, url=answer.url)


def parse_one(s: Session, cls: type[M], answer: Answer, bound: Any) -> M:
    return parse_many(s, cls, answer, bound)[0]


def _split_matrix(href: str) -> tuple[str, dict[str, str]]:
    """``.../images;instance_id=i1`` -> (``.../images``, ``{"instance_id": "i1"}``): the original
    drops matrix parameters of a POST target, so they travel in the body instead."""
    head, slash, last = href.rpartition("/")
    if ";" not in last:
        return href, {}
    segment, *pairs = last.split(";")
    params = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        params[unquote(key)] = unquote(value)
    return f"{head}{slash}{segment}", params


def _clean(params: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in params.items() if v is not None}


# -- discovery -----------------------------------------------------------------------------------

def entry_point(s: Session) -> Op[EntryPoint]:
    if s.entry is None:
        answer = yield from _get(s, s.settings.url)
        doc = decode(s, answer)
        s.entry = (EntryPoint.from_xml(doc, answer.headers) if isinstance(doc, ET.Element)
                   else EntryPoint.from_json(doc, answer.headers))
    return s.entry


def collection_url(s: Session, name: str) -> Op[str]:
    entry = yield from entry_point(s)
    link = entry.collections.get(name)
    if link is None:
        offered = ", ".join(sorted(entry.collections)) or "none"
        raise NotSupported(f"driver '{entry.driver}' offers no {name} on this server (it offers: {offered})")
    return link.href


def state_machine(s: Session) -> Op[StateMachine | None]:
    if s.states is None:
        entry = yield from entry_point(s)
        if "instance_states" not in entry.collections:
            return None
        answer = yield from _get(s, entry.collections["instance_states"].href)
        doc = decode(s, answer)
        s.states = StateMachine.from_xml(doc) if isinstance(doc, ET.Element) else StateMachine.from_json(doc)
    return s.states


def hardware_profile(s: Session, profile_id: str) -> Op[HardwareProfile]:
    if profile_id not in s.profiles:
        s.profiles[profile_id] = yield from get(s, HardwareProfile, None, profile_id)
    return s.profiles[profile_id]


# -- reading -------------------------------------------------------------------------------------

def list_resources(s: Session, cls: type[M], bound: Any, filters: Mapping[str, Any]) -> Op[list[M]]:
    url = yield from collection_url(s, cls.COLLECTION)
    answer = yield from _get(s, url, _clean(filters))
    return parse_many(s, cls, answer, bound)


def get(s: Session, cls: type[M], bound: Any, resource_id: str) -> Op[M]:
    url = yield from collection_url(s, cls.COLLECTION)
    answer = yield from _get(s, f"{url}/{quote(resource_id, safe='')}")
    return parse_one(s, cls, answer, bound)


def refresh(s: Session, resource: M) -> Op[M]:
    if resource.href:
        answer = yield from _get(s, resource.href)
        return parse_one(s, type(resource), answer, resource._bound)
    return (yield from get(s, type(resource), resource._bound, resource.id))


def list_drivers(s: Session, bound: Any) -> Op[list[Driver]]:
    url = yield from collection_url(s, "drivers")
    answer = yield from _get(s, url)
    doc = decode(s, answer)
    if isinstance(doc, Mapping) and "drivers" not in doc:  # the JSON index: the raw map by driver id
        return [Driver.from_json({**config, "id": driver_id}, bound) for driver_id, config in doc.items()
                if isinstance(config, Mapping)]
    return parse_many(s, Driver, answer, bound)


# -- writing -------------------------------------------------------------------------------------

def create(s: Session, cls: type[M], bound: Any, params: Mapping[str, Any], url: str | None = None) -> Op[list[M]]:
    """POST a create; with an ``Idempotency-Key`` (and retries) only when the server advertises it."""
    target = url if url is not None else (yield from collection_url(s, cls.COLLECTION))
    entry = yield from entry_point(s)
    extra = {"Idempotency-Key": uuid.uuid4().hex} if entry.idempotency else {}
    request = Request("POST", target, data=_clean(params), headers=_headers(s, extra), retry=entry.idempotency)
    answer = yield from exchange(request, s.settings.retry)
    if not answer.content.strip():
        location = answer.header("location")
        if not location:
            raise APIError("the server created the resource but answered neither it nor its Location",
                           status=answer.status, url=answer.url)
        answer = yield from _get(s, location)
    return parse_many(s, cls, answer, bound)


def follow(s: Session, result: type[M] | None, resource: Resource, rel: str, params: Mapping[str, Any],
           *, fallback: tuple[str, str] | None = None) -> Op[M | None]:
    """Do ``rel`` on ``resource``: follow its link with the link's method, or ``fallback``
    (method, URL) when the document carries no links (most JSON documents but instances')."""
    link = resource.link(rel)
    if link is not None:
        method, href = link.method.upper(), link.href
    elif fallback is not None:
        method, href = fallback
    else:
        raise ActionNotAvailable(f"{resource.SINGULAR} {resource.id}", rel, resource.action_names)
    href, matrix = _split_matrix(href)
    data = {**matrix, **_clean(params)}
    request = Request(method, href, data=data or None if method == "POST" else None,
                      params=data or None if method != "POST" else None, headers=_headers(s))
    answer = yield from exchange(request, s.settings.retry)
    if result is None or answer.status == 204 or not answer.content.strip():
        return None
    return parse_one(s, result, answer, resource._bound)


def destroy(s: Session, resource: Resource) -> Op[None]:
    fallback = ("DELETE", resource.href) if resource.href and resource.COLLECTION != "instances" else None
    yield from follow(s, None, resource, "destroy", {}, fallback=fallback)


def instance_action(s: Session, instance: IT, action: str) -> Op[IT]:
    updated = yield from follow(s, type(instance), instance, action, {})
    if updated is None:  # a server that redirects or answers nothing: read it again
        return (yield from refresh(s, instance))
    return updated


def launch_params(s: Session, *, image: str, hardware_profile: str | None, realm: str | None, name: str | None,
                  keyname: str | None, user_data: bytes | str | None, overrides: Mapping[str, Any],
                  extra: Mapping[str, Any]) -> Op[dict[str, str]]:
    """The create parameters, the hardware-profile overrides checked against the profile first."""
    params: dict[str, Any] = {"image_id": image, "hwp_id": hardware_profile, "realm_id": realm, "name": name,
                              "keyname": keyname, **extra}
    wanted = {k: v for k, v in overrides.items() if v is not None}
    if wanted:
        if hardware_profile is None:
            raise UsageError(f"give hardware_profile= to override {', '.join(wanted)}: the bounds are the profile's")
        profile = yield from hardware_profile_of(s, hardware_profile)
        params.update(check_overrides(profile.id, profile.properties, wanted))
    if user_data is not None:  # the API wants it base64-encoded
        raw = user_data.encode() if isinstance(user_data, str) else user_data
        params["user_data"] = base64.b64encode(raw).decode("ascii")
    return _clean(params)


def hardware_profile_of(s: Session, profile_id: str) -> Op[HardwareProfile]:
    try:
        return (yield from hardware_profile(s, profile_id))
    except NotFound:
        raise UsageError(f"hardware profile '{profile_id}' does not exist on this server") from None


# -- blobs ---------------------------------------------------------------------------------------

def _chunks(source: IO[bytes], total: int | None, progress: Progress | None) -> Iterator[bytes]:
    done = 0
    if progress:
        progress(0, total)
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            return
        done += len(chunk)
        if progress:
            progress(done, total)
        yield chunk


def _size(source: IO[bytes]) -> int | None:
    try:
        return os.fstat(source.fileno()).st_size - source.tell()
    except (OSError, AttributeError, ValueError):
        try:
            here = source.tell()
            end = source.seek(0, os.SEEK_END)
            source.seek(here)
            return end - here
        except (OSError, AttributeError, ValueError):
            return None


def put_blob(s: Session, cls: type[B], bucket_href: str, bound: Any, blob_id: str, source: IO[bytes], *,
             content_type: str | None, metadata: Mapping[str, str], progress: Progress | None) -> Op[B]:
    """``PUT /api/buckets/:bucket/:blob``, the body streamed from ``source`` (never held whole)."""
    total = _size(source)
    headers = {"Content-Type": content_type or "application/octet-stream"}
    if total is not None:
        headers["Content-Length"] = str(total)
    for key, value in metadata.items():
        headers[f"X-Deltacloud-Blobmeta-{key}"] = str(value)
    request = Request("PUT", f"{bucket_href}/{quote(blob_id, safe='')}", content=_chunks(source, total, progress),
                      headers=_headers(s, headers))
    answer = yield from exchange(request, s.settings.retry)
    if not answer.content.strip():
        return (yield from get_blob(s, cls, bucket_href, bound, blob_id))
    return parse_one(s, cls, answer, bound)


def get_blob(s: Session, cls: type[B], bucket_href: str, bound: Any, blob_id: str) -> Op[B]:
    answer = yield from _get(s, f"{bucket_href}/{quote(blob_id, safe='')}")
    return parse_one(s, cls, answer, bound)


def download_blob(s: Session, blob: Blob, sink: IO[bytes], progress: Progress | None) -> Op[int]:
    """Stream the blob's bytes into ``sink``; returns how many were written."""
    href = blob.content_href or f"{blob.href}/content"
    written = 0
    total = blob.content_length

    def on_chunk(chunk: bytes) -> None:
        nonlocal written
        sink.write(chunk)
        written += len(chunk)
        if progress:
            progress(written, total)

    if progress:
        progress(0, total)
    request = Request("GET", href, headers=_headers(s), retry=False)
    yield from exchange(request, s.settings.retry, stream_to=on_chunk)
    return written


def blob_metadata(s: Session, blob: Blob) -> Op[dict[str, str]]:
    request = Request("HEAD", blob.href or "", headers=_headers(s), retry=True)
    answer = yield from exchange(request, s.settings.retry)
    prefix = "x-deltacloud-blobmeta-"
    return {k[len(prefix):]: v for k, v in answer.headers.items() if k.lower().startswith(prefix)}


def set_blob_metadata(s: Session, blob: Blob, metadata: Mapping[str, str]) -> Op[None]:
    headers = {f"X-Deltacloud-Blobmeta-{k}": str(v) for k, v in metadata.items()}
    yield from exchange(Request("POST", blob.href or "", headers=_headers(s, headers)), s.settings.retry)


# -- changes: wait_for and watch -----------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """A change seen by ``watch``; ``str()`` says it as the seeds' Listing 1 did."""

    kind: Literal["created", "state", "changed", "destroyed"]
    id: str
    resource: Resource | None = None
    old_state: str | None = None
    new_state: str | None = None
    fields: tuple[str, ...] = ()
    #: Which client (profile) saw it, when several are watched at once.
    source: str | None = None

    def __str__(self) -> str:
        prefix = f"[{self.source}] " if self.source else ""
        if self.kind == "state":
            return f"{prefix}{self.id} changed from {self.old_state} to {self.new_state}"
        if self.kind == "created":
            return f"{prefix}{self.id} was created and is now {self.new_state}"
        if self.kind == "destroyed":
            return f"{prefix}{self.id} was destroyed"
        return f"{prefix}{self.id} changed: {', '.join(self.fields)}"


def _data(resource: Resource) -> dict[str, Any]:
    return {f.name: getattr(resource, f.name) for f in fields(resource) if f.compare and f.name != "actions"}


def diff(known: Mapping[str, Resource], now: Mapping[str, Resource]) -> list[Change]:
    """What happened between two listings, in the order of the new listing (then the destroyed)."""
    out: list[Change] = []
    for rid, resource in now.items():
        state = getattr(resource, "state", None)
        before = known.get(rid)
        if before is None:
            out.append(Change("created", rid, resource, None, state))
            continue
        old_state = getattr(before, "state", None)
        if old_state != state:
            out.append(Change("state", rid, resource, old_state, state))
            continue
        old, new = _data(before), _data(resource)
        changed = tuple(k for k in new if old.get(k) != new[k])
        if changed:
            out.append(Change("changed", rid, resource, old_state, state, changed))
    out.extend(Change("destroyed", rid, before, getattr(before, "state", None), None)
               for rid, before in known.items() if rid not in now)
    return out


@dataclass
class EventReader:
    """A subscription to the server's event stream, reconnecting with ``Last-Event-ID``."""

    url: str
    params: dict[str, str]
    parser: EventParser
    stream: Any = None


def open_events(s: Session, reader: EventReader, read_timeout: float | None) -> Op[None]:
    """Subscribe (or subscribe again after ``Last-Event-ID``); an error answer raises."""
    if reader.stream is not None:
        return
    headers = _headers(s, {"Accept": "text/event-stream", "Cache-Control": "no-cache"})
    if reader.parser.last_id:
        headers["Last-Event-ID"] = reader.parser.last_id
    opened = yield OpenStream(Request("GET", reader.url, params=reader.params, headers=headers,
                                      timeout=httpx.Timeout(30.0, read=read_timeout)))
    if isinstance(opened, Answer):
        raise error_from_answer(opened.status, opened.headers, opened.content, url=opened.url)
    reader.stream = opened


def next_event(s: Session, reader: EventReader, read_timeout: float | None) -> Op[ServerEvent | None]:
    """The next event, or None when ``read_timeout`` passed without one (heartbeats keep a quiet
    stream open, so the time is counted here, not only by the socket's read timeout). A stream
    that ends or breaks is opened again, resuming after the last event id."""
    deadline = None if read_timeout is None else time.monotonic() + read_timeout
    while True:
        yield from open_events(s, reader, read_timeout)
        try:
            line = yield NextLine(reader.stream)
        except httpx.ReadTimeout:
            yield from close_events(reader)
            return None
        except httpx.TransportError:
            line = None
        if line is None:
            yield from close_events(reader)
            yield Sleep((reader.parser.retry_ms or 1000) / 1000)
            continue
        event = reader.parser.feed(line)
        if event is not None:
            return event
        if deadline is not None and time.monotonic() >= deadline:
            return None


def close_events(reader: EventReader) -> Op[None]:
    if reader.stream is not None:
        stream, reader.stream = reader.stream, None
        yield CloseStream(stream)


def _event_resource(s: Session, cls: type[M], bound: Any,
                    event: ServerEvent) -> tuple[str | None, dict[str, Any], M | None]:
    try:
        data = json.loads(event.data) if event.data else {}
    except ValueError:
        return None, {}, None
    if not isinstance(data, dict):
        return None, {}, None
    doc = data.get(cls.SINGULAR) or data.get("resource")
    resource = cls.from_json(doc, bound) if isinstance(doc, Mapping) and doc.get("id") else None
    rid = data.get("id") or (resource.id if resource else None)
    return (None if rid is None else str(rid)), data, resource


def _snapshot(s: Session, cls: type[M], bound: Any, event: ServerEvent) -> list[M]:
    """The members a ``reset`` event carries under the collection's name (a list document)."""
    try:
        data = json.loads(event.data) if event.data else {}
    except ValueError:
        return []
    items = data.get(cls.COLLECTION) if isinstance(data, dict) else None
    return [cls.from_json(i, bound) for i in items or () if isinstance(i, Mapping) and i.get("id")]


def wait_for(s: Session, instance: IT, target: str, timeout: float) -> Op[IT]:
    """Until the instance is in ``target`` (``FINISH``: until it is gone), polling with backoff,
    or through the server's events when its entry point links them."""
    goal = target.upper()
    machine = yield from state_machine(s)
    if machine is not None and machine.names and goal.lower() not in machine.names:
        raise UsageError(f"'{target}' is not a state of driver '{s.entry.driver if s.entry else '?'}' "
                         f"(its states: {', '.join(n.upper() for n in machine.names)})")
    deadline = time.monotonic() + timeout
    entry = yield from entry_point(s)
    if entry.events_url:
        found = yield from _wait_by_events(s, entry.events_url, instance, goal, deadline, machine, timeout)
        if found is not None:
            return found
    delays = iter(s.settings.poll.delays())
    current = instance
    while True:
        try:
            current = yield from refresh(s, current)
        except NotFound:
            if goal == "FINISH":
                return current
            raise
        state = (current.state or "").upper()
        if state == goal:
            return current
        _check_reachable(machine, current, state, goal)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(_timeout_message(machine, current, state, goal, timeout), last_state=current.state)
        yield Sleep(min(next(delays, s.settings.poll.most), remaining))


def _check_reachable(machine: StateMachine | None, instance: Instance, state: str, goal: str) -> None:
    if machine is None or machine.state(state) is None or goal == "FINISH":
        return
    if machine.path_to(state, goal) is None:
        raise StateUnreachable(f"instance {instance.id} is {state}: driver's state machine has no way from "
                               f"{state} to {goal}", last_state=instance.state)


def _timeout_message(machine: StateMachine | None, instance: Instance, state: str, goal: str, timeout: float) -> str:
    text = f"instance {instance.id} is still {state or 'without a state'} after {timeout:g} s (waiting for {goal})"
    path = machine.path_to(state, goal) if machine is not None and state else None
    if path:
        text += f"; from {state} it reaches {goal} by: {', '.join(path)}"
    elif path == ():
        text += f"; {state} moves to {goal} on its own"
    return text


def _wait_by_events(s: Session, url: str, instance: IT, goal: str, deadline: float,
                    machine: StateMachine | None, timeout: float) -> Op[IT | None]:
    """The SSE path of ``wait_for``: subscribe first, then read the state, so no change is missed.
    None when the stream cannot be opened (the caller polls instead)."""
    reader = EventReader(url, {"collection": "instances", "id": instance.id}, EventParser())
    try:
        yield from open_events(s, reader, 30.0)
    except (APIError, TransportError):
        return None
    try:
        current = yield from refresh(s, instance)
    except NotFound:
        yield from close_events(reader)
        if goal == "FINISH":  # already gone
            return instance
        raise
    while True:
        state = (current.state or "").upper()
        if state == goal:
            yield from close_events(reader)
            return current
        _check_reachable(machine, current, state, goal)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            yield from close_events(reader)
            raise WaitTimeout(_timeout_message(machine, current, state, goal, timeout), last_state=current.state)
        event = yield from next_event(s, reader, min(remaining, 30.0))
        if event is None:
            continue
        if event.event == "reset":  # resumed too late for the history: the snapshot says where it is
            found = [r for r in _snapshot(s, type(instance), instance._bound, event) if r.id == instance.id]
            if not found and goal == "FINISH":
                yield from close_events(reader)
                return current
            current = found[0] if found else (yield from refresh(s, current))
            continue
        rid, data, resource = _event_resource(s, type(instance), instance._bound, event)
        if rid != instance.id:
            continue
        if event.event == "destroyed":
            yield from close_events(reader)
            if goal == "FINISH":
                return current
            raise NotFound(f"instance {instance.id} was destroyed while waiting for {goal}", status=404)
        if resource is not None:
            current = resource
        elif data.get("to"):
            current = yield from refresh(s, current)


def watch(s: Session, cls: type[M], bound: Any, initial: list[M] | None, interval: float,
          filters: Mapping[str, Any], source: str | None) -> Op[None]:
    """Emit a :class:`Change` for every change of the collection, forever: from the server's events
    when its entry point links them, else by listing every ``interval`` seconds and comparing."""
    if initial is None:
        initial = yield from list_resources(s, cls, bound, filters)
    known: dict[str, Resource] = {r.id: r for r in initial}
    entry = yield from entry_point(s)
    if entry.events_url:
        yield from _watch_by_events(s, cls, bound, entry.events_url, known, filters, source)
    while True:
        yield Sleep(interval)
        try:
            listed = yield from list_resources(s, cls, bound, filters)
        except TRANSIENT:
            continue
        now: dict[str, Resource] = {r.id: r for r in listed}
        for change in diff(known, now):
            yield Emit(Change(change.kind, change.id, change.resource, change.old_state, change.new_state,
                              change.fields, source))
        known = now


def _watch_by_events(s: Session, cls: type[M], bound: Any, url: str, known: dict[str, Resource],
                     filters: Mapping[str, Any], source: str | None) -> Op[None]:
    """The SSE path of ``watch``: subscribe, then list once and report what changed since
    ``known`` (the server's events start from its own view at subscription, which may already
    hold what changed since ``known`` was listed), then follow the events."""
    reader = EventReader(url, {"collection": cls.COLLECTION}, EventParser())
    try:
        yield from open_events(s, reader, 60.0)
    except (APIError, TransportError):
        return  # no usable stream: the caller polls
    try:
        listed = yield from list_resources(s, cls, bound, filters)
    except TRANSIENT:
        listed = None  # the events (a reset at worst) tell what changed
    if listed is not None:
        current = {r.id: r for r in listed}
        for change in diff(known, current):
            yield Emit(Change(change.kind, change.id, change.resource, change.old_state, change.new_state,
                              change.fields, source))
        known.clear()
        known.update(current)
    while True:
        event = yield from next_event(s, reader, 60.0)
        if event is None:
            continue
        changes: list[Change] = []
        if event.event == "reset":  # resumed too late: compare with the snapshot it carries
            listed = _snapshot(s, cls, bound, event)
            if not listed and cls.COLLECTION not in (event.data or ""):
                listed = yield from list_resources(s, cls, bound, {})
            now: dict[str, Resource] = {r.id: r for r in listed}
            changes = diff(known, now)
            known.clear()
            known.update(now)
        else:
            rid, _data, resource = _event_resource(s, cls, bound, event)
            if rid is None:
                continue
            before = known.get(rid)
            if event.event == "destroyed":
                known.pop(rid, None)
                changes = [Change("destroyed", rid, before, getattr(before, "state", None), None)]
            elif resource is not None:
                known[rid] = resource
                changes = diff({rid: before} if before else {}, {rid: resource})
        for change in changes:
            yield Emit(Change(change.kind, change.id, change.resource, change.old_state, change.new_state,
                              change.fields, source))
