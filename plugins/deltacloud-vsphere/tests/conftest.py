"""The vCenter simulator for the tests (govmomi's ``simulator.VPX()``, built from ``vcsim/main.go``).

* ``vcsim_binary`` (session): the simulator, built once (cached across runs; see vcsim_server.py).
  It cannot be skipped: without Go and govmomi the tests fail, naming what to install.
* ``vcsim`` (module): a simulator seeded like a small vCenter: datacenter ``DC0`` with a standalone
  host ``DC0_H0`` and a three-host cluster ``DC0_C0``, one datastore, and two templates made from
  the model's VMs (``ubuntu64Guest`` and ``otherGuest``, an i386 one). Tests that change the
  inventory in ways others would see start their own (``fresh_vcsim``).
* ``admin``: pyVmomi logged in as the simulator's user, to look at vCenter behind the driver's back.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from deltacloud_core import Credentials
from deltacloud_core.testing.server import running_server
from vcsim_server import BuildError, BuildReport, Vcsim, build, running_vcsim

from deltacloud_vsphere import VSphereDriver

_BUILD: dict[str, BuildReport] = {}
#: The seeded templates: the one the tests launch (x86_64), and an i386 one.
TEMPLATE = "DC0_H0_VM1"
TEMPLATE_I386 = "DC0_C0_RP0_VM1"
CLUSTER = "DC0_C0"
HOST = "DC0_H0"


def iso_image(payload: bytes = b"user data") -> bytes:
    """A minimal ISO 9660 image: 16 empty sectors, the primary volume descriptor's signature, then
    ``payload`` (enough for what the driver checks and vSphere stores)."""
    return b"\0" * 0x8000 + b"\x01CD001\x01" + b"\0" * 2041 + payload


@pytest.fixture(scope="session")
def vcsim_binary() -> Any:
    try:
        report = build()
    except BuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    _BUILD["report"] = report
    return report.binary


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = _BUILD.get("report")
    if report is not None:
        terminalreporter.write_sep("-", "vCenter simulator")
        how = f"built in {report.seconds:.1f} s" if report.built else "cached build reused"
        terminalreporter.write_line(f"{report.binary} ({how})")


@dataclass
class Admin:
    """pyVmomi on the simulator, as its (only) user: the tests' own view of vCenter."""

    si: Any
    content: Any

    def vms(self) -> dict[str, Any]:
        """Every VM and template by name (read through the property collector: the simulator's
        views keep listing a destroyed template, whose properties then cannot be read)."""
        from pyVmomi import vim, vmodl

        pc = vmodl.query.PropertyCollector
        view = self.content.viewManager.CreateContainerView(self.content.rootFolder, [vim.VirtualMachine], True)
        try:
            spec = pc.FilterSpec(
                objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[
                    pc.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
                propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])])
            return {o.propSet[0].val: o.obj for o in self.content.propertyCollector.RetrieveContents([spec])
                    if o.propSet}
        finally:
            view.DestroyView()

    def vm(self, name: str) -> Any:
        return self.vms()[name]

    def by_id(self, moref: str) -> Any:
        from pyVmomi import vim

        return vim.VirtualMachine(moref, self.si._stub)

    def wait(self, task: Any) -> Any:
        from pyVim.task import WaitForTask

        WaitForTask(task)
        return task.info.result

    def make_template(self, name: str, guest_id: str) -> str:
        from pyVmomi import vim

        vm = self.vm(name)
        if vm.runtime.powerState != "poweredOff":
            self.wait(vm.PowerOffVM_Task())
        self.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(guestId=guest_id)))
        vm.MarkAsTemplate()
        return str(vm._moId)

    def extra_config(self, moref: str) -> dict[str, str]:
        return {o.key: o.value for o in self.by_id(moref).config.extraConfig or ()}

    def set_tools_running(self, moref: str) -> None:
        """govmomi's simulator sets a VM's properties from ``SET.<path>`` extraConfig keys."""
        from pyVmomi import vim

        option = vim.option.OptionValue(key="SET.guest.toolsRunningStatus", value="guestToolsRunning")
        self.wait(self.by_id(moref).ReconfigVM_Task(vim.vm.ConfigSpec(extraConfig=[option])))

    def tasks(self) -> list[tuple[str, str]]:
        """``(descriptionId, entity's name)`` of vCenter's recent tasks (the simulator names an entity by
        its id). Read field by field: the simulator's disk-manager tasks do not decode as a whole."""
        from pyVmomi import vim, vmodl

        pc = vmodl.query.PropertyCollector
        tasks = list(self.content.taskManager.recentTask or ())
        if not tasks:
            return []
        spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=t) for t in tasks], propSet=[
            pc.PropertySpec(type=vim.Task, pathSet=["info.descriptionId", "info.entityName"])])
        found = self.content.propertyCollector.RetrieveContents([spec])
        return [(props.get("info.descriptionId"), props.get("info.entityName"))
                for props in ({p.name: p.val for p in o.propSet} for o in found)]

    def sessions(self) -> list[Any]:
        return list(self.content.sessionManager.sessionList or ())

    def terminate_others(self) -> int:
        """End every session but this one (as an administrator would); how many ended."""
        mine = self.content.sessionManager.currentSession.key
        others = [s.key for s in self.sessions() if s.key != mine]
        if others:
            self.content.sessionManager.TerminateSession(others)
        return len(others)

    def realm_id(self, name: str) -> str:
        from pyVmomi import vim

        view = self.content.viewManager.CreateContainerView(self.content.rootFolder, [vim.ComputeResource], True)
        try:
            return next(str(c._moId) for c in view.view if c.name == name)
        finally:
            view.DestroyView()


@contextlib.contextmanager
def admin_of(sim: Vcsim) -> Iterator[Admin]:
    from pyVim.connect import Disconnect, SmartConnect

    parts = urlsplit(sim.url)
    kwargs: dict[str, Any] = {"protocol": parts.scheme, "path": parts.path}
    if parts.scheme == "https":
        kwargs["disableSslCertValidation"] = True
    si = SmartConnect(host=parts.hostname, port=parts.port, user=sim.user, pwd=sim.password, **kwargs)
    try:
        yield Admin(si, si.RetrieveContent())
    finally:
        Disconnect(si)


@dataclass
class Seeded:
    sim: Vcsim
    template: str
    template_i386: str
    cluster: str
    host: str

    @property
    def provider(self) -> str:
        return self.sim.url

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.sim.user, self.sim.password)

    def driver(self, provider: str | None = None, credentials: Credentials | None = None) -> VSphereDriver:
        return VSphereDriver(credentials=credentials or self.credentials, provider=provider or self.provider)


@contextlib.contextmanager
def seeded_vcsim(binary: Any, *, templates: bool = True, **kwargs: Any) -> Iterator[Seeded]:
    with running_vcsim(binary, **kwargs) as sim:
        with admin_of(sim) as admin:
            template = admin.make_template(TEMPLATE, "ubuntu64Guest") if templates else ""
            template_i386 = admin.make_template(TEMPLATE_I386, "otherGuest") if templates else ""
            cluster = admin.realm_id(CLUSTER) if templates else ""
            host = admin.realm_id(HOST) if templates else ""
        try:
            yield Seeded(sim, template, template_i386, cluster, host)
        finally:
            VSphereDriver.SESSIONS.clear(logout=False)


@pytest.fixture(scope="module")
def vcsim(vcsim_binary: Any) -> Iterator[Seeded]:
    with seeded_vcsim(vcsim_binary) as seeded:
        yield seeded


@pytest.fixture
def fresh_vcsim(vcsim_binary: Any) -> Iterator[Seeded]:
    with seeded_vcsim(vcsim_binary) as seeded:
        yield seeded


#: The operator's list of the shared server: every simulator these tests start (loopback, any port).
LOOPBACK_PROVIDERS = "http://127.0.0.1:* https://127.0.0.1:*"


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a deltacloudd the tests start: this one without server-side credentials
    or the driver's settings (a test sets what it needs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "DELTACLOUD_"))}
    return {**env, **extra}


@pytest.fixture(scope="session")
def shared_server() -> Iterator[str]:
    """One ``deltacloudd -i vsphere`` for the session, no default provider, the operator allowing
    every loopback simulator (DELTACLOUD_PROVIDERS_VSPHERE): tests name theirs per request."""
    env = server_env(DELTACLOUD_PROVIDERS_VSPHERE=LOOPBACK_PROVIDERS)
    with running_server(driver="vsphere", env=env, ready_path="/api/instance_states", timeout=60) as url:
        yield url


@pytest.fixture
def admin(vcsim: Seeded) -> Iterator[Admin]:
    with admin_of(vcsim.sim) as a:
        yield a


@pytest.fixture
def driver(vcsim: Seeded) -> VSphereDriver:
    return vcsim.driver()
