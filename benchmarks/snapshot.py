"""Byte-for-byte guard for performance work: record every answer of a fixed request set, compare later.

    .venv/bin/python benchmarks/snapshot.py record /tmp/before   # before a change
    .venv/bin/python benchmarks/snapshot.py compare /tmp/before  # after it: exit 1 on any difference

The requests cover every collection of the mock driver in XML, JSON and HTML, members, errors
(404, 401, 400, 406, 412), the entry point, creates and actions, on the shipped fixtures plus
instances with awkward values (markup characters, quotes of both kinds, non-ASCII, empty and
missing fields, hardware profile overrides). Bodies and headers are compared exactly, except
``Date`` and ``X-Backend-Runtime`` (which vary by nature); ``ETag`` is compared, so a body
difference shows twice.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

VARYING = {"date", "x-backend-runtime", "x-request-id"}
#: Request ids differ on every run (shown on HTML error pages).
_REQUEST_ID = re.compile(r"(?<=Request id</dt><dd><code>)[0-9a-f]{16}")
AUTH = ("mockuser", "mockpassword")
ACCEPTS = {"xml": "application/xml", "json": "application/json", "html": "text/html"}

AWKWARD = {
    "odd1": {"name": "a <b> & \"c\" 'd'", "owner_id": "mockuser", "image_id": "img1", "realm_id": "eu",
             "state": "STOPPED", "instance_profile": {"id": "m1-large", "overrides": {"cpu": "2", "memory": "8192"}},
             "public_addresses": [{"address": "10.0.0.1", "type": "ipv4"}, {"address": " ", "type": "ipv4"}],
             "private_addresses": [], "create_image": False, "storage_volumes": [{"id": "vol1", "device": "/dev/sdb"}],
             "keyname": "k&y", "network_interfaces": ["nic1", "nic<2>"]},
    "odd2": {"name": "nøn-ascii ✓ \u2028 tab\tnew\nline", "owner_id": "mockuser", "image_id": None,
             "realm_id": None, "state": "PENDING", "instance_profile": None, "public_addresses": ["host.example"],
             "private_addresses": None, "create_image": True, "storage_volumes": [["vol2", None]],
             "keyname": None, "network_interfaces": []},
    "odd3": {"name": None, "owner_id": "mockuser", "state": "RUNNING",
             "instance_profile": {"id": "opaque", "overrides": {"storage": "20", "architecture": "x86_64"}}},
    "other-owner": {"name": "not mine", "owner_id": "someoneelse", "state": "RUNNING"},
}


def _requests() -> list[tuple[str, str, str, dict[str, str], bool]]:
    """(label, method, path, form, authenticated)."""
    out: list[tuple[str, str, str, dict[str, str], bool]] = []
    gets = ["/api", "/api/instances", "/api/instances/inst0", "/api/instances/odd1", "/api/instances/odd2",
            "/api/instances/odd3", "/api/instances/nosuch", "/api/instances?state=RUNNING",
            "/api/instances?id=inst1", "/api/images", "/api/images/img1", "/api/images/nosuch",
            "/api/realms", "/api/realms/us", "/api/realms/500", "/api/hardware_profiles",
            "/api/hardware_profiles/m1-large", "/api/hardware_profiles/opaque", "/api/keys",
            "/api/keys/test-key", "/api/drivers", "/api/drivers/mock", "/api/instance_states",
            "/api;driver=mock/instances", "/api/instances/inst1/run", "/api/nosuch", "/api?force_auth=1"]
    for path in gets:
        for fmt in ACCEPTS:
            out.append((f"GET {path} {fmt}", "GET", path, {}, True))
    for path in ("/api/instances", "/api/instances/inst0", "/api?force_auth=1"):
        out.append((f"GET {path} anonymous", "GET", path, {}, False))
    out.append(("GET ?format=bogus", "GET", "/api/instances?format=bogus", {}, True))
    out.append(("GET format=json", "GET", "/api/instances?format=json", {}, True))
    for fmt in ("xml", "json"):
        out.append((f"POST create {fmt}", "POST", f"/api/instances?format={fmt}",
                    {"image_id": "img1", "name": f"created-{fmt}", "hwp_id": "m1-large", "hwp_memory": "8192"}, True))
        out.append((f"POST create missing {fmt}", "POST", f"/api/instances?format={fmt}", {}, True))
        out.append((f"POST create bad hwp {fmt}", "POST", f"/api/instances?format={fmt}",
                    {"image_id": "img1", "hwp_id": "m1-large", "hwp_memory": "1"}, True))
        out.append((f"POST stop {fmt}", "POST", f"/api/instances/inst1/stop?format={fmt}", {}, True))
        out.append((f"POST reboot stopped {fmt}", "POST", f"/api/instances/inst1/reboot?format={fmt}", {}, True))
        out.append((f"POST start {fmt}", "POST", f"/api/instances/inst1/start?format={fmt}", {}, True))
        out.append((f"POST run {fmt}", "POST", f"/api/instances/inst1/run?format={fmt}", {"cmd": "uname -a"}, True))
    out.append(("GET after changes xml", "GET", "/api/instances", {}, True))
    out.append(("GET after changes json", "GET", "/api/instances?format=json", {}, True))
    for fmt in ACCEPTS:  # lists again: items served from the fragment cache must be the same bytes
        out.append((f"GET again {fmt}", "GET", "/api/instances", {}, True))
        out.append((f"GET again filtered {fmt}", "GET", "/api/instances?state=RUNNING", {}, True))
    out.append(("DELETE created xml", "DELETE", "/api/instances/inst4?format=xml", {}, True))
    out.append(("DELETE running xml", "DELETE", "/api/instances/inst0?format=xml", {}, True))
    out.append(("DELETE nosuch json", "DELETE", "/api/instances/nosuch?format=json", {}, True))
    out.append(("GET after delete xml", "GET", "/api/instances", {}, True))
    out.append(("GET after delete json", "GET", "/api/instances?format=json", {}, True))
    return out


def take() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DELTACLOUD_MOCK_STORAGE"] = tmp
        from deltacloud_mock.store import MockStore
        from starlette.testclient import TestClient

        from deltacloud_core.web import Settings, create_app

        store = MockStore(tmp)
        for id, data in AWKWARD.items():
            store.put("instances", id, data)
        store.close()
        results: list[dict[str, object]] = []
        with TestClient(create_app(Settings(default_driver="mock")), base_url="http://127.0.0.1:3001") as client:
            for label, method, path, form, authed in _requests():
                fmt = label.rsplit(" ", 1)[-1]
                headers = {"Accept": ACCEPTS[fmt]} if fmt in ACCEPTS else {}
                response = client.request(method, path, data=form or None, headers=headers,
                                          auth=AUTH if authed else None, follow_redirects=False)
                results.append({
                    "request": label,
                    "status": response.status_code,
                    "headers": [[k, v] for k, v in response.headers.multi_items() if k not in VARYING],
                    "body": _REQUEST_ID.sub("<request id>", response.content.decode("utf-8", "replace")),
                })
        return results


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("record", "compare"):
        print(__doc__)
        return 2
    target = Path(argv[2])
    results = take()
    if argv[1] == "record":
        target.mkdir(parents=True, exist_ok=True)
        (target / "snapshot.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
        print(f"recorded {len(results)} answers in {target / 'snapshot.json'}")
        return 0
    before = json.loads((target / "snapshot.json").read_text())
    bad = 0
    for old, new in zip(before, results, strict=True):
        if old != new:
            bad += 1
            print(f"DIFFERENT: {old['request']}")
            for key in ("status", "headers", "body"):
                if old[key] != new[key]:
                    print(f"  {key}:\n    before: {str(old[key])[:800]!r}\n    after:  {str(new[key])[:800]!r}")
    print(f"{len(results) - bad} identical, {bad} different")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
