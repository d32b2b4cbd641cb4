"""Per-request facts fixed before routing: matrix params, accepted formats, driver, provider."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from ..credentials import Credentials, parse_basic_authorization
from .matrix import MatrixPath

__all__ = ["RequestInfo", "request_info"]

#: Request ids only correlate log lines and error pages: a seeded PRNG is enough (the module's
#: own generator, which Python reseeds in a forked child, so workers never share a sequence;
#: ``uuid4`` would read the OS random source on every request).
_random_bits = random.getrandbits


@dataclass
class RequestInfo:
    """What the pipeline decided about a request; stored in ``scope["state"]``."""

    matrix: MatrixPath
    #: Accepted formats, most preferred first (stage 1 of negotiation).
    ranked: list[str]
    driver_name: str
    provider: str | None
    #: Query-string pairs in order (``format`` included).
    query: list[tuple[str, str]] = field(default_factory=list)
    #: Absolute URL of the API root for this request (``http://host:3001/api``).
    api_url: str = ""
    _request_id: str = ""

    @property
    def request_id(self) -> str:
        """16 hex digits naming the request in logs and error pages (made when first asked for)."""
        if not self._request_id:
            self._request_id = f"{_random_bits(64):016x}"
        return self._request_id

    def query_dict(self) -> dict[str, str]:
        return dict(self.query)


def parse_query(query_string: bytes | str) -> list[tuple[str, str]]:
    text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    return parse_qsl(text, keep_blank_values=True)


def request_info(request: Request) -> RequestInfo:
    return request.scope["state"]["deltacloud"]


def request_credentials(request: Request, server_credentials: Credentials | None) -> Credentials | None:
    """Server-side credentials when configured, else the request's HTTP Basic ones."""
    if server_credentials is not None:
        return server_credentials
    # The first Authorization header, as ``request.headers.get`` finds it (ASGI names are lower case).
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            return parse_basic_authorization(value.decode("latin-1"))
    return None


def ordered_params(info: RequestInfo, form: list[tuple[str, Any]],
                   path_params: dict[str, str]) -> list[tuple[str, Any]]:
    """Parameters as the original listed them: query, matrix hashes, form, then path."""
    out: dict[str, Any] = {}
    for k, v in info.query:
        out[k] = v
    for segment, pairs in info.matrix.params.items():
        # The original's Rack::MatrixParams merged the pairs last-first; its documents show that order.
        out[segment] = dict(reversed(list(pairs.items())))
    for k, v in form:
        out[k] = v
    for k, v in path_params.items():
        out[k] = v
    return [(k, _redact(k, v)) for k, v in out.items()]


_SECRET_WORDS = ("password", "secret", "private_key", "token", "credential")


def _redact(name: str, value: Any) -> Any:
    """Error documents echo request parameters; never echo a secret."""
    lowered = name.lower()
    if any(word in lowered for word in _SECRET_WORDS) and value not in (None, ""):
        return "[FILTERED]"
    return value
