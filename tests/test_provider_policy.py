"""The provider policy: which providers a client may choose (deltacloud_core.providers).

The rules as pure functions, then over real sockets against a real ``deltacloudd`` whose driver
connects to the URL its provider names and sends its credentials there (as a Keystone login
does): a refused provider is a 403 naming the setting, and nothing ever connects to the target.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.sites import driver_site, server_env

from deltacloud_core import Driver
from deltacloud_core.errors import ForbiddenError
from deltacloud_core.providers import ProviderPolicy, forbidden_address, hosts_in, setting_name
from deltacloud_core.testing.server import running_server


class OpenDriver(Driver):
    driver_id = "probe"


class ClosedDriver(Driver):
    driver_id = "closed"
    OPEN_PROVIDERS = False


# -- the rules ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("provider", "hosts"), [
    ("eu-west-1", []),
    ("default", []),
    ("http://127.0.0.1:5000/v3", ["127.0.0.1"]),
    ("https://user:pw@Keystone.Example.com/v3", ["keystone.example.com"]),
    ("ec2=http://10.0.0.1:8773/services/Eucalyptus;s3=10.0.0.2:8774", ["10.0.0.1", "10.0.0.2"]),
    ("qemu+ssh://root@kvm1.example.com/system", ["kvm1.example.com"]),
    ("qemu:///system", []),
    ("http://[fe80::1]:80/", ["fe80::1"]),
    ("169.254.169.254", ["169.254.169.254"]),
])
def test_hosts_in_finds_every_host_a_provider_names(provider, hosts):
    assert hosts_in(provider) == hosts


@pytest.mark.parametrize(("address", "refused"), [
    ("169.254.169.254", True), ("169.254.1.1", True), ("fe80::1", True), ("fd00:ec2::254", True),
    ("100.100.100.200", True), ("::ffff:169.254.169.254", True),
    ("127.0.0.1", False), ("10.0.0.1", False), ("8.8.8.8", False), ("::1", False), ("not-an-ip", False),
])
def test_link_local_and_metadata_addresses_are_refused(address, refused):
    assert forbidden_address(address) is refused


def test_setting_name_is_the_driver_id_upper_cased():
    assert setting_name("ec2") == "DELTACLOUD_PROVIDERS_EC2"
    assert setting_name("azure-storage") == "DELTACLOUD_PROVIDERS_AZURE_STORAGE"


def test_from_env_reads_whitespace_separated_patterns_per_driver():
    policy = ProviderPolicy.from_env({"DELTACLOUD_PROVIDERS_EC2": "eu-west-*  us-east-1\n",
                                      "DELTACLOUD_PROVIDERS_LIBVIRT": "qemu:///system", "OTHER": "x"})
    assert policy.allowed_for("ec2") == ("eu-west-*", "us-east-1")
    assert policy.allowed_for("libvirt") == ("qemu:///system",)
    assert policy.allowed_for("mock") == ()


def _refusal(policy: ProviderPolicy, cls: type[Driver], provider: str) -> str | None:
    try:
        policy.check(cls, provider)
    except ForbiddenError as exc:
        assert exc.status == 403
        return exc.message
    return None


def test_an_open_driver_takes_any_provider_but_metadata_addresses():
    policy = ProviderPolicy()
    assert _refusal(policy, OpenDriver, "http://keystone.example.com:5000/v3") is None
    assert _refusal(policy, OpenDriver, "eu-west-1") is None
    for provider in ("http://169.254.169.254/latest/meta-data", "http://metadata.google.internal/",
                     "ec2=http://[fe80::a9fe:a9fe]/;s3=example.com:443"):
        message = _refusal(policy, OpenDriver, provider)
        assert message is not None and "link-local or cloud metadata" in message, provider
        assert "DELTACLOUD_PROVIDERS_PROBE" in message


def test_a_list_restricts_an_open_driver_to_what_it_names():
    policy = ProviderPolicy(patterns={"probe": ("eu-west-*", "https://keystone.example.com/*")})
    assert _refusal(policy, OpenDriver, "eu-west-1") is None
    assert _refusal(policy, OpenDriver, "https://keystone.example.com/v3") is None
    message = _refusal(policy, OpenDriver, "us-east-1")
    assert message is not None and "not one the operator lists" in message
    assert "DELTACLOUD_PROVIDERS_PROBE" in message
    assert _refusal(ProviderPolicy(patterns={"probe": ("*",)}), OpenDriver, "anything") is None


def test_listed_providers_pass_even_at_metadata_addresses():
    policy = ProviderPolicy(patterns={"probe": ("http://169.254.169.254/*",)})
    assert _refusal(policy, OpenDriver, "http://169.254.169.254/latest") is None


def test_a_closed_driver_takes_only_the_default_and_listed_providers():
    policy = ProviderPolicy(patterns={"closed": ("qemu+ssh://*@kvm?.example.com/system",)},
                            default_driver="closed", default_provider="qemu:///system")
    assert _refusal(policy, ClosedDriver, "qemu:///system") is None
    assert _refusal(policy, ClosedDriver, "qemu+ssh://root@kvm1.example.com/system") is None
    message = _refusal(policy, ClosedDriver, "qemu+ssh://root@evil.example.com/system")
    assert message is not None and "only to the providers the operator lists" in message
    assert "DELTACLOUD_PROVIDERS_CLOSED" in message and "--allow-provider closed=PATTERN" in message


def test_server_credentials_go_only_to_listed_providers():
    policy = ProviderPolicy(patterns={"probe": ("https://keystone.example.com/*",)}, default_driver="mock",
                            server_credentials=True)
    assert _refusal(policy, OpenDriver, "https://keystone.example.com/v3") is None
    message = _refusal(policy, OpenDriver, "http://127.0.0.1:5301/v3")
    assert message is not None and "own credentials" in message


def test_no_provider_means_the_drivers_default_and_is_always_allowed():
    assert _refusal(ProviderPolicy(server_credentials=True), ClosedDriver, None) is None  # type: ignore[arg-type]


def test_host_names_resolving_to_metadata_addresses_are_refused():
    policy = ProviderPolicy()
    answers = {"evil.example.com": ["93.184.216.34", "169.254.169.254"], "good.example.com": ["93.184.216.34"]}
    policy.check_resolved(OpenDriver, "https://good.example.com/v3", resolve=answers.__getitem__)
    with pytest.raises(ForbiddenError, match=r"resolves to 169\.254\.169\.254"):
        policy.check_resolved(OpenDriver, "https://evil.example.com/v3", resolve=answers.__getitem__)
    assert policy.needs_resolving(OpenDriver, "http://10.0.0.1:80/") == []  # literals are judged as written


# -- holes a hostile client tried (issue 16): each passed the policy before ---------------------

@pytest.mark.parametrize(("provider", "hosts"), [
    ("169.254.169.254/latest/meta-data", ["169.254.169.254"]),  # scheme-less host/path (ec2 reads it)
    ("169.254.169.254:80/latest", ["169.254.169.254"]),
    ("metadata.google.internal", ["metadata.google.internal"]),  # a bare name
    ("ec2=metadata.google.internal;s3=example.com", ["metadata.google.internal", "example.com"]),
    ("instance-data", ["instance-data"]),
    ("http://169.254.169.254\\@good.example.com/", ["good.example.com", "169.254.169.254"]),  # urllib3 vs urlsplit
    ("http://2852039166/", ["2852039166"]),
    ("eu-west-1", []), ("default", []), ("us-east-1", []),
])
def test_hosts_in_reads_hosts_as_every_sdk_would(provider, hosts):
    assert hosts_in(provider) == hosts


@pytest.mark.parametrize("address", [
    "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518", "0xa9.0xfe.0xa9.0xfe",  # inet_aton forms
    "::ffff:a9fe:a9fe", "::169.254.169.254", "64:ff9b::169.254.169.254", "2002:a9fe:a9fe::1",  # IPv4 inside IPv6
    "[fe80::1%25eth0]", "fe80::1%eth0", "FD00:EC2::254",
])
def test_every_spelling_of_a_metadata_address_is_refused(address):
    assert forbidden_address(address), address


@pytest.mark.parametrize("provider", [
    "169.254.169.254/latest/meta-data/", "ec2=metadata.google.internal", "http://2852039166/latest",
    "http://0xa9fea9fe/", "http://[::ffff:169.254.169.254]/", "http://169.254.169.254\\@example.com/",
    "http://[64:ff9b::a9fe:a9fe]:80/", "instance-data:80",
])
def test_an_open_driver_refuses_smuggled_metadata_providers(provider):
    message = _refusal(ProviderPolicy(), OpenDriver, provider)
    assert message is not None and "link-local or cloud metadata" in message, provider


@pytest.mark.parametrize(("pattern", "provider"), [
    ("http://10.0.0.1:*", "http://10.0.0.1:80@169.254.169.254/"),  # a wildcard swallowing a user name
    ("https://keystone.example.com:5000/*", "https://keystone.example.com:5000/v3;169.254.169.254:80"),
    ("ec2=http://10.0.0.1:8773/*", "ec2=http://10.0.0.1:8773/x;s3=http://169.254.169.254/"),  # another part
    ("http://10.0.0.?:5000/v3", "http://10.0.0.@:5000/v3"),
    ("http://10.0.0.1:*", "http://10.0.0.1:80\\@evil.example.com/"),
])
def test_wildcards_stay_inside_one_host_and_one_part(pattern, provider):
    policy = ProviderPolicy(patterns={"probe": (pattern,)}, server_credentials=True)
    assert _refusal(policy, OpenDriver, provider) is not None, (pattern, provider)


@pytest.mark.parametrize(("pattern", "provider"), [
    ("*", "http://anything.example.com/;x"), ("eu-west-*", "EU-West-1"), ("http://10.0.0.1:*", "http://10.0.0.1:5000/v3"),
    ("qemu+ssh://*@kvm?.example.com/system", "qemu+ssh://root@kvm1.example.com/system"),
    ("http://10.0.0.[12]:5000/*", "http://10.0.0.2:5000/v3"),
])
def test_wildcards_still_match_what_they_list(pattern, provider):
    policy = ProviderPolicy(patterns={"probe": (pattern,)}, server_credentials=True)
    assert _refusal(policy, OpenDriver, provider) is None, (pattern, provider)


def test_denied_networks_are_refused_unless_listed():
    policy = ProviderPolicy.from_env({"DELTACLOUD_DENY_ADDRESSES": "10.0.0.0/8 192.0.2.7"})
    assert _refusal(policy, OpenDriver, "http://10.1.2.3:5000/v3") is not None
    assert _refusal(policy, OpenDriver, "ec2=192.0.2.7:8773") is not None
    assert _refusal(policy, OpenDriver, "http://172.16.0.1:5000/v3") is None
    listed = ProviderPolicy(patterns={"probe": ("http://10.1.2.3:5000/*",)}, denied=policy.denied)
    assert _refusal(listed, OpenDriver, "http://10.1.2.3:5000/v3") is None
    with pytest.raises(ValueError, match="not-a-net"):
        ProviderPolicy.from_env({"DELTACLOUD_DENY_ADDRESSES": "10.0.0.0/8 not-a-net"})


# -- over real sockets ----------------------------------------------------------------------------

PROBE = '''
import urllib.request

from deltacloud_core import Driver, Realm


class ProbeDriver(Driver):
    """Connects to the URL its provider names and sends its credentials there."""

    def list_realms(self, **filters):
        creds = self.credentials
        request = urllib.request.Request(self.provider or "http://127.0.0.1:9/", method="POST",
                                         data=f"{creds.user}:{creds.password}".encode())
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()
        return [Realm(id="r1", name="reached " + (self.provider or ""))]


class ClosedProbeDriver(ProbeDriver):
    OPEN_PROVIDERS = False
'''


class Listener:
    """A loopback HTTP endpoint that counts connections and keeps what it was sent."""

    def __init__(self, host: str = "127.0.0.1",
                 answer: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n") -> None:
        self.host = host
        self.answer = answer
        self.sock = socket.create_server((host, 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    self.received.append(self._read_request(conn))
                    conn.sendall(self.answer)
                except OSError:
                    pass

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        """The head and the body (as long as its Content-Length says) of one request."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v3"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    target = Listener()
    yield target
    target.close()


@pytest.fixture(scope="module")
def probe_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return driver_site(tmp_path_factory.mktemp("probe"), "deltacloud-probe-test",
                       {"probe": "dctest_probe:ProbeDriver", "closedprobe": "dctest_probe:ClosedProbeDriver"},
                       {"dctest_probe": PROBE})


def _realms(url: str, driver: str, provider: str, auth: tuple[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{url}/api/realms?format=json", auth=auth, timeout=15,
                     headers={"X-Deltacloud-Driver": driver, "X-Deltacloud-Provider": provider})


def test_server_credentials_never_reach_an_unlisted_provider(probe_site, listener, tmp_path):
    env = server_env(probe_site, API_USER="opsuser", API_PASSWORD="ops-secret-42",
                     DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    with running_server(env=env) as url:
        refused = _realms(url, "probe", listener.url)  # unauthenticated, as in the report
        assert refused.status_code == 403, refused.text
        assert "DELTACLOUD_PROVIDERS_PROBE" in refused.json()["message"]
        assert listener.received == []
    listed = server_env(probe_site, API_USER="opsuser", API_PASSWORD="ops-secret-42",
                        DELTACLOUD_PROVIDERS_PROBE=f"http://127.0.0.1:{listener.port}/*",
                        DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    with running_server(env=listed) as url:
        reached = _realms(url, "probe", listener.url)
        assert reached.status_code == 200, reached.text
        assert len(listener.received) == 1 and b"opsuser:ops-secret-42" in listener.received[0]


def test_client_credentials_reach_any_provider_but_metadata(probe_site, listener, tmp_path):
    env = server_env(probe_site, DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    with running_server(env=env) as url:
        reached = _realms(url, "probe", listener.url, auth=("alice", "pw"))
        assert reached.status_code == 200, reached.text
        assert listener.received and b"alice:pw" in listener.received[0]
        for provider in ("http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/"):
            refused = _realms(url, "probe", provider, auth=("alice", "pw"))
            assert refused.status_code == 403, (provider, refused.text)
            assert "link-local or cloud metadata" in refused.json()["message"]
        entry = httpx.get(f"{url}/api;driver=probe;provider=http:%2F%2F169.254.169.254%2F?format=json", timeout=15)
        assert entry.status_code == 403, entry.text


def test_a_closed_driver_answers_only_listed_providers_and_cli_flag_lists_them(probe_site, listener, tmp_path):
    env = server_env(probe_site, DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    with running_server(env=env, args=["--allow-provider", f"closedprobe=http://127.0.0.1:{listener.port}/*"]) as url:
        assert _realms(url, "closedprobe", listener.url, auth=("a", "b")).status_code == 200
        other = Listener()
        try:
            refused = _realms(url, "closedprobe", other.url, auth=("a", "b"))
            assert refused.status_code == 403, refused.text
            assert "--allow-provider closedprobe=PATTERN" in refused.json()["message"]
            assert other.received == []
        finally:
            other.close()


# -- over real sockets: what a hostile client tried (issue 16) ------------------------------------
# 127.0.0.2 stands for the addresses never to reach (an internal host, a metadata service): it is
# denied with DELTACLOUD_DENY_ADDRESSES, so nothing but loopback is ever a target here.

@pytest.fixture
def inner() -> Iterator[Listener]:
    """The address a hostile client wants the server to reach."""
    target = Listener("127.0.0.2")
    yield target
    target.close()


def test_a_wildcard_cannot_smuggle_a_host_past_the_list(probe_site, inner, tmp_path):
    env = server_env(probe_site, API_USER="opsuser", API_PASSWORD="ops-secret-42",
                     DELTACLOUD_PROVIDERS_PROBE="http://127.0.0.1:*", DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    with running_server(env=env) as url:
        for provider in (f"http://127.0.0.1:1@127.0.0.2:{inner.port}/v3",
                         f"http://127.0.0.1:1/;http://127.0.0.2:{inner.port}/v3"):
            refused = _realms(url, "probe", provider)
            assert refused.status_code == 403, (provider, refused.text)
            assert "DELTACLOUD_PROVIDERS_PROBE" in refused.json()["message"]
    assert inner.received == []  # the operator's password never went there


def test_denied_addresses_in_any_spelling_are_refused(probe_site, inner, tmp_path):
    env = server_env(probe_site, DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    with running_server(env=env, args=["--deny-address", "127.0.0.2/32"]) as url:
        for provider in (inner.url, f"http://2130706434:{inner.port}/v3", f"http://0x7f.0.0.2:{inner.port}/v3",
                         f"http://127.0.0.2:{inner.port}\\@127.0.0.1:9/v3", f"127.0.0.2:{inner.port}/v3"):
            refused = _realms(url, "probe", provider, auth=("alice", "pw"))
            assert refused.status_code == 403, (provider, refused.text)
            assert "DELTACLOUD_DENY_ADDRESSES" in refused.json()["message"]
    assert inner.received == []


def test_a_redirect_to_a_denied_address_is_never_followed(probe_site, inner, tmp_path):
    """The policy cannot see where a provider's host redirects: the connect guard can."""
    redirect = Listener(answer=(f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{inner.port}/latest\r\n"
                                "Content-Length: 0\r\nConnection: close\r\n\r\n").encode())
    log = tmp_path / "server.log"
    env = server_env(probe_site, DELTACLOUD_DENY_ADDRESSES="127.0.0.2", DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    try:
        with running_server(env=env, log_path=log) as url:
            answer = _realms(url, "probe", redirect.url, auth=("alice", "pw"))
            assert answer.status_code != 200, answer.text
            assert len(redirect.received) == 1  # the allowed host was reached ...
    finally:
        redirect.close()
    assert inner.received == []  # ... and its redirect was not followed
    assert "refused a connection to 127.0.0.2" in log.read_text()


def test_a_listed_provider_at_a_denied_address_is_reached(probe_site, inner, tmp_path):
    env = server_env(probe_site, DELTACLOUD_DENY_ADDRESSES="127.0.0.2",
                     DELTACLOUD_PROVIDERS_PROBE=f"http://127.0.0.2:{inner.port}/*",
                     DELTACLOUD_MOCK_STORAGE=str(tmp_path / "mock"))
    with running_server(env=env) as url:
        reached = _realms(url, "probe", inner.url, auth=("alice", "pw"))
        assert reached.status_code == 200, reached.text
    assert len(inner.received) == 1 and b"alice:pw" in inner.received[0]
