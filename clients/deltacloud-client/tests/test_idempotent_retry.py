"""A create whose answer is lost is retried with the same ``Idempotency-Key`` and makes one instance
(issue 21), against the real ``deltacloudd`` of the session.

Between client and server sits a small TCP proxy that passes everything on but, once, swallows the
answer to a ``POST /api/instances``: the server made the instance, the client saw the connection
drop. The client retries because the server advertises idempotency on its entry point
(``X-Deltacloud-Idempotency: supported``); the server answers the retry with the first answer.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from conftest import MOCK_AUTH, Server

from deltacloud_core.testing.server import free_port


def _read_message(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 message (head and Content-Length body) from ``sock``; None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _colon, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


class LossyProxy:
    """Forwards requests to ``target``; the first answer to ``POST <lose>`` is swallowed."""

    def __init__(self, target_port: int, lose: bytes) -> None:
        self.target_port = target_port
        self.lose = lose
        self.lost = 0
        self.posts = 0
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
            while True:
                request = _read_message(client)
                if request is None:
                    return
                upstream.sendall(request)
                answer = _read_message(upstream)
                if answer is None:
                    return
                if request.startswith(b"POST " + self.lose):
                    self.posts += 1
                    if self.lost == 0:
                        self.lost += 1
                        return  # the answer never reaches the client: the connection drops
                client.sendall(answer)

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def proxy(server: Server) -> Iterator[LossyProxy]:
    port = int(server.url.rsplit(":", 1)[1])
    lossy = LossyProxy(port, b"/api/instances ")
    try:
        yield lossy
    finally:
        lossy.close()


def test_a_create_whose_answer_was_lost_is_retried_and_makes_one_instance(server, proxy):
    from deltacloud_client import Client

    name = f"once-{proxy.port}"
    with Client(proxy.url, *MOCK_AUTH) as dc:
        assert dc.api().idempotency is True
        before = [i.id for i in dc.instances.list()]
        created = dc.instances.create(image="img1", name=name)
        after = dc.instances.list()
    assert proxy.lost == 1 and proxy.posts == 2  # lost once, sent again
    assert created.name == name
    assert [i.id for i in after if i.name == name] == [created.id]
    assert len(after) == len(before) + 1
