"""uvicorn's httptools protocol with the limits a hostile client must meet (:class:`.Limits`).

uvicorn reads a request head of any size (a 64 MiB header line is accumulated and parsed) and
waits for it forever (a client sending one byte every few seconds holds its connection and its
memory indefinitely), and serves any ``HTTP/x.y`` as HTTP/1.1. :class:`LimitedHttpToolsProtocol`:

* counts the head as it arrives: past ``max_head_bytes`` it answers **431** (**414** for the request
  target alone), past ``max_headers`` fields **431**, and closes the connection;
* gives the head ``head_timeout`` seconds from the connection (or the previous answer) on: then a
  begun request is answered **408** and the connection closed, an idle one just closed;
* gives a body ``body_timeout`` seconds between two pieces while the server waits for it (not while
  the app is busy and has stopped reading): then **408**, closed, and the app sees a disconnect;
* answers **505** to any version but HTTP/1.0 and HTTP/1.1;
* when the app answers before the body has all come (a 401 before reading it), closes the
  connection gracefully: it stops sending, reads and drops what the client still sends for a short
  while (at most :data:`LINGER_BYTES`), so the client reads the answer instead of a reset.

Answers made here are plain text with ``Connection: close``; the ASGI app never sees such a request.
"""

from __future__ import annotations

import asyncio
import logging
from functools import cache
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .limits import Limits

__all__ = ["LINGER_BYTES", "LINGER_SECONDS", "LimitedHttpToolsProtocol"]

log = logging.getLogger("deltacloud.server")

#: After an early answer, what is read and dropped at most before the connection is closed.
LINGER_BYTES = 1024 * 1024
LINGER_SECONDS = 2.0
_VERSIONS = frozenset({"1.0", "1.1"})


@cache
def _limits() -> Limits:
    """The limits of this process, read once from the environment ``deltacloudd`` prepared."""
    return Limits.from_env()


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; the answer is in ``protocol._refusal``."""


class _EarlyCloseTransport:
    """The transport a request's response cycle writes to: closing it while the request's body is
    still coming closes gracefully (see :meth:`LimitedHttpToolsProtocol._linger`)."""

    def __init__(self, protocol: LimitedHttpToolsProtocol, transport: asyncio.Transport) -> None:
        self._protocol = protocol
        self._transport = transport

    def close(self) -> None:
        self._protocol._close_after_answer()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """See the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = _limits()
        self._in_head = True
        self._message_begun = False
        self._head_bytes = 0
        self._head_fields = 0
        self._head_done_in_feed = False
        self._body_pending = False
        self._refusal: tuple[int, str] | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._lingering = False
        self._lingered = 0

    # -- connection ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._lingered += len(data)
            if self._lingered > LINGER_BYTES:
                self.transport.close()
            return
        if self._refusal is not None or self.transport.is_closing():
            return
        started_in_head = self._in_head
        self._head_done_in_feed = False
        super().data_received(data)
        if self._refusal is not None or not self._in_head or self.transport.is_closing():
            return
        # Still reading a head: count what came (a head that completed in this piece was measured
        # field by field; what follows it here, the next pipelined head's start, is left uncounted).
        if started_in_head and not self._head_done_in_feed:
            self._head_bytes += len(data)
        if self._head_bytes > self.limits.max_head_bytes:
            self._refuse(431, f"Request header fields larger than {self.limits.max_head_bytes} bytes.")

    # -- parser callbacks ------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._message_begun = True
        self._head_fields = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_head_bytes:
            self._refusal = (414, f"Request target longer than {self.limits.max_head_bytes} bytes.")
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_fields += 1
        if self._head_fields > self.limits.max_headers:
            self._refusal = (431, f"More than {self.limits.max_headers} request header fields.")
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_head_bytes:
            self._refusal = (431, f"Request header fields larger than {self.limits.max_head_bytes} bytes.")
            raise _Refused
        version = self.parser.get_http_version()
        if version not in _VERSIONS:
            self._refusal = (505, f"HTTP/{version} is not supported here: use HTTP/1.1.")
            raise _Refused
        self._in_head = False
        self._message_begun = False
        self._head_done_in_feed = True
        self._head_bytes = 0
        self._cancel_head_timer()
        self._body_pending = True
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.scope is self.scope:
            self.cycle.transport = _EarlyCloseTransport(self, self.transport)  # type: ignore[assignment]
        self._arm_body_timer()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm_body_timer()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._body_pending = False
        self._cancel_body_timer()
        self._in_head = True
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self._in_head and self._head_timer is None:
            self._arm_head_timer()

    # -- answers made here -----------------------------------------------------------------
    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parse error; a refusal of ours (raised in a callback) instead."""
        if self._refusal is not None:
            self._write_refusal(*self._refusal)
            return
        self._refusal = (400, msg)
        self._write_refusal(400, msg)

    def _refuse(self, status: int, message: str) -> None:
        self._refusal = (status, message)
        self._write_refusal(status, message)

    def _write_refusal(self, status: int, message: str) -> None:
        log.warning("%s: %s", _client(self.client), message)
        body = message.encode("ascii", "replace") + b"\n"
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"content-type: text/plain; charset=utf-8\r\n",
                        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                        b"connection: close\r\n", b"\r\n", body])
        self._cancel_timers()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app (waiting for a body) sees a disconnect
            self.cycle.message_event.set()
        if not self.transport.is_closing():
            self.transport.write(b"".join(content))
            self._linger()

    def _close_after_answer(self) -> None:
        """The response cycle closes the connection: at once, unless the body is still coming."""
        if self._body_pending and not self.transport.is_closing():
            self._linger()
        else:
            self.transport.close()

    def _linger(self) -> None:
        """Stop sending, read and drop what still comes for a short while, then close: closing
        with unread data would reset the connection before the client read the answer."""
        self._lingering = True
        self._cancel_timers()
        try:
            if self.transport.can_write_eof():
                self.transport.write_eof()
        except (OSError, RuntimeError):
            self.transport.close()
            return
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    # -- timers ----------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)

    def _arm_body_timer(self) -> None:
        self._cancel_body_timer()
        if self._body_pending:
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._in_head:
            return
        if self._message_begun or self._head_bytes:
            self._refuse(408, f"The request head did not come within {self.limits.head_timeout:g} seconds.")
        else:
            self.transport.close()  # an idle connection: nothing to answer

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or not self._body_pending:
            return
        if self.flow.read_paused:  # the app has stopped reading (busy): not the client's fault
            self._arm_body_timer()
            return
        if self.cycle is not None and self.cycle.response_started:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
            self.transport.close()
            return
        self._refuse(408, f"The request body paused for more than {self.limits.body_timeout:g} seconds.")


def _client(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "client"


# A refusal raised in a callback reaches uvicorn's handler as a parse error.
assert issubclass(httptools.HttpParserCallbackError, httptools.HttpParserError)
