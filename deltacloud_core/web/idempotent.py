"""Running a create or action under its ``Idempotency-Key`` (see :mod:`deltacloud_core.idempotency`).

:meth:`IdempotentRunner.run` claims the key, then runs the operation as a task of its own: the
request waits for it at most the backend timeout and answers 504 beyond, but the task goes on, and
when the backend finally answers its answer is stored under the key. A retry with the same key and
request then gets that answer (``Idempotent-Replayed: true``), 409 while the work still runs, 422
when the request differs. Answers of 500 and more (and 429) are not kept: the key is released so a
retry runs the operation again.

Which operations: every ``POST``, ``PUT`` and ``DELETE`` except those that stream or upload a
body (blobs), whose bodies are not fingerprinted; elsewhere the header is ignored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..collections.base import Operation, OperationCall
from ..drivers.base import Driver
from ..errors import Conflict, DeltacloudError, ProviderTimeout, UnprocessableEntity
from ..idempotency import Claim, IdempotencyStore, MemoryStore, StoredAnswer, fingerprint, parse_key, scoped_key
from .context import request_credentials
from .responses import http_date
from .settings import Settings

__all__ = ["HEADER", "IdempotentRunner", "applies_to"]

log = logging.getLogger("deltacloud.web")

HEADER = "idempotency-key"
_WRITES = frozenset({"POST", "PUT", "DELETE"})
#: Answers not kept under a key: the work failed on the backend's side (a retry should run it
#: again) or the server refused it before doing anything.
_NOT_KEPT = frozenset({429})
#: Headers of a kept answer that are made afresh when it is replayed.
_FRESH = frozenset({"date"})


def applies_to(operation: Operation) -> bool:
    """Whether ``operation`` honours ``Idempotency-Key``."""
    return operation.http_method in _WRITES and not (operation.streams_body or operation.accepts_uploads)


def timeout_advice(settings: Settings, *, keyed: bool) -> str:
    """The 504's message for a create or action: it may still complete; how to retry safely."""
    waited = f"The backend did not answer within {settings.backend_timeout:g} seconds."
    if keyed:
        return (f"{waited} The operation may still complete. Send the same request with the same "
                "Idempotency-Key to get its result: 409 while it is still running, then its first answer; "
                "it is never done twice.")
    return (f"{waited} The operation may still complete: look for the resource before sending the request again, "
            "or send creates and actions with an Idempotency-Key header, which makes retrying them safe.")


class IdempotentRunner:
    """Keys kept per app: the driver's own store, else Redis, else memory."""

    def __init__(self, settings: Settings, *, observer: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.memory = MemoryStore(settings.idempotency_max_keys)
        self.redis: IdempotencyStore | None = None
        if settings.redis_url:
            from ..idempotency.redis_store import RedisStore

            self.redis = RedisStore(settings.redis_url)
        self.observer = observer
        #: Tasks still running after their request answered 504 (kept referenced until done).
        self._detached: set[asyncio.Task[Any]] = set()

    def store_for(self, driver_cls: type[Driver]) -> IdempotencyStore:
        own = driver_cls.idempotency_store()
        if own is not None:
            return own
        return self.redis if self.redis is not None else self.memory

    def _note(self, result: str) -> None:
        if self.observer is not None:
            self.observer(result)

    async def run(self, request: Request, call: OperationCall, header: str, fmt: str | None,
                  execute: Callable[[], Awaitable[Response]]) -> Response:
        """``execute()`` (the operation, rendered) at most once per key and request."""
        settings = self.settings
        context = call.context
        credentials = request_credentials(request, settings.server_credentials)
        key = scoped_key(parse_key(header), driver=context.driver_name, provider=context.provider,
                         account=credentials.digest() if credentials is not None else None)
        printed = fingerprint(request.method, request.scope["path"], fmt, call.params)
        driver_cls = context.driver_cls
        store = self.store_for(driver_cls) if driver_cls is not None else self.memory
        # A running claim outlives the request's own wait (its thread may finish much later), but not
        # the whole window: a server that died mid-way must not block the key for a day.
        running_ttl = min(settings.idempotency_ttl, max(600.0, 10 * settings.backend_timeout))
        try:
            existing = await store.claim(key, printed, running_ttl)
        except Exception as exc:
            log.exception("idempotency store failed")
            unavailable = DeltacloudError("The store of Idempotency-Keys cannot be reached: nothing was done; send the "
                                          "request again later.", headers={"Retry-After": "1"})
            unavailable.status = 503
            raise unavailable from exc
        if existing is not None:
            return self._answer_existing(existing, printed)
        self._note("new")
        task = asyncio.get_running_loop().create_task(self._execute(store, key, printed, execute))
        try:
            return await asyncio.wait_for(asyncio.shield(task), settings.backend_timeout)
        except TimeoutError:
            self._detached.add(task)
            task.add_done_callback(self._detached_done)
            raise ProviderTimeout(timeout_advice(settings, keyed=True)) from None

    def _detached_done(self, task: asyncio.Task[Any]) -> None:
        """A run whose request already answered 504 ended: a surprise is logged (nobody else sees it)."""
        self._detached.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("an operation that answered 504 failed later", exc_info=task.exception())

    def _answer_existing(self, existing: Claim, printed: str) -> Response:
        if existing.fingerprint != printed:
            self._note("mismatch")
            raise UnprocessableEntity("This Idempotency-Key was used for a different request (another method, "
                                      "path, format or parameters): use a new key for a new request.")
        if existing.answer is None:
            self._note("conflict")
            raise Conflict("The first request with this Idempotency-Key is still running: send it again later "
                           "to get its answer.", headers={"Retry-After": "1"})
        self._note("replayed")
        return replay(existing.answer)

    async def _execute(self, store: IdempotencyStore, key: str, printed: str,
                       execute: Callable[[], Awaitable[Response]]) -> Response:
        try:
            response = await execute()
        except BaseException:
            await _quietly(store.release(key))
            raise
        body = getattr(response, "body", None)
        if response.status_code >= 500 or response.status_code in _NOT_KEPT or not isinstance(body, bytes):
            await _quietly(store.release(key))
            return response
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers
                        if k.decode("latin-1") not in _FRESH)
        answer = StoredAnswer(response.status_code, headers, body)
        await _quietly(store.complete(key, Claim(printed, answer), self.settings.idempotency_ttl))
        return response


async def _quietly(step: Awaitable[None]) -> None:
    """A store's write; its failure is logged, never the request's (the answer is already made)."""
    try:
        await step
    except Exception:
        log.exception("idempotency store failed")


class _Replayed(Response):
    def __init__(self, status: int, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        self.raw_headers = raw_headers


def replay(answer: StoredAnswer) -> Response:
    """The kept answer, with a fresh ``Date`` and ``Idempotent-Replayed: true``."""
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    raw.append((b"date", http_date().encode("latin-1")))
    raw.append((b"idempotent-replayed", b"true"))
    return _Replayed(answer.status, raw, answer.body)
