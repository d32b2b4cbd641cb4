"""A tiny EC2 query-API server on loopback that answers with the errors moto never produces.

moto accepts every request it understands, never throttles and never hangs; real AWS does all
three. This server answers each ``Action`` of the EC2 query protocol with a canned AWS error
document (status, code, message, headers), or holds the request without answering (a read
timeout for the client). It speaks real HTTP, so botocore parses its answers exactly as AWS's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

__all__ = ["AwsStub", "Canned", "running_stub"]

#: How long a held request waits at most (the client gives up long before).
HOLD_LIMIT = 30.0


@dataclass(frozen=True)
class Canned:
    """One answer: an AWS error document, or ``hold=True`` for no answer at all."""

    status: int = 400
    code: str = "InternalError"
    message: str = "canned error"
    headers: Mapping[str, str] = field(default_factory=dict)
    hold: bool = False

    def body(self) -> bytes:
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{self.code}</Code>'
                f"<Message>{self.message}</Message></Error></Errors><RequestID>stub-request</RequestID>"
                "</Response>").encode()


@dataclass
class AwsStub:
    answers: dict[str, Canned] = field(default_factory=dict)
    default: Canned = field(default_factory=lambda: Canned(500, "InternalError", "no canned answer"))
    seen: list[str] = field(default_factory=list)
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
            canned = stub.answers.get(action, stub.default)
            if canned.hold:
                stub.release.wait(HOLD_LIMIT)
                return
            body = canned.body()
            self.send_response(canned.status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            for name, value in canned.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_POST = _answer
        do_GET = _answer

    return Handler


@contextmanager
def running_stub(answers: Mapping[str, Canned] | None = None) -> Iterator[AwsStub]:
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
