"""Checks of blob downloads over HTTP: ranges (206/416), conditions (304, If-Range), resuming.

For a driver's own tests, against its real backend through the server::

    from deltacloud_core.testing.blob_http import check_range_downloads, resumable_download

    etag = check_range_downloads(client, "/api/buckets/b/x/content", data)
    digest = resumable_download(client, "/api/buckets/b/big/content", size=1 << 30, cut_at=600 << 20)

``client`` is any ``httpx.Client`` whose base URL is the server (Starlette's TestClient too),
with the credentials set. Every check fails with the request, what came back and what was
expected.
"""

from __future__ import annotations

import hashlib
import re

import httpx

__all__ = ["check_range_downloads", "resumable_download"]

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def _describe(reply: httpx.Response) -> str:
    body = reply.content[:200] if reply.is_closed else b"(streamed)"
    return f"{reply.status_code} {dict(reply.headers)} {body!r}"


def _partial(client: httpx.Client, path: str, header: str, data: bytes, first: int, last: int,
             extra: dict[str, str] | None = None) -> None:
    reply = client.get(path, headers={"Range": header, **(extra or {})})
    assert reply.status_code == 206, f"GET {path} Range: {header}: expected 206, got {_describe(reply)}"
    want = f"bytes {first}-{last}/{len(data)}"
    assert reply.headers.get("content-range") == want, (
        f"Range: {header}: Content-Range {reply.headers.get('content-range')!r}, expected {want!r}")
    assert reply.headers.get("content-length") == str(last - first + 1), (
        f"Range: {header}: Content-Length {reply.headers.get('content-length')!r}, expected {last - first + 1}")
    assert reply.content == data[first:last + 1], (
        f"Range: {header}: {len(reply.content)} bytes that differ from bytes {first}-{last} of the blob")


def check_range_downloads(client: httpx.Client, path: str, data: bytes, *, expect_etag: bool = True) -> str | None:
    """Range and conditional downloads of the blob at ``path`` (its ``/content``), which holds
    ``data`` (at least 10 bytes). Returns the ETag the server sent (None without one)."""
    size = len(data)
    assert size >= 10, "check_range_downloads needs a blob of 10 bytes or more"
    whole = client.get(path)
    assert whole.status_code == 200, f"GET {path}: {_describe(whole)}"
    assert whole.content == data, f"GET {path}: {len(whole.content)} bytes that differ from the {size} stored"
    assert whole.headers.get("accept-ranges") == "bytes", f"GET {path}: no Accept-Ranges: bytes ({whole.headers})"
    etag = whole.headers.get("etag")
    if expect_etag:
        assert etag and etag.strip('W/"'), f"GET {path}: no ETag header ({dict(whole.headers)})"

    _partial(client, path, "bytes=0-9", data, 0, 9)
    _partial(client, path, f"bytes=3-{size - 2}", data, 3, size - 2)
    _partial(client, path, f"bytes={size // 2}-", data, size // 2, size - 1)
    _partial(client, path, "bytes=-7", data, size - 7, size - 1)
    _partial(client, path, f"bytes={size - 4}-{size + 1000}", data, size - 4, size - 1)  # cut at the end
    _partial(client, path, f"bytes=-{size + 5}", data, 0, size - 1)  # a suffix longer than the blob
    _partial(client, path, f"bytes={size - 1}-{size - 1}", data, size - 1, size - 1)

    beyond = client.get(path, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416, f"Range: bytes={size}- of {size} bytes: expected 416, got {_describe(beyond)}"
    assert beyond.headers.get("content-range") == f"bytes */{size}", (
        f"416: Content-Range {beyond.headers.get('content-range')!r}, expected 'bytes */{size}'")

    for ignored in ("bytes=0-1,4-5", "lines=1-2", "bytes=5-2", "bytes=x-"):
        reply = client.get(path, headers={"Range": ignored})
        assert reply.status_code == 200 and reply.content == data, (
            f"Range: {ignored} must be ignored (the whole blob, 200), got {_describe(reply)}")

    if etag:
        same = client.get(path, headers={"If-None-Match": etag})
        assert same.status_code == 304, f"If-None-Match: {etag}: expected 304, got {_describe(same)}"
        assert same.content == b"", f"a 304 carries no body, got {same.content[:80]!r}"
        listed = client.get(path, headers={"If-None-Match": f'"not-it", {etag}'})
        assert listed.status_code == 304, f"If-None-Match: \"not-it\", {etag}: expected 304, got {listed.status_code}"
        star = client.get(path, headers={"If-None-Match": "*"})
        assert star.status_code == 304, f"If-None-Match: * on an existing blob: expected 304, got {star.status_code}"
        ranged_304 = client.get(path, headers={"If-None-Match": etag, "Range": "bytes=0-1"})
        assert ranged_304.status_code == 304, f"If-None-Match beats Range: expected 304, got {ranged_304.status_code}"
        _partial(client, path, "bytes=2-5", data, 2, 5, {"If-Range": etag})
        stale = client.get(path, headers={"Range": "bytes=2-5", "If-Range": '"an-older-version"'})
        assert stale.status_code == 200 and stale.content == data, (
            f"If-Range with another ETag: the whole blob (200) expected, got {_describe(stale)}")
    other = client.get(path, headers={"If-None-Match": '"not-the-etag"'})
    assert other.status_code == 200 and other.content == data, (
        f"If-None-Match with another ETag: expected the blob (200), got {_describe(other)}")
    return etag


def resumable_download(client: httpx.Client, path: str, *, size: int, cut_at: int,
                       chunk_size: int = 1024 * 1024) -> str:
    """Download ``path`` as a client that loses its connection after ``cut_at`` bytes and resumes
    (``Range: bytes=<cut_at>-`` with ``If-Range: <etag>``); the sha256 hex of all ``size`` bytes.

    Memory stays at one chunk whatever ``size`` is.
    """
    digest = hashlib.sha256()
    got = 0
    with client.stream("GET", path) as first:
        assert first.status_code == 200, f"GET {path}: {first.status_code}"
        assert first.headers.get("content-length") == str(size), (
            f"GET {path}: Content-Length {first.headers.get('content-length')}, expected {size}")
        etag = first.headers.get("etag")
        assert etag, f"GET {path}: no ETag to resume with"
        for chunk in first.iter_bytes(chunk_size):
            take = chunk[: cut_at - got]
            digest.update(take)
            got += len(take)
            if got >= cut_at:
                break  # the connection is dropped here, mid-body
    headers = {"Range": f"bytes={got}-", "If-Range": etag}
    with client.stream("GET", path, headers=headers) as rest:
        assert rest.status_code == 206, f"GET {path} Range: bytes={got}-: expected 206, got {rest.status_code}"
        want = f"bytes {got}-{size - 1}/{size}"
        assert rest.headers.get("content-range") == want, (
            f"resumed: Content-Range {rest.headers.get('content-range')!r}, expected {want!r}")
        assert rest.headers.get("etag") == etag, f"resumed: ETag {rest.headers.get('etag')!r}, first {etag!r}"
        for chunk in rest.iter_bytes(chunk_size):
            digest.update(chunk)
            got += len(chunk)
    assert got == size, f"resumed download of {path}: {got} bytes, expected {size}"
    return digest.hexdigest()
