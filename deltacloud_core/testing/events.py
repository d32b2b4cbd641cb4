"""Reading ``GET /api/events`` in tests: a stream in a thread, its events on a queue.

::

    with EventStream(url, auth, collection="instances") as stream:
        stream.wait_open()
        ...                                   # make changes through the API
        created = stream.next("created")      # bounded wait on the queue, never a sleep

``close()`` drops the connection (as a network failure would); ``last_id`` is what a client
sends as ``Last-Event-ID`` when it comes back. Only the standard library and httpx are imported.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["EventStream", "StreamEvent"]


@dataclass(frozen=True)
class StreamEvent:
    id: str | None
    event: str
    data: dict[str, Any]

    @property
    def resource_id(self) -> str | None:
        value = self.data.get("id")
        return None if value is None else str(value)


class EventStream:
    """One subscription, read by a daemon thread until :meth:`close`."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None, *, last_event_id: str | None = None,
                 headers: dict[str, str] | None = None, **params: str) -> None:
        self.url = f"{base_url}/api/events"
        self.auth = auth
        self.params = params
        self.headers = {"Accept": "text/event-stream", **(headers or {})}
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = last_event_id
        self.events: queue.Queue[StreamEvent] = queue.Queue()
        self.opened: queue.Queue[httpx.Response] = queue.Queue()
        self.last_id: str | None = last_event_id
        self.status: int | None = None
        self.ended = threading.Event()
        self._response: httpx.Response | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(30.0, read=120.0))
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> EventStream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self.url, params=self.params, headers=self.headers,
                                     auth=self.auth) as response:
                self._response = response
                self.status = response.status_code
                if response.status_code != 200:
                    response.read()
                self.opened.put(response)
                if response.status_code != 200:
                    return
                kind, data = "", list[str]()
                for line in response.iter_lines():
                    if line == "":
                        if data or kind:
                            self.events.put(StreamEvent(self.last_id, kind or "message", json.loads("\n".join(data))))
                        kind, data = "", []
                    elif line.startswith(":"):
                        continue
                    else:
                        name, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if name == "id":
                            self.last_id = value
                        elif name == "event":
                            kind = value
                        elif name == "data":
                            data.append(value)
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def wait_open(self, timeout: float = 60.0) -> httpx.Response:
        """The answer's head, once it came (its status: :attr:`status`)."""
        try:
            return self.opened.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"GET {self.url} did not answer within {timeout:g} s") from None

    def next(self, kind: str | None = None, timeout: float = 30.0) -> StreamEvent:
        """The next event (of ``kind``, skipping others when given), waiting at most ``timeout``."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = self.events.get(timeout=max(0.0, remaining))
            except queue.Empty:
                raise AssertionError(f"no {kind or 'event'} within {timeout:g} s") from None
            if kind is None or event.event == kind:
                return event

    def drain(self) -> list[StreamEvent]:
        """The events that came already, without waiting."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        """Drop the connection at once (its socket is shut down under the reading thread)."""
        stream = self._response.extensions.get("network_stream") if self._response is not None else None
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.ended.wait(10)
        self._client.close()
