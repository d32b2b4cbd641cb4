"""The ceiling: a bare Starlette app that checks HTTP Basic and answers fixed bodies.

It does the least any server answering the benchmark's requests must do: route the request,
check the ``Authorization`` header against the mock account, and send a body of the same
size and content type as the real answer. ``benchmarks/run.py`` captures the real answers
first and serves this app with exactly the uvicorn settings ``deltacloudd`` uses, so the
ratio "server / ceiling" measures the cost of Deltacloud's own work, not that of the
machine, the HTTP stack or the load generator.

Bodies are the files of the directory ``$CEILING_DIR``: ``GET /bench/NAME`` answers
``NAME.json`` or ``NAME.xml`` (by ``Accept``) with status 200, ``POST /bench/NAME``
answers ``NAME.json``/``NAME.xml`` with status 201 and a ``Location``, ``DELETE`` answers
204. Without ``$CEILING_DIR`` every GET answers ``$CEILING_BODY_SIZE`` (default 4096) bytes.

Serve it alone with::

    CEILING_BODY_SIZE=4000 .venv/bin/uvicorn benchmarks.ceiling_app:create_app --factory \\
        --loop uvloop --http httptools --no-access-log --no-server-header --no-date-header
"""

from __future__ import annotations

import base64
import os
from email.utils import formatdate
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

EXPECTED = "Basic " + base64.b64encode(b"mockuser:mockpassword").decode("ascii")
TYPES = {"json": "application/json", "xml": "application/xml"}


def _bodies() -> dict[str, bytes]:
    folder = os.environ.get("CEILING_DIR")
    if not folder:
        size = int(os.environ.get("CEILING_BODY_SIZE", "4096"))
        return {"*": b"x" * size}
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.suffix in (".json", ".xml")}


def create_app() -> Starlette:
    bodies = _bodies()
    fallback = bodies.get("*")

    def pick(request: Request) -> tuple[bytes, str]:
        fmt = "xml" if "xml" in request.headers.get("accept", "") else "json"
        body = bodies.get(f"{request.path_params['name']}.{fmt}", fallback)
        if body is None:
            body = b""
        return body, TYPES[fmt]

    def denied(request: Request) -> Response | None:
        if request.headers.get("authorization") != EXPECTED:
            return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="ceiling"'})
        return None

    async def get(request: Request) -> Response:
        refused = denied(request)
        if refused is not None:
            return refused
        body, media_type = pick(request)
        # A Date header like the real server's, so the bytes on the wire match too.
        return Response(body, media_type=media_type, headers={"Date": formatdate(usegmt=True)})

    async def create(request: Request) -> Response:
        refused = denied(request)
        if refused is not None:
            return refused
        await request.body()
        body, media_type = pick(request)
        return Response(body, status_code=201, media_type=media_type,
                        headers={"Date": formatdate(usegmt=True), "Location": "/bench/thing/1"})

    async def destroy(request: Request) -> Response:
        refused = denied(request)
        if refused is not None:
            return refused
        return Response(status_code=204, headers={"Date": formatdate(usegmt=True)})

    return Starlette(routes=[
        Route("/bench/{name}", get, methods=["GET"]),
        Route("/bench/{name}", create, methods=["POST"]),
        Route("/bench/{name}/{id}", destroy, methods=["DELETE"]),
    ])
