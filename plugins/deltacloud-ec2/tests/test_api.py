"""The server with ``ec2`` as its driver (in process), the driver talking to moto over HTTP.

First what needs no credentials and must match the original's recordings (entry point,
hardware profiles, drivers), then every collection's routes as a client uses them.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import AUTH, IMAGE_X86_64

GOLDEN = Path(__file__).parent / "data" / "golden"
ALL_COLLECTIONS = ["addresses", "buckets", "drivers", "firewalls", "hardware_profiles", "images", "instance_states",
                   "instances", "keys", "load_balancers", "metrics", "network_interfaces", "networks", "realms",
                   "storage_snapshots", "storage_volumes", "subnets"]
_HOST = re.compile(r"https?://[^/\s'\"<>]+")


def canonical(elem: ET.Element) -> tuple:
    """An element as (tag, attributes, text, children) with hosts normalised and blank text dropped."""
    attrs = tuple(sorted((k, _HOST.sub("<base>", v)) for k, v in elem.attrib.items()))
    text = _HOST.sub("<base>", (elem.text or "").strip())
    return (elem.tag, attrs, text, tuple(canonical(child) for child in elem))


def same_xml(expected: bytes, actual: bytes) -> bool:
    return canonical(ET.fromstring(expected)) == canonical(ET.fromstring(actual))


def same_json(expected: str, actual: str) -> bool:
    return json.loads(_HOST.sub("<base>", expected)) == json.loads(_HOST.sub("<base>", actual))


# -- public: entry point, hardware profiles, instance states, drivers ------------------------------

def test_entry_point_needs_no_credentials_and_matches_the_recording(anon):
    for path in ("/api;driver=ec2?format=xml", "/api?format=xml"):
        reply = anon.get(path, auth=("mockuser", "mockpassword"))  # TESTSUITE A.1 sends mock credentials
        assert reply.status_code == 200
        assert reply.headers["x-deltacloud-driver"] == "ec2"
        assert same_xml((GOLDEN / "api_driver_ec2_matrix.xml").read_bytes(), reply.content), reply.text
    api = anon.get("/api?format=json").json()["api"]
    assert [link["rel"] for link in api["links"]] == ALL_COLLECTIONS
    features = {f["name"] for link in api["links"] for group in link["features"] for f in group}
    assert "user_name" not in features
    assert features == {"owner_id", "image_name", "image_description", "bucket_location", "metrics", "user_data",
                        "firewalls", "authentication_key", "instance_count", "attach_snapshot"}


def test_hardware_profiles_match_the_recordings(anon):
    xml = anon.get("/api;driver=ec2/hardware_profiles?format=xml")
    assert xml.status_code == 200
    assert same_xml((GOLDEN / "hardware_profiles_matrix_driver_ec2.xml").read_bytes(), xml.content), xml.text
    as_json = anon.get("/api;driver=ec2/hardware_profiles?format=json")
    # property_details is our JSON extension (the XML's kinds and bounds), not in the recording:
    # one entry per property, the same defaults; the rest compares with the original's document.
    document = as_json.json()
    for profile in document["hardware_profiles"]:
        details = profile.pop("property_details")
        assert [(d["name"], d["value"]) for d in details] == list(profile["properties"].items()), profile["id"]
    assert same_json((GOLDEN / "hardware_profiles_matrix_driver_ec2.json").read_text(), json.dumps(document)), \
        as_json.text
    assert anon.get("/api/hardware_profiles/m2.4xlarge?format=json").json()["hardware_profile"]["properties"] == {
        "cpu": "26", "memory": "70041.6", "storage": "1690", "architecture": "x86_64"}
    assert anon.get("/api/hardware_profiles/x1.nope").status_code == 404


def test_instance_states_are_the_ec2_machine(anon):
    states = anon.get("/api/instance_states?format=json").json()
    assert [s["name"] for s in states] == ["start", "pending", "running", "stopping", "stopped", "finish"]
    assert states[0]["transitions"] == [{"to": "pending", "auto": "true"}]
    assert {"to": "stopping", "action": "stop"} in states[2]["transitions"]


def test_drivers_list_ec2_and_eucalyptus_as_the_original_configured_them(anon):
    listed = anon.get("/api/drivers?format=json").json()
    golden = json.loads((GOLDEN / "drivers_ec2_eucalyptus.json").read_text())
    for name in ("ec2", "eucalyptus"):
        assert json.dumps(listed[name]) == json.dumps(golden[name])  # keys in the original's order too
    shown = anon.get("/api/drivers/ec2?format=json").json()["driver"]
    assert (shown["id"], shown["name"]) == ("ec2", "EC2") and shown["entrypoints"]
    live = ET.fromstring(anon.get("/api/drivers/ec2?format=xml").content)  # ec2 is the current driver
    regions = [p.get("id") for p in live.findall("provider")]
    assert {"us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"} <= set(regions)
    east = live.find("provider[@id='us-east-1']")
    assert {e.get("kind"): e.text for e in east.findall("entrypoint")} == {
        "s3": "s3.amazonaws.com", "elb": "elasticloadbalancing.us-east-1.amazonaws.com",
        "ec2": "ec2.us-east-1.amazonaws.com", "mon": "monitoring.us-east-1.amazonaws.com"}


def test_data_collections_ask_for_credentials(anon):
    for name in ALL_COLLECTIONS:
        reply = anon.get(f"/api/{name}?format=json")
        if name in ("drivers", "hardware_profiles", "instance_states"):
            assert reply.status_code == 200, name
        else:
            assert reply.status_code == 401, name
            assert reply.headers["www-authenticate"] == 'Basic realm="ec2-deltacloud@"'


def test_every_collection_lists_in_every_format(client):
    for name in ALL_COLLECTIONS:
        for fmt, media in (("xml", "application/xml"), ("json", "application/json"), ("html", "text/html")):
            reply = client.get(f"/api/{name}?format={fmt}")
            assert reply.status_code == 200, (name, fmt, reply.text[:300])
            assert reply.headers["content-type"].startswith(media)


# -- instances -------------------------------------------------------------------------------------

def test_instance_life_cycle_over_http(client):
    created = client.post("/api/instances?format=xml", data={"image_id": IMAGE_X86_64, "hwp_id": "m1.large",
                                                             "realm_id": "us-east-1b"})
    assert created.status_code == 201, created.text
    doc = ET.fromstring(created.content)
    inst_id = doc.get("id")
    assert created.headers["location"].endswith(f"/api/instances/{inst_id}")
    assert doc.findtext("state") == "PENDING"
    shown = ET.fromstring(client.get(f"/api/instances/{inst_id}?format=xml").content)
    assert shown.findtext("state") == "RUNNING"
    assert shown.find("image").get("id") == IMAGE_X86_64
    assert shown.find("realm").get("id") == "us-east-1b"
    assert shown.find("hardware_profile").get("id") == "m1.large"
    assert shown.find("storage_volumes") is not None and shown.findtext("owner_id") == "123456789012"
    assert [a.get("type") for a in shown.findall("public_addresses/address")] == ["ipv4", "hostname"]
    rels = [link.get("rel") for link in shown.findall("actions/link")]
    assert rels == ["reboot", "stop", "create_image"]
    assert shown.find("authentication").get("type") == "key"
    assert shown.find("firewalls/firewall") is not None

    assert client.delete(f"/api/instances/{inst_id}").status_code == 405  # running: stop it first
    assert client.post(f"/api/instances/{inst_id}/start").status_code == 405
    rebooted = client.post(f"/api/instances/{inst_id}/reboot?format=json")
    assert (rebooted.status_code, rebooted.json()["state"]) == (202, "RUNNING")  # bare instance object
    stopped = client.post(f"/api/instances/{inst_id}/stop?format=json")
    assert stopped.status_code == 202 and stopped.json()["state"] in ("STOPPING", "STOPPED")
    listed = client.get("/api/instances?format=json").json()["instances"]
    assert [(i["id"], i["state"]) for i in listed] == [(inst_id, "STOPPED")]
    assert [a["rel"] for a in listed[0]["actions"]] == ["start", "destroy"]
    assert client.post(f"/api/instances/{inst_id}/start?format=json").status_code == 202
    assert client.post(f"/api/instances/{inst_id}/stop?format=json").status_code == 202
    assert client.delete(f"/api/instances/{inst_id}").status_code == 204
    assert client.get("/api/instances?format=json").json()["instances"] == []
    assert client.get(f"/api/instances/{inst_id}?format=json").json()["instance"]["state"] == "FINISH"


def test_instance_features_over_http(client):
    key = client.post("/api/keys?format=xml", data={"name": "dc-key"})
    assert key.status_code == 201 and ET.fromstring(key.content).findtext("pem")
    firewall = client.post("/api/firewalls?format=xml", data={"name": "dc-web", "description": "web"})
    assert firewall.status_code == 201
    fw_id = ET.fromstring(firewall.content).get("id")
    created = client.post("/api/instances?format=xml", data={
        "image_id": IMAGE_X86_64, "keyname": "dc-key", "firewalls1": fw_id, "user_data": "aGVsbG8="})
    assert created.status_code == 201, created.text
    doc = ET.fromstring(created.content)
    assert doc.findtext("authentication/login/keyname") == "dc-key"
    assert [f.get("id") for f in doc.findall("firewalls/firewall")] == [fw_id]
    several = client.post("/api/instances?format=json", data={"image_id": IMAGE_X86_64, "instance_count": "2"})
    assert several.status_code == 201 and len(several.json()["instances"]) == 2
    assert client.post("/api/instances?format=json", data={"image_id": IMAGE_X86_64,
                                                            "hwp_id": "nope.none"}).status_code == 400
    live_type = client.post("/api/instances?format=json", data={"image_id": IMAGE_X86_64, "hwp_id": "t2.micro"})
    assert live_type.status_code == 201  # not a static profile, but AWS knows the type
    assert live_type.json()["instance"]["hardware_profile"]["id"] == "t2.micro"


def test_images_over_http(client):
    listed = client.get("/api/images?format=json").json()["images"]
    assert {i["id"] for i in listed} == {"ami-dc0001", "ami-dc0002", "ami-dc0003", "ami-dc0004"}
    assert all(i["hardware_profiles"] for i in listed)
    assert [i["id"] for i in client.get("/api/images?format=json&architecture=i386").json()["images"]] == [
        "ami-dc0002"]
    owner = listed[0]["owner"]
    assert all(i["owner"] == owner for i in client.get(f"/api/images?format=json&owner_id={owner}").json()["images"])
    inst = client.post("/api/instances?format=json", data={"image_id": IMAGE_X86_64}).json()["instance"]
    image = client.post("/api/images?format=json", data={"instance_id": inst["id"], "name": "dc-img",
                                                         "description": "from a test"})
    assert image.status_code == 201, image.text
    image_id = image.json()["image"]["id"]
    assert client.get(f"/api/images/{image_id}?format=json").json()["image"]["name"] == "dc-img"
    assert client.delete(f"/api/images/{image_id}").status_code == 204


# -- storage ---------------------------------------------------------------------------------------

def test_volumes_and_snapshots_over_http(client):
    inst = client.post("/api/instances?format=json", data={"image_id": IMAGE_X86_64,
                                                           "realm_id": "us-east-1a"}).json()["instance"]
    created = client.post("/api/storage_volumes?format=json", data={"capacity": "2", "realm_id": "us-east-1a"})
    assert created.status_code == 201, created.text
    vol = created.json()["storage_volume"]
    attached = client.post(f"/api/storage_volumes/{vol['id']}/attach?format=json",
                           data={"instance_id": inst["id"], "device": "/dev/sdh"})
    assert attached.status_code == 202, attached.text
    assert client.get(f"/api/storage_volumes/{vol['id']}?format=json").json()["storage_volume"]["state"] == "IN-USE"
    assert client.post(f"/api/storage_volumes/{vol['id']}/detach?format=json").status_code == 202
    snap = client.post("/api/storage_snapshots?format=json", data={"volume_id": vol["id"]})
    assert snap.status_code == 201, snap.text
    snap_id = snap.json()["storage_snapshot"]["id"]
    assert client.delete(f"/api/storage_snapshots/{snap_id}").status_code == 204
    assert client.delete(f"/api/storage_volumes/{vol['id']}").status_code == 204


def test_buckets_and_blobs_over_http(client):
    assert client.post("/api/buckets?format=xml", data={"name": "dc-http-bucket"}).status_code == 201
    put = client.put("/api/buckets/dc-http-bucket/blob1?format=xml", content=b"This is the test blob content",
                     headers={"Content-Type": "text/plain", "X-Deltacloud-Blobmeta-Version": "1.0",
                              "X-Deltacloud-Blobmeta-Author": "herpyderp"})
    assert put.status_code == 200, put.text
    doc = ET.fromstring(put.content)
    assert (doc.findtext("content_length"), doc.findtext("content_type")) == ("29", "text/plain")
    assert {e.get("key"): e.text for e in doc.findall("user_metadata/entry")} == {"version": "1.0",
                                                                                "author": "herpyderp"}
    head = client.head("/api/buckets/dc-http-bucket/blob1", headers={"Accept": "application/xml"})
    assert head.status_code == 204
    assert head.headers["x-deltacloud-blobmeta-version"] == "1.0"
    updated = client.post("/api/buckets/dc-http-bucket/blob1", headers={
        "Accept": "application/xml", "X-Deltacloud-Blobmeta-Version": "2.5", "X-Deltacloud-Blobmeta-Updated": "true"})
    assert updated.status_code == 204
    assert updated.headers["x-deltacloud-blobmeta-updated"] == "true"
    content = client.get("/api/buckets/dc-http-bucket/blob1/content")
    assert (content.status_code, content.content) == (200, b"This is the test blob content")
    assert content.headers["content-type"] == "text/plain"
    assert content.headers["content-disposition"] == "attachment; filename=blob1"
    form = client.post("/api/buckets/dc-http-bucket?format=json", data={
        "blob_id": "form-blob", "meta_params": "1", "meta_name1": "Author", "meta_value1": "herpyderp"},
        files={"blob_data": ("x.txt", b"posted", "text/x-test")})
    assert form.status_code == 201, form.text
    assert form.json()["blob"]["user_metadata"] == {"author": "herpyderp"}
    bucket = client.get("/api/buckets/dc-http-bucket?format=json").json()["bucket"]
    assert sorted(b["id"] for b in bucket["blob_list"]) == ["blob1", "form-blob"]
    refused = client.delete("/api/buckets/dc-http-bucket?format=json")
    assert (refused.status_code, refused.json()["backend_code"]) == (403, "BucketNotEmpty")
    for blob in ("blob1", "form-blob"):
        assert client.delete(f"/api/buckets/dc-http-bucket/{blob}").status_code == 204
    assert client.get("/api/buckets/dc-http-bucket/blob1?format=json").status_code == 404
    assert client.delete("/api/buckets/dc-http-bucket").status_code == 204


# -- network and monitoring ------------------------------------------------------------------------

def test_addresses_firewalls_load_balancers_over_http(client):
    inst = client.post("/api/instances?format=json", data={"image_id": IMAGE_X86_64}).json()["instance"]
    address = client.post("/api/addresses?format=json")
    assert address.status_code == 201, address.text
    ip = address.json()["address"]["id"]
    assert client.post(f"/api/addresses/{ip}/associate", data={"instance_id": inst["id"]}).status_code == 202
    assert client.get(f"/api/addresses/{ip}?format=json").json()["address"]["instance_id"] == inst["id"]
    assert client.post(f"/api/addresses/{ip}/disassociate").status_code == 202
    assert client.delete(f"/api/addresses/{ip}").status_code == 204

    fw = client.post("/api/firewalls?format=json", data={"name": "dc-fw", "description": "test"}).json()["firewall"]
    rule = client.post(f"/api/firewalls/{fw['id']}/rules?format=json",
                       data={"protocol": "tcp", "port_from": "22", "port_to": "22", "ip_address1": "10.1.2.3/24"})
    assert rule.status_code == 201, rule.text
    rule_id = rule.json()["firewall"]["rules"][0]["id"]
    from urllib.parse import quote

    assert client.delete(f"/api/firewalls/{fw['id']}/{quote(rule_id, safe='')}").status_code == 204
    assert client.get(f"/api/firewalls/{fw['id']}?format=json").json()["firewall"]["rules"] == []
    assert client.delete(f"/api/firewalls/{fw['id']}").status_code == 204

    lb = client.post("/api/load_balancers?format=xml", data={
        "name": "loadBalancerForTest", "realm_id": "us-east-1a", "listener_protocol": "HTTP",
        "listener_balancer_port": "80", "listener_instance_port": "3010"})
    assert lb.status_code == 201, lb.text
    registered = client.post("/api/load_balancers/loadBalancerForTest/register?format=xml",
                             data={"instance_id": inst["id"]})
    assert registered.status_code == 200, registered.text
    assert [i.get("id") for i in ET.fromstring(registered.content).findall("instances/instance")] == [inst["id"]]
    assert client.post("/api/load_balancers/loadBalancerForTest/unregister?format=xml",
                       data={"instance_id": inst["id"]}).status_code == 200
    assert client.delete("/api/load_balancers/loadBalancerForTest").status_code == 204


def test_credentials_are_passed_through_per_request(client, anon):
    assert client.get("/api/realms?format=json").status_code == 200
    assert anon.get("/api/realms?format=json").status_code == 401
    assert anon.get("/api/realms?format=json", auth=AUTH).status_code == 200
    assert anon.get("/api?force_auth=1", auth=AUTH).status_code == 200
