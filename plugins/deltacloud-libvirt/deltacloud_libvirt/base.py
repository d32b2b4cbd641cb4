"""What every part of the driver shares: the settings, the connection, the host, the storage pools.

One driver object serves one request, so what it looks up here (the host's facts, a pool, the volume
paths) is kept on the object for the length of that request only.
"""

from __future__ import annotations

import functools
import re
import uuid as uuidlib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import libvirt
from deltacloud_core import BackendError, Driver, ProviderError, ValidationError

from .connection import CONNECTIONS, open_connection
from .errors import is_code, translate
from .settings import Settings

__all__ = ["LibvirtBase", "boundary", "check_name", "is_uuid"]

F = TypeVar("F", bound=Callable[..., Any])

#: Names of domains and volumes the driver makes or accepts from a client.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,62}$")
_SETTING_OF_POOL = {"image_pool": "DELTACLOUD_LIBVIRT_IMAGE_POOL", "volume_pool": "DELTACLOUD_LIBVIRT_VOLUME_POOL",
                    "instance_pool": "DELTACLOUD_LIBVIRT_INSTANCE_POOL"}


def check_name(name: str, what: str) -> str:
    """``name`` when it is a usable domain or volume name, else a 400 saying what is allowed."""
    if not NAME_PATTERN.match(name):
        raise ValidationError(f"{what} {name!r} is not a valid name: 1 to 63 letters, digits, '_', '.', '+' or '-', "
                              "starting with a letter or digit")
    return name


def boundary(func: F) -> F:
    """The driver's boundary: libvirt's errors become the core's (:mod:`.errors`), and a connection
    that died under the call is dropped from the cache so that the next request opens a new one."""

    @functools.wraps(func)
    def wrapper(self: LibvirtBase, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(self, *args, **kwargs)
        except libvirt.libvirtError as exc:
            self._forget_if_dead()
            raise translate(exc) from exc

    return wrapper  # type: ignore[return-value]


def is_uuid(text: str) -> bool:
    try:
        uuidlib.UUID(text)
    except ValueError:
        return False
    return True


class LibvirtBase(Driver):
    """Settings, connection and host facts of one request."""

    #: A URI makes the server connect to a host on a client's behalf: only the default and the
    #: operator's URIs (the core's provider policy).
    OPEN_PROVIDERS: ClassVar[bool] = False

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._settings: Settings | None = None
        self._conn: libvirt.virConnect | None = None
        self._pools: dict[str, libvirt.virStoragePool] = {}
        self._pool_dirs: dict[str, str | None] = {}
        self._host: dict[str, object] | None = None

    # -- settings and connection -----------------------------------------------------------
    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings.from_environment()
            except ValueError as exc:
                raise BackendError(f"The libvirt driver is misconfigured: {exc}") from exc
        return self._settings

    @property
    def uri(self) -> str:
        """The libvirt URI of this request: the provider, else ``LIBVIRT_DEFAULT_URI``, else ``qemu:///system``."""
        return (self.provider or "").strip() or self.settings.default_uri

    @property
    def conn(self) -> libvirt.virConnect:
        """The connection to :attr:`uri` with the request's credentials (401 without any)."""
        if self._conn is None:
            credentials = self.credentials
            uri, allow = self.uri, self.settings.allows_no_auth(self.uri)
            self._conn = CONNECTIONS.get(uri, credentials,
                                         lambda: open_connection(uri, credentials, allow_no_auth=allow))
        return self._conn

    def _forget_if_dead(self) -> None:
        if self._conn is not None:
            try:
                alive = self._conn.isAlive() == 1
            except libvirt.libvirtError:
                alive = False
            if not alive:
                CONNECTIONS.forget(self._conn)

    # -- the host --------------------------------------------------------------------------
    def host_facts(self) -> dict[str, object]:
        """``hostname``, ``cpus``, ``memory_mib``, ``free_mib``, ``arch``, ``domain_type`` of the host."""
        if self._host is None:
            conn = self.conn
            model, memory_mib, cpus, *_rest = conn.getInfo()
            arch, domain_type = self._guest_choice(conn.getCapabilities(), str(model))
            self._host = {
                "hostname": conn.getHostname(),
                "cpus": int(cpus),
                "memory_mib": int(memory_mib),
                "free_mib": int(conn.getFreeMemory()) // 1024**2,
                "arch": arch,
                "domain_type": self.settings.domain_type or domain_type,
            }
        return self._host

    @staticmethod
    def _guest_choice(capabilities: str, host_arch: str) -> tuple[str, str]:
        """(arch, domain type) for new domains: the host's arch if it has a guest, ``kvm`` before ``qemu``."""
        root = ET.fromstring(capabilities)
        offers: list[tuple[str, list[str]]] = []
        for guest in root.findall("guest"):
            if guest.findtext("os_type") != "hvm":
                continue
            arch = guest.find("arch")
            if arch is None:
                continue
            offers.append((arch.get("name", ""), [d.get("type", "") for d in arch.findall("domain")]))
        if not offers:
            raise ProviderError("The libvirt host offers no hvm guests (see `virsh capabilities`)")
        offers.sort(key=lambda offer: offer[0] != host_arch)
        arch, types = offers[0]
        for preferred in ("kvm", "qemu"):
            if preferred in types:
                return arch, preferred
        return arch, types[0]

    def realm_id(self) -> str:
        return str(self.host_facts()["hostname"])

    # -- domains ---------------------------------------------------------------------------
    def domain(self, instance_id: str) -> libvirt.virDomain | None:
        """The domain whose UUID is ``instance_id``, or None."""
        if not is_uuid(instance_id):
            return None
        try:
            return self.conn.lookupByUUIDString(instance_id)
        except libvirt.libvirtError as exc:
            if is_code(exc, "NO_DOMAIN"):
                return None
            raise

    # -- storage pools ---------------------------------------------------------------------
    def pool(self, which: str) -> libvirt.virStoragePool:
        """The operator's ``image_pool``, ``volume_pool`` or ``instance_pool``, active (502 otherwise)."""
        if which not in self._pools:
            name = getattr(self.settings, which)
            try:
                pool = self.conn.storagePoolLookupByName(name)
                active = pool.isActive() == 1
            except libvirt.libvirtError as exc:
                if is_code(exc, "NO_STORAGE_POOL"):
                    raise ProviderError(
                        f"The libvirt host has no storage pool '{name}' ({_SETTING_OF_POOL[which]}); "
                        f"define it, e.g. virsh pool-define-as {name} dir --target /var/lib/libvirt/{name} && "
                        f"virsh pool-build {name} && virsh pool-start {name} && virsh pool-autostart {name}",
                        backend_code="VIR_ERR_NO_STORAGE_POOL") from exc
                self._forget_if_dead()
                raise translate(exc) from exc
            if not active:
                raise ProviderError(f"The storage pool '{name}' ({_SETTING_OF_POOL[which]}) is not active; "
                                    f"start it: virsh pool-start {name}")
            self._pools[which] = pool
        return self._pools[which]

    def pool_dir(self, which: str) -> str | None:
        """The directory (or device directory) that holds the pool's volumes, from its target path."""
        if which not in self._pool_dirs:
            path = ET.fromstring(self.pool(which).XMLDesc(0)).findtext("target/path")
            self._pool_dirs[which] = path.rstrip("/") if path else None
        return self._pool_dirs[which]

    def volume(self, which: str, name: str) -> libvirt.virStorageVolume | None:
        """Volume ``name`` of a pool, or None."""
        try:
            return self.pool(which).storageVolLookupByName(name)
        except libvirt.libvirtError as exc:
            if is_code(exc, "NO_STORAGE_VOL"):
                return None
            raise translate(exc) from exc
