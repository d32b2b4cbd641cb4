"""The two runners of :mod:`.protocol` generators: blocking (httpx.Client) and async (httpx.AsyncClient).

They only perform steps; nothing here decides anything about the API. An exception raised while
performing a step (a transport error, a failing sink) is thrown into the generator, so the
operation's own handlers and ``finally`` blocks run exactly as in the other runner.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import httpx

from .protocol import Answer, CloseStream, Download, Emit, NextLine, Op, OpenStream, Request, Send, Sleep, Step

__all__ = ["AsyncRunner", "SyncRunner"]

T = TypeVar("T")
CHUNK = 64 * 1024


@dataclass
class _Stream:
    response: httpx.Response
    lines: Any


def _timeout(request: Request) -> Any:
    return request.timeout if request.timeout is not None else httpx.USE_CLIENT_DEFAULT


def _answer(response: httpx.Response, content: bytes) -> Answer:
    return Answer(response.status_code, response.headers, content, str(response.request.url))


class SyncRunner:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def _build(self, request: Request) -> httpx.Request:
        return self.http.build_request(request.method, request.url, params=request.params, data=request.data,
                                       content=request.content, headers=dict(request.headers),
                                       timeout=_timeout(request))

    def perform(self, step: Step, opened: list[_Stream]) -> Any:
        if isinstance(step, Send):
            response = self.http.send(self._build(step.request))
            return _answer(response, response.content)
        if isinstance(step, Download):
            response = self.http.send(self._build(step.request), stream=True)
            try:
                if response.status_code >= 400:
                    return _answer(response, response.read())
                for chunk in response.iter_bytes(CHUNK):
                    step.on_chunk(chunk)
                return _answer(response, b"")
            finally:
                response.close()
        if isinstance(step, Sleep):
            time.sleep(max(0.0, step.seconds))
            return None
        if isinstance(step, OpenStream):
            response = self.http.send(self._build(step.request), stream=True)
            if response.status_code >= 400:
                content = response.read()
                response.close()
                return _answer(response, content)
            stream = _Stream(response, response.iter_lines())
            opened.append(stream)
            return stream
        if isinstance(step, NextLine):
            return next(step.stream.lines, None)
        if isinstance(step, CloseStream):
            step.stream.response.close()
            if step.stream in opened:
                opened.remove(step.stream)
            return None
        raise TypeError(f"not a step: {step!r}")

    def run(self, op: Op[T]) -> T:
        result: Any = None
        error: BaseException | None = None
        opened: list[_Stream] = []
        try:
            while True:
                try:
                    step = op.throw(error) if error is not None else op.send(result)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                error, result = None, None
                if isinstance(step, Emit):
                    raise TypeError("an operation that emits values must be iterated")
                try:
                    result = self.perform(step, opened)
                except Exception as exc:  # noqa: BLE001 - handed to the operation, which decides
                    error = exc
        finally:
            op.close()
            for stream in opened:
                stream.response.close()

    def iterate(self, op: Op[None]) -> Iterator[Any]:
        result: Any = None
        error: BaseException | None = None
        opened: list[_Stream] = []
        try:
            while True:
                try:
                    step = op.throw(error) if error is not None else op.send(result)
                except StopIteration:
                    return
                error, result = None, None
                if isinstance(step, Emit):
                    yield step.value
                    continue
                try:
                    result = self.perform(step, opened)
                except Exception as exc:  # noqa: BLE001 - handed to the operation
                    error = exc
        finally:
            op.close()
            for stream in opened:
                stream.response.close()


async def _aiter(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    iterator = iter(chunks)
    while True:
        chunk = await anyio.to_thread.run_sync(next, iterator, None)  # file reads off the event loop
        if chunk is None:
            return
        yield chunk


class AsyncRunner:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    def _build(self, request: Request) -> httpx.Request:
        content: Any = request.content
        if content is not None and not isinstance(content, bytes):
            content = _aiter(content)
        return self.http.build_request(request.method, request.url, params=request.params, data=request.data,
                                       content=content, headers=dict(request.headers),
                                       timeout=_timeout(request))

    async def perform(self, step: Step, opened: list[_Stream]) -> Any:
        if isinstance(step, Send):
            response = await self.http.send(self._build(step.request))
            return _answer(response, response.content)
        if isinstance(step, Download):
            response = await self.http.send(self._build(step.request), stream=True)
            try:
                if response.status_code >= 400:
                    return _answer(response, await response.aread())
                async for chunk in response.aiter_bytes(CHUNK):
                    step.on_chunk(chunk)
                return _answer(response, b"")
            finally:
                await response.aclose()
        if isinstance(step, Sleep):
            await anyio.sleep(max(0.0, step.seconds))
            return None
        if isinstance(step, OpenStream):
            response = await self.http.send(self._build(step.request), stream=True)
            if response.status_code >= 400:
                content = await response.aread()
                await response.aclose()
                return _answer(response, content)
            stream = _Stream(response, response.aiter_lines())
            opened.append(stream)
            return stream
        if isinstance(step, NextLine):
            try:
                return await step.stream.lines.__anext__()
            except StopAsyncIteration:
                return None
        if isinstance(step, CloseStream):
            await step.stream.response.aclose()
            if step.stream in opened:
                opened.remove(step.stream)
            return None
        raise TypeError(f"not a step: {step!r}")

    async def run(self, op: Op[T]) -> T:
        result: Any = None
        error: BaseException | None = None
        opened: list[_Stream] = []
        try:
            while True:
                try:
                    step = op.throw(error) if error is not None else op.send(result)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                error, result = None, None
                if isinstance(step, Emit):
                    raise TypeError("an operation that emits values must be iterated")
                try:
                    result = await self.perform(step, opened)
                except Exception as exc:  # noqa: BLE001 - handed to the operation
                    error = exc
        finally:
            op.close()
            for stream in opened:
                await stream.response.aclose()

    async def iterate(self, op: Op[None]) -> AsyncIterator[Any]:
        result: Any = None
        error: BaseException | None = None
        opened: list[_Stream] = []
        try:
            while True:
                try:
                    step = op.throw(error) if error is not None else op.send(result)
                except StopIteration:
                    return
                error, result = None, None
                if isinstance(step, Emit):
                    yield step.value
                    continue
                try:
                    result = await self.perform(step, opened)
                except Exception as exc:  # noqa: BLE001 - handed to the operation
                    error = exc
        finally:
            op.close()
            for stream in opened:
                await stream.response.aclose()
