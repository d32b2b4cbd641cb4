"""Helpers of the OpenStack driver's tests: bounded polling, clean-up, the test cloud's facts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from deltacloud_core import Credentials, ObjectNotFound

T = TypeVar("T")

#: Seconds a transitional state may last before a test gives up (Nova needs about one).
SETTLE = 60.0


def wait_until(probe: Callable[[], T], done: Callable[[T], bool], *, what: str, timeout: float = SETTLE,
               interval: float = 0.1) -> T:
    """Call ``probe`` until ``done(result)``; fail after ``timeout`` seconds naming ``what``."""
    deadline = time.monotonic() + timeout
    seen: list[Any] = []
    while True:
        value = probe()
        if not seen or seen[-1] != _describe(value):
            seen.append(_describe(value))
        if done(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not done after {timeout:g} s; seen {seen}")
        time.sleep(interval)


def _describe(value: Any) -> Any:
    return getattr(value, "state", value)


def states_until(probe: Callable[[], Any], final: set[str], *, what: str, timeout: float = SETTLE) -> list[str]:
    """The distinct states an instance (or volume) shows until one of ``final`` (None: it is gone)."""
    seen: list[str] = []

    def look() -> str:
        item = probe()
        state = "GONE" if item is None else item.state
        if not seen or seen[-1] != state:
            seen.append(state)
        return state

    wait_until(look, lambda s: s in final, what=what, timeout=timeout)
    return seen


@dataclass(frozen=True)
class CloudInfo:
    """What openstack-up.sh wrote to BASE_DIR/cloud.json."""

    base_dir: Path
    auth_url: str
    region: str
    image_id: str
    flavors: tuple[str, ...]
    users: dict[str, dict[str, str]]
    startup_seconds: float | None
    started_here: bool
    #: Neutron: the external network floating IPs come from, and the admin project's own network.
    public_network_id: str
    private_network_id: str
    private_subnet_id: str

    @classmethod
    def load(cls, base_dir: Path, started_here: bool) -> CloudInfo:
        raw = json.loads((base_dir / "cloud.json").read_text())
        return cls(base_dir=base_dir, auth_url=raw["auth_url"], region=raw["region"], image_id=raw["image_id"],
                   flavors=tuple(raw["flavors"]),
                   users={"admin": raw["admin"], "demo": raw["demo"], "domain_user": raw["domain_user"]},
                   startup_seconds=raw.get("startup_seconds"), started_here=started_here,
                   public_network_id=raw["public_network_id"], private_network_id=raw["private_network_id"],
                   private_subnet_id=raw["private_subnet_id"])

    @property
    def provider(self) -> str:
        return f"{self.auth_url};{self.region}"

    def credentials(self, who: str) -> Credentials:
        user = self.users[who]
        name = user["user"]
        if who == "domain_user":
            name = f"{user['domain']}/{user['user']}@{user['project']}"
        elif who == "admin":
            name = f"{user['user']}@{user['project']}"
        return Credentials(name, user["password"])


class Cleanup:
    """Undo steps run at the end of a test, last first; what is already gone is fine."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Callable[[], Any]]] = []

    def add(self, what: str, step: Callable[[], Any]) -> None:
        self.steps.append((what, step))

    def run(self) -> list[str]:
        problems = []
        while self.steps:
            what, step = self.steps.pop()
            try:
                step()
            except ObjectNotFound:
                pass
            except Exception as exc:  # noqa: BLE001 - report every failed clean-up, keep going
                problems.append(f"{what}: {exc}")
        return problems


def destroy_server(driver: Any, instance_id: str) -> None:
    """Delete a server and wait (bounded) until Nova no longer lists it."""
    if driver.get_instance(instance_id) is None:
        return
    driver.destroy_instance(instance_id)
    wait_until(lambda: driver.get_instance(instance_id), lambda i: i is None,
               what=f"server {instance_id} to disappear")


def destroy_volume(driver: Any, volume_id: str) -> None:
    """Detach (if needed) and delete a volume, waiting (bounded) for each step."""
    volume = wait_until(lambda: driver.get_storage_volume(volume_id),
                        lambda v: v is None or v.state in ("AVAILABLE", "IN-USE", "ERROR"),
                        what=f"volume {volume_id} to settle")
    if volume is None:
        return
    if volume.state == "IN-USE":
        driver.detach_storage_volume(volume_id)
        wait_until(lambda: driver.get_storage_volume(volume_id), lambda v: v.state == "AVAILABLE",
                   what=f"volume {volume_id} to detach")
    driver.destroy_storage_volume(volume_id)
    wait_until(lambda: driver.get_storage_volume(volume_id), lambda v: v is None,
               what=f"volume {volume_id} to disappear")
