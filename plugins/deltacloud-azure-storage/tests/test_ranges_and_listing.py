"""Ranged and conditional downloads (the Range goes to Azure as the download's offset and length)
and a container of many blobs listed in full (List Blobs continuation followed to the end)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from azurite_server import ACCOUNT, KEY
from deltacloud_core import ByteRange, Credentials, RangeNotSatisfiable
from deltacloud_core.testing.blob_http import check_range_downloads

from deltacloud_azure_storage import AzureDriver


def test_ranged_reads_go_to_azure(driver, sdk, bucket):
    data = os.urandom(3000)
    sdk.get_blob_client(bucket, "r").upload_blob(data)
    stream = driver.blob_content(bucket, "r", byte_range=ByteRange(start=100, end=199))
    assert stream.served_range == (100, 199)
    assert stream.blob.content_length == 3000  # the whole blob's, from Azure's Content-Range
    assert stream.blob.etag
    assert b"".join(stream) == data[100:200]
    tail = driver.blob_content(bucket, "r", byte_range=ByteRange(suffix=7))
    assert tail.served_range == (2993, 2999)
    assert b"".join(tail) == data[-7:]
    open_ended = driver.blob_content(bucket, "r", byte_range=ByteRange(start=2990))
    assert open_ended.served_range == (2990, 2999)
    assert b"".join(open_ended) == data[2990:]
    with pytest.raises(RangeNotSatisfiable) as err:
        driver.blob_content(bucket, "r", byte_range=ByteRange(start=3000))
    assert err.value.headers["Content-Range"] == "bytes */3000"


def test_ranges_and_conditions_over_http(client, sdk, bucket):
    data = os.urandom(40_000)
    assert client.put(f"/api/buckets/{bucket}/r.bin", content=data,
                      headers={"Content-Type": "application/octet-stream"}).status_code == 200
    etag = check_range_downloads(client, f"/api/buckets/{bucket}/r.bin/content", data)
    assert etag == sdk.get_blob_client(bucket, "r.bin").get_blob_properties().etag  # Azure's, already quoted


class SmallPages(AzureDriver):
    LISTING_PAGE_SIZE = 500


def test_a_big_container_is_listed_in_full(azurite, sdk, bucket):
    """2,200 blobs in pages of 500: five List Blobs pages, the continuation marker followed to the
    end. (Azure's own pages hold 5000 names; Azurite stores some 60 small blobs a second on this
    loaded machine, so more than one page of those would take minutes.)"""
    container = sdk.get_container_client(bucket)
    count = 2_200
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: container.upload_blob(f"item-{n:05d}", b"x"), range(count)))
    found = SmallPages(credentials=Credentials(ACCOUNT, KEY), provider=azurite.url).get_bucket(bucket)
    assert found.size == count
    assert len(set(found.blob_ids)) == count
    assert (found.blob_ids[0], found.blob_ids[-1]) == ("item-00000", f"item-{count - 1:05d}")
