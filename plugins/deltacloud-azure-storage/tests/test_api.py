"""Every bucket and blob route of the Deltacloud API on the azure driver, in-process server, real
HTTP from the driver to Azurite."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest
from azure.storage.blob import ContentSettings
from conftest import new_name

JSON = {"Accept": "application/json"}
XML = {"Accept": "application/xml"}
COMPUTE = ("instances", "images", "realms", "keys", "hardware_profiles", "instance_states", "storage_volumes",
           "storage_snapshots", "addresses", "firewalls", "load_balancers", "metrics", "networks", "subnets",
           "network_interfaces")


# -- entry point, drivers, 412 ---------------------------------------------------------------------

def test_entry_point_lists_buckets_and_drivers_only(client):
    reply = client.get("/api", headers=JSON)
    assert reply.status_code == 200
    api = reply.json()["api"]
    assert api["driver"] == "azure"
    assert sorted(link["rel"] for link in api["links"]) == ["buckets", "drivers"]
    xml = ET.fromstring(client.get("/api", headers=XML).content)
    assert sorted(link.get("rel") for link in xml.iter("link")) == ["buckets", "drivers"]
    assert reply.headers["X-Deltacloud-Driver"] == "azure"


def test_entry_point_needs_no_credentials(anonymous):
    assert anonymous.get("/api", headers=JSON).status_code == 200


@pytest.mark.parametrize("collection", COMPUTE)
def test_other_collections_are_412(client, collection):
    reply = client.get(f"/api/{collection}", headers=JSON)
    assert reply.status_code == 412, reply.text
    assert reply.headers.get("Expect")


def test_compute_operations_are_412(client):
    for method, path in (("POST", "/api/instances"), ("GET", "/api/instances/i1"), ("POST", "/api/keys"),
                         ("DELETE", "/api/images/i1"), ("POST", "/api/instances/i1/stop")):
        assert client.request(method, path, headers=JSON, data={"image_id": "x", "name": "k"}).status_code == 412, path


def test_drivers_lists_azure(client):
    reply = client.get("/api/drivers/azure", headers=JSON)
    assert reply.status_code == 200
    assert reply.json()["driver"]["name"] == "Azure"
    assert client.get("/api/drivers", headers=JSON).json()["azure"]["name"] == "Azure"


def test_credentials_are_asked_for(anonymous, bucket):
    for path in ("/api/buckets", f"/api/buckets/{bucket}", f"/api/buckets/{bucket}/x"):
        reply = anonymous.get(path, headers=JSON)
        assert reply.status_code == 401, path
        assert reply.headers["WWW-Authenticate"].startswith('Basic realm="azure-deltacloud@')
    assert anonymous.get("/api?force_auth=1", headers=JSON).status_code == 401


# -- buckets ----------------------------------------------------------------------------------------

def test_bucket_crud(client, sdk):
    name = new_name("h")
    created = client.post("/api/buckets", data={"name": name}, headers=JSON)
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith(f"/api/buckets/{name}")
    assert created.json()["bucket"] == {"id": name, "href": created.headers["Location"], "name": name,
                                        "size": 0, "blob_list": []}
    assert sdk.get_container_client(name).exists()
    listed = client.get("/api/buckets", headers=JSON)
    assert name in {b["id"] for b in listed.json()["buckets"]}
    xml = ET.fromstring(client.get("/api/buckets", headers=XML).content)
    assert all(b.find("size") is not None for b in xml.iter("bucket"))
    shown = client.get(f"/api/buckets/{name}", headers=XML)
    assert shown.status_code == 200
    doc = ET.fromstring(shown.content)
    assert (doc.get("id"), doc.findtext("name"), doc.findtext("size")) == (name, name, "0")
    filtered = client.get("/api/buckets", params={"id": name}, headers=JSON).json()["buckets"]
    assert [b["id"] for b in filtered] == [name]
    assert client.delete(f"/api/buckets/{name}", headers=JSON).status_code == 204
    assert not sdk.get_container_client(name).exists()
    assert client.get(f"/api/buckets/{name}", headers=JSON).status_code == 404


def test_bucket_html_pages(client, bucket):
    assert client.get("/api/buckets", headers={"Accept": "text/html"}).status_code == 200
    assert client.get(f"/api/buckets/{bucket}", headers={"Accept": "text/html"}).status_code == 200


def test_bucket_shows_its_blobs(client, sdk, bucket):
    for blob_id in ("blob1", "blob2"):
        sdk.get_blob_client(bucket, blob_id).upload_blob(b"x")
    doc = ET.fromstring(client.get(f"/api/buckets/{bucket}", headers=XML).content)
    assert doc.findtext("size") == "2"
    hrefs = {b.get("id"): b.get("href") for b in doc.iter("blob")}
    assert set(hrefs) == {"blob1", "blob2"}
    assert all(h.startswith("http") and h.endswith(f"/api/buckets/{bucket}/{i}") for i, h in hrefs.items())


# -- blobs --------------------------------------------------------------------------------------------

def _put(client, bucket, blob_id, body=b"This is the test blob content", **headers):
    return client.put(f"/api/buckets/{bucket}/{blob_id}", content=body,
                      headers={"Content-Type": "text/plain", "X-Deltacloud-Blobmeta-Version": "1.0",
                               "X-Deltacloud-Blobmeta-Author": "herpyderp", **XML, **headers})


def test_put_blob(client, sdk, bucket):
    reply = _put(client, bucket, "blob1")
    assert reply.status_code == 200, reply.text
    assert "Location" not in reply.headers
    doc = ET.fromstring(reply.content)
    assert doc.get("id") == "blob1"
    assert doc.findtext("bucket") == bucket
    assert doc.findtext("content_length") == "29"
    assert doc.findtext("content_type") == "text/plain"
    assert doc.findtext("last_modified")
    assert {e.get("key"): e.text for e in doc.iter("entry")} == {"version": "1.0", "author": "herpyderp"}
    assert doc.find("content").get("rel") == "blob_content"
    assert doc.find("content").get("href").endswith(f"/api/buckets/{bucket}/blob1/content")
    props = sdk.get_blob_client(bucket, "blob1").get_blob_properties()
    assert props.metadata == {"version": "1.0", "author": "herpyderp"}
    assert props.content_settings.content_type == "text/plain"
    assert sdk.get_blob_client(bucket, "blob1").download_blob().readall() == b"This is the test blob content"


def test_put_without_content_type(client, bucket):
    reply = client.put(f"/api/buckets/{bucket}/raw", content=b"\x00\x01", headers=JSON)
    assert reply.status_code == 200
    content = client.get(f"/api/buckets/{bucket}/raw/content")
    assert content.headers["Content-Type"] == "application/octet-stream"
    assert content.content == b"\x00\x01"


def test_put_chunked_body_in_blocks(client, sdk, bucket, monkeypatch, client_settings):
    """A body without Content-Length (chunked), larger than a block."""
    import dataclasses

    from deltacloud_azure_storage import AzureDriver

    monkeypatch.setattr(AzureDriver, "SETTINGS", dataclasses.replace(client_settings, block_size=64 * 1024))
    data = random.Random(3).randbytes(300_000)

    def body():
        for start in range(0, len(data), 7000):
            yield data[start:start + 7000]

    reply = client.put(f"/api/buckets/{bucket}/chunked", content=body(),
                       headers={**JSON, "Content-Type": "application/x-test"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["blob"]["content_length"] == len(data)
    assert len(sdk.get_blob_client(bucket, "chunked").get_block_list("committed")[0]) == 5
    assert client.get(f"/api/buckets/{bucket}/chunked/content").content == data


def test_show_blob_json(client, bucket):
    _put(client, bucket, "blob1")
    reply = client.get(f"/api/buckets/{bucket}/blob1", headers=JSON)
    assert reply.status_code == 200
    blob = reply.json()["blob"]
    assert blob["id"] == "blob1"
    assert blob["bucket"]["id"] == bucket
    assert blob["content_length"] == 29
    assert blob["content_type"] == "text/plain"
    assert blob["user_metadata"] == {"version": "1.0", "author": "herpyderp"}
    assert blob["content"] is None
    assert client.get(f"/api/buckets/{bucket}/blob1", headers={"Accept": "text/html"}).status_code == 200


def test_blob_content(client, bucket):
    _put(client, bucket, "blob1")
    reply = client.get(f"/api/buckets/{bucket}/blob1/content")
    assert reply.status_code == 200
    assert reply.content == b"This is the test blob content"
    assert reply.headers["Content-Type"] == "text/plain"
    assert reply.headers["Content-Length"] == "29"
    assert reply.headers["Content-Disposition"] == "attachment; filename=blob1"


def test_head_blob_and_metadata(client, bucket):
    _put(client, bucket, "blob1")
    for path in (f"/api/buckets/{bucket}/blob1", f"/api/buckets/{bucket}/blob1/metadata"):
        reply = client.head(path, headers=XML)
        assert reply.status_code == 204, path
        assert reply.headers["X-Deltacloud-Blobmeta-version"] == "1.0"
        assert reply.headers["X-Deltacloud-Blobmeta-author"] == "herpyderp"
    assert client.head(f"/api/buckets/{bucket}/missing", headers=XML).status_code == 404


def test_update_metadata(client, sdk, bucket):
    _put(client, bucket, "blob1")
    reply = client.post(f"/api/buckets/{bucket}/blob1", headers={
        **XML, "X-Deltacloud-Blobmeta-Version": "2.5", "X-Deltacloud-Blobmeta-Author": "derpyherpy",
        "X-Deltacloud-Blobmeta-Updated": "true"})
    assert reply.status_code == 204, reply.text
    assert reply.headers["X-Deltacloud-Blobmeta-version"] == "2.5"
    assert reply.headers["X-Deltacloud-Blobmeta-author"] == "derpyherpy"
    assert reply.headers["X-Deltacloud-Blobmeta-updated"] == "true"
    assert sdk.get_blob_client(bucket, "blob1").get_blob_properties().metadata == {
        "version": "2.5", "author": "derpyherpy", "updated": "true"}
    assert client.get(f"/api/buckets/{bucket}/blob1/content").content == b"This is the test blob content"
    missing = client.post(f"/api/buckets/{bucket}/missing", headers={**XML, "X-Deltacloud-Blobmeta-A": "b"})
    assert missing.status_code == 404


def test_multipart_post(client, sdk, bucket):
    reply = client.post(f"/api/buckets/{bucket}", headers=XML,
                        data={"blob_id": "formblob", "meta_params": "2", "meta_name1": "Author",
                              "meta_value1": "herpyderp", "meta_name2": "Type", "meta_value2": "formPostedBlob"},
                        files={"blob_data": ("file.txt", b"form data", "text/x-test")})
    assert reply.status_code == 201, reply.text
    assert "Location" not in reply.headers
    doc = ET.fromstring(reply.content)
    assert doc.get("id") == "formblob"
    assert doc.findtext("content_type") == "text/x-test"
    assert {e.get("key"): e.text for e in doc.iter("entry")} == {"author": "herpyderp", "type": "formPostedBlob"}
    props = sdk.get_blob_client(bucket, "formblob").get_blob_properties()
    assert props.metadata == {"author": "herpyderp", "type": "formPostedBlob"}
    assert props.content_settings.content_type == "text/x-test"
    assert client.get(f"/api/buckets/{bucket}/formblob/content").content == b"form data"
    plain = client.post(f"/api/buckets/{bucket}", headers=JSON, data={"blob_id": "plain", "blob_data": "plainstring"})
    assert plain.status_code == 201
    assert plain.json()["blob"]["content_type"] == "text/plain"
    assert plain.json()["blob"]["user_metadata"] == {}
    assert client.get(f"/api/buckets/{bucket}/plain/content").content == b"plainstring"


def test_multipart_post_large_file(client, bucket, monkeypatch, client_settings):
    import dataclasses

    from deltacloud_azure_storage import AzureDriver

    monkeypatch.setattr(AzureDriver, "SETTINGS", dataclasses.replace(client_settings, block_size=64 * 1024))
    data = random.Random(5).randbytes(2_000_000)  # spooled to disk by the server, then sent in blocks
    reply = client.post(f"/api/buckets/{bucket}", headers=JSON, data={"blob_id": "bigform"},
                        files={"blob_data": ("big.bin", data, "application/octet-stream")})
    assert reply.status_code == 201, reply.text
    assert client.get(f"/api/buckets/{bucket}/bigform/content").content == data


def test_delete_blob(client, sdk, bucket):
    _put(client, bucket, "blob1")
    assert client.delete(f"/api/buckets/{bucket}/blob1", headers=JSON).status_code == 204
    assert not sdk.get_blob_client(bucket, "blob1").exists()
    assert client.get(f"/api/buckets/{bucket}/blob1", headers=JSON).status_code == 404
    assert client.delete(f"/api/buckets/{bucket}/blob1", headers=JSON).status_code == 404
    assert client.delete(f"/api/buckets/{bucket}", headers=JSON).status_code == 204


def test_html_delete_redirects_to_the_bucket(client, bucket):
    _put(client, bucket, "blob1")
    reply = client.delete(f"/api/buckets/{bucket}/blob1", headers={"Accept": "text/html"}, follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith(f"/api/buckets/{bucket}")


def test_blob_names_with_odd_characters(client, sdk, bucket):
    reply = client.put(f"/api/buckets/{bucket}/a%20b%2Bc.txt", content=b"odd", headers=JSON)
    assert reply.status_code == 200, reply.text
    assert sdk.get_blob_client(bucket, "a b+c.txt").download_blob().readall() == b"odd"
    assert client.get(f"/api/buckets/{bucket}/a%20b%2Bc.txt/content").content == b"odd"


def test_blob_written_elsewhere_is_served(client, sdk, bucket):
    sdk.get_blob_client(bucket, "ext.png").upload_blob(b"\x89PNG", metadata={"SOMENEWKEY": "NEWVALUE"},
                                                       content_settings=ContentSettings(content_type="image/png"))
    blob = client.get(f"/api/buckets/{bucket}/ext.png", headers=JSON).json()["blob"]
    assert blob["user_metadata"] == {"SOMENEWKEY": "NEWVALUE"}
    assert blob["content_type"] == "image/png"
    head = client.head(f"/api/buckets/{bucket}/ext.png", headers=JSON)
    assert head.headers["X-Deltacloud-Blobmeta-SOMENEWKEY"] == "NEWVALUE"
