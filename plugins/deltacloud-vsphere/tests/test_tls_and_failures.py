"""Certificates (checked by default; the operator's CA bundle or, for a lab, no check), and a vCenter
that is not there or too slow: 502 and 504, never a hang."""

from __future__ import annotations

import base64
import gzip
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import Seeded, iso_image, seeded_vcsim
from deltacloud_core import Credentials, ProviderError, ProviderTimeout
from deltacloud_core.testing.server import free_port

from deltacloud_vsphere import VSphereDriver


@pytest.fixture(scope="module")
def tls_vcsim(vcsim_binary) -> Iterator[Seeded]:
    with seeded_vcsim(vcsim_binary, tls=True) as seeded:
        yield seeded


def test_the_simulator_speaks_https(tls_vcsim: Seeded) -> None:
    assert tls_vcsim.provider.startswith("https://127.0.0.1:")


def test_certificates_are_checked_by_default(tls_vcsim: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELTACLOUD_VSPHERE_CA_BUNDLE", raising=False)
    monkeypatch.delenv("DELTACLOUD_VSPHERE_INSECURE", raising=False)
    with pytest.raises(ProviderError) as caught:
        tls_vcsim.driver().list_realms()
    assert "could not be verified" in caught.value.message
    assert "DELTACLOUD_VSPHERE_CA_BUNDLE" in caught.value.message
    assert caught.value.status == 502


def test_the_operators_ca_bundle(tls_vcsim: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator's self-signed certificate as the bundle: SOAP and the datastore upload of a
    user ISO are both checked against it."""
    monkeypatch.setenv("DELTACLOUD_VSPHERE_CA_BUNDLE", str(tls_vcsim.sim.certificate))
    driver = tls_vcsim.driver()
    assert {r.name for r in driver.list_realms()} == {"DC0_C0", "DC0_H0"}
    user_iso = base64.b64encode(gzip.compress(iso_image(b"over https"))).decode()
    created = tls_vcsim.driver().create_instance(image_id=tls_vcsim.template, user_iso=user_iso)
    try:
        assert created.state == "RUNNING"
        isos = list(tls_vcsim.sim.datastores.glob("govcsim-*/deltacloud-iso/*.iso"))
        assert len(isos) == 1
        assert isos[0].read_bytes().endswith(b"over https")
    finally:
        tls_vcsim.driver().stop_instance(created.id)
        tls_vcsim.driver().destroy_instance(created.id)


def test_a_bundle_that_does_not_hold_the_certificate_is_refused(tls_vcsim: Seeded, tmp_path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.pem"
    other.write_text(_unrelated_ca())
    monkeypatch.setenv("DELTACLOUD_VSPHERE_CA_BUNDLE", str(other))
    with pytest.raises(ProviderError, match="could not be verified"):
        tls_vcsim.driver().list_realms()


def _unrelated_ca() -> str:
    """A CA certificate that signed nothing the simulator has: one from the system's trust store."""
    import ssl

    for cert in ssl.create_default_context().get_ca_certs(binary_form=True):
        return ssl.DER_cert_to_PEM_cert(cert)
    pytest.fail("the system trust store is empty: cannot pick an unrelated CA")


def test_verification_off_for_a_lab(tls_vcsim: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELTACLOUD_VSPHERE_CA_BUNDLE", raising=False)
    monkeypatch.setenv("DELTACLOUD_VSPHERE_INSECURE", "1")
    assert {r.name for r in tls_vcsim.driver().list_realms()} == {"DC0_C0", "DC0_H0"}


def test_certificate_failure_over_http_is_502_with_the_hint(shared_server: str, tls_vcsim: Seeded) -> None:
    reply = httpx.get(f"{shared_server}/api/realms/x", params={"format": "json"},
                      headers={"X-Deltacloud-Provider": tls_vcsim.provider},
                      auth=(tls_vcsim.sim.user, tls_vcsim.sim.password))
    assert reply.status_code == 502, reply.text
    assert "DELTACLOUD_VSPHERE_CA_BUNDLE" in reply.json()["message"]


# -- unreachable, slow ---------------------------------------------------------------------------


def test_nothing_listening_is_502() -> None:
    port = free_port()
    dead = VSphereDriver(credentials=Credentials("u", "p"), provider=f"http://127.0.0.1:{port}/sdk")
    with pytest.raises(ProviderError) as caught:
        dead.list_realms()
    assert f"http://127.0.0.1:{port}/sdk could not be reached" in caught.value.message


def test_a_slow_vcenter_is_504_within_the_operators_bound(vcsim_binary, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every RetrievePropertiesEx of this simulator takes 4 s; the operator allows 1 s per request.
    (The core answers a ProviderTimeout with 504.)"""
    monkeypatch.setenv("DELTACLOUD_VSPHERE_TIMEOUT", "1")
    with seeded_vcsim(vcsim_binary, delays=["RetrievePropertiesEx=4000"]) as slow:
        started = time.monotonic()
        with pytest.raises(ProviderTimeout) as caught:
            slow.driver().list_realms()
        took = time.monotonic() - started
        assert "did not answer in time" in caught.value.message
        assert took < 3.5, f"the request waited {took:.1f} s for a server that takes 4 s (bound: 1 s)"


def test_a_web_server_that_is_no_vcenter_is_502(tmp_path) -> None:
    """A provider that answers HTTP but no SOAP (Python's own http.server here)."""
    port = free_port()
    web = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=tmp_path,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert web.poll() is None, "http.server exited"
                assert time.monotonic() < deadline, "http.server did not start"
                time.sleep(0.05)
        with pytest.raises(ProviderError, match="did not answer as a vSphere SDK does"):
            VSphereDriver(credentials=Credentials("u", "p"), provider=f"http://127.0.0.1:{port}/sdk").list_realms()
    finally:
        web.terminate()
        web.wait(timeout=10)
