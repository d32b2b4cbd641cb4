"""Credentials pass through: a vSphere session per (host, credentials), reused, logged out when it
leaves the cache, logged in again when vCenter ended it; wrong passwords are vSphere's 401."""

from __future__ import annotations

import time

import httpx
import pytest
from conftest import Seeded, admin_of
from deltacloud_core import AuthenticationFailure, Credentials

from deltacloud_vsphere import VSphereDriver
from deltacloud_vsphere.session import SessionCache


def _wait_for(predicate, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _own_sessions(admin) -> set[str]:
    mine = admin.content.sessionManager.currentSession.key
    return {s.key for s in admin.sessions() if s.key != mine}


class FreshCache(VSphereDriver):
    """The driver with a session cache of its own, so each test counts from zero."""

    SESSIONS = SessionCache()


@pytest.fixture
def isolated(fresh_vcsim: Seeded):
    FreshCache.SESSIONS = SessionCache()
    yield fresh_vcsim
    FreshCache.SESSIONS.clear(logout=False)


def test_one_login_serves_many_requests(isolated: Seeded) -> None:
    with admin_of(isolated.sim) as admin:
        for _ in range(3):  # three requests, each with its own driver object
            assert FreshCache(credentials=isolated.credentials, provider=isolated.provider).list_realms()
        assert len(_own_sessions(admin)) == 1
        assert len(FreshCache.SESSIONS) == 1


def test_the_datacenter_does_not_make_another_session(isolated: Seeded) -> None:
    """The cache key is the SDK's URL and the credentials: ``;DC0`` shares the session."""
    with admin_of(isolated.sim) as admin:
        FreshCache(credentials=isolated.credentials, provider=isolated.provider).list_realms()
        FreshCache(credentials=isolated.credentials, provider=f"{isolated.provider};dc0").list_realms()
        assert len(_own_sessions(admin)) == 1


def test_wrong_password_is_vspheres_401_and_never_cached(isolated: Seeded) -> None:
    wrong = Credentials(isolated.sim.user, "not-the-password")
    for _ in range(2):
        with pytest.raises(AuthenticationFailure) as caught:
            FreshCache(credentials=wrong, provider=isolated.provider).list_realms()
        assert caught.value.message == "Login failure"  # the simulator's InvalidLogin message
        assert caught.value.backend_code == "InvalidLogin"
    assert len(FreshCache.SESSIONS) == 0
    assert FreshCache(credentials=isolated.credentials, provider=isolated.provider).list_realms()


def test_session_ended_by_vcenter_is_renewed_once(isolated: Seeded) -> None:
    with admin_of(isolated.sim) as admin:
        FreshCache(credentials=isolated.credentials, provider=isolated.provider).list_realms()
        before = _own_sessions(admin)
        assert admin.terminate_others() == 1  # as an administrator (or the idle timeout) would
        realms = FreshCache(credentials=isolated.credentials, provider=isolated.provider).list_realms()
        assert {r.name for r in realms} == {"DC0_C0", "DC0_H0"}
        after = _own_sessions(admin)
        assert len(after) == 1
        assert after.isdisjoint(before)


def test_evicted_session_is_logged_out(isolated: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for one session (DELTACLOUD_VSPHERE_SESSIONS=1), a second host pushes the first
    session out, and it is logged out of vCenter."""
    monkeypatch.setenv("DELTACLOUD_VSPHERE_SESSIONS", "1")
    with admin_of(isolated.sim) as admin:
        FreshCache(credentials=isolated.credentials, provider=isolated.provider).list_realms()
        (first,) = _own_sessions(admin)
        other_name = isolated.provider.replace("127.0.0.1", "localhost")  # the same simulator, another host
        FreshCache(credentials=isolated.credentials, provider=other_name).list_realms()
        assert len(FreshCache.SESSIONS) == 1
        _wait_for(lambda: first not in _own_sessions(admin), "the evicted session to be logged out")
        assert len(_own_sessions(admin)) == 1


def test_idle_session_is_logged_out_and_replaced(isolated: Seeded) -> None:
    now = [1000.0]

    class Clocked(VSphereDriver):
        SESSIONS = SessionCache(clock=lambda: now[0])

    try:
        with admin_of(isolated.sim) as admin:
            Clocked(credentials=isolated.credentials, provider=isolated.provider).list_realms()
            (first,) = _own_sessions(admin)
            now[0] += 1201  # past DELTACLOUD_VSPHERE_SESSION_IDLE's default, 1200 s
            Clocked(credentials=isolated.credentials, provider=isolated.provider).list_realms()
            _wait_for(lambda: first not in _own_sessions(admin), "the idle session to be logged out")
            assert len(_own_sessions(admin)) == 1
    finally:
        Clocked.SESSIONS.clear(logout=False)


def test_credentials_over_http_are_the_vsphere_login(shared_server: str, fresh_vcsim: Seeded) -> None:
    """Through deltacloudd: no credentials asks for them, wrong ones are 401 with vSphere's words
    (shown on a member: lists answer the original's generic message), right ones list."""
    url, where = shared_server, {"X-Deltacloud-Provider": fresh_vcsim.provider}
    anonymous = httpx.get(f"{url}/api/instances", params={"format": "json"}, headers=where)
    assert anonymous.status_code == 401
    assert "basic" in anonymous.headers.get("www-authenticate", "").lower()
    wrong = httpx.get(f"{url}/api/instances/vm-1", params={"format": "json"}, headers=where,
                      auth=(fresh_vcsim.sim.user, "wrong"))
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "Login failure", wrong.text
    right = httpx.get(f"{url}/api/instances", params={"format": "json"}, headers=where,
                      auth=(fresh_vcsim.sim.user, fresh_vcsim.sim.password))
    assert right.status_code == 200, right.text
    assert {i["name"] for i in right.json()["instances"]} == {"DC0_H0_VM0", "DC0_C0_RP0_VM0"}
