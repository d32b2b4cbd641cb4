"""The google driver over HTTP: blob routes, ranged and conditional downloads, big buckets,
and 256 MiB through a real deltacloudd with flat memory."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import new_name
from deltacloud_process import MiB, Payload, download, peak_kib, served, upload
from keys import EMAIL, PROJECT, key_base64, key_json

from deltacloud_core.testing.blob_http import check_range_downloads, resumable_download

META = "x-deltacloud-blobmeta-"


def test_blob_routes(client, bucket: str, sdk):
    data = b"<html>" + os.urandom(3000) + b"</html>"
    put = client.put(f"/api/buckets/{bucket}/page.html", content=data, headers={
        "Content-Type": "text/html", "X-Deltacloud-Blobmeta-Owner": "team-a"})
    assert put.status_code == 200, put.text
    doc = put.json()["blob"]
    assert (doc["content_length"], doc["content_type"], doc["user_metadata"]) == (len(data), "text/html",
                                                                                  {"owner": "team-a"})
    assert sdk.bucket(bucket).get_blob("page.html").metadata == {"owner": "team-a"}
    head = client.head(f"/api/buckets/{bucket}/page.html")
    assert head.status_code == 204 and head.headers[f"{META}owner"] == "team-a"
    content = client.get(f"/api/buckets/{bucket}/page.html/content")
    assert content.content == data and content.headers["content-type"] == "text/html"
    listed = client.get(f"/api/buckets/{bucket}").json()["bucket"]
    assert [b["id"] for b in listed["blob_list"]] == ["page.html"]
    assert client.get(f"/api/buckets/{bucket}/nope").status_code == 404
    assert client.get(f"/api/buckets/{bucket}/nope/content").status_code == 404
    assert client.delete(f"/api/buckets/{bucket}").status_code == 403  # not empty
    assert client.delete(f"/api/buckets/{bucket}/page.html").status_code == 204


def test_ranges_and_conditions(client, bucket: str, sdk):
    data = os.urandom(70_000)
    assert client.put(f"/api/buckets/{bucket}/r.bin", content=data,
                      headers={"Content-Type": "application/octet-stream"}).status_code == 200
    etag = check_range_downloads(client, f"/api/buckets/{bucket}/r.bin/content", data)
    assert etag == f'"{sdk.bucket(bucket).get_blob("r.bin").etag}"'  # Google's ETag, quoted


def test_base64_key_over_http(client, bucket: str):
    client.auth = (EMAIL, key_base64())
    assert client.get(f"/api/buckets/{bucket}").status_code == 200


def test_a_big_bucket_is_listed_in_full(client, sdk, settings):
    """Four pages of Google's 1000 names. 3,500 blobs, as fake-gcs-server stores about a hundred
    a second on this machine (20,000 took three minutes); the driver follows nextPageToken to the
    end whatever the count."""
    name = new_name("big")
    target = sdk.create_bucket(name)
    count = 3_500

    def put(n: int) -> None:
        target.blob(f"item-{n:05d}").upload_from_string(b"x", content_type="text/plain")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(count)))
    reply = client.get(f"/api/buckets/{name}", timeout=120)
    assert reply.status_code == 200
    bucket = reply.json()["bucket"]
    ids = [b["id"] for b in bucket["blob_list"]]
    assert len(ids) == count and int(bucket["size"]) == count
    assert ids[0] == "item-00000" and ids[-1] == f"item-{count - 1:05d}" and len(set(ids)) == count

    def delete(n: int) -> None:
        target.blob(f"item-{n:05d}").delete()

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(delete, range(count)))
    target.delete()


@pytest.fixture(scope="module")
def server(gcs):
    with served(f"{PROJECT};endpoint={gcs.url}") as (url, pid), httpx.Client(
            base_url=url, auth=(EMAIL, key_json()), timeout=httpx.Timeout(300.0)) as http:
        yield http, pid


def test_256_mib_through_the_server_with_flat_memory(server, sdk):
    http, pid = server
    name = new_name("mem")
    sdk.create_bucket(name)
    upload(http, f"/api/buckets/{name}/warmup", Payload(MiB, seed=2))
    download(http, f"/api/buckets/{name}/warmup/content")
    before = peak_kib(pid)
    payload = Payload(256 * MiB, seed=7)
    upload(http, f"/api/buckets/{name}/big.bin", payload)
    size, digest, _seconds = download(http, f"/api/buckets/{name}/big.bin/content")
    assert size == 256 * MiB and digest == payload.sha256.hexdigest()
    assert sdk.bucket(name).get_blob("big.bin").size == 256 * MiB
    resumed = resumable_download(http, f"/api/buckets/{name}/big.bin/content", size=256 * MiB, cut_at=100 * MiB + 7)
    assert resumed == payload.sha256.hexdigest()
    growth = (peak_kib(pid) - before) / 1024
    assert growth < 96, f"the server's peak memory grew by {growth:.0f} MiB moving 256 MiB"
    sdk.bucket(name).blob("big.bin").delete()
