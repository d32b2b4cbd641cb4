"""The one implementation under :class:`~.Client` and :class:`~.AsyncClient`: operations as generators.

Every operation of the library (discovery, list, create, actions, blobs, ``wait_for``, ``watch``)
is written once, as a generator that *yields steps* and receives their results::

    answer = yield Send(request)        # one HTTP exchange, body read
    yield Sleep(1.5)                    # a pause (polling, backoff)
    answer = yield Download(request, on_chunk)   # a streamed body, chunk by chunk
    stream = yield OpenStream(request)  # a long-lived answer read line by line (server-sent events)
    line = yield NextLine(stream)
    yield CloseStream(stream)
    yield Emit(value)                   # hand a value to the caller (iterators: watch)

The runners in :mod:`.runner` perform the steps, one with ``httpx.Client`` and ``time.sleep``, the
other with ``httpx.AsyncClient`` and ``anyio.sleep``; transport failures are thrown back into the
generator, which maps them (:func:`exchange`). So the sync and async clients cannot drift apart:
they share every line that decides anything.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from .errors import ConnectionFailed, Timeout, TransportError, error_from_answer

__all__ = [
    "Answer", "CloseStream", "Download", "Emit", "NextLine", "Op", "OpenStream", "Request", "RetryPolicy", "Send",
    "Sleep", "Step", "exchange",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: Mapping[str, str] | None = None
    #: A form body (``application/x-www-form-urlencoded``).
    data: Mapping[str, str] | None = None
    #: A raw body: bytes, or an iterable of chunks (streamed; then never retried).
    content: bytes | Iterable[bytes] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Safe to send again after a failure (reads, and creates that carry an idempotency key).
    retry: bool = False
    timeout: httpx.Timeout | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    content: bytes
    url: str

    def header(self, name: str) -> str | None:
        value: str | None = self.headers.get(name)
        return value


@dataclass(frozen=True)
class Send:
    request: Request


@dataclass(frozen=True)
class Download:
    request: Request
    #: Called with each chunk of a successful answer's body (the answer's ``content`` stays empty).
    on_chunk: Callable[[bytes], None]


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class OpenStream:
    request: Request


@dataclass(frozen=True)
class NextLine:
    #: What the runner returned for :class:`OpenStream` (an answer with a ``stream`` attribute).
    stream: Any


@dataclass(frozen=True)
class CloseStream:
    stream: Any


@dataclass(frozen=True)
class Emit:
    value: Any


Step = Send | Download | Sleep | OpenStream | NextLine | CloseStream | Emit
Op = Generator[Step, Any, T]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request that is safe to repeat is sent again."""

    attempts: int = 3
    backoff: float = 0.5
    max_delay: float = 8.0
    #: Statuses worth another try: the server or the cloud is busy or briefly away.
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay * 4)
        base = min(self.backoff * (2.0 ** attempt), self.max_delay)
        return float(base * (0.5 + random.random() / 2))


def _mapped(exc: httpx.TransportError, request: Request) -> TransportError:
    where = f"{request.method} {request.url}"
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(f"no answer in time from {where} ({type(exc).__name__})")
    return ConnectionFailed(f"could not reach {where}: {exc}")


def _replayable(request: Request) -> bool:
    return request.content is None or isinstance(request.content, bytes)


def exchange(request: Request, policy: RetryPolicy, *, stream_to: Callable[[bytes], None] | None = None) -> Op[Answer]:
    """Send ``request``; answers of 400 and more raise the matching :class:`~.errors.APIError`.

    A request is sent again (with backoff, honouring ``Retry-After``) when the connection could not
    be made at all (nothing reached the server), and, when ``request.retry`` says it is safe, also
    after a lost answer or a busy status (429, 502, 503, 504).
    """
    attempt = 0
    while True:
        try:
            answer: Answer = yield (Send(request) if stream_to is None else Download(request, stream_to))
        except httpx.TransportError as exc:
            never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            if attempt + 1 < policy.attempts and _replayable(request) and (never_sent or request.retry):
                yield Sleep(policy.delay(attempt, None))
                attempt += 1
                continue
            raise _mapped(exc, request) from None
        if answer.status < 400:
            return answer
        error = error_from_answer(answer.status, answer.headers, answer.content, url=answer.url)
        if (request.retry and answer.status in policy.statuses and attempt + 1 < policy.attempts
                and _replayable(request)):
            yield Sleep(policy.delay(attempt, error.retry_after))
            attempt += 1
            continue
        raise error
