"""Server-sent events (the WHATWG ``text/event-stream`` format), read line by line.

Feed :meth:`EventParser.feed` one line at a time (without its line break); it returns a
:class:`ServerEvent` when a blank line completes one. Comments (``:heartbeat``) are skipped,
``id`` is remembered for ``Last-Event-ID``, ``retry`` updates the reconnection delay.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EventParser", "ServerEvent"]


@dataclass(frozen=True)
class ServerEvent:
    event: str
    data: str
    id: str | None


class EventParser:
    def __init__(self) -> None:
        self.last_id: str | None = None
        self.retry_ms: int | None = None
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> ServerEvent | None:
        line = line.rstrip("\r")
        if line == "":
            if not self._data and not self._event:
                return None
            event = ServerEvent(self._event or "message", "\n".join(self._data), self.last_id)
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None
