"""What every part of the driver shares: the provider, the operator's settings, the session, and
one request's reads (each read at most once per request; the driver object lives one request)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from deltacloud_core import Driver, ObjectNotFound
from pyVmomi import vim

from .errors import translate
from .inventory import Inventory, find_datacenter, read_inventory, scope_roots
from .machines import read_machine, read_machines
from .provider import Endpoint, parse_provider, provider_hosts
from .query import Found
from .session import SESSIONS, Session, SessionCache
from .settings import Settings

__all__ = ["VSphereBase"]

T = TypeVar("T")


class VSphereBase(Driver):
    """Session handling and the reads the collections share."""

    #: The sessions of every driver object of this class (tests may give a subclass its own).
    SESSIONS: ClassVar[SessionCache] = SESSIONS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._memo: dict[str, Any] = {}
        self._session: Session | None = None

    # -- provider, settings, session ---------------------------------------------------------------
    @classmethod
    def provider_hosts(cls, provider: str) -> list[str]:
        return provider_hosts(provider)

    @property
    def endpoint(self) -> Endpoint:
        if "endpoint" not in self._memo:
            self._memo["endpoint"] = parse_provider(self.provider)
        return self._memo["endpoint"]

    @property
    def settings(self) -> Settings:
        if "settings" not in self._memo:
            self._memo["settings"] = Settings.from_env()
        return self._memo["settings"]

    def deadline(self) -> float:
        """When this request stops waiting for vSphere's tasks (``DELTACLOUD_VSPHERE_TASK_TIMEOUT``
        from the first task on)."""
        if "deadline" not in self._memo:
            self._memo["deadline"] = time.monotonic() + self.settings.task_timeout
        return self._memo["deadline"]

    def vsphere(self, work: Callable[[Session], T], *, what: str = "", action: bool = False) -> T:
        """Run ``work`` with this request's session, faults translated; once more after a fresh
        login when vCenter ended the session (``NotAuthenticated``)."""
        credentials = self.credentials  # 401 when the request has none
        endpoint, settings = self.endpoint, self.settings
        if self._session is None:
            self._session = self.SESSIONS.get(endpoint, credentials, settings)
        with translate(endpoint.url, what=what, action=action):
            try:
                return work(self._session)
            except vim.fault.NotAuthenticated:
                self._session = self.SESSIONS.renew(self._session, credentials, settings)
                self._memo = {k: v for k, v in self._memo.items() if k in ("endpoint", "settings", "deadline")}
                return work(self._session)

    def validate_credentials(self) -> bool:
        self.vsphere(lambda session: session.content.sessionManager.currentSession)
        return True

    # -- shared reads -------------------------------------------------------------------------------
    def inventory(self) -> Inventory:
        if "inventory" not in self._memo:
            self._memo["inventory"] = self.vsphere(lambda s: read_inventory(s, self.endpoint))
        return self._memo["inventory"]

    def machines(self) -> tuple[list[Found], dict[str, str]]:
        """Every VM and template in scope, and the resource pools' owners (realm ids)."""
        if "machines" not in self._memo:
            self._memo["machines"] = self.vsphere(lambda s: read_machines(s, scope_roots(s, self.endpoint)))
        return self._memo["machines"]

    def machine(self, vm_id: str) -> tuple[Found, str | None] | None:
        """VM (or template) ``vm_id`` in scope and its realm id; None when there is none."""
        if not vm_id or "/" in vm_id:
            return None

        def read(session: Session) -> tuple[Found, str | None] | None:
            found, realm, datacenter = read_machine(session, vm_id)
            if found is None or "name" not in found.props:
                return None
            wanted = self.endpoint.datacenter
            if wanted is not None and (datacenter is None or
                                       datacenter != find_datacenter(session, wanted).name):
                return None
            return found, realm

        return self.vsphere(read)

    def forget_machines(self) -> None:
        """Drop what this request read of VMs (after it changed some)."""
        self._memo.pop("machines", None)

    def require_machine(self, vm_id: str, *, template: bool, what: str) -> Found:
        """VM ``vm_id`` (a template when ``template``), or ObjectNotFound naming ``what``."""
        hit = self.machine(vm_id)
        if hit is None or bool(hit[0].get("config.template")) != template:
            raise ObjectNotFound(f"{what} '{vm_id}' does not exist")
        return hit[0]
