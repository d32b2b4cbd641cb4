"""The pure parts of what deltacloudd adds below the app: limits from the environment, the access
log's line, the request checks of the prelude, the connect guard's judgement (over sockets:
tests/test_hostile_input.py and tests/test_provider_policy.py)."""

from __future__ import annotations

import logging

import pytest

from deltacloud_core.providers import ProviderPolicy, parse_networks
from deltacloud_core.serving.access_log import AccessFormatter, safe_request_target
from deltacloud_core.serving.connect_guard import ConnectGuard, ConnectionForbidden, listed_addresses
from deltacloud_core.serving.limits import Limits
from deltacloud_core.web.matrix import parse_matrix_path
from deltacloud_core.web.request_checks import check_choice, check_exact_ids, check_path, check_same_origin


def test_limits_from_the_environment_round_trip():
    limits = Limits.from_env({"DELTACLOUD_MAX_HEAD_BYTES": "8192", "DELTACLOUD_HEAD_TIMEOUT": "2.5"})
    assert limits == Limits(max_head_bytes=8192, head_timeout=2.5)
    assert Limits.from_env(limits.to_env()) == limits
    assert Limits.from_env({}) == Limits()


@pytest.mark.parametrize(("name", "value"), [("DELTACLOUD_MAX_HEADERS", "many"), ("DELTACLOUD_MAX_HEADERS", "1.5"),
                                             ("DELTACLOUD_BODY_TIMEOUT", "0"), ("DELTACLOUD_HEAD_TIMEOUT", "-1")])
def test_wrong_limits_are_refused_by_name(name, value):
    with pytest.raises(ValueError, match=name):
        Limits.from_env({name: value})


@pytest.mark.parametrize(("target", "logged"), [
    ("/api/instances", "/api/instances"),
    ("/api/instances\r\nFORGED", "/api/instances%0D%0AFORGED"),
    ("/api?password=hunter2&name=x", "/api?password=[FILTERED]&name=x"),
    ("/api;provider=p;API_Secret=s/realms?X-Auth-Token=t",
     "/api;provider=p;API_Secret=[FILTERED]/realms?X-Auth-Token=[FILTERED]"),
    ("/api?pass%77ord=x", "/api?pass%77ord=[FILTERED]"),
    ("/api?password=", "/api?password="),
    ('/a"b \x1b[31m\u2603', "/a%22b%20%1B[31m%E2%98%83"),
])
def test_the_access_log_target(target, logged):
    assert safe_request_target(target) == logged


def test_the_access_formatter_escapes_every_field():
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("1.2.3.4\x1b[31m:5", "GET", "/x\ny?token=abc", "1.1", 200), None)
    line = AccessFormatter(fmt='%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '1.2.3.4%1B[31m:5 - "GET /x%0Ay?token=[FILTERED] HTTP/1.1" 200 OK'


@pytest.mark.parametrize(("path", "refused"), [("/api/buckets/b/%ff", True), ("/api/buckets/b/caf%C3%A9", False),
                                               ("/api/instances", False), ("/api/%e2%98", True)])
def test_check_path_wants_utf8(path, refused):
    assert (check_path(path) is not None) is refused


@pytest.mark.parametrize(("driver", "provider", "refused"), [
    ("mock", None, False), ("azure-storage", "https://acct.blob.core.windows.net/", False), ("ec2", "eu-west-1", False),
    ("mo\x00ck", None, True), ("MOCK", None, True), ("m ck", None, True), ("\u2603", None, True),
    ("mock", "a\r\nX: 1", True), ("mock", "\u2603", True), ("mock", "a\x00", True), ("mock", "x" * 3000, True),
])
def test_check_choice(driver, provider, refused):
    assert (check_choice(driver, provider) is not None) is refused


TEMPLATE = "/api/buckets/{id}/{blob_id:rest}"


@pytest.mark.parametrize(("raw", "blob_id", "refused"), [
    ("/api/buckets/b1/a;b=c", "a", True), ("/api/buckets/b1/a;", "a", True), ("/api/buckets/b1/x//y", "x/y", True),
    ("/api/buckets/b1/..", "..", True), ("/api/buckets/b1/x/./y", "x/./y", True),
    ("/api;driver=mock/buckets/b1/api", "api", False), ("/api/buckets/b1/a%3Bb=c", "a;b=c", False),
    ("/api/buckets//b1/x/y", "x/y", False), ("/api/buckets/b1/x/y", "x/y", False),
])
def test_check_exact_ids(raw, blob_id, refused):
    matrix = parse_matrix_path(raw)
    assert (check_exact_ids(TEMPLATE, matrix, {"id": "b1", "blob_id": blob_id}) is not None) is refused


def test_check_exact_ids_with_a_fixed_tail():
    matrix = parse_matrix_path("/api/buckets/b1/x;y=z/content")
    assert check_exact_ids(TEMPLATE + "/content", matrix, {"id": "b1", "blob_id": "x"}) is not None
    clean = parse_matrix_path("/api/buckets/b1/x/content;format=xml")  # a matrix part after the id is not in it
    assert check_exact_ids(TEMPLATE + "/content", clean, {"id": "b1", "blob_id": "x"}) is None


@pytest.mark.parametrize(("method", "headers", "host", "refused"), [
    ("POST", {}, "h:3001", False),
    ("POST", {"origin": "http://h:3001"}, "h:3001", False),
    ("POST", {"origin": "https://h"}, "h:443", False),
    ("DELETE", {"origin": "http://evil.example"}, "h:3001", True),
    ("POST", {"origin": "null"}, "h:3001", True),
    ("PUT", {"origin": "http://h:3002"}, "h:3001", True),
    ("POST", {"sec-fetch-site": "cross-site"}, "h", True),
    ("POST", {"sec-fetch-site": "same-origin", "origin": "http://h"}, "h", False),
    ("GET", {"origin": "http://evil.example", "sec-fetch-site": "cross-site"}, "h", False),
])
def test_check_same_origin(method, headers, host, refused):
    assert (check_same_origin(method, headers, host) is not None) is refused


def test_the_connect_guard_refuses_forbidden_addresses_only():
    policy = ProviderPolicy(patterns={"probe": ("http://10.9.9.9:5000/*",)}, denied=parse_networks("10.0.0.0/8"))
    guard = ConnectGuard(policy, listed_addresses(policy, resolve=False))
    guard("socket.connect", (None, ("93.184.216.34", 443)))
    guard("socket.connect", (None, ("10.9.9.9", 5000)))  # listed by the operator
    guard("socket.connect", (None, "/run/libvirt/libvirt-sock"))
    guard("open", ("/etc/hosts", "r", 0))
    for address in (("169.254.169.254", 80), ("10.1.1.1", 80), ("fe80::1", 80, 0, 2), ("::ffff:169.254.169.254", 80)):
        with pytest.raises(ConnectionForbidden):
            guard("socket.connect", (None, address))
    with pytest.raises(ConnectionForbidden):
        guard("socket.sendto", (None, ("169.254.169.254", 53)))
    assert guard.refused == 5
