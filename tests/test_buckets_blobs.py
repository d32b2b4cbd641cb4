"""``/api/buckets`` and the blobs below them over HTTP: in process, and against a real server."""

from __future__ import annotations

import hashlib
import os
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from support.compare import normalize_base

from deltacloud_core.testing.server import running_server

PLAIN = "text/html;charset=utf-8"
FORMATS = {"xml": "application/xml", "json": "application/json", "html": "text/html"}
HTML = {"Accept": "text/html"}
XML = {"Accept": "application/xml"}
META = "x-deltacloud-blobmeta-"


def _xml(response) -> ET.Element:
    return ET.fromstring(response.content)


def make_png(width: int = 16, height: int = 16) -> bytes:
    """A real (valid) RGB PNG image, built with zlib and struct."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"".join(bytes((x * 16 % 256, y * 16 % 256, 128)) for x in range(width))
                    for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _meta(response) -> dict[str, str]:
    return {k[len(META):]: v for k, v in response.headers.items() if k.lower().startswith(META)}


# -- buckets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", ["/api/buckets", "/api/buckets/bucket1", "/api/buckets/bucket1/blob1",
                                  "/api/buckets/bucket2/blob4"])
def test_reads_in_every_format(client, path, fmt):
    response = client.get(path, params={"format": fmt})
    assert response.status_code == 200
    assert response.headers["content-type"] == FORMATS[fmt]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", ["/api/buckets/nope", "/api/buckets/bucket1/nope", "/api/buckets/nope/blob1",
                                  "/api/buckets/bucket2/blob1", "/api/buckets/bucket1/nope/content"])
def test_unknown_is_404(client, path, fmt):
    assert client.get(path, params={"format": fmt}).status_code == 404


@pytest.mark.parametrize("path", ["/api/buckets", "/api/buckets/bucket1", "/api/buckets/bucket1/blob1",
                                  "/api/buckets/bucket1/blob1/content"])
def test_credentials_needed(anon, path):
    assert anon.get(path, params={"format": "xml"}).status_code == 401
    assert anon.head("/api/buckets/bucket1/blob1", headers=XML).status_code == 401


def test_testsuite_a5_bucket_and_blob_structure(client):
    buckets = _xml(client.get("/api/buckets?format=xml"))
    for bucket in buckets:
        assert bucket.find("size") is not None
        shown = _xml(client.get(f"/api/buckets/{bucket.get('id')}?format=xml"))
        for blob_ref in shown.findall("blob"):
            assert blob_ref.get("href").endswith(f"{bucket.get('id')}/{blob_ref.get('id')}")
            blob = _xml(client.get(blob_ref.get("href"), params={"format": "xml"}))
            assert blob.tag == "blob" and blob.get("id") == blob_ref.get("id")
            assert [e.text for e in blob.findall("bucket")] == [bucket.get("id")]
            assert len(blob.findall("content_length")) == 1 and blob.findtext("content_length").isdigit()
            assert len(blob.findall("content_type")) == 1
            assert blob.findtext("last_modified")
            content = blob.findall("content")
            assert len(content) == 1 and content[0].get("rel") == "blob_content"
            assert content[0].get("href").startswith("http") and content[0].get("href").endswith("/content")


def test_bucket_json_keys(client):
    assert list(client.get("/api/buckets/bucket1?format=json").json()["bucket"]) == [
        "id", "href", "name", "size", "blob_list"]


def test_bucket_life_cycle(client):
    response = client.post("/api/buckets?format=xml", data={"name": "test-bucket1"})
    assert response.status_code == 201
    assert normalize_base(response.headers["location"]) == "<base>/api/buckets/test-bucket1"
    root = _xml(response)
    assert (root.tag, root.get("id"), root.findtext("name"), root.findtext("size")) == (
        "bucket", "test-bucket1", "test-bucket1", "0")
    assert root.findall("blob") == []
    assert client.get("/api/buckets/test-bucket1?format=xml").status_code == 200
    response = client.post("/api/buckets?format=json", data={"name": "test-bucket2"})
    assert response.json()["bucket"]["size"] == "0" and response.json()["bucket"]["blob_list"] == []
    response = client.delete("/api/buckets/test-bucket1?format=xml")
    assert response.status_code == 204 and "content-type" not in response.headers
    response = client.delete("/api/buckets/test-bucket2", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert normalize_base(response.headers["location"]) == "<base>/api/buckets"


def test_bucket_create_needs_a_name(anon):
    response = anon.post("/api/buckets?format=xml")
    assert response.status_code == 400 and response.text == "Required parameter 'name' not found in [format]"


def test_bucket_create_html(client):
    response = client.post("/api/buckets", data={"name": "from-form"}, headers=HTML)
    assert response.status_code == 201 and "Bucket created" in response.text


def test_delete_non_empty_bucket_is_403(client):
    response = client.delete("/api/buckets/bucket1?format=json")
    assert response.status_code == 403
    assert response.json()["message"] == "Delete operation not valid for non-empty bucket"


def test_delete_unknown_bucket_is_404(client):
    assert client.delete("/api/buckets/nope?format=json").status_code == 404


def test_bucket_name_with_nul_is_refused(client):
    assert client.post("/api/buckets?format=json", data={"name": "a\x00b"}).status_code == 400


# -- blobs: PUT, HEAD, metadata, content --------------------------------------------------------

def test_put_blob_with_metadata(client):
    body = b"This is the test blob content"
    response = client.put("/api/buckets/bucket1/test-blob?format=xml", content=body, headers={
        "Content-Type": "text/plain", "X-Deltacloud-Blobmeta-Version": "1.0",
        "X-Deltacloud-Blobmeta-Author": "herpyderp"})
    assert response.status_code == 200
    assert "location" not in response.headers
    root = _xml(response)
    assert root.findtext("content_length") == str(len(body))
    assert root.findtext("content_type") == "text/plain"
    assert {e.get("key"): e.text for e in root.find("user_metadata")} == {"version": "1.0", "author": "herpyderp"}
    response = client.get("/api/buckets/bucket1/test-blob/content")
    assert response.status_code == 200 and response.content == body


def test_metadata_headers_any_case_and_separator(client):
    response = client.put("/api/buckets/bucket1/cased?format=json", content=b"x", headers=[
        ("X-DeltaCloud-BlobMeta-MixedCase", "1"), ("x_deltacloud_blobmeta_Under_Score", "2"),
        ("X-Deltacloud_Blobmeta-UPPER", "3"), ("X-Other", "no")])
    assert response.status_code == 200
    assert response.json()["blob"]["user_metadata"] == {"mixedcase": "1", "under_score": "2", "upper": "3"}
    head = client.head("/api/buckets/bucket1/cased", headers=XML)
    assert head.status_code == 204
    assert _meta(head) == {"mixedcase": "1", "under_score": "2", "upper": "3"}


def test_put_png_and_download_it(client):
    png = make_png()
    assert png.startswith(b"\x89PNG")
    response = client.put("/api/buckets/bucket2/image.png?format=json", content=png, headers={
        "Content-Type": "image/png", "X-Deltacloud-Blobmeta-A": "1", "X-Deltacloud-Blobmeta-B": "2",
        "X-Deltacloud-Blobmeta-C": "3"})
    assert response.status_code == 200
    blob = response.json()["blob"]
    assert (blob["content_length"], blob["content_type"], blob["content"]) == (len(png), "image/png", None)
    response = client.get("/api/buckets/bucket2/image.png/content", headers=XML)
    assert response.status_code == 200 and response.content == png
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == "attachment; filename=image.png"
    assert response.headers["content-length"] == str(len(png))
    # carries only its own headers (API.md §2 step 10), plus those of ranged and conditional
    # downloads (an extension of the original): the blob's ETag (not the MD5 of a document) and
    # Accept-Ranges.
    for name in ("server", "x-deltacloud-driver", "date", "cache-control"):
        assert name not in response.headers
    assert response.headers["etag"] == f'"{hashlib.md5(png, usedforsecurity=False).hexdigest()}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert client.delete("/api/buckets/bucket2/image.png?format=xml").status_code == 204


def test_put_without_content_type(client):
    response = client.put("/api/buckets/bucket1/untyped?format=json", content=b"abc", headers={"Content-Type": ""})
    assert response.status_code == 200 and response.json()["blob"]["content_type"] == ""
    content = client.get("/api/buckets/bucket1/untyped/content")
    assert content.headers["content-type"] == "application/octet-stream"


def test_put_empty_blob(client):
    response = client.put("/api/buckets/bucket1/empty?format=json", content=b"",
                          headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    assert response.json()["blob"]["content_length"] == 0
    content = client.get("/api/buckets/bucket1/empty/content")
    assert content.status_code == 200 and content.content == b"" and content.headers["content-length"] == "0"


def test_put_chunked_body(client):
    def chunks() -> Iterator[bytes]:
        for i in range(5):
            yield bytes([i]) * 100_000

    response = client.put("/api/buckets/bucket1/chunked?format=json", content=chunks(),
                          headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200 and response.json()["blob"]["content_length"] == 500_000
    assert client.get("/api/buckets/bucket1/chunked/content").content == b"".join(chunks())


def test_slow_upload_is_not_cut_off_by_the_backend_timeout(mock_storage):
    """A PUT takes as long as the client needs to send the body; the backend timeout is for backends."""
    import anyio

    from deltacloud_core.web import Settings, create_app

    app = create_app(Settings(default_driver="mock", backend_timeout=0.5))

    async def slow_body():
        for _ in range(4):
            await anyio.sleep(0.25)
            yield b"x" * 1000

    async def upload() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3001",
                                     auth=("mockuser", "mockpassword")) as http:
            return await http.put("/api/buckets/bucket1/slow?format=json", content=slow_body())

    response = anyio.run(upload)
    assert response.status_code == 200
    assert response.json()["blob"]["content_length"] == 4000


def test_put_form_encoded_body_is_the_blob(client):
    """curl's -d default type: the raw body is stored as the blob, with that type (API.md §9.9)."""
    response = client.put("/api/buckets/bucket1/formish?format=json", content=b"a=1&b=2",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert response.json()["blob"]["content_type"] == "application/x-www-form-urlencoded"
    assert client.get("/api/buckets/bucket1/formish/content").content == b"a=1&b=2"


def test_put_html_answers_the_blob_page(client):
    response = client.put("/api/buckets/bucket1/paged", content=b"x", headers=HTML)
    assert response.status_code == 200 and response.headers["content-type"] == "text/html"
    assert "/api/buckets/bucket1/paged/content" in response.text


def test_put_into_unknown_bucket_is_404(client):
    response = client.put("/api/buckets/nobucket/x?format=json", content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 404
    assert client.get("/api/buckets/nobucket/x?format=json").status_code == 404


def test_put_stream_alias(client):
    response = client.put("/api/buckets/bucket1/s1/stream?format=json", content=b"streamed")
    assert response.status_code == 200
    assert client.get("/api/buckets/bucket1/s1/content").content == b"streamed"


def test_segmented_upload_is_not_supported(client):
    response = client.put("/api/buckets/bucket1/seg?format=json", content=b"",
                          headers={"X-Deltacloud-BlobType": "segmented"})
    assert response.status_code == 501
    assert client.get("/api/buckets/bucket1/seg?format=json").status_code == 404


def test_overwrite_counts_and_keeps_one_blob(client):
    for data in (b"one", b"two"):
        assert client.put("/api/buckets/bucket2/again?format=json", content=data).status_code == 200
    bucket = client.get("/api/buckets/bucket2?format=json").json()["bucket"]
    assert bucket["size"] == 4 and [b["id"] for b in bucket["blob_list"]].count("again") == 1
    assert client.get("/api/buckets/bucket2/again/content").content == b"two"


def test_head_blob(client):
    response = client.head("/api/buckets/bucket1/blob1", headers=XML)
    assert response.status_code == 204
    assert _meta(response) == {"somenewkey": "NEWVALUE"}
    assert "content-type" not in response.headers and "content-length" not in response.headers
    assert client.head("/api/buckets/bucket1/blob1?format=json").status_code == 204
    assert client.head("/api/buckets/bucket1/blob1/metadata", headers=XML).status_code == 204


@pytest.mark.parametrize("accept", ["*/*", "text/html"])
def test_head_blob_html_preference_is_406_with_the_headers(client, accept):
    for path in ("/api/buckets/bucket1/blob1", "/api/buckets/bucket1/blob1/metadata"):
        response = client.head(path, headers={"Accept": accept})
        assert response.status_code == 406
        assert response.headers["content-type"] == PLAIN
        assert _meta(response) == {"somenewkey": "NEWVALUE"}


def test_head_unknown_blob_is_404(client):
    response = client.head("/api/buckets/bucket1/non-existing-blob", headers=XML)
    assert response.status_code == 404 and response.headers["content-type"] == "application/xml"


def test_head_ignores_the_bucket_as_the_original(client):
    response = client.head("/api/buckets/bucket2/blob2", headers=XML)  # MOCK.md quirk 11
    assert response.status_code == 204 and _meta(response) == {"version": "1.2"}


def test_update_metadata(client):
    client.put("/api/buckets/bucket1/meta?format=json", content=b"m", headers={"X-Deltacloud-Blobmeta-Old": "x"})
    response = client.post("/api/buckets/bucket1/meta", headers={
        "Accept": "application/xml", "X-Deltacloud-Blobmeta-Version": "2.5",
        "X-Deltacloud-Blobmeta-Author": "derpyherpy", "X-Deltacloud-Blobmeta-Updated": "true"})
    assert response.status_code == 204
    assert _meta(response) == {"version": "2.5", "author": "derpyherpy", "updated": "true"}
    blob = client.get("/api/buckets/bucket1/meta?format=json").json()["blob"]
    assert blob["user_metadata"] == {"version": "2.5", "author": "derpyherpy", "updated": "true"}


def test_update_metadata_html_is_406_but_applied(client):
    response = client.post("/api/buckets/bucket1/blob3", headers={"Accept": "*/*", "X-Deltacloud-Blobmeta-K": "v"})
    assert response.status_code == 406 and _meta(response) == {"k": "v"}
    assert client.get("/api/buckets/bucket1/blob3?format=json").json()["blob"]["user_metadata"] == {"k": "v"}


def test_update_metadata_of_unknown_blob_is_404(client):
    assert client.post("/api/buckets/bucket1/nope", headers=XML).status_code == 404


def test_content_of_fixture_blob(client):
    response = client.get("/api/buckets/bucket1/blob2/content")
    assert response.content == b"<html><head></head><body>content of blob 2</body></html>"
    assert response.headers["content-type"] == "text/html"
    assert response.headers["content-disposition"] == "attachment; filename=blob2"


def test_content_negotiation_does_not_matter(client):
    for accept in ("application/json", "text/html", "image/png", "application/xml"):
        response = client.get("/api/buckets/bucket1/blob1/content", headers={"Accept": accept})
        assert response.status_code == 200 and response.content == b"content of blob 1"
    missing = client.get("/api/buckets/bucket1/nope/content", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.json()["code"] == 404


def test_blob_json_of_fixtures(client):
    blob3 = client.get("/api/buckets/bucket1/blob3?format=json").json()["blob"]
    assert blob3["user_metadata"] == ""  # fixture without metadata, as the original
    assert list(blob3) == ["id", "href", "bucket", "content_length", "content_type", "last_modified", "content",
                           "user_metadata"]
    blob4 = client.get("/api/buckets/bucket2/blob4?format=json").json()["blob"]
    assert (blob4["content"], blob4["user_metadata"], blob4["content_length"]) == (
        "content of blob 4", {"some": "value"}, 17)


# -- blobs: multipart upload --------------------------------------------------------------------

def test_multipart_upload_with_a_file(client):
    png = make_png(8, 8)
    response = client.post("/api/buckets/bucket1?format=xml", files={"blob_data": ("mp.png", png, "image/png")},
                           data={"blob_id": "form-blob", "meta_params": "2", "meta_name1": "Author",
                                 "meta_value1": "herpyderp", "meta_name2": "Type", "meta_value2": "formPostedBlob"})
    assert response.status_code == 201
    assert "location" not in response.headers
    root = _xml(response)
    assert root.get("id") == "form-blob" and root.findtext("content_type") == "image/png"
    assert root.findtext("content_length") == str(len(png))
    assert {e.get("key"): e.text for e in root.find("user_metadata")} == {"author": "herpyderp",
                                                                           "type": "formPostedBlob"}
    assert client.get("/api/buckets/bucket1/form-blob/content").content == png
    assert client.get("/api/buckets/bucket1/form-blob?format=xml").status_code == 200
    assert client.delete("/api/buckets/bucket1/form-blob?format=xml").status_code == 204


def test_multipart_plain_string_field_is_text_plain(client):
    response = client.post("/api/buckets/bucket1?format=json", data={"blob_id": "test-blob", "blob_data": "test",
                                                                      "meta_params": "1", "meta_name1": "test-meta1"})
    assert response.status_code == 201
    blob = response.json()["blob"]
    assert (blob["content_type"], blob["content_length"], blob["user_metadata"]) == (
        "text/plain", 4, {"test-meta1": ""})
    assert client.delete("/api/buckets/bucket1/test-blob?format=json").status_code == 204


def test_multipart_binary_body_kept_exactly(client):
    data = bytes(range(256)) * 64 + b"\r\n--not-a-boundary\r\n" + b"\x00" * 10
    response = client.post("/api/buckets/bucket1?format=json",
                           files={"blob_data": ("bin", data, "application/octet-stream")}, data={"blob_id": "bin"})
    assert response.status_code == 201 and response.json()["blob"]["content_length"] == len(data)
    assert client.get("/api/buckets/bucket1/bin/content").content == data


def test_multipart_empty_file(client):
    response = client.post("/api/buckets/bucket1?format=json", files={"blob_data": ("e", b"", "text/plain")},
                           data={"blob_id": "empty-file"})
    assert response.status_code == 201 and response.json()["blob"]["content_length"] == 0


def test_multipart_mixed_case_metadata_keys_are_lower_cased(client):
    response = client.post("/api/buckets/bucket1?format=json", files={"blob_data": ("f", b"x", "text/plain")},
                           data={"blob_id": "mixed", "meta_params": "3", "meta_name1": "CamelCase",
                                 "meta_value1": "A", "meta_name2": "UPPER-dash", "meta_value2": "B",
                                 "meta_name3": "lower", "meta_value3": "C"})
    assert response.json()["blob"]["user_metadata"] == {"camelcase": "A", "upper-dash": "B", "lower": "C"}
    head = client.head("/api/buckets/bucket1/mixed", headers=XML)
    assert _meta(head) == {"camelcase": "A", "upper-dash": "B", "lower": "C"}


@pytest.mark.parametrize(("name", "value"), [("bad name", "v"), ("colon:name", "v"), ("ok", "line\r\nbreak")])
def test_multipart_metadata_that_cannot_be_a_header_is_400(client, name, value):
    response = client.post("/api/buckets/bucket1?format=json", files={"blob_data": ("f", b"x", "text/plain")},
                           data={"blob_id": "badmeta", "meta_params": "1", "meta_name1": name, "meta_value1": value})
    assert response.status_code == 400
    assert client.get("/api/buckets/bucket1/badmeta?format=json").status_code == 404


def test_multipart_required_params(client, anon):
    response = client.post("/api/buckets/bucket1?format=xml", data={"blob_id": "x"})
    assert response.status_code == 400
    assert response.text == "Required parameter 'blob_data' not found in [format,blob_id,id]"


def test_multipart_into_unknown_bucket_is_404(client):
    response = client.post("/api/buckets/nope?format=json", data={"blob_id": "x", "blob_data": "y"})
    assert response.status_code == 404


def test_multipart_html_answers_the_blob_page(client):
    response = client.post("/api/buckets/bucket1", files={"blob_data": ("f", b"x", "text/plain")},
                           data={"blob_id": "page"}, headers=HTML)
    assert response.status_code == 201 and "Blob created" in response.text


# -- blobs: delete ------------------------------------------------------------------------------

def test_delete_blob_counts_down(client):
    client.put("/api/buckets/bucket2/d?format=json", content=b"d")
    assert client.get("/api/buckets/bucket2?format=json").json()["bucket"]["size"] == 3
    response = client.delete("/api/buckets/bucket2/d?format=json")
    assert response.status_code == 204 and response.content == b""
    assert client.get("/api/buckets/bucket2?format=json").json()["bucket"]["size"] == 2


def test_delete_blob_html_redirects_to_the_bucket(client):
    client.put("/api/buckets/bucket1/h?format=json", content=b"h")
    response = client.delete("/api/buckets/bucket1/h", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["content-type"] == "text/html"
    assert normalize_base(response.headers["location"]) == "<base>/api/buckets/bucket1"


def test_delete_unknown_blob_is_404(client):
    response = client.delete("/api/buckets/bucket1/nope?format=json")
    assert response.status_code == 404
    assert response.json()["message"] == "Could not delete a non existent blob"


def test_bucket_can_be_deleted_once_empty(client):
    client.post("/api/buckets?format=xml", data={"name": "scratch"})
    client.put("/api/buckets/scratch/only?format=xml", content=b"x")
    assert client.delete("/api/buckets/scratch?format=json").status_code == 403
    assert client.delete("/api/buckets/scratch/only?format=json").status_code == 204
    assert client.delete("/api/buckets/scratch?format=json").status_code == 204


def test_blob_ids_are_global_across_buckets(client):
    client.post("/api/buckets?format=xml", data={"name": "one"})
    client.post("/api/buckets?format=xml", data={"name": "two"})
    client.put("/api/buckets/one/shared?format=xml", content=b"1")
    client.put("/api/buckets/two/shared?format=xml", content=b"2")
    one = client.get("/api/buckets/one?format=json").json()["bucket"]
    assert (one["blob_list"], one["size"]) == ([], 1)
    assert client.get("/api/buckets/one/shared?format=xml").status_code == 404
    assert client.get("/api/buckets/two/shared/content").content == b"2"


# -- unsafe ids ---------------------------------------------------------------------------------

def _files_outside_blob_dir(root: Path) -> list[Path]:
    allowed = {root / "blobs"}
    return [p for p in root.parent.rglob("*") if p.is_file() and p.parent not in allowed and
            not p.name.startswith("mock.sqlite3")]


@pytest.mark.parametrize("blob_id", [".", ".."])
def test_dot_blob_ids_are_refused(client, mock_storage, blob_id):
    """Clients remove dot segments from a URL: such a blob's href would name its bucket."""
    response = client.post("/api/buckets/bucket1?format=json", data={"blob_id": blob_id, "blob_data": "dots"})
    assert response.status_code == 400, response.text
    quoted = blob_id.replace(".", "%2E")
    assert client.put(f"/api/buckets/bucket1/{quoted}?format=json", content=b"again").status_code == 400
    assert client.get("/api/buckets/bucket1/%2E%2E/content").status_code == 400
    assert _files_outside_blob_dir(mock_storage) == []
    listed = client.get("/api/buckets/bucket1?format=json").json()["bucket"]["blob_list"]
    assert blob_id not in [b["id"] for b in listed]


@pytest.mark.parametrize("blob_id", ["../escape", "../../../../tmp/escape", "a/b"])
def test_blob_id_with_slash_is_refused(client, mock_storage, blob_id):
    response = client.post("/api/buckets/bucket1?format=json", data={"blob_id": blob_id, "blob_data": "x"})
    assert response.status_code == 400
    assert _files_outside_blob_dir(mock_storage) == []


def test_nul_blob_id_is_refused(client, mock_storage):
    response = client.put("/api/buckets/bucket1/a%00b?format=xml", content=b"x")
    assert response.status_code == 400
    ET.fromstring(response.content)  # still a well-formed error document
    assert client.get("/api/buckets/bucket1/a%00b?format=json").status_code == 404
    response = client.post("/api/buckets/bucket1?format=json", data={"blob_id": "a\x00b", "blob_data": "x"})
    assert response.status_code == 400
    assert _files_outside_blob_dir(mock_storage) == []
    assert not (mock_storage / "blobs").exists() or [p for p in (mock_storage / "blobs").iterdir()] == []


def test_encoded_slash_in_path_is_no_blob(client):
    assert client.get("/api/buckets/bucket1/a%2Fb?format=json").status_code == 404


def test_odd_blob_id_gets_a_safe_content_disposition(client):
    client.post("/api/buckets/bucket1?format=json", data={"blob_id": 'na"me ü;x', "blob_data": "z"})
    response = client.get("/api/buckets/bucket1/" + "na%22me%20%C3%BC%3Bx/content")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"na_me _;x\"; filename*=UTF-8''na%22me%20%C3%BC%3Bx")


# -- forms and OPTIONS --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/buckets/new", "/api/buckets/bucket1/new_blob_form_d15cfd90",
                                  "/api/buckets/new/new_blob_form_d15cfd90"])
def test_forms_are_public_html(anon, path):
    response = anon.get(path, headers=HTML)
    assert response.status_code == 200 and "<form" in response.text
    assert anon.get(path, headers=XML).status_code == 406


def test_blob_form_is_a_multipart_upload(anon):
    page = anon.get("/api/buckets/bucket1/new_blob_form_d15cfd90", headers=HTML).text
    assert 'enctype="multipart/form-data"' in page and 'action="http://testserver' not in page
    for field in ('name="blob_id"', 'name="blob_data" type="file"', 'name="meta_params"', 'name="meta_name1"',
                  'name="meta_value1"'):
        assert field in page
    assert "/api/buckets/bucket1" in page


def test_bucket_page_links_blobs(client):
    page = client.get("/api/buckets/bucket1", headers=HTML).text
    for blob_id in ("blob1", "blob2", "blob3"):
        assert f"/api/buckets/bucket1/{blob_id}" in page
    assert "new_blob_form_d15cfd90" in page


@pytest.mark.parametrize(("path", "allow"), [
    ("/api/buckets", "OPTIONS,GET,POST,DELETE"),
    ("/api/buckets/bucket1", "OPTIONS,GET,POST,DELETE,PUT,HEAD"),
    ("/api/buckets/bucket1/create", "id:string:required,blob_id:string:required,blob_data:hash:required"),
    ("/api/buckets/create", "name:string:required"),
    ("/api/buckets/show", "id:string:required"),
])
def test_options(anon, path, allow):
    response = anon.options(path)
    assert response.status_code == 200 and response.headers["allow"] == allow


# -- against a real server (two workers) ----------------------------------------------------------

@pytest.fixture(scope="module")
def real_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """``deltacloudd --workers 2`` on a free loopback port with its own mock storage."""
    storage = tmp_path_factory.mktemp("real") / "mock"
    env = {**os.environ, "DELTACLOUD_MOCK_STORAGE": str(storage)}
    env.pop("API_USER", None)
    with running_server(workers=2, env=env, args=["--log-level", "warning"], timeout=20) as url:
        yield url, storage


def _pool_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, auth=("mockuser", "mockpassword"), timeout=60,
                        limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))


def test_200_concurrent_blob_uploads(real_server):
    url, storage = real_server
    with _pool_client(url) as http:
        assert http.post("/api/buckets?format=json", data={"name": "load"}).status_code == 201
        payloads = {f"blob-{n:03d}": os.urandom(1024 + 97 * n) for n in range(200)}

        def upload(item: tuple[str, bytes]) -> int:
            blob_id, data = item
            return http.put(f"/api/buckets/load/{blob_id}?format=json", content=data, headers={
                "Content-Type": "application/x-test", "X-Deltacloud-Blobmeta-Sha": hashlib.sha256(data).hexdigest(),
            }).status_code

        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(upload, payloads.items()))
        assert statuses == [200] * 200
        bucket = http.get("/api/buckets/load?format=json").json()["bucket"]
        assert sorted(b["id"] for b in bucket["blob_list"]) == sorted(payloads)
        assert bucket["size"] == 200

        def check(item: tuple[str, bytes]) -> bool:
            blob_id, data = item
            return http.get(f"/api/buckets/load/{blob_id}/content").content == data

        with ThreadPoolExecutor(max_workers=32) as pool:
            assert all(pool.map(check, payloads.items()))
    files = [p.name for p in (storage / "blobs").iterdir()]
    assert len(files) == 200 and not [f for f in files if f.startswith(".")]  # no temp files left


def test_concurrent_overwrites_of_one_blob_stay_consistent(real_server):
    url, storage = real_server
    with _pool_client(url) as http:
        assert http.post("/api/buckets?format=json", data={"name": "race"}).status_code == 201
        bodies = [os.urandom(2000 + n) for n in range(60)]

        def upload(data: bytes) -> int:
            return http.put("/api/buckets/race/same?format=json", content=data, headers={
                "X-Deltacloud-Blobmeta-Sha": hashlib.sha256(data).hexdigest()}).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            assert set(pool.map(upload, bodies)) == {200}
        blob = http.get("/api/buckets/race/same?format=json").json()["blob"]
        content = http.get("/api/buckets/race/same/content").content
        assert content in bodies
        assert blob["user_metadata"]["sha"] == hashlib.sha256(content).hexdigest()  # record matches its data
        assert blob["content_length"] == len(content)
        assert http.get("/api/buckets/race?format=json").json()["bucket"]["size"] == 60
    stem = hashlib.sha256(b"same").hexdigest()
    assert len([p for p in (storage / "blobs").iterdir() if p.name.startswith(stem)]) == 1


def test_200_concurrent_volume_creates(real_server):
    url, _storage = real_server
    with _pool_client(url) as http:
        before = {v["id"] for v in http.get("/api/storage_volumes?format=json").json()["storage_volumes"]}

        def create(n: int) -> tuple[int, str]:
            response = http.post("/api/storage_volumes?format=json", data={"name": f"load-{n}", "capacity": "1"})
            return response.status_code, response.json()["storage_volume"]["id"]

        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(create, range(200)))
        assert [status for status, _ in results] == [201] * 200
        ids = [volume_id for _, volume_id in results]
        assert len(set(ids)) == 200
        volumes = http.get("/api/storage_volumes?format=json").json()["storage_volumes"]
        assert {v["id"] for v in volumes} == before | set(ids)
        assert sorted(v["name"] for v in volumes if v["id"] in set(ids)) == sorted(f"load-{n}" for n in range(200))
