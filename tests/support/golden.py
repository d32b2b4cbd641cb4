"""The original server's recordings in ``tests/golden``: the index, the files, and replaying a row.

``INDEX.tsv`` gives each file's status line, URL and the extra curl arguments used to record it.
:func:`parse_curl_args` turns those arguments back into a request, :func:`replay` sends it to
the app under test the way curl sent it (curl's default ``Accept: */*``; ``-H Name:`` removes a
header; ``-d`` makes a form POST; ``-I`` is HEAD; a request without ``Host`` goes straight to the
ASGI app, since HTTP clients always add one).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from .asgi import Reply, asgi_request
from .compare import GoldenHeaders, parse_headers_text

__all__ = ["GOLDEN_DIR", "CurlRequest", "GoldenFile", "golden", "index", "parse_curl_args", "replay"]

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"

_FLAGS = ("-u", "-X", "-d", "-H", "-I", "-F", "--http1.0", "--data-binary")
_FLAG_RE = re.compile(r"(?:^|(?<=\s))(" + "|".join(re.escape(f) for f in _FLAGS) + r")(?=\s|$)")


@dataclass(frozen=True)
class CurlRequest:
    """One request as curl sent it."""

    method: str
    target: str  # path (with matrix params) and query string
    headers: tuple[tuple[str, str], ...] = ()
    removed: frozenset[str] = frozenset()  # lower-cased names curl was told not to send
    auth: tuple[str, str] | None = None
    data: tuple[str, ...] | None = None  # the -d pieces, sent joined with '&'
    http10: bool = False

    def with_target(self, target: str) -> CurlRequest:
        return replace(self, target=target)


@dataclass(frozen=True)
class GoldenFile:
    name: str
    status_line: str
    url: str
    args: str
    headers: GoldenHeaders = field(compare=False)
    body: bytes = field(compare=False, repr=False)

    @property
    def request(self) -> CurlRequest:
        return parse_curl_args(self.url, self.args)


def parse_curl_args(url: str, args: str) -> CurlRequest:
    """The request the recorder made with ``curl <args> <url>`` (args as written in INDEX.tsv)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    matches = list(_FLAG_RE.finditer(args))
    method: str | None = None
    headers: list[tuple[str, str]] = []
    removed: set[str] = set()
    auth = None
    data: list[str] | None = None
    head = http10 = False
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(args)
        value = args[match.end():end]
        value = value[1:] if value.startswith(" ") else value
        value = value.rstrip()
        flag = match.group(1)
        if flag == "-u":
            user, _, password = value.partition(":")
            auth = (user, password)
        elif flag == "-X":
            method = value
        elif flag in ("-d", "--data-binary"):
            data = [*(data or []), value]
        elif flag == "-H":
            name, _, header_value = value.partition(":")
            if header_value.strip():
                headers.append((name.strip(), header_value.strip()))
            else:
                removed.add(name.strip().lower())
        elif flag == "-I":
            head = True
        elif flag == "--http1.0":
            http10 = True
        else:
            raise ValueError(f"curl flag {flag} is not supported by the replayer")
    if method is None:
        method = "HEAD" if head else ("POST" if data is not None else "GET")
    return CurlRequest(method=method, target=target, headers=tuple(headers), removed=frozenset(removed),
                       auth=auth, data=tuple(data) if data is not None else None, http10=http10)


@cache
def index() -> dict[str, tuple[str, str, str]]:
    """File name -> (status line, URL, curl args), in recording order."""
    rows: dict[str, tuple[str, str, str]] = {}
    lines = (GOLDEN_DIR / "INDEX.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        cells += [""] * (4 - len(cells))
        rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


def golden(name: str) -> GoldenFile:
    status_line, url, args = index()[name]
    headers = parse_headers_text((GOLDEN_DIR / f"{name}.headers").read_text(encoding="utf-8"))
    return GoldenFile(name=name, status_line=status_line, url=url, args=args, headers=headers,
                      body=(GOLDEN_DIR / name).read_bytes())


def _request_headers(req: CurlRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    if req.data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"  # curl's -d default
    for name, value in req.headers:
        headers[name] = value
    if req.auth is not None:
        token = base64.b64encode(f"{req.auth[0]}:{req.auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return headers


def replay(client: httpx.Client, req: CurlRequest, app: Any = None) -> Reply:
    """Send ``req`` through ``client`` (a TestClient without default credentials), or, when the
    request needs what an HTTP client cannot do (no Host header, HTTP/1.0), straight to ``app``."""
    body = "&".join(req.data).encode() if req.data is not None else b""
    headers = _request_headers(req)
    if "host" in req.removed or req.http10:
        if app is None:
            raise ValueError("replaying this request needs the ASGI app")
        sent = [(k, v) for k, v in headers.items()]
        if "host" not in req.removed:
            sent.append(("Host", "127.0.0.1:3001"))
        if "accept" not in req.removed and "accept" not in {k.lower() for k in headers}:
            sent.append(("Accept", "*/*"))
        return asgi_request(app, req.method, req.target, headers=sent, body=body,
                            http_version="1.0" if req.http10 else "1.1")
    request = client.build_request(req.method, req.target, headers=headers, content=body or None)
    if "accept" not in {k.lower() for k in headers}:
        request.headers["Accept"] = "*/*"  # curl's default
    for name in req.removed:
        if name in request.headers:
            del request.headers[name]
    response = client.send(request, auth=None, follow_redirects=False)
    return Reply(status=response.status_code, headers=response.headers, body=response.content)
