"""The request's context: what the prelude decided about a request, made once and read by every
step after it (routing, the pipeline, renderers, docs) from ``scope["state"]``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from ..credentials import SECRET_WORDS, Credentials, parse_basic_authorization
from ..observability.json_logs import current_request_id
from ..schemas.context import RenderContext
from .matrix import MatrixPath
from .negotiation import DOCUMENT_FORMATS, choose

__all__ = ["RequestContext", "ordered_params", "parse_query", "request_context", "request_credentials"]

#: Request ids only correlate log lines and error pages: a seeded PRNG is enough (the module's
#: own generator, which Python reseeds in a forked child, so workers never share a sequence;
#: ``uuid4`` would read the OS random source on every request).
_random_bits = random.getrandbits


@dataclass
class RequestContext:
    """One request's decisions: its matrix parameters, accepted formats, query, and the
    :class:`~deltacloud_core.schemas.context.RenderContext` (API URL, driver, provider) that
    handlers and schemas read. The pipeline completes ``render`` once it loads the driver."""

    render: RenderContext
    matrix: MatrixPath
    #: Accepted formats, most preferred first (stage 1 of negotiation).
    ranked: tuple[str, ...]
    #: Query-string pairs in order (``format`` included).
    query: list[tuple[str, str]]
    #: The server's document formats (where errors are rendered).
    document_formats: frozenset[str] = DOCUMENT_FORMATS
    _request_id: str = ""

    @property
    def driver_name(self) -> str:
        return self.render.driver_name

    @property
    def provider(self) -> str | None:
        return self.render.provider

    @property
    def api_url(self) -> str:
        """Absolute URL of the API root for this request (``http://host:3001/api``)."""
        return self.render.api_url

    @property
    def request_id(self) -> str:
        """16 hex digits naming the request in logs and error pages (made when first asked for)."""
        if not self._request_id:
            self._request_id = current_request_id.get() or f"{_random_bits(64):016x}"
        return self._request_id

    @property
    def error_format(self) -> str:
        """The document format errors are rendered in before an operation negotiated its own."""
        return choose(self.ranked, self.document_formats) or "xml"

    def query_dict(self) -> dict[str, str]:
        return dict(self.query)


def request_context(request: Request) -> RequestContext:
    """The context the prelude stored for this request."""
    context: RequestContext = request.scope["state"]["deltacloud"]
    return context


def parse_query(query_string: bytes | str) -> list[tuple[str, str]]:
    text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    return parse_qsl(text, keep_blank_values=True)


def request_credentials(request: Request, server_credentials: Credentials | None) -> Credentials | None:
    """Server-side credentials when configured, else the request's HTTP Basic ones."""
    if server_credentials is not None:
        return server_credentials
    # The first Authorization header, as ``request.headers.get`` finds it (ASGI names are lower case).
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            return parse_basic_authorization(value.decode("latin-1"))
    return None


def ordered_params(context: RequestContext, form: list[tuple[str, Any]],
                   path_params: dict[str, str]) -> list[tuple[str, Any]]:
    """Parameters as the original listed them in error documents: query, matrix hashes, form,
    then path; secrets filtered."""
    out: dict[str, Any] = {}
    for k, v in context.query:
        out[k] = v
    for segment, pairs in context.matrix.params.items():
        # The original's Rack::MatrixParams merged the pairs last-first; its documents show that order.
        out[segment] = dict(reversed(list(pairs.items())))
    for k, v in form:
        out[k] = v
    for k, v in path_params.items():
        out[k] = v
    return [(k, _redact(k, v)) for k, v in out.items()]


def _redact(name: str, value: Any) -> Any:
    """Error documents echo request parameters; never echo a secret."""
    lowered = name.lower()
    if any(word in lowered for word in SECRET_WORDS) and value not in (None, ""):
        return "[FILTERED]"
    return value
