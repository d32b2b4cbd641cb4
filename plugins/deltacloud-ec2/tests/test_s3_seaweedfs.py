"""The S3-compatible path (the ``eucalyptus`` provider form ``s3=HOST:PORT``) on SeaweedFS, an S3
server that checks signatures: what moto lets through (a wrong secret) fails here as on every
real store. Buckets and blobs at driver level, over HTTP (ranges, conditions, a resumable 1 GiB
download through deltacloudd) and the conformance kit."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import test_conformance
from boto3.s3.transfer import TransferConfig
from conftest import IMAGE_X86_64
from deltacloud_ec2 import EucalyptusDriver
from test_s3 import Generated

from deltacloud_core import AuthenticationFailure, ByteRange, Credentials, ForbiddenError, ObjectNotFound
from deltacloud_core.testing import Conformance, ConformanceSettings
from deltacloud_core.testing.blob_http import check_range_downloads, resumable_download
from deltacloud_core.testing.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS, SeaweedFSError
from deltacloud_core.testing.server import running_server

MiB = 1024 * 1024
CREDENTIALS = Credentials(ACCESS_KEY, SECRET_KEY)


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    try:
        store = SeaweedFS().start()
    except SeaweedFSError as exc:
        pytest.fail(f"SeaweedFS is needed for these tests and could not start: {exc}", pytrace=False)
    try:
        yield store
    finally:
        store.stop()


@pytest.fixture
def provider(seaweedfs: SeaweedFS) -> str:
    return f"s3=127.0.0.1:{seaweedfs.port}"


@pytest.fixture
def store(provider: str) -> EucalyptusDriver:
    return EucalyptusDriver(credentials=CREDENTIALS, provider=provider)


def _name(prefix: str = "dc") -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


@pytest.fixture
def bucket(seaweedfs: SeaweedFS) -> Iterator[str]:
    name = _name("b")
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
        if keys:
            s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    s3.delete_bucket(Bucket=name)


def test_buckets_and_blobs(store: EucalyptusDriver, seaweedfs: SeaweedFS):
    name = _name()
    assert store.create_bucket(name=name).id == name
    assert name in [b.id for b in store.list_buckets()]
    blob = store.create_blob(name, "dir/hello.txt", data=io.BytesIO(b"hello seaweed"), content_type="text/plain",
                             user_metadata={"author": "kit"}, content_length=13)
    assert (blob.content_length, blob.content_type, dict(blob.user_metadata)) == (13, "text/plain",
                                                                                 {"author": "kit"})
    assert blob.etag == hashlib.md5(b"hello seaweed", usedforsecurity=False).hexdigest()
    assert seaweedfs.client().head_object(Bucket=name, Key="dir/hello.txt")["Metadata"] == {"author": "kit"}
    assert b"".join(store.blob_content(name, "dir/hello.txt")) == b"hello seaweed"
    assert store.update_blob_metadata(name, "dir/hello.txt", {"v": "2"}) == {"v": "2"}
    with pytest.raises(ForbiddenError):
        store.destroy_bucket(name)
    store.destroy_blob(name, "dir/hello.txt")
    with pytest.raises(ObjectNotFound):
        store.destroy_blob(name, "dir/hello.txt")
    store.destroy_bucket(name)
    assert store.get_bucket(name) is None


def test_wrong_secret_is_401_with_the_store_message(provider: str):
    wrong = EucalyptusDriver(credentials=Credentials(ACCESS_KEY, "not-the-secret"), provider=provider)
    with pytest.raises(AuthenticationFailure) as err:
        wrong.list_buckets()
    assert err.value.backend_code == "SignatureDoesNotMatch"
    assert "signature" in err.value.message.lower()  # SeaweedFS's own words


def test_wrong_secret_over_http(provider: str):
    from starlette.testclient import TestClient

    from deltacloud_core.web import Settings, create_app

    app = create_app(Settings(default_driver="eucalyptus", default_provider=provider))
    with TestClient(app) as http:
        reply = http.get("/api/buckets/any-bucket", auth=(ACCESS_KEY, "not-the-secret"),
                         headers={"Accept": "application/json"})
    assert reply.status_code == 401
    assert "signature" in reply.json()["message"].lower()
    assert reply.headers["www-authenticate"].startswith("Basic")


class SmallParts(EucalyptusDriver):
    PART_SIZE = 5 * MiB


def test_large_blob_is_a_multipart_upload_to_the_store(provider: str, bucket: str, seaweedfs: SeaweedFS):
    driver = SmallParts(credentials=CREDENTIALS, provider=provider)
    body = Generated(11 * MiB + 5)
    blob = driver.create_blob(bucket, "big.bin", data=body, content_type="application/octet-stream",
                              user_metadata={"kind": "large"})
    assert body.largest_read <= SmallParts.PART_SIZE
    assert blob.content_length == 11 * MiB + 5
    assert blob.etag.endswith("-3")  # three parts, as SeaweedFS computed them
    seen = hashlib.md5(usedforsecurity=False)
    for chunk in driver.blob_content(bucket, "big.bin"):
        seen.update(chunk)
    assert seen.hexdigest() == body.digest.hexdigest()
    ranged = driver.blob_content(bucket, "big.bin", byte_range=ByteRange(start=6 * MiB, end=6 * MiB + 9))
    assert ranged.served_range == (6 * MiB, 6 * MiB + 9) and ranged.blob.content_length == 11 * MiB + 5
    assert len(b"".join(ranged)) == 10


def test_ranges_and_conditions_over_http(provider: str, bucket: str):
    from starlette.testclient import TestClient

    from deltacloud_core.web import Settings, create_app

    data = os.urandom(50_000)
    app = create_app(Settings(default_driver="eucalyptus", default_provider=provider))
    with TestClient(app) as http:
        http.auth = (ACCESS_KEY, SECRET_KEY)
        assert http.put(f"/api/buckets/{bucket}/r.bin", content=data,
                        headers={"Content-Type": "application/octet-stream"}).status_code == 200
        etag = check_range_downloads(http, f"/api/buckets/{bucket}/r.bin/content", data)
    assert etag == f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def test_a_bucket_of_5000_blobs_is_listed_in_full(store: EucalyptusDriver, bucket: str, seaweedfs: SeaweedFS):
    """Five pages of S3's 1000 keys (SeaweedFS stores some 500 small objects a second here)."""
    s3 = seaweedfs.client()
    count = 5_000
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: s3.put_object(Bucket=bucket, Key=f"item-{n:05d}", Body=b"x"), range(count)))
    found = store.get_bucket(bucket)
    assert found.size == count and len(set(found.blob_ids)) == count
    assert found.blob_ids[0] == "item-00000" and found.blob_ids[-1] == f"item-{count - 1:05d}"


def test_resumable_download_of_1_gib_blob(provider: str, bucket: str, seaweedfs: SeaweedFS):
    """1 GiB in the store (uploaded with boto3), down through deltacloudd in two parts: the second
    a ranged GetObject from where the first was cut, pinned by If-Range."""
    size = 1024 * MiB
    digest = hashlib.sha256()

    class Source(io.RawIOBase):
        def __init__(self) -> None:
            self.left = size
            self.block = os.urandom(MiB)
            self.n = 0

        def readable(self) -> bool:
            return True

        def read(self, want: int = -1) -> bytes:
            want = self.left if want is None or want < 0 else min(want, self.left)
            out = bytearray()
            while len(out) < want:
                self.n += 1
                out += self.n.to_bytes(8, "big") + self.block[: min(MiB, want - len(out)) - 8]
            data = bytes(out[:want])
            self.left -= len(data)
            digest.update(data)
            return data

    seaweedfs.client().upload_fileobj(Source(), bucket, "giant.bin",
                                      Config=TransferConfig(multipart_chunksize=16 * MiB, max_concurrency=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with running_server(driver="eucalyptus", provider=provider, env=env, args=["--log-level", "warning"],
                        timeout=30) as url, httpx.Client(base_url=url, auth=(ACCESS_KEY, SECRET_KEY),
                                                         timeout=120) as http:
        got = resumable_download(http, f"/api/buckets/{bucket}/giant.bin/content", size=size,
                                 cut_at=700 * MiB + 3)
    assert got == digest.hexdigest()


class TestEucalyptusOnSeaweedFS(Conformance):
    """The whole kit through the eucalyptus provider form: EC2 on moto, S3 on SeaweedFS."""

    settings = ConformanceSettings(max_examples=5, stateful_steps=10, settle_timeout=30.0, poll_interval=0.05,
                                   instance_params={"image_id": IMAGE_X86_64, "hwp_id": "m1.small"})

    @pytest.fixture
    def driver(self, moto, seaweedfs: SeaweedFS, request: pytest.FixtureRequest) -> EucalyptusDriver:
        driver = EucalyptusDriver(credentials=CREDENTIALS, provider=f"ec2={moto.url};s3=127.0.0.1:{seaweedfs.port}")
        callspec = getattr(request.node, "callspec", None)
        collection = callspec.params.get("collection") if callspec else None
        seeded = any(w in request.node.name for w in ("show", "formats", "serialisation"))
        if collection in test_conformance.SEEDS and seeded:
            if collection != "buckets":
                test_conformance.SEEDS[collection](driver, moto.url)
            elif driver.get_bucket("seeded-bucket") is None:  # SeaweedFS keeps it from one test to the next
                driver.create_bucket(name="seeded-bucket")
        return driver

    test_creating_driver_has_create_transition = test_conformance.TestEC2.test_creating_driver_has_create_transition
