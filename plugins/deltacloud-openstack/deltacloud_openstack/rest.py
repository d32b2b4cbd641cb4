"""Plain REST calls through openstacksdk's service adapters (auth, catalogue, endpoint discovery).

The driver speaks each service's documented JSON directly, at a microversion it chooses, instead of
the SDK's resource classes: what it reads is exactly what the API reference describes, and a newer
or older SDK changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from .errors import check

__all__ = ["call", "json_of", "paged", "segment"]

#: Page size asked of list calls (services cap it at their own maximum).
PAGE = 1000


def call(adapter: Any, method: str, path: str, *, microversion: str | None = None, json: Any = None,
         params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None, data: Any = None,
         stream: bool = False, allow: tuple[int, ...] = ()) -> Any:
    """One request; an error status raises the core's error unless it is in ``allow``."""
    kwargs: dict[str, Any] = {"raise_exc": False}
    if microversion is not None:
        kwargs["microversion"] = microversion
    if json is not None:
        kwargs["json"] = json
    if params:
        kwargs["params"] = dict(params)
    if headers:
        kwargs["headers"] = dict(headers)
    if data is not None:
        kwargs["data"] = data
    if stream:
        kwargs["stream"] = True
    response = adapter.request(path, method, **kwargs)
    if response.status_code in allow:
        return response
    return check(response)


def segment(value: str) -> str:
    """``value`` quoted as one URL path segment (ids and names may hold anything)."""
    return quote(value, safe="")


def json_of(response: Any) -> Any:
    return response.json() if response.content else None


def paged(adapter: Any, path: str, key: str, *, microversion: str | None = None,
          params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every item of a Nova/Cinder-style list (``{key: [...], key_links: [{"rel": "next"}]}``)
    or a Glance-style one (``{key: [...], "next": "/v2/...?marker=..."}``)."""
    query: dict[str, Any] = {"limit": PAGE, **(params or {})}
    seen: set[str] = set()
    while True:
        body = json_of(call(adapter, "GET", path, microversion=microversion, params=query)) or {}
        items = body.get(key) or []
        yield from items
        next_url = body.get("next")
        for link in body.get(f"{key}_links") or ():
            if link.get("rel") == "next":
                next_url = link.get("href")
        if not next_url or not items:
            return
        marker = parse_qs(urlsplit(next_url).query).get("marker", [None])[0]
        if not marker or marker in seen:
            return
        seen.add(marker)
        query["marker"] = marker
