"""``/api/metrics`` over HTTP on the mock driver (API.md §9.13, FORMATS.md §14, MOCK.md §5)."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

BASE = "http://127.0.0.1:3001/api"
NAMES = ["cpuUtilization", "diskReadRequestCount", "diskReadSector", "diskWriteRequestCount", "diskWriteSector",
         "nicInputByte", "nicInputPacket", "nicOutputByte", "nicOutputPacket"]
UNITS = {"cpuUtilization": "Percent", "nicInputByte": "Bytes", "nicOutputByte": "Bytes"}


def test_index_xml(client):
    r = client.get("/api/metrics?format=xml")
    assert r.status_code == 200
    assert "x-backend-runtime" in r.headers
    root = ET.fromstring(r.content)
    assert root.tag == "metrics"
    metrics = root.findall("metric")
    assert [m.get("id") for m in metrics] == ["inst0", "inst1", "inst2", "inst3"]
    assert [m.findtext("entity") for m in metrics] == ["Mock Instance With Profile Change", "MockUserInstance",
                                                       "AnotherInstance", ""]
    for metric in metrics:
        assert metric.get("href") == f"{BASE}/metrics/{metric.get('id')}"
        props = list(metric.find("properties"))
        assert [p.tag for p in props] == NAMES
        assert all(len(p) == 0 for p in props)


def test_index_json(client):
    body = client.get("/api/metrics?format=json").json()
    first = body["metrics"][0]
    assert list(first) == ["id", "href", "entity", "properties"]
    assert first["properties"] == [{"name": n, "values": None} for n in NAMES]
    assert body["metrics"][3]["entity"] == ""


def test_index_html(client):
    r = client.get("/api/metrics", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "inst3" in r.text
    assert "cpuUtilization" in r.text


def test_show_is_the_requested_metric_xml(client):
    before = int(time.time())
    r = client.get("/api/metrics/inst2?format=xml")
    assert r.status_code == 200
    assert r.text.startswith("<?xml")
    root = ET.fromstring(r.content)
    assert (root.tag, root.get("id"), root.findtext("entity")) == ("metric", "inst2", "AnotherInstance")
    props = list(root.find("properties"))
    assert [p.tag for p in props] == NAMES
    for prop in props:
        samples = prop.findall("sample")
        assert len(samples) == 6
        stamps = []
        for sample in samples:
            values = {p.get("name"): p.get("value") for p in sample.findall("property")}
            assert list(values) == ["minimum", "maximum", "average", "timestamp", "unit"]
            assert values["unit"] == UNITS.get(prop.tag, "Count")
            stamps.append(int(values["timestamp"]))
            low, high, avg = float(values["minimum"]), float(values["maximum"]), float(values["average"])
            assert low <= avg <= high
        assert stamps == [stamps[0] - i for i in range(6)]
        assert before <= stamps[0] <= int(time.time())


def test_show_json(client):
    body = client.get("/api/metrics/inst0?format=json").json()["metric"]
    assert (body["id"], body["href"], body["entity"]) == ("inst0", f"{BASE}/metrics/inst0",
                                                          "Mock Instance With Profile Change")
    by_name = {p["name"]: p["values"] for p in body["properties"]}
    assert list(by_name) == NAMES
    cpu = by_name["cpuUtilization"]
    assert len(cpu) == 6
    for sample in cpu:
        assert list(sample) == ["minimum", "maximum", "average", "timestamp", "unit"]
        assert isinstance(sample["minimum"], float)
        assert 0 < sample["minimum"] < 0.5 <= sample["maximum"] < 1
        assert sample["average"] == pytest.approx((sample["minimum"] + sample["maximum"]) / 2)
        assert sample["unit"] == "Percent"
    for sample in by_name["diskReadSector"]:
        assert isinstance(sample["minimum"], int)
        assert sample["average"] == (sample["minimum"] + sample["maximum"]) // 2
        assert sample["unit"] == "Count"


def test_show_html(client):
    r = client.get("/api/metrics/inst1", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "nicOutputPacket" in r.text


@pytest.mark.parametrize("fmt", ["xml", "json", "html"])
def test_show_unknown_is_404(client, fmt):
    r = client.get(f"/api/metrics/nope?format={fmt}")
    assert r.status_code == 404
    assert "x-backend-runtime" in r.headers


def test_metrics_follow_instances(client):
    created = client.post("/api/instances?format=json", data={"image_id": "img1", "name": "metered"}).json()
    new_id = created["instance"]["id"]
    ids = [m["id"] for m in client.get("/api/metrics?format=json").json()["metrics"]]
    assert new_id in ids
    assert client.get(f"/api/metrics/{new_id}?format=json").json()["metric"]["entity"] == "metered"


@pytest.mark.parametrize("path", ["/api/metrics", "/api/metrics/inst1"])
def test_needs_credentials(anon, path):
    assert anon.get(path + "?format=json").status_code == 401


def test_options(anon):
    assert anon.options("/api/metrics").headers["allow"] == "OPTIONS,GET"
    assert anon.options("/api/metrics/show").headers["allow"] == "id:string:required"


def test_no_write_routes(client):
    assert client.post("/api/metrics?format=xml").status_code == 404
    assert client.delete("/api/metrics/inst1?format=xml").status_code == 404
