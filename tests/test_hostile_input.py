"""Hostile input (issue 16), each probe as it was made: the hostile bytes over a real socket to a real
``deltacloudd`` (most of these live below the app, in the HTTP protocol or the access log), then the
class each belongs to. The provider policy's probes are in ``test_provider_policy.py``.

The server here runs with small limits (the operator's flags) so that each limit is reached quickly:
16 KiB of head, 50 header fields, 2 s for a head, 2 s of pause in a body.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from deltacloud_core.testing.server import running_server

AUTH = ("mockuser", "mockpassword")
BASIC = b"Authorization: Basic " + b64encode(b"mockuser:mockpassword") + b"\r\n"
LIMITS = ["--max-head-bytes", "16384", "--max-headers", "50", "--head-timeout", "2", "--body-timeout", "2"]
#: Bound of every wait on the server (generous: the machine is loaded).
WAIT = 30.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("hostile")
    log = root / "server.log"
    env = dict(os.environ, DELTACLOUD_MOCK_STORAGE=str(root / "mock"), PYTHONUNBUFFERED="1")
    with running_server(env=env, args=[*LIMITS, "--access-log"], log_path=log) as url:
        yield url, log


@pytest.fixture
def url(server: tuple[str, Path]) -> str:
    return server[0]


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=WAIT)
    return sock


def send(sock: socket.socket, data: bytes) -> bool:
    """Send what the server still takes; False once it closed on us."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the socket timeout)."""
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    return out


def read_head(sock: socket.socket) -> bytes:
    """One answer's status line and headers."""
    out = b""
    while b"\r\n\r\n" not in out:
        chunk = sock.recv(65536)
        if not chunk:
            break
        out += chunk
    return out


def exchange(url: str, data: bytes) -> bytes:
    with connect(url) as sock:
        send(sock, data)
        return read_answer(sock)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def body_of(answer: bytes) -> bytes:
    return answer.partition(b"\r\n\r\n")[2]


def api_is_fine(url: str) -> None:
    assert httpx.get(f"{url}/api", timeout=WAIT).status_code == 200


# -- 2. request heads: size, count, time ----------------------------------------------------------

@pytest.mark.parametrize("size", [20 * 1024, 1024 * 1024, 8 * 1024 * 1024])
def test_a_large_header_is_431_and_the_connection_closed(url, size):
    with connect(url) as sock:
        send(sock, b"GET /api HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * 65536
        for _ in range(size // len(chunk) or 1):
            if not send(sock, chunk if size >= len(chunk) else b"a" * size):
                break  # closed by the server before the line ended: what we want
        send(sock, b"\r\n\r\n")
        answer = read_answer(sock)
    assert status_of(answer) == 431
    assert b"connection: close" in answer.lower()
    api_is_fine(url)


def test_too_many_header_fields_are_431(url):
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(60))
    answer = exchange(url, b"GET /api HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert status_of(answer) == 431 and b"More than 50 request header fields" in body_of(answer)


def test_a_long_request_target_is_414(url):
    answer = exchange(url, b"GET /api/instances?q=" + b"x" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(answer) == 414


def test_heads_within_the_limits_are_served(url):
    fields = b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 200) for i in range(40))
    answer = exchange(url, b"GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + fields + b"\r\n")
    assert status_of(answer) == 200


def test_the_limits_are_the_operators(tmp_path):
    """The same 20 KiB header: 200 with the defaults, 431 with --max-head-bytes 16384 (above)."""
    env = dict(os.environ, DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"), DELTACLOUD_MAX_HEADERS="5")
    with running_server(env=env) as url:
        big = b"GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"a" * 20480 + b"\r\n\r\n"
        assert status_of(exchange(url, big)) == 200
        many = b"GET /api HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-F%d: v\r\n" % i for i in range(6)) + b"\r\n"
        assert status_of(exchange(url, many)) == 431  # DELTACLOUD_MAX_HEADERS=5 from the environment


def _slowloris(url: str, head: bytes) -> tuple[bytes, float]:
    """Send ``head`` a byte at a time, the next one only when the server has said nothing for half
    a second; the server's answer (and when it came) once it speaks or closes."""
    started = time.monotonic()
    with connect(url) as sock:
        for byte in head:
            if not send(sock, bytes([byte])):
                break
            readable, _, _ = select.select([sock], [], [], 0.5)  # a bounded wait for the server's answer
            if readable or time.monotonic() - started > WAIT:
                break
        return read_answer(sock), time.monotonic() - started


def test_a_slowloris_head_is_408_and_closed(url):
    head = b"GET /api HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    answer, _seconds = _slowloris(url, head)
    assert status_of(answer) == 408, answer[:200]
    assert b"did not come within 2 seconds" in body_of(answer)


def test_an_idle_connection_is_closed(url):
    with connect(url) as sock:
        assert read_answer(sock) == b""  # closed by the server (recv returned), not by our timeout


def test_many_slow_connections_are_all_closed_and_the_server_serves(url):
    socks = [connect(url) for _ in range(100)]
    try:
        for sock in socks:
            send(sock, b"GET /api HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        api_is_fine(url)  # while they hang
        answers = [read_answer(sock) for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    assert all(status_of(a) == 408 for a in answers)


# -- 9. the HTTP version ----------------------------------------------------------------------------

@pytest.mark.parametrize(("version", "status"), [(b"HTTP/2.0", 505), (b"HTTP/3.0", 400),
                                                 (b"HTTP/1.2", 400)])  # the parser refuses 1.2 and 3.0 itself
def test_other_http_versions_are_refused(url, version, status):
    answer = exchange(url, b"GET /api " + version + b"\r\nHost: x\r\n\r\n")
    assert status_of(answer) == status


def test_http_1_0_is_served(url):
    answer = exchange(url, b"GET /api HTTP/1.0\r\nHost: x\r\n\r\n")
    assert status_of(answer) == 200


# -- 3. 401 before the body is read ------------------------------------------------------------------

@pytest.mark.parametrize(("path", "content_type", "expect"), [
    ("/api/buckets/bucket1", "multipart/form-data; boundary=xx", False),
    ("/api/buckets/bucket1", "multipart/form-data; boundary=xx", True),
    ("/api/instances", "application/x-www-form-urlencoded", False),
    ("/api/buckets/bucket1/upload", "application/octet-stream", False),
])
def test_a_body_without_credentials_is_401_before_it_is_sent(url, path, content_type, expect):
    method = b"PUT" if content_type == "application/octet-stream" else b"POST"
    head = (method + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + content_type.encode()
            + b"\r\nContent-Length: 100000000\r\n" + (b"Expect: 100-continue\r\n" if expect else b"") + b"\r\n")
    with connect(url) as sock:
        send(sock, head)
        answer = read_head(sock)  # not a byte of the 100 MB body was sent
        assert status_of(answer) == 401, answer
        assert b"www-authenticate: basic" in answer.lower()
        assert b"connection: close" in answer.lower()
        send(sock, b"x" * 65536)  # a client that sends anyway is read and dropped, then closed
        read_answer(sock)
    api_is_fine(url)


def test_a_body_with_credentials_is_read(url):
    answer = exchange(url, b"POST /api/keys?format=json HTTP/1.1\r\nHost: x\r\n" + BASIC
                      + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n"
                      + b"Connection: close\r\n\r\nname=k-seen")
    assert status_of(answer) == 201, answer


# -- 4. a truncated request executes nothing -----------------------------------------------------------

def _instance_names(url: str) -> list[str]:
    answer = httpx.get(f"{url}/api/instances?format=json", auth=AUTH, timeout=WAIT)
    return [i["name"] for i in answer.json()["instances"]]


def _blob_ids(url: str) -> list[str]:
    answer = httpx.get(f"{url}/api/buckets/bucket1?format=json", auth=AUTH, timeout=WAIT)
    return [b["id"] for b in answer.json()["bucket"]["blob_list"]]


def test_a_body_shorter_than_its_length_executes_nothing(url):
    form = b"POST /api/instances HTTP/1.1\r\nHost: x\r\n" + BASIC + \
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60\r\n\r\n"
    with connect(url) as gone:  # the probe: the client goes away mid-body
        send(gone, form + b"image_id=img1&name=trunc")
        gone.shutdown(socket.SHUT_WR)
        read_answer(gone)
    with connect(url) as chunked:  # a chunked body never terminated
        send(chunked, b"POST /api/instances HTTP/1.1\r\nHost: x\r\n" + BASIC + b"Content-Type: "
             b"application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"1a\r\nimage_id=img1&name=chunky\r\n")
        chunked.shutdown(socket.SHUT_WR)
        read_answer(chunked)
    with connect(url) as blob:  # a blob upload cut short
        send(blob, b"PUT /api/buckets/bucket1/cut HTTP/1.1\r\nHost: x\r\n" + BASIC
             + b"Content-Length: 1000\r\n\r\n" + b"x" * 100)
        blob.shutdown(socket.SHUT_WR)
        read_answer(blob)
    with connect(url) as stays:  # a client that stays but never finishes: 408 after the pause
        send(stays, form + b"image_id=img1&name=stays")
        answer = read_answer(stays)
        assert status_of(answer) == 408
    # The 408 came after 2 s: the server long handled the three requests before it.
    names = _instance_names(url)
    assert not {"trunc", "chunky", "stays"} & set(names), names
    assert "cut" not in _blob_ids(url)


def test_a_whole_body_is_executed(url):
    answer = exchange(url, b"POST /api/instances?format=json HTTP/1.1\r\nHost: x\r\n" + BASIC
                      + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 24\r\n"
                      + b"Connection: close\r\n\r\nimage_id=img1&name=whole")
    assert status_of(answer) == 201
    assert "whole" in _instance_names(url)


# -- 5. drivers and providers that cannot be echoed --------------------------------------------------

def _error_document(answer: bytes) -> tuple[int, str]:
    body = body_of(answer)
    if body.startswith(b"{"):
        document = json.loads(body)
        return document["code"], document["message"]
    root = ET.fromstring(body)
    return int(root.get("status") or 0), (root.findtext("message") or "").strip()


@pytest.mark.parametrize("request_line", [
    b"GET /api;provider=%E2%98%83/instances",
    b"GET /api;driver=mo%00ck/instances",
    b"GET /api;provider=a%0d%0aX:1/instances",
    b"GET /api;driver=%E2%98%83/instances",
    b"GET /api;provider=a%00b/realms?format=json",
    b"GET /api;driver=MOCK%20X/instances?format=json",
])
def test_unusable_drivers_and_providers_are_400_documents(url, request_line):
    answer = exchange(url, request_line + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + BASIC + b"\r\n")
    assert status_of(answer) == 400, answer[:300]
    code, message = _error_document(answer)
    assert code == 400 and ("Driver" in message or "Provider" in message)
    assert b"x-deltacloud-driver: mock" in answer.lower()  # the server's own: the request's cannot be echoed


@pytest.mark.parametrize("header", [b"X-Deltacloud-Provider: \xe2\x98\x83", b"X-Deltacloud-Driver: m\x7fck",
                                    b"X-Deltacloud-Provider: a\x01b"])
def test_unusable_header_choices_are_400(url, header):
    answer = exchange(url, b"GET /api/instances?format=json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      + header + b"\r\n" + BASIC + b"\r\n")
    assert status_of(answer) == 400, answer[:300]


@pytest.mark.parametrize("form", [b"provider=%E2%98%83", b"provider=a%0d%0aSet-Cookie:x=1", b"driver=mo%00ck",
                                  b"driver=%E2%98%83"])
def test_the_driver_switch_form_refuses_them_too(url, form):
    answer = exchange(url, b"POST /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                      b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s" % (len(form), form))
    assert status_of(answer) == 400, answer[:300]
    assert b"set-cookie" not in answer.partition(b"\r\n\r\n")[0].lower()


def test_the_driver_switch_still_switches(url):
    answer = httpx.post(f"{url}/api", data={"provider": "http://keystone.example.com:5000/v3"}, timeout=WAIT)
    assert answer.status_code == 301
    location = answer.headers["location"]
    assert location.endswith(";provider=http:%2F%2Fkeystone.example.com:5000%2Fv3")
    followed = httpx.get(location + "/realms?format=json", auth=AUTH, timeout=WAIT)
    assert followed.headers["x-deltacloud-provider"] == "http://keystone.example.com:5000/v3"


# -- 6. an unknown driver ----------------------------------------------------------------------------------

def test_an_unknown_driver_is_400_with_the_install_hint(url):
    answer = httpx.get(f"{url}/api/instances?format=json", headers={"X-Deltacloud-Driver": "nosuch"}, timeout=WAIT)
    assert answer.status_code == 400
    assert "pip install deltacloud-nosuch" in answer.json()["message"]


# -- 7. the access log ---------------------------------------------------------------------------------------

def test_the_access_log_has_no_forged_lines_and_no_secrets(server):
    url, log = server
    exchange(url, b"GET /api/instances%0d%0a127.0.0.1:1%20-%20%22GET%20/forged%20HTTP/1.1%22%20200 HTTP/1.1\r\n"
             b"Host: x\r\nConnection: close\r\n\r\n")
    exchange(url, b"GET /api;password=matrix-secret/instances?password=hunter2&X_Auth_Token=tok-42&name=kept"
             b"&api%5Fsecret=s3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + BASIC + b"\r\n")
    exchange(url, b"GET /api/realms HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\x1b[31m\r\n"
             b"Connection: close\r\n\r\n")
    text = log.read_text()  # each line was written (unbuffered) before its answer was sent
    assert "api%5Fsecret=[FILTERED]" in text
    lines = text.splitlines()
    assert not any(line.startswith("127.0.0.1:1 - ") or ("forged" in line and "%0d%0a" not in line) for line in lines)
    assert "/api/instances%0d%0a127.0.0.1:1" in text
    for secret in ("hunter2", "tok-42", "matrix-secret", "=s3"):
        assert secret not in text, secret
    assert "name=kept" in text and "password=[FILTERED]" in text and "X_Auth_Token=[FILTERED]" in text
    assert "\x1b" not in text


# -- 8. blob ids: exactly as given, or 400 ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/buckets/bucket1/a;b=c", "/api/buckets/bucket1/a;", "/api/buckets/bucket1/%ff",
                                  "/api/buckets/bucket1/%fe", "/api/buckets/bucket1/..", "/api/buckets/bucket1/%2e",
                                  "/api/buckets/bucket1/a//b", "/api/buckets/bucket1/a/../b",
                                  "/api/buckets/bucket1/x;y=z/stream"])
def test_a_blob_id_that_would_not_be_stored_as_given_is_400(url, path):
    answer = exchange(url, b"PUT " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + BASIC
                      + b"Content-Length: 4\r\nConnection: close\r\n\r\ndata")
    assert status_of(answer) == 400, answer[:300]
    assert not {"a", "x", "b", "\ufffd", "a/b"} & set(_blob_ids(url))


def test_blob_ids_are_stored_exactly_as_given(url):
    for blob_id, path in (("a;b=c", "a%3Bb=c"), ("caf\u00e9", "caf%C3%A9"), ("a b", "a%20b")):
        put = httpx.put(f"{url}/api/buckets/bucket1/{path}?format=json", content=blob_id.encode(), auth=AUTH,
                        timeout=WAIT)
        assert put.status_code == 200, put.text
        assert put.json()["blob"]["id"] == blob_id
        href = put.json()["blob"]["href"]
        assert httpx.get(f"{href}/content", auth=AUTH, timeout=WAIT).content == blob_id.encode()
    assert {"a;b=c", "caf\u00e9", "a b"} <= set(_blob_ids(url))


# -- 9. negotiation, cross-site forms -----------------------------------------------------------------------------

@pytest.mark.parametrize("accept", ["text/html;q=0, */*;q=0", "application/json;q=0", "*/*;q=0.0"])
def test_nothing_acceptable_is_406(url, accept):
    answer = httpx.get(f"{url}/api/instances", headers={"Accept": accept}, auth=AUTH, timeout=WAIT)
    assert answer.status_code == 406 and answer.content == b""


def _put_blob(url: str, blob_id: str) -> None:
    assert httpx.put(f"{url}/api/buckets/bucket1/{blob_id}", content=b"keep", auth=AUTH,
                     timeout=WAIT).status_code == 200


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://127.0.0.1:1"}])
def test_a_cross_site_form_cannot_change_anything(url, headers):
    _put_blob(url, "victim")
    delete = httpx.post(f"{url}/api/buckets/bucket1/victim", data={"_method": "delete"},
                        headers={"Accept": "text/html", **headers}, auth=AUTH, timeout=WAIT)
    assert delete.status_code == 403, delete.text
    assert "Cross-site request refused" in delete.text
    create = httpx.post(f"{url}/api/instances?format=json", data={"image_id": "img1", "name": "csrf"},
                        headers=headers, auth=AUTH, timeout=WAIT)
    assert create.status_code == 403
    assert "victim" in _blob_ids(url) and "csrf" not in _instance_names(url)


def test_the_servers_own_pages_and_other_clients_still_delete(url):
    own_origin = url  # a form on this server's own HTML page
    _put_blob(url, "mine")
    delete = httpx.post(f"{url}/api/buckets/bucket1/mine", data={"_method": "delete"},
                        headers={"Accept": "text/html", "Origin": own_origin, "Sec-Fetch-Site": "same-origin"},
                        auth=AUTH, timeout=WAIT)
    assert delete.status_code == 303, delete.text
    _put_blob(url, "theirs")  # curl, SDKs: no Origin, no Sec-Fetch-Site
    assert httpx.delete(f"{url}/api/buckets/bucket1/theirs", auth=AUTH, headers={"Accept": "application/xml"},
                        timeout=WAIT).status_code == 204
    assert not {"mine", "theirs"} & set(_blob_ids(url))
    reads = httpx.get(f"{url}/api/instances?format=json", headers={"Origin": "http://evil.example"}, auth=AUTH,
                      timeout=WAIT)
    assert reads.status_code == 200  # reading is not refused (and a browser shows it to no other site)


# -- TLS -------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tls")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_deltacloudd_serves_https_with_a_certificate(certificate, tmp_path):
    cert, key = certificate
    env = dict(os.environ, DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    with running_server(env=env, args=["--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
                        tls_verify=str(cert)) as url:
        assert url.startswith("https://")
        import ssl

        context = ssl.create_default_context(cafile=str(cert))
        answer = httpx.get(f"{url}/api/instances?format=json", auth=AUTH, verify=context, timeout=WAIT)
        assert answer.status_code == 200
        assert all(i["href"].startswith("https://") for i in answer.json()["instances"])  # links say https
        with pytest.raises(httpx.HTTPError):
            httpx.get(url.replace("https://", "http://") + "/api", timeout=WAIT)  # no plain HTTP on that port
