"""Range and conditional blob downloads: the header parsing, the mock (which reads just the
range from its data file) and a driver that knows nothing of ranges (the core slices)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from typing import BinaryIO

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deltacloud_core import Blob, Bucket, ByteRange, Credentials, Driver, ObjectNotFound
from deltacloud_core.collections.blob_download import (
    accepts_byte_range,
    etag_header,
    etag_matches,
    parse_range,
    sliced,
)
from deltacloud_core.testing.blob_http import check_range_downloads, resumable_download
from deltacloud_core.testing.server import running_server
from deltacloud_core.testing.transport import build_app

MiB = 1024 * 1024


# -- parsing ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-99", ByteRange(start=0, end=99)),
    ("bytes=100-", ByteRange(start=100)),
    ("bytes=-5", ByteRange(suffix=5)),
    ("Bytes = 7 - 9", ByteRange(start=7, end=9)),
    ("bytes=0-1,4-5", None),  # several ranges: ignored
    ("bytes=5-2", None),  # invalid: ignored
    ("bytes=-0", None),
    ("bytes=-", None),
    ("items=0-1", None),
    ("", None),
    (None, None),
])
def test_parse_range(header, expected):
    assert parse_range(header) == expected


def test_byte_range_forms_and_resolution():
    assert ByteRange(start=0, end=9).header() == "bytes=0-9"
    assert ByteRange(start=5).header() == "bytes=5-"
    assert ByteRange(suffix=3).header() == "bytes=-3"
    assert ByteRange(start=0, end=9).resolve(5) == (0, 4)
    assert ByteRange(start=5).resolve(5) is None
    assert ByteRange(suffix=10).resolve(4) == (0, 3)
    assert ByteRange(suffix=1).resolve(0) is None
    for bad in ({"start": -1}, {"start": 5, "end": 4}, {"suffix": 0}, {"start": 1, "suffix": 2}, {}):
        with pytest.raises(ValueError):
            ByteRange(**bad)


@pytest.mark.parametrize(("header", "etag", "weak", "strong"), [
    ('"abc"', "abc", True, True),
    ('"abc"', '"abc"', True, True),
    ('W/"abc"', "abc", True, False),
    ('"x", "abc"', "abc", True, True),
    ('"x"', "abc", False, False),
    ("*", "abc", True, True),
    ('"abc"', 'W/"abc"', True, False),
    ('"abc"', None, False, False),
])
def test_etag_comparison(header, etag, weak, strong):
    assert etag_matches(header, etag) is weak
    assert etag_matches(header, etag, strong=True) is strong


def test_etag_header_quotes():
    assert etag_header("abc") == '"abc"'
    assert etag_header('"abc"') == '"abc"'
    assert etag_header('W/"abc"') == 'W/"abc"'


@given(data=st.binary(max_size=300), chunk=st.integers(1, 40), first=st.integers(0, 299),
       length=st.integers(1, 300))
def test_slicing_any_chunking(data, chunk, first, length):
    if first >= len(data):
        return
    last = min(first + length, len(data)) - 1
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    assert b"".join(sliced(iter(pieces), first, last)) == data[first:last + 1]


# -- the mock, in process -----------------------------------------------------------------------

def test_mock_ranges_and_conditions(client):
    data = os.urandom(5000)
    assert client.put("/api/buckets/bucket1/ranged", content=data,
                      headers={"Content-Type": "application/x-test"}).status_code == 200
    etag = check_range_downloads(client, "/api/buckets/bucket1/ranged/content", data)
    assert etag.strip('"') == __import__("hashlib").md5(data, usedforsecurity=False).hexdigest()
    replaced = os.urandom(100)
    client.put("/api/buckets/bucket1/ranged", content=replaced, headers={"Content-Type": "application/x-test"})
    after = client.get("/api/buckets/bucket1/ranged/content", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.content == replaced  # a new version: a new ETag
    assert client.get("/api/buckets/bucket1/nope/content", headers={"Range": "bytes=0-1"}).status_code == 404
    assert client.get("/api/buckets/bucket1/nope/content", headers={"If-None-Match": "*"}).status_code == 404


def test_mock_fixture_blob_has_an_etag(client):
    reply = client.get("/api/buckets/bucket1/blob1/content", headers={"Range": "bytes=0-3"})
    assert reply.status_code == 206 and reply.content == b"cont"
    assert reply.headers["etag"].startswith('"')


def test_empty_blob_ignores_ranges(client):
    client.put("/api/buckets/bucket1/empty", content=b"", headers={"Content-Type": "text/plain"})
    reply = client.get("/api/buckets/bucket1/empty/content", headers={"Range": "bytes=0-"})
    assert reply.status_code == 200 and reply.content == b""


def test_416_in_json(client):
    client.put("/api/buckets/bucket1/small", content=b"0123456789", headers={"Content-Type": "text/plain"})
    reply = client.get("/api/buckets/bucket1/small/content?format=json", headers={"Range": "bytes=10-"})
    assert reply.status_code == 416
    assert reply.headers["content-range"] == "bytes */10"
    assert reply.json()["code"] == 416


# -- a driver without ranges: the core slices ---------------------------------------------------

class _Chunks:
    """The whole blob in 7-byte chunks; counts what was read and whether it was closed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.read = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for i in range(0, len(self.data), 7):
            self.read += len(self.data[i:i + 7])
            yield self.data[i:i + 7]

    def close(self) -> None:
        self.closed = True


class WholeBlobsDriver(Driver):
    """Blobs in a dict; ``blob_content`` has no ``byte_range``; ETags only when asked for."""

    BLOBS: dict[str, bytes] = {}
    STREAMS: list[_Chunks] = []
    WITH_ETAG = True

    def list_buckets(self, **filters: str) -> list[Bucket]:
        return [Bucket(id="b", name="b", size=len(self.BLOBS), blob_ids=tuple(self.BLOBS))]

    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        data = self.BLOBS.get(blob_id)
        if data is None:
            return None
        return Blob(id=blob_id, bucket=bucket_id, content_length=len(data), content_type="application/x-whole",
                    etag=f"v{len(data)}" if self.WITH_ETAG else None)

    def blob_content(self, bucket_id: str, blob_id: str) -> Iterator[bytes]:
        if blob_id not in self.BLOBS:
            raise ObjectNotFound()
        stream = _Chunks(self.BLOBS[blob_id])
        self.STREAMS.append(stream)
        return stream

    def create_blob(self, bucket_id: str, blob_id: str, *, data: BinaryIO, content_type: str,
                    user_metadata: Mapping[str, str], content_length: int | None = None) -> Blob:
        self.BLOBS[blob_id] = data.read()
        blob = self.get_blob(bucket_id, blob_id)
        assert blob is not None
        return blob


@pytest.fixture
def whole(monkeypatch) -> Iterator[httpx.Client]:
    from starlette.testclient import TestClient

    monkeypatch.setattr(WholeBlobsDriver, "BLOBS", {})
    monkeypatch.setattr(WholeBlobsDriver, "STREAMS", [])
    with TestClient(build_app(WholeBlobsDriver), base_url="http://127.0.0.1:3001") as test_client:
        test_client.auth = ("u", "p")
        yield test_client


def test_driver_without_ranges_is_sliced_by_the_core(whole):
    assert not accepts_byte_range(WholeBlobsDriver)
    data = bytes(range(256)) * 3
    WholeBlobsDriver(credentials=Credentials("u", "p")).create_blob(
        "b", "x", data=io.BytesIO(data), content_type="", user_metadata={})
    assert check_range_downloads(whole, "/api/buckets/b/x/content", data) == '"v768"'
    WholeBlobsDriver.STREAMS.clear()
    reply = whole.get("/api/buckets/b/x/content", headers={"Range": "bytes=10-19"})
    assert reply.content == data[10:20]
    (stream,) = WholeBlobsDriver.STREAMS
    assert stream.closed and stream.read <= 21  # stopped after the range, not read to the end
    beyond = whole.get("/api/buckets/b/x/content", headers={"Range": "bytes=768-"})
    assert beyond.status_code == 416 and WholeBlobsDriver.STREAMS[-1].closed


def test_driver_without_etags_still_serves_ranges(whole, monkeypatch):
    monkeypatch.setattr(WholeBlobsDriver, "WITH_ETAG", False)
    data = b"0123456789abcdef"
    WholeBlobsDriver.BLOBS["y"] = data
    assert check_range_downloads(whole, "/api/buckets/b/y/content", data, expect_etag=False) is None
    assert "etag" not in whole.get("/api/buckets/b/y/content").headers
    # If-Range cannot match without an ETag: the whole blob.
    reply = whole.get("/api/buckets/b/y/content", headers={"Range": "bytes=0-1", "If-Range": '"x"'})
    assert reply.status_code == 200 and reply.content == data


def test_a_304_never_opens_a_download(whole):
    WholeBlobsDriver.BLOBS["z"] = b"z" * 50
    reply = whole.get("/api/buckets/b/z/content", headers={"If-None-Match": '"v50"'})
    assert reply.status_code == 304 and reply.headers["etag"] == '"v50"'
    assert WholeBlobsDriver.STREAMS == []


# -- a real server, a 1 GiB blob ----------------------------------------------------------------

class _Generated:
    """``size`` bytes made 1 MiB at a time from a counter (never held whole)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __iter__(self) -> Iterator[bytes]:
        block = os.urandom(MiB)
        for n in range(0, self.size, MiB):
            yield (n // MiB).to_bytes(8, "big") + block[8:MiB if n + MiB <= self.size else self.size - n]


def test_resumable_download_of_1_gib_blob(tmp_path):
    """1 GiB up into the mock's store through a real deltacloudd, then down in two parts: the
    second a ``Range`` from where the first was cut, pinned by ``If-Range``."""
    import hashlib

    size = 1024 * MiB
    env = {**os.environ, "DELTACLOUD_MOCK_STORAGE": str(tmp_path / "mock")}
    payload = _Generated(size)
    with running_server(env=env, args=["--log-level", "warning"], timeout=20) as url, httpx.Client(
            base_url=url, auth=("mockuser", "mockpassword"), timeout=120) as http:
        sent = hashlib.sha256()

        def body() -> Iterator[bytes]:
            for chunk in payload:
                sent.update(chunk)
                yield chunk

        put = http.put("/api/buckets/bucket1/giant?format=json", content=body(),
                       headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})
        assert put.status_code == 200, put.text
        digest = resumable_download(http, "/api/buckets/bucket1/giant/content", size=size, cut_at=size // 2 + 12345)
        assert digest == sent.hexdigest()
