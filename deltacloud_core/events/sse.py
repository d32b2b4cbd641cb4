"""The ``text/event-stream`` frames (WHATWG HTML, server-sent events) the streams send."""

from __future__ import annotations

__all__ = ["comment", "frame", "position", "retry"]


def frame(event_id: str | None, kind: str, data: str) -> bytes:
    """One event; ``data`` is one line of JSON (never a line break in it)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {data}\n\n".encode()


def comment(text: str) -> bytes:
    """A comment line (heartbeats): clients skip it, proxies see traffic."""
    return f": {text}\n\n".encode()


def position(event_id: str) -> bytes:
    """A heartbeat that also moves the client's last event id on (no event is dispatched), so
    a quiet, filtered stream resumes from here rather than from an id the history forgot."""
    return f": heartbeat\nid: {event_id}\n\n".encode()


def retry(milliseconds: int) -> bytes:
    return f"retry: {milliseconds}\n\n".encode()
