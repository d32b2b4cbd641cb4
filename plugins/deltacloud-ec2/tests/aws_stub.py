"""A tiny EC2 query-API server on loopback that answers what moto never does.

moto accepts every request it understands, never throttles and never hangs; real AWS does all
three. This server answers each ``Action`` of the EC2 query protocol with a canned AWS error
document (status, code, message, headers), or holds the request without answering (a read
timeout for the client). It speaks real HTTP, so botocore parses its answers exactly as AWS's.

moto also answers most listings in one page whatever their size, where AWS pages them: a
:class:`Listing` answers an action in pages linked by ``nextToken``, its items written in EC2's
own XML by :func:`ec2_xml` from botocore's description of the operation's answer, so the driver
sees exactly the documents AWS would send. Every request's form is kept (``stub.forms``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

__all__ = ["AwsStub", "Canned", "Listing", "ec2_xml", "running_stub"]

#: How long a held request waits at most (the client gives up long before).
HOLD_LIMIT = 30.0


@dataclass(frozen=True)
class Canned:
    """One answer: an AWS error document, a ``raw`` document of its own, or ``hold=True`` for no answer."""

    status: int = 400
    code: str = "InternalError"
    message: str = "canned error"
    headers: Mapping[str, str] = field(default_factory=dict)
    hold: bool = False
    raw: bytes | None = None

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{self.code}</Code>'
                f"<Message>{self.message}</Message></Error></Errors><RequestID>stub-request</RequestID>"
                "</Response>").encode()


@cache
def _ec2_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("ec2")


def _xml_of(shape: Any, value: Any, name: str) -> str:
    if shape.type_name == "structure":
        inner = "".join(_xml_of(member, value[key], member.serialization.get("name", key))
                        for key, member in shape.members.items() if key in value)
    elif shape.type_name == "list":
        item = shape.member.serialization.get("name", "item")
        inner = "".join(_xml_of(shape.member, v, item) for v in value)
    elif shape.type_name == "boolean":
        inner = "true" if value else "false"
    else:
        inner = escape(str(value))
    return f"<{name}>{inner}</{name}>"


def ec2_xml(action: str, answer: Mapping[str, Any]) -> bytes:
    """The EC2 query-API document of ``action``'s answer ``answer`` (boto3's shape: ``{"Volumes": [...]}``)."""
    output = _ec2_model().operation_model(action).output_shape
    body = "".join(_xml_of(member, answer[key], member.serialization.get("name", key))
                   for key, member in output.members.items() if key in answer)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>stub-request</requestId>{body}</{action}Response>").encode()


@dataclass(frozen=True)
class Listing:
    """A successful answer in pages: ``pages[n]`` are the items (boto3's shape) of page n under
    ``key``; every page but the last names the next one in ``NextToken`` (``page-2``, ``page-3`` ...)."""

    key: str
    pages: Sequence[Sequence[Mapping[str, Any]]]

    def body(self, action: str, token: str | None) -> bytes:
        number = int(token.removeprefix("page-")) if token and token.startswith("page-") else 1
        answer: dict[str, Any] = {self.key: list(self.pages[number - 1])}
        if number < len(self.pages):
            answer["NextToken"] = f"page-{number + 1}"
        return ec2_xml(action, answer)


@dataclass
class AwsStub:
    answers: dict[str, Canned | Listing] = field(default_factory=dict)
    default: Canned = field(default_factory=lambda: Canned(500, "InternalError", "no canned answer"))
    seen: list[str] = field(default_factory=list)
    #: The form of every request, in order (``{"Action": "DescribeVolumes", "MaxResults": "500", ...}``).
    forms: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def provider(self) -> str:
        """A provider string that sends every service of the driver here."""
        return f"ec2={self.endpoint};s3={self.endpoint}"


def _handler(stub: AwsStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode()) if length else {}
            action = (form.get("Action") or ["?"])[0]
            stub.seen.append(action)
            stub.forms.append({k: v[0] for k, v in form.items()})
            canned = stub.answers.get(action, stub.default)
            if isinstance(canned, Listing):
                self._reply(200, canned.body(action, (form.get("NextToken") or [None])[0]), {})
                return
            if canned.hold:
                stub.release.wait(HOLD_LIMIT)
                return
            self._reply(canned.status, canned.body(), canned.headers)

        def _reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_POST = _answer
        do_GET = _answer

    return Handler


@contextmanager
def running_stub(answers: Mapping[str, Canned | Listing] | None = None) -> Iterator[AwsStub]:
    stub = AwsStub(dict(answers or {}))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="aws-stub", daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
