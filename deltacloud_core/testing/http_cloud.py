"""Drivers of a cloud reached over HTTP: the :mod:`.slow_backend`'s API, for tests and benchmarks.

The provider is the backend's URL (``http://127.0.0.1:<port>``), so two backends are two
providers: two bulkheads. Two drivers with the same methods:

* :class:`HttpCloudDriver`: plain ``def`` methods over urllib3 (what boto3 and requests use): the
  common case, a sync SDK, run in worker threads.
* :class:`AsyncHttpCloudDriver`: ``async def`` methods over ``httpx.AsyncClient``: a driver whose
  SDK allows async I/O.

They are not installed as drivers by the core: tests and benchmarks install them with an entry
point of their own (``httpcloud = deltacloud_core.testing.http_cloud:HttpCloudDriver``). Any
credentials are accepted; answers the backend fails with become the core's errors (429/503 ->
``RateLimited`` with the backend's ``Retry-After``, other 5xx -> ``ProviderError``, 404 ->
not found), and an unreachable backend a 502.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from ..drivers.base import Driver
from ..errors import DeltacloudError, ObjectNotFound, ProviderError, RateLimited, ValidationError
from ..models import Instance
from ..state_machine import StateMachine

__all__ = ["AsyncHttpCloudDriver", "HttpCloudDriver"]

_STATES = (StateMachine.builder().on("start", "create", "running").on("running", "destroy", "finish").build())


def _instance(doc: Mapping[str, Any]) -> Instance:
    return Instance(id=str(doc["id"]), state=str(doc.get("state") or "UNKNOWN"), name=doc.get("name"))


def _error(status: int, headers: Mapping[str, str]) -> DeltacloudError:
    if status in (429, 503):
        retry_after = headers.get("retry-after")
        error = RateLimited(f"The cloud throttles (HTTP {status}).", status=status)
        if retry_after is not None:
            error.headers["Retry-After"] = retry_after
        return error
    if status == 404:
        return ObjectNotFound()
    return ProviderError(f"The cloud answered HTTP {status}.")


class _HttpCloud(Driver):
    DISPLAY_NAME: ClassVar[str | None] = "HTTP cloud"
    INSTANCE_STATES: ClassVar[StateMachine | None] = _STATES

    def _base(self) -> str:
        if not self.provider or not self.provider.startswith("http://"):
            raise ValidationError("Name the cloud's URL as the provider: http://127.0.0.1:<port>.")
        self.credentials  # noqa: B018 - any credentials, but some
        return self.provider.rstrip("/")


class HttpCloudDriver(_HttpCloud):
    """Plain ``def`` methods: a sync SDK (urllib3), called in worker threads."""

    def _pool(self) -> Any:
        import urllib3

        base = self._base()
        pool = self.cached_client(
            "urllib3", lambda: urllib3.PoolManager(maxsize=1024, block=False, retries=False,
                                                   timeout=urllib3.Timeout(connect=5.0, read=120.0)))
        return base, pool

    def _request(self, method: str, path: str, fields: Mapping[str, str] | None = None) -> Any:
        import urllib3

        base, pool = self._pool()
        try:
            if fields:
                reply = pool.request(method, base + path, fields=fields, encode_multipart=False)
            else:
                reply = pool.request(method, base + path)
        except urllib3.exceptions.HTTPError as exc:
            raise ProviderError(f"The cloud could not be reached: {exc}") from exc
        if reply.status >= 400:
            raise _error(reply.status, {k.lower(): v for k, v in reply.headers.items()})
        return json.loads(reply.data) if reply.data else None

    def list_instances(self, **filters: str) -> list[Instance]:
        docs = self._request("GET", "/instances")
        return [_instance(d) for d in docs if not filters.get("id") or d["id"] == filters["id"]]

    def get_instance(self, id: str) -> Instance | None:
        try:
            return _instance(self._request("GET", f"/instances/{id}"))
        except ObjectNotFound:
            return None

    def create_instance(self, *, image_id: str, name: str | None = None, **extra: Any) -> Instance:
        return _instance(self._request("POST", "/instances", {"name": name or image_id}))

    def destroy_instance(self, id: str) -> None:
        self._request("DELETE", f"/instances/{id}")


class AsyncHttpCloudDriver(_HttpCloud):
    """``async def`` methods over ``httpx.AsyncClient``: no worker thread at all."""

    def _client(self) -> Any:
        import httpx

        self._base()
        return self.cached_client("httpx", lambda: httpx.AsyncClient(
            timeout=httpx.Timeout(120.0, connect=5.0), limits=httpx.Limits(max_connections=None,
                                                                           max_keepalive_connections=1024)))

    async def _request(self, method: str, path: str, data: Mapping[str, str] | None = None) -> Any:
        import httpx

        client = self._client()
        try:
            reply = await client.request(method, self._base() + path, data=data)
        except httpx.HTTPError as exc:
            raise ProviderError(f"The cloud could not be reached: {exc}") from exc
        if reply.status_code >= 400:
            raise _error(reply.status_code, reply.headers)
        return reply.json() if reply.content else None

    async def list_instances(self, **filters: str) -> list[Instance]:
        docs = await self._request("GET", "/instances")
        return [_instance(d) for d in docs if not filters.get("id") or d["id"] == filters["id"]]

    async def get_instance(self, id: str) -> Instance | None:
        try:
            return _instance(await self._request("GET", f"/instances/{id}"))
        except ObjectNotFound:
            return None

    async def create_instance(self, *, image_id: str, name: str | None = None, **extra: Any) -> Instance:
        return _instance(await self._request("POST", "/instances", {"name": name or image_id}))

    async def destroy_instance(self, id: str) -> None:
        await self._request("DELETE", f"/instances/{id}")
