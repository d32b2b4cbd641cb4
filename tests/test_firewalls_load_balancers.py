"""``/api/firewalls`` and ``/api/load_balancers``: 412 on the mock (which has neither), and every
route with a small in-test driver that has both (API.md §2 step 7, §9.11, §9.12, §12; FORMATS.md
§12, §13)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote

import pytest

from deltacloud_core import Driver, Instance, Realm
from deltacloud_core.errors import ObjectNotFound
from deltacloud_core.models import Firewall, FirewallRule, FirewallRuleSource, Listener, LoadBalancer

BASE = "http://127.0.0.1:3001/api"
PLAIN = "text/html;charset=utf-8"
MISSING = "The required capability to execute this operation is missing"
HTML = {"Accept": "text/html"}
FW = {"X-Deltacloud-Driver": "fwtest"}
OWNER = "393485797142"
RULE_ID = f"{OWNER}~tcp~22~22~@address,ipv4,10.1.2.3,24"

# (method, path, Expect) of every API route of the two collections.
ROUTES = [
    ("GET", "/api/firewalls", "firewalls"),
    ("GET", "/api/firewalls/fw1", "firewalls"),
    ("POST", "/api/firewalls", "create_firewall"),
    ("DELETE", "/api/firewalls/fw1", "delete_firewall"),
    ("POST", "/api/firewalls/fw1/rules", "create_firewall_rule"),
    ("DELETE", f"/api/firewalls/fw1/{quote(RULE_ID, safe='')}", "delete_firewall_rule"),
    ("GET", "/api/load_balancers", "load_balancers"),
    ("GET", "/api/load_balancers/lb1", "load_balancer"),
    ("POST", "/api/load_balancers", "create_load_balancer"),
    ("POST", "/api/load_balancers/lb1/register", "lb_register_instance"),
    ("POST", "/api/load_balancers/lb1/unregister", "lb_unregister_instance"),
    ("DELETE", "/api/load_balancers/lb1", "destroy_load_balancer"),
]


# -- the mock has neither: 412 ---------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "expect"), ROUTES)
@pytest.mark.parametrize("who", ["client", "anon"])
@pytest.mark.parametrize("negotiate", ["?format=xml", "?format=json", "?format=html", "", "accept-json"])
def test_mock_answers_412(request, method, path, expect, who, negotiate):
    c = request.getfixturevalue(who)
    headers = {"Accept": "application/json"} if negotiate == "accept-json" else {}
    query = "" if negotiate == "accept-json" else negotiate
    r = c.request(method, path + query, headers=headers)
    assert r.status_code == 412
    assert r.headers["expect"] == expect
    assert r.headers["content-type"] == PLAIN
    assert r.text == MISSING
    assert r.headers["content-length"] == "60"
    assert "etag" not in r.headers
    assert "x-backend-runtime" not in r.headers
    assert r.headers["x-deltacloud-driver"] == "mock"
    assert r.headers["server"].startswith("Apache-Deltacloud/")


def test_412_comes_before_the_parameter_check(anon):
    r = anon.post("/api/firewalls?format=xml")  # name/description missing, but no capability first
    assert (r.status_code, r.headers["expect"]) == (412, "create_firewall")
    r = anon.post("/api/load_balancers/lb1/register?format=json")
    assert (r.status_code, r.headers["expect"]) == (412, "lb_register_instance")


def test_412_on_head(anon):
    r = anon.head("/api/load_balancers/lb1")
    assert r.status_code == 412
    assert r.headers["expect"] == "load_balancer"


def test_mock_entry_point_lists_neither(client):
    rels = [link["rel"] for link in client.get("/api?format=json").json()["api"]["links"]]
    assert "firewalls" not in rels
    assert "load_balancers" not in rels
    assert {"addresses", "metrics", "networks", "subnets", "network_interfaces"} <= set(rels)


@pytest.mark.parametrize(("path", "anon_status", "text"), [
    ("/api/firewalls/new", 200, 'name="description"'),
    ("/api/firewalls/fw1/new_rule", 200, 'name="ip_address1"'),
    ("/api/load_balancers/new", 401, 'name="listener_protocol"'),
])
def test_mock_forms_still_answer(client, anon, path, anon_status, text):
    r = client.get(path, headers=HTML)
    assert r.status_code == 200
    assert text in r.text
    assert anon.get(path, headers=HTML).status_code == anon_status
    assert client.get(path + "?format=xml").status_code == 406


@pytest.mark.parametrize("path", ["/api/firewalls", "/api/load_balancers"])
def test_mock_options_still_answer(anon, path):
    r = anon.options(path)
    assert r.status_code == 200
    assert r.headers["allow"] == "OPTIONS,GET,POST,DELETE"
    assert r.headers["content-type"] == PLAIN
    assert r.content == b""


@pytest.mark.parametrize(("path", "allow"), [
    ("/api/firewalls/create", "name:string:required,description:string:required"),
    ("/api/firewalls/fw1/rules", "protocol:required:optional,port_from:required:optional,port_to:required:optional"),
    ("/api/load_balancers/create", "name:string:required,realm_id:string:required,"
                                   "listener_protocol:string:required,listener_balancer_port:string:required,"
                                   "listener_instance_port:string:required"),
    ("/api/load_balancers/lb1/register", "id:string:required,instance_id:string:required"),
])
def test_operation_options(anon, path, allow):
    assert anon.options(path).headers["allow"] == allow


# -- an in-test driver with firewalls and load balancers -------------------------------------

def _rule_id(protocol: str | None, port_from: str | None, port_to: str | None,
             sources: tuple[FirewallRuleSource, ...]) -> str:
    parts = []
    for s in sources:
        if s.type == "group":
            parts.append(f"@group,{s.owner},{s.name}")
        else:
            parts.append(f"@address,{s.family},{s.address},{s.prefix}")
    return f"{OWNER}~{protocol}~{port_from}~{port_to}~" + ",".join(parts)


class FwTestDriver(Driver):
    """Firewalls and load balancers in a class-level dict (reset per test by the fixture)."""

    DISPLAY_NAME: ClassVar[str | None] = "FwTest"
    data: ClassVar[dict[str, Any]] = {}
    calls: ClassVar[list[tuple[str, Any]]] = []

    def _auth(self) -> None:
        self.credentials  # noqa: B018 - any credentials will do, but some are needed

    def list_realms(self, **filters: str) -> list[Realm]:
        self._auth()
        realms = [Realm(id="us-east-1a", name="Virginia A"), Realm(id="us-east-1b", name="Virginia B")]
        return [r for r in realms if not filters.get("id") or r.id == filters["id"]]

    def list_instances(self, **filters: str) -> list[Instance]:
        self._auth()
        instances = list(self.data["instances"].values())
        return [i for i in instances if not filters.get("id") or i.id == filters["id"]]

    # firewalls
    def list_firewalls(self, **filters: str) -> list[Firewall]:
        self._auth()
        fws = sorted(self.data["firewalls"].values(), key=lambda f: f.id)
        return [f for f in fws if not filters.get("id") or f.id == filters["id"]]

    def create_firewall(self, *, name: str, description: str, **extra: str) -> Firewall:
        self._auth()
        self.calls.append(("create_firewall", {"name": name, "description": description, **extra}))
        fw = Firewall(id=name, name=name, description=description, owner_id=OWNER)
        self.data["firewalls"][name] = fw
        return fw

    def destroy_firewall(self, id: str) -> None:
        self._auth()
        if self.data["firewalls"].pop(id, None) is None:
            raise ObjectNotFound(f"Firewall '{id}' not found")

    def create_firewall_rule(self, id: str, *, protocol: str | None, port_from: str | None, port_to: str | None,
                             sources: Any, **extra: str) -> None:
        self._auth()
        self.calls.append(("create_firewall_rule", {"id": id, "protocol": protocol, "port_from": port_from,
                                                    "port_to": port_to, "sources": sources, **extra}))
        fw = self.data["firewalls"].get(id)
        if fw is None:
            raise ObjectNotFound(f"Firewall '{id}' not found")
        rule = FirewallRule(id=_rule_id(protocol, port_from, port_to, tuple(sources)), allow_protocol=protocol,
                            port_from=port_from, port_to=port_to, direction="ingress", sources=tuple(sources))
        self.data["firewalls"][id] = Firewall(id=fw.id, name=fw.name, description=fw.description,
                                              owner_id=fw.owner_id, rules=(*fw.rules, rule))

    def destroy_firewall_rule(self, id: str, rule_id: str) -> None:
        self._auth()
        self.calls.append(("destroy_firewall_rule", {"id": id, "rule_id": rule_id}))
        fw = self.data["firewalls"].get(id)
        if fw is None or rule_id not in [r.id for r in fw.rules]:
            raise ObjectNotFound(f"Rule '{rule_id}' not found")
        self.data["firewalls"][id] = Firewall(id=fw.id, name=fw.name, description=fw.description,
                                              owner_id=fw.owner_id, rules=tuple(r for r in fw.rules
                                                                                if r.id != rule_id))

    # load balancers
    def list_load_balancers(self, **filters: str) -> list[LoadBalancer]:
        self._auth()
        lbs = sorted(self.data["load_balancers"].values(), key=lambda lb: lb.id)
        return [lb for lb in lbs if not filters.get("id") or lb.id == filters["id"]]

    def create_load_balancer(self, *, name: str, realm_id: str, listener_protocol: str,
                             listener_balancer_port: str, listener_instance_port: str, **extra: str) -> LoadBalancer:
        self._auth()
        lb = LoadBalancer(id=name, realms=(realm_id,),
                          listeners=(Listener(listener_protocol, listener_balancer_port, listener_instance_port),),
                          public_addresses=(f"{name}-1.elb.example.com",), created_at="2013-03-06 10:00:00 UTC")
        self.data["load_balancers"][name] = lb
        return lb

    def destroy_load_balancer(self, id: str) -> None:
        self._auth()
        if self.data["load_balancers"].pop(id, None) is None:
            raise ObjectNotFound(f"Load balancer '{id}' not found")

    def _members(self, id: str, instance_id: str, add: bool) -> LoadBalancer | None:
        self._auth()
        lb = self.data["load_balancers"].get(id)
        if lb is None:
            raise ObjectNotFound(f"Load balancer '{id}' not found")
        others = tuple(i for i in lb.instances if i.id != instance_id)
        if add:
            others = (*others, self.data["instances"][instance_id])
        self.data["load_balancers"][id] = LoadBalancer(
            id=lb.id, realms=lb.realms, listeners=lb.listeners, instances=others,
            public_addresses=lb.public_addresses, created_at=lb.created_at)
        return None if add else self.data["load_balancers"][id]  # both answers must work

    def register_instance(self, id: str, *, instance_id: str) -> LoadBalancer | None:
        return self._members(id, instance_id, True)

    def unregister_instance(self, id: str, *, instance_id: str) -> LoadBalancer | None:
        return self._members(id, instance_id, False)


class ListOnlyDriver(Driver):
    """Lists firewalls and load balancers, but can do nothing else."""


    def list_firewalls(self, **filters: str) -> list[Firewall]:
        return [Firewall(id="x", rules=(FirewallRule(id="r"),))]

    def list_load_balancers(self, **filters: str) -> list[LoadBalancer]:
        return []


def _fresh_data() -> dict[str, Any]:
    rule = FirewallRule(id=RULE_ID, allow_protocol="tcp", port_from=22, port_to=22, direction="ingress",
                        sources=(FirewallRuleSource.cidr("10.1.2.3/24"),))
    web1 = Instance(id="i-4f06b52e", state="RUNNING", name="web1", image_id="ami-1", realm_id="us-east-1a")
    web2 = Instance(id="i-77777777", state="RUNNING", name="web2", image_id="ami-1", realm_id="us-east-1a")
    return {
        "firewalls": {"test": Firewall(id="test", name="test", description="test group", owner_id=OWNER,
                                       rules=(rule,)),
                      "empty": Firewall(id="empty", name="empty", description="<b>no rules</b>", owner_id=OWNER)},
        "load_balancers": {"web": LoadBalancer(
            id="web", realms=("us-east-1a",), listeners=(Listener("HTTP", "80", "3010"),),
            instances=(web1,), public_addresses=("web-123.us-east-1.elb.amazonaws.com",),
            created_at="2013-03-06 10:00:00 UTC")},
        "instances": {"i-4f06b52e": web1, "i-77777777": web2},
    }


@pytest.fixture
def fw_app(mock_storage) -> Iterator[Any]:
    from deltacloud_core.drivers.registry import DriverRegistry
    from deltacloud_core.web import Settings, create_app

    FwTestDriver.data = _fresh_data()
    FwTestDriver.calls = []
    registry = DriverRegistry()
    registry.register("fwtest", FwTestDriver)
    registry.register("listonly", ListOnlyDriver)
    yield create_app(Settings(default_driver="mock"), drivers=registry)


@pytest.fixture
def fw(fw_app) -> Iterator[Any]:
    """A client on the fwtest driver, with credentials."""
    from starlette.testclient import TestClient

    with TestClient(fw_app, base_url="http://127.0.0.1:3001", headers=FW) as c:
        c.auth = ("someone", "secret")
        yield c


@pytest.fixture
def fw_anon(fw_app) -> Iterator[Any]:
    from starlette.testclient import TestClient

    with TestClient(fw_app, base_url="http://127.0.0.1:3001", headers=FW) as c:
        yield c


def _xml(r) -> ET.Element:
    return ET.fromstring(r.content)


def _links(element: ET.Element) -> list[tuple[str | None, ...]]:
    return [(link.get("rel"), link.get("method"), link.get("href"), link.get("id"))
            for link in element.findall("actions/link")]


def test_entry_point_lists_both(fw):
    rels = [link["rel"] for link in fw.get("/api?format=json").json()["api"]["links"]]
    assert "firewalls" in rels
    assert "load_balancers" in rels
    assert rels == sorted(rels)


@pytest.mark.parametrize("path", ["/api/firewalls", "/api/firewalls/test", "/api/load_balancers",
                                  "/api/load_balancers/web"])
def test_reads_need_credentials(fw_anon, path):
    assert fw_anon.get(path + "?format=xml").status_code == 401


# firewalls: reading

def test_firewall_show_xml(fw):
    r = fw.get("/api/firewalls/test?format=xml")
    assert r.status_code == 200
    assert "x-backend-runtime" in r.headers
    assert r.text.startswith("<?xml")
    root = _xml(r)
    assert (root.tag, root.get("id"), root.get("href")) == ("firewall", "test", f"{BASE}/firewalls/test")
    assert _links(root) == [("destroy", "delete", f"{BASE}/firewalls/test", None),
                            ("update", "post", f"{BASE}/firewalls/test/rules", None)]
    assert [c.tag for c in root] == ["actions", "name", "description", "owner_id", "rules"]
    assert (root.findtext("name"), root.findtext("description"), root.findtext("owner_id")) == (
        "test", "test group", OWNER)
    rule = root.find("rules/rule")
    rule_href = f"{BASE}/firewalls/test/{quote(RULE_ID, safe='')}"
    assert (rule.get("id"), rule.get("href")) == (RULE_ID, rule_href)
    assert _links(rule) == [("destroy", "delete", rule_href, None)]
    assert [(c.tag, c.text or "") for c in rule if c.tag not in ("actions", "sources")] == [
        ("allow_protocol", "tcp"), ("port_from", "22"), ("port_to", "22"), ("direction", "ingress"),
        ("rule_action", ""), ("log_rule", "")]
    assert [s.attrib for s in rule.findall("sources/source")] == [
        {"address": "10.1.2.3", "family": "ipv4", "prefix": "24", "type": "address"}]


def test_firewall_show_json(fw):
    assert fw.get("/api/firewalls/test?format=json").json() == {"firewall": {
        "id": "test", "href": f"{BASE}/firewalls/test", "name": "test", "description": "test group",
        "owner_id": OWNER,
        "rules": [{"id": RULE_ID, "allow_protocol": "tcp", "port_from": 22, "port_to": 22,
                   "sources": [{"type": "address", "family": "ipv4", "address": "10.1.2.3", "prefix": "24"}],
                   "direction": "ingress"}]}}


def test_firewall_index_xml_is_the_list_variant(fw):
    r = fw.get("/api/firewalls?format=xml")
    assert r.status_code == 200
    root = _xml(r)
    assert root.tag == "firewalls"
    assert [f.get("id") for f in root.findall("firewall")] == ["empty", "test"]
    test = root.find("firewall[@id='test']")
    assert _links(test) == [("destroy", "delete", f"{BASE}/firewalls/test", "test"),
                            ("add_rule", "post", f"{BASE}/firewalls/test/rules", "test")]
    rule = test.find("rules/rule")
    assert rule.get("href") is None
    assert rule.get("id") == RULE_ID
    assert _links(rule)[0][3] == RULE_ID
    empty = root.find("firewall[@id='empty']")
    assert empty.findtext("description") == "<b>no rules</b>"
    assert len(empty.find("rules")) == 0


def test_firewall_index_json_and_filter(fw):
    assert [f["id"] for f in fw.get("/api/firewalls?format=json").json()["firewalls"]] == ["empty", "test"]
    assert [f["id"] for f in fw.get("/api/firewalls?format=json&id=test").json()["firewalls"]] == ["test"]


@pytest.mark.parametrize("path", ["/api/firewalls", "/api/firewalls/test"])
def test_firewall_html(fw, path):
    r = fw.get(path, headers=HTML)
    assert r.status_code == 200
    assert "test group" in r.text


def test_firewall_html_escapes(fw):
    assert "&lt;b&gt;no rules&lt;/b&gt;" in fw.get("/api/firewalls/empty", headers=HTML).text


@pytest.mark.parametrize("fmt", ["xml", "json", "html"])
def test_firewall_unknown_is_404(fw, fmt):
    assert fw.get(f"/api/firewalls/nope?format={fmt}").status_code == 404


# firewalls: writing

@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_create_firewall(fw, fmt):
    r = fw.post(f"/api/firewalls?format={fmt}", data={"name": "web", "description": "web servers",
                                                      "vpc": "vpc-1"})
    assert r.status_code == 201
    assert r.headers["location"] == f"{BASE}/firewalls/web"
    if fmt == "json":
        assert r.json()["firewall"]["description"] == "web servers"
    else:
        assert _xml(r).findtext("name") == "web"
    assert FwTestDriver.calls == [("create_firewall", {"name": "web", "description": "web servers", "vpc": "vpc-1"})]


@pytest.mark.parametrize(("data", "message"), [
    ({"description": "x"}, "Required parameter 'name' not found in [format,description]"),
    ({"name": "x"}, "Required parameter 'description' not found in [format,name]"),
])
def test_create_firewall_missing_parameter(fw, fw_anon, data, message):
    r = fw.post("/api/firewalls?format=xml", data=data)
    assert (r.status_code, r.text, r.headers["content-type"]) == (400, message, PLAIN)
    # Without credentials a body is not read: 401 (a deviation from the original, see test_golden).
    assert fw_anon.post("/api/firewalls?format=xml", data=data).status_code == 401
    assert sorted(FwTestDriver.data["firewalls"]) == ["empty", "test"]
    assert FwTestDriver.calls == []


def test_destroy_firewall(fw):
    r = fw.delete("/api/firewalls/empty?format=xml")
    assert r.status_code == 204
    assert "empty" not in FwTestDriver.data["firewalls"]
    assert fw.delete("/api/firewalls/empty?format=json").status_code == 404


def test_destroy_firewall_html_redirects(fw):
    r = fw.post("/api/firewalls/empty", data={"_method": "delete"}, headers=HTML, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"{BASE}/firewalls")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_add_rule(fw, fmt):
    r = fw.post(f"/api/firewalls/empty/rules?format={fmt}", data={
        "protocol": "tcp", "port_from": "80", "port_to": "81", "ip_address1": "10.1.1.1/24",
        "ip-address2": "0.0.0.0/0", "IP_ADDRESS3": "2001:db8::/32", "group1": "web",
        "group1owner": "111", "group2": "db", "group2owner": "222"})
    assert r.status_code == 201
    assert "location" not in r.headers
    _, call = FwTestDriver.calls[-1]
    assert (call["id"], call["protocol"], call["port_from"], call["port_to"]) == ("empty", "tcp", "80", "81")
    assert call["sources"] == (
        FirewallRuleSource.cidr("10.1.1.1/24"), FirewallRuleSource.cidr("0.0.0.0/0"),
        FirewallRuleSource(type="address", family="ipv6", address="2001:db8::", prefix="32"),
        FirewallRuleSource.group("web", "111"), FirewallRuleSource.group("db", "222"))
    rule_id = f"{OWNER}~tcp~80~81~@address,ipv4,10.1.1.1,24,@address,ipv4,0.0.0.0,0," \
              f"@address,ipv6,2001:db8::,32,@group,111,web,@group,222,db"
    if fmt == "json":
        rule = r.json()["firewall"]["rules"][0]
        assert rule["id"] == rule_id
        assert rule["sources"][3] == {"type": "group", "name": "web", "owner": "111"}
    else:
        root = _xml(r)
        assert root.tag == "firewall"
        sources = [s.attrib for s in root.findall("rules/rule/sources/source")]
        assert sources[3] == {"name": "web", "owner": "111", "type": "group"}


def test_add_rule_without_protocol_or_ports_reaches_the_driver(fw):
    r = fw.post("/api/firewalls/empty/rules?format=json", data={"ip_address": "10.0.0.1"})
    assert r.status_code == 201
    _, call = FwTestDriver.calls[-1]
    assert (call["protocol"], call["port_from"], call["port_to"]) == (None, None, None)
    assert call["sources"] == (FirewallRuleSource(type="address", family="ipv4", address="10.0.0.1",
                                                  prefix="32"),)


@pytest.mark.parametrize("data", [
    {"protocol": "tcp", "port_from": "22", "port_to": "22"},
    {"protocol": "tcp", "ip_address1": "", "group1": "", "group1owner": ""},
    {"group1": "web"},  # one group param: 1 // 2 = 0 pairs, as the original counts
])
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_add_rule_without_sources_is_400(fw, data, fmt):
    before = FwTestDriver.data["firewalls"]["empty"]
    r = fw.post(f"/api/firewalls/empty/rules?format={fmt}", data=data)
    assert r.status_code == 400
    message = "No sources. Specify at least one source ip address or group."
    if fmt == "json":
        assert r.json() == {"code": 400, "message": message, "error": "Deltacloud::Exceptions::ValidationFailure"}
    else:
        assert _xml(r).findtext("message") == message
    assert FwTestDriver.data["firewalls"]["empty"] == before
    assert FwTestDriver.calls == []


def test_add_rule_html_shows_the_firewall(fw):
    r = fw.post("/api/firewalls/empty/rules", data={"protocol": "udp", "port_from": "53", "port_to": "53",
                                                    "ip_address1": "10.0.0.0/8"}, headers=HTML)
    assert r.status_code == 201
    assert "10.0.0.0/8" in r.text


def test_add_rule_unknown_firewall_is_404(fw):
    assert fw.post("/api/firewalls/nope/rules?format=json", data={"ip_address1": "1.2.3.4/32"}).status_code == 404


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_destroy_rule_with_encoded_id(fw, fmt):
    r = fw.delete(f"/api/firewalls/test/{quote(RULE_ID, safe='')}?format={fmt}")
    assert r.status_code == 204
    assert FwTestDriver.calls == [("destroy_firewall_rule", {"id": "test", "rule_id": RULE_ID})]
    assert FwTestDriver.data["firewalls"]["test"].rules == ()


def test_destroy_rule_with_raw_id(fw):
    # ``~ @ ,`` are legal in a path segment, so an unencoded id works too.
    assert fw.delete(f"/api/firewalls/test/{RULE_ID}?format=xml").status_code == 204


def test_destroy_rule_follows_the_href(fw):
    href = _xml(fw.get("/api/firewalls/test?format=xml")).find("rules/rule").get("href")
    assert fw.delete(href.replace("http://127.0.0.1:3001", "") + "?format=xml").status_code == 204


def test_destroy_rule_html_redirects_to_the_firewall(fw):
    r = fw.post(f"/api/firewalls/test/{quote(RULE_ID, safe='')}", data={"_method": "delete"}, headers=HTML,
                follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"{BASE}/firewalls/test")


def test_destroy_unknown_rule_is_404(fw):
    assert fw.delete("/api/firewalls/test/nope?format=json").status_code == 404


def test_new_rule_form_names_the_firewall(fw):
    r = fw.get("/api/firewalls/test/new_rule", headers=HTML)
    assert r.status_code == 200
    assert f'action="{BASE}/firewalls/test/rules"' in r.text


# load balancers

def test_load_balancer_show_xml(fw):
    r = fw.get("/api/load_balancers/web?format=xml")
    assert r.status_code == 200
    assert "x-backend-runtime" in r.headers
    root = _xml(r)
    assert (root.tag, root.get("id"), root.get("href")) == ("load_balancer", "web", f"{BASE}/load_balancers/web")
    assert [c.tag for c in root] == ["actions", "public_addresses", "created_at", "realm", "listeners",
                                     "instances"]
    assert _links(root) == [("destroy", "delete", f"{BASE}/load_balancers/web", None),
                            ("register", "post", f"{BASE}/load_balancers/web/register", None)]
    assert [a.text for a in root.findall("public_addresses/address")] == ["web-123.us-east-1.elb.amazonaws.com"]
    assert root.findtext("created_at") == "2013-03-06 10:00:00 UTC"
    assert root.find("realm").attrib == {"href": f"{BASE}/realms/us-east-1a", "id": "us-east-1a"}
    listener = root.find("listeners/listener")
    assert (listener.get("protocol"), listener.findtext("load_balancer_port"),
            listener.findtext("instance_port")) == ("HTTP", "80", "3010")
    instance = root.find("instances/instance")
    assert instance.attrib == {"href": f"{BASE}/instances/i-4f06b52e", "id": "i-4f06b52e"}
    assert instance.find("link").attrib == {"href": f"{BASE}/load_balancers/web/unregister", "rel": "unregister"}


def test_load_balancer_show_json(fw):
    body = fw.get("/api/load_balancers/web?format=json").json()
    lb = body["load_balancer"]
    assert list(lb) == ["id", "href", "realms", "listeners", "instances", "public_addresses", "created_at"]
    assert lb["realms"] == [{"id": "us-east-1a", "href": f"{BASE}/realms/us-east-1a", "rel": "realm"}]
    assert lb["listeners"] == [{"id": None, "protocol": "HTTP", "load_balancer_port": "80",
                                "instance_port": "3010"}]
    assert [i["id"] for i in lb["instances"]] == ["i-4f06b52e"]
    assert lb["instances"][0]["href"] == f"{BASE}/instances/i-4f06b52e"
    assert lb["instances"][0]["name"] == "web1"
    assert lb["public_addresses"] == ["web-123.us-east-1.elb.amazonaws.com"]


def test_load_balancer_index(fw):
    root = _xml(fw.get("/api/load_balancers?format=xml"))
    assert (root.tag, [e.get("id") for e in root]) == ("load_balancers", ["web"])
    assert [lb["id"] for lb in fw.get("/api/load_balancers?format=json").json()["load_balancers"]] == ["web"]
    assert fw.get("/api/load_balancers", headers=HTML).status_code == 200
    assert fw.get("/api/load_balancers/web", headers=HTML).status_code == 200


@pytest.mark.parametrize("fmt", ["xml", "json", "html"])
def test_load_balancer_unknown_is_404(fw, fmt):
    assert fw.get(f"/api/load_balancers/nope?format={fmt}").status_code == 404


def test_create_load_balancer(fw):
    data = {"name": "loadBalancerForTest", "realm_id": "us-east-1b", "listener_protocol": "HTTP",
            "listener_balancer_port": "80", "listener_instance_port": "3010"}
    r = fw.post("/api/load_balancers?format=xml", data=data)
    assert r.status_code == 201
    assert r.headers["location"] == f"{BASE}/load_balancers/loadBalancerForTest"
    assert _xml(r).find("realm").get("id") == "us-east-1b"
    assert fw.get("/api/load_balancers/loadBalancerForTest?format=json").status_code == 200
    assert fw.delete("/api/load_balancers/loadBalancerForTest?format=xml").status_code == 204
    assert fw.get("/api/load_balancers/loadBalancerForTest?format=json").status_code == 404


def test_create_load_balancer_missing_parameter(fw):
    r = fw.post("/api/load_balancers?format=xml", data={"name": "x", "realm_id": "us-east-1a",
                                                        "listener_protocol": "TCP", "listener_balancer_port": "1"})
    assert r.status_code == 400
    assert r.text == ("Required parameter 'listener_instance_port' not found in "
                      "[format,name,realm_id,listener_protocol,listener_balancer_port]")
    assert sorted(FwTestDriver.data["load_balancers"]) == ["web"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_register_and_unregister(fw, fmt):
    r = fw.post(f"/api/load_balancers/web/register?format={fmt}", data={"instance_id": "i-77777777"})
    assert r.status_code == 200
    if fmt == "json":
        assert [i["id"] for i in r.json()["load_balancer"]["instances"]] == ["i-4f06b52e", "i-77777777"]
    else:
        assert [i.get("id") for i in _xml(r).findall("instances/instance")] == ["i-4f06b52e", "i-77777777"]
    r = fw.post(f"/api/load_balancers/web/unregister?format={fmt}", data={"instance_id": "i-4f06b52e"})
    assert r.status_code == 200
    ids = ([i["id"] for i in r.json()["load_balancer"]["instances"]] if fmt == "json"
           else [i.get("id") for i in _xml(r).findall("instances/instance")])
    assert ids == ["i-77777777"]


def test_register_without_instance_id_is_400(fw):
    r = fw.post("/api/load_balancers/web/register?format=xml")
    assert (r.status_code, r.text) == (400, "Required parameter 'instance_id' not found in [format,id]")


def test_register_unknown_balancer_is_404(fw):
    r = fw.post("/api/load_balancers/nope/register?format=json", data={"instance_id": "i-77777777"})
    assert r.status_code == 404


def test_load_balancer_new_form(fw):
    r = fw.get("/api/load_balancers/new", headers=HTML)
    assert r.status_code == 200
    assert 'value="us-east-1b"' in r.text


# a driver that only lists

@pytest.mark.parametrize(("method", "path", "expect"), [r for r in ROUTES if r[0] != "GET"])
def test_list_only_driver_412s_the_rest(fw_app, method, path, expect):
    from starlette.testclient import TestClient

    with TestClient(fw_app, base_url="http://127.0.0.1:3001", headers={"X-Deltacloud-Driver": "listonly"}) as c:
        r = c.request(method, path + "?format=json")
        assert (r.status_code, r.headers["expect"], r.text) == (412, expect, MISSING)


def test_list_only_driver_has_no_action_links(fw_app):
    from starlette.testclient import TestClient

    with TestClient(fw_app, base_url="http://127.0.0.1:3001", headers={"X-Deltacloud-Driver": "listonly"}) as c:
        root = _xml(c.get("/api/firewalls/x?format=xml"))
        assert len(root.find("actions")) == 0
        assert len(root.find("rules/rule/actions")) == 0
