"""Random instance life cycles on the mock driver, through the HTTP API, checked against the
state machine the server itself publishes at ``/api/instance_states``.

A hypothesis ``RuleBasedStateMachine`` creates instances and fires start/stop/reboot/destroy
at random (legal or not), in XML or JSON, asked for by ``?format=`` or by ``Accept``. After
every step the instance list must agree with the model: same ids, same states, every state
one of the machine's, and each instance's action links exactly the machine's actions for its
state. Illegal actions must answer 405 ``Method Not Allowed`` and change nothing; unknown ids
403 on actions and 404 on show.
"""

from __future__ import annotations

import itertools
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

BASE_URL = "http://127.0.0.1:3001"
MOCK_AUTH = ("mockuser", "mockpassword")
FORMATS = ("xml", "json")
MEDIA = {"xml": "application/xml", "json": "application/json"}
ACTIONS = ("start", "stop", "reboot", "destroy")
#: Links an instance carries that are not state-machine actions.
NON_STATE_RELS = {"run", "create_image"}

SETTINGS = settings(max_examples=25, stateful_step_count=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Link:
    rel: str
    method: str
    href: str


@dataclass(frozen=True)
class Seen:
    """What the server shows of one instance."""

    id: str
    state: str
    links: tuple[Link, ...]

    @property
    def actions(self) -> list[str]:
        return [link.rel for link in self.links if link.rel not in NON_STATE_RELS]


def _from_json(obj: dict) -> Seen:
    links = tuple(Link(a["rel"], a.get("method", ""), a["href"]) for a in obj.get("actions", []))
    return Seen(obj["id"], obj["state"], links)


def _from_xml(elem: ET.Element) -> Seen:
    state = elem.findtext("state")
    links = tuple(Link(link.get("rel", ""), link.get("method", ""), link.get("href", ""))
                  for link in elem.findall("actions/link"))
    return Seen(elem.get("id", ""), state or "", links)


def parse_instance(response: httpx.Response, fmt: str, *, wrapped: bool = True) -> Seen:
    if fmt == "json":
        body = response.json()
        return _from_json(body["instance"] if wrapped else body)
    root = ET.fromstring(response.content)
    assert root.tag == "instance", response.text
    return _from_xml(root)


def parse_instances(response: httpx.Response, fmt: str) -> dict[str, Seen]:
    if fmt == "json":
        items = [_from_json(obj) for obj in response.json()["instances"]]
    else:
        root = ET.fromstring(response.content)
        assert root.tag == "instances", response.text
        items = [_from_xml(e) for e in root.findall("instance")]
    out = {item.id: item for item in items}
    assert len(out) == len(items), "an instance is listed twice"
    return out


def error_message(response: httpx.Response, fmt: str) -> str:
    if fmt == "json":
        return response.json()["message"]
    root = ET.fromstring(response.content)
    assert root.tag == "error", response.text
    assert root.get("status") == str(response.status_code)
    return (root.findtext("message") or "").strip()


def make_lifecycle_machine(base_dir: Path) -> type[RuleBasedStateMachine]:
    """The state machine class; each example gets a fresh mock store below ``base_dir``."""
    from starlette.testclient import TestClient

    from deltacloud_core.web import Settings, create_app

    numbers = itertools.count()

    class InstanceLifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            os.environ["DELTACLOUD_MOCK_STORAGE"] = str(base_dir / f"store-{next(numbers)}")
            self.client = TestClient(create_app(Settings(default_driver="mock")), base_url=BASE_URL)
            self.client.__enter__()
            self.client.auth = MOCK_AUTH
            self.checks = 0
            states = self.client.get("/api/instance_states?format=json")
            assert states.status_code == 200, states.text
            #: state -> [(destination, action or None)], from the server's own description.
            self.machine: dict[str, list[tuple[str, str | None]]] = {
                s["name"]: [(t["to"], t.get("action")) for t in s["transitions"]] for s in states.json()}
            assert "start" in self.machine and "finish" in self.machine
            listing = parse_instances(self.client.get("/api/instances?format=json"), "json")
            #: id -> the state the model expects the server to show (upper case, as in bodies).
            self.expected: dict[str, str] = {i: seen.state for i, seen in listing.items()}
            #: ids destroyed and not re-used since.
            self.gone: set[str] = set()

        def teardown(self) -> None:
            self.client.__exit__(None, None, None)

        # -- the model ---------------------------------------------------------------------
        def actions_for(self, state: str) -> list[str]:
            return [a for _to, a in self.machine.get(state.lower(), []) if a]

        def next_state(self, state: str, action: str) -> str | None:
            for to, a in self.machine.get(state.lower(), []):
                if a == action:
                    return to
            return None

        # -- HTTP helpers ------------------------------------------------------------------
        def send(self, method: str, path: str, fmt: str, via: str, **kwargs: object) -> httpx.Response:
            if via == "query":
                return self.client.request(method, f"{path}?format={fmt}", **kwargs)
            return self.client.request(method, path, headers={"Accept": MEDIA[fmt]}, **kwargs)

        def act(self, iid: str, action: str, fmt: str, via: str) -> httpx.Response:
            if action == "destroy":
                return self.send("DELETE", f"/api/instances/{iid}", fmt, via)
            return self.send("POST", f"/api/instances/{iid}/{action}", fmt, via)

        def show(self, iid: str, fmt: str) -> Seen:
            r = self.client.get(f"/api/instances/{iid}?format={fmt}")
            assert r.status_code == 200, r.text
            return parse_instance(r, fmt)

        def check_links(self, seen: Seen) -> None:
            """Action links are the machine's actions for the state, with the right method/URL."""
            assert seen.state.lower() in self.machine, f"{seen.id}: state {seen.state} not in the machine"
            assert seen.actions == self.actions_for(seen.state), (seen.id, seen.state, seen.actions)
            base = f"{BASE_URL}/api/instances/{seen.id}"
            for link in seen.links:
                if link.rel == "destroy":
                    assert (link.method, link.href) == ("delete", base)
                elif link.rel in ("start", "stop", "reboot"):
                    assert (link.method, link.href) == ("post", f"{base}/{link.rel}")

        # -- rules -------------------------------------------------------------------------
        @rule(fmt=st.sampled_from(FORMATS), via=st.sampled_from(["query", "accept"]),
              initial=st.sampled_from([None, "RUNNING", "STOPPED"]))
        def create(self, fmt: str, via: str, initial: str | None) -> None:
            data = {"image_id": "img1"}
            if initial:
                data["initial_state"] = initial
            r = self.send("POST", "/api/instances", fmt, via, data=data)
            assert r.status_code == 201, r.text
            seen = parse_instance(r, fmt)
            assert seen.id not in self.expected
            assert r.headers["location"] == f"{BASE_URL}/api/instances/{seen.id}"
            assert seen.state == (initial or "RUNNING")
            self.check_links(seen)
            self.expected[seen.id] = seen.state
            self.gone.discard(seen.id)

        @precondition(lambda self: self.expected)
        @rule(data=st.data(), action=st.sampled_from(ACTIONS), fmt=st.sampled_from(FORMATS),
              via=st.sampled_from(["query", "accept"]))
        def instance_action(self, data: st.DataObject, action: str, fmt: str, via: str) -> None:
            iid = data.draw(st.sampled_from(sorted(self.expected)), label="instance")
            state = self.expected[iid]
            r = self.act(iid, action, fmt, via)
            if action not in self.actions_for(state):
                before = self.show(iid, fmt)
                assert r.status_code == 405, (iid, state, action, r.status_code, r.text)
                assert error_message(r, fmt) == "Method Not Allowed"
                assert "allow" not in {k.lower() for k in r.headers}
                after = self.show(iid, fmt)
                assert (after.state, after.actions) == (before.state, before.actions) == (
                    state, self.actions_for(state))
                return
            target = self.next_state(state, action)
            assert target is not None
            if action == "destroy":
                assert r.status_code == 204, r.text
                assert r.content == b""
                assert target == "finish"
                del self.expected[iid]
                self.gone.add(iid)
                return
            assert r.status_code == 202, (iid, state, action, r.status_code, r.text)
            seen = parse_instance(r, fmt, wrapped=False)  # JSON: the bare instance object
            assert seen.id == iid
            assert seen.state == target.upper()
            self.check_links(seen)
            self.expected[iid] = seen.state

        @rule(data=st.data(), action=st.sampled_from(ACTIONS), fmt=st.sampled_from(FORMATS),
              via=st.sampled_from(["query", "accept"]))
        def action_on_unknown_instance(self, data: st.DataObject, action: str, fmt: str, via: str) -> None:
            iid = data.draw(st.sampled_from(sorted(self.gone | {"nope", "inst999"})), label="unknown id")
            r = self.act(iid, action, fmt, via)
            assert r.status_code == 403, (iid, action, r.status_code, r.text)
            assert error_message(r, fmt) == "Forbidden"

        @rule(data=st.data(), fmt=st.sampled_from(FORMATS))
        def show_unknown_instance(self, data: st.DataObject, fmt: str) -> None:
            iid = data.draw(st.sampled_from(sorted(self.gone | {"nope"})), label="unknown id")
            r = self.client.get(f"/api/instances/{iid}?format={fmt}")
            assert r.status_code == 404, r.text
            assert error_message(r, fmt) == "Not Found"

        # -- invariants --------------------------------------------------------------------
        @invariant()
        def listing_agrees_with_the_model(self) -> None:
            fmt = FORMATS[self.checks % 2]
            self.checks += 1
            r = self.client.get(f"/api/instances?format={fmt}")
            assert r.status_code == 200, r.text
            listing = parse_instances(r, fmt)
            assert set(listing) == set(self.expected)
            for iid, seen in listing.items():
                assert seen.state == self.expected[iid], (iid, seen.state, self.expected[iid])
                self.check_links(seen)

        @invariant()
        def destroyed_instances_stay_gone(self) -> None:
            for iid in sorted(self.gone):
                assert self.client.get(f"/api/instances/{iid}?format=json").status_code == 404

    return InstanceLifecycle


def test_random_instance_life_cycles(tmp_path: Path, monkeypatch) -> None:
    # Recorded here so the variable is restored afterwards; each example points it elsewhere.
    monkeypatch.setenv("DELTACLOUD_MOCK_STORAGE", str(tmp_path / "unused"))
    run_state_machine_as_test(make_lifecycle_machine(tmp_path), settings=SETTINGS)


def test_machine_model_matches_the_declared_mock_machine(client) -> None:
    """The model is read from the server; make sure it is the mock's table (STATES.md §5)."""
    body = client.get("/api/instance_states?format=json").json()
    table = {s["name"]: [(t["to"], t.get("action") or "auto") for t in s["transitions"]] for s in body}
    assert table == {
        "start": [("pending", "create")],
        "pending": [("running", "auto")],
        "running": [("running", "reboot"), ("stopped", "stop")],
        "stopped": [("running", "start"), ("finish", "destroy")],
        "finish": [],
    }
