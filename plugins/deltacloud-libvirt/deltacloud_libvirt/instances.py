"""Instances: libvirt domains.

* id: the domain's UUID; ``name``: the domain's name (feature ``user_name``; ``dc-<hex>`` when none is
  given). Every domain of the host is listed, those made elsewhere too (without image and owner).
* create: a qcow2 overlay volume in the instance pool backed by the image, a seed ISO when there is
  ``user_data`` or a ``keyname`` (:mod:`.seed`), a persistent domain with the requested CPUs and memory
  (the hardware profile's ranges, :mod:`.host`), started. What fails half-way is undone.
* stop: ACPI power button; the guest has ``DELTACLOUD_LIBVIRT_STOP_GRACE`` seconds to power off, then it
  is powered off (:mod:`.states` explains the ``stop`` marker). The process that took the ``stop`` powers
  it off on time; any process that looks at it later does it too, so a server restart changes nothing.
* reboot: ``acpi`` (ask the guest) or ``reset`` (``DELTACLOUD_LIBVIRT_REBOOT``).
* destroy: powered off, undefined with its snapshots' and managed save's metadata, the overlay and the
  seed removed. Attached storage volumes stay (they are the client's).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
import uuid as uuidlib
from base64 import b64decode, b64encode
from collections.abc import Mapping

import libvirt
from deltacloud_core import (
    Conflict,
    Instance,
    InstanceAddress,
    InstanceProfile,
    ObjectNotFound,
    ValidationError,
)

from .base import boundary, check_name
from .domain_xml import (
    STOP_NS,
    DomainFacts,
    DomainSpec,
    domain_xml,
    overlay_volume_xml,
    parse_domain,
    stop_metadata_xml,
    volume_facts,
    volume_xml,
)
from .errors import is_code
from .host import HostMixin
from .images import ImagesMixin
from .seed import seed_iso
from .states import instance_state
from .streams import upload

__all__ = ["InstancesMixin", "public_key_fingerprint"]

log = logging.getLogger(__name__)

_ACTIVE = frozenset({libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED, libvirt.VIR_DOMAIN_PAUSED,
                     libvirt.VIR_DOMAIN_SHUTDOWN, libvirt.VIR_DOMAIN_PMSUSPENDED})
_KEY_TYPES = ("ssh-rsa", "ssh-ed25519", "ssh-dss", "ecdsa-sha2-", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-")


def public_key_fingerprint(public_key: str) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a public key line (400 when it is none)."""
    parts = public_key.strip().split()
    if len(parts) < 2 or not parts[0].startswith(_KEY_TYPES):
        raise ValidationError("keyname must be an OpenSSH public key ('ssh-ed25519 AAAA... comment'): this driver "
                              "has no key store, so the key itself is what goes into the instance's seed")
    try:
        blob = b64decode(parts[1], validate=True)
    except ValueError as exc:
        raise ValidationError(f"keyname: the key's base64 part does not decode ({exc})") from exc
    return "SHA256:" + b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


class InstancesMixin(HostMixin, ImagesMixin):
    # -- reading -----------------------------------------------------------------------------
    @boundary
    def list_instances(self, **filters: str) -> list[Instance]:
        if filters.get("id"):
            domain = self.domain(filters["id"])
            domains = [domain] if domain is not None else []
        else:
            domains = self.conn.listAllDomains(0)
        instances = []
        for domain in domains:
            try:
                instance = self._instance(domain)
            except libvirt.libvirtError as exc:
                if is_code(exc, "NO_DOMAIN"):
                    continue  # destroyed while we looked
                raise
            if filters.get("state") and instance.state != filters["state"].upper():
                continue
            if filters.get("realm_id") and instance.realm_id != filters["realm_id"]:
                continue
            instances.append(instance)
        return sorted(instances, key=lambda i: (i.name or "", i.id))

    @boundary
    def get_instance(self, id: str) -> Instance | None:
        domain = self.domain(id)
        if domain is None:
            return None
        try:
            return self._instance(domain)
        except libvirt.libvirtError as exc:
            if is_code(exc, "NO_DOMAIN"):
                return None
            raise

    def _instance(self, domain: libvirt.virDomain) -> Instance:
        state, reason = domain.state()
        facts = parse_domain(domain.XMLDesc(0))
        if facts.stop_deadline is not None and state in _ACTIVE and time.time() >= facts.stop_deadline:
            _power_off(domain)  # the grace period is over: whoever looks first enforces it
            state, reason = domain.state()
            facts = parse_domain(domain.XMLDesc(0))
        stopping = facts.stop_deadline is not None and state in _ACTIVE
        deltacloud_state = instance_state(state, reason, stop_requested=stopping)
        meta = facts.metadata
        overrides = {"cpu": str(facts.vcpus), "memory": str(facts.memory_mib)}
        storage = self._disk_gb(meta.get("disk"))
        if storage is not None:
            overrides["storage"] = str(storage)
        return Instance(
            id=facts.uuid,
            name=facts.name,
            state=deltacloud_state,
            owner_id=meta.get("owner"),
            image_id=meta.get("image"),
            realm_id=self.realm_id(),
            instance_profile=InstanceProfile(meta.get("profile") or "default", overrides),
            launch_time=meta.get("created"),
            private_addresses=self._addresses(domain, state),
            storage_volumes=self._attached_volumes(facts),
            create_image=deltacloud_state == "STOPPED" and bool(meta.get("disk")),
            keyname=meta.get("keyname"),
            extra={"libvirt_state": state, "libvirt_reason": reason, "domain_type": facts.domain_type,
                   **({"stop_deadline": facts.stop_deadline} if stopping else {})},
        )

    def _disk_gb(self, disk_name: str | None) -> int | None:
        if not disk_name:
            return None
        volume = self.volume("instance_pool", disk_name)
        if volume is None:
            return None
        return max(1, round(int(volume.info()[1]) / 1024**3))

    def _addresses(self, domain: libvirt.virDomain, state: int) -> tuple[InstanceAddress, ...]:
        if state not in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED):
            return ()
        try:
            interfaces = domain.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0) or {}
        except libvirt.libvirtError:
            return ()  # no DHCP leases known for this network (or no network at all)
        out = []
        for details in interfaces.values():
            for addr in details.get("addrs") or ():
                kind = "ipv6" if addr.get("type") == libvirt.VIR_IP_ADDR_TYPE_IPV6 else "ipv4"
                out.append(InstanceAddress(str(addr.get("addr")), kind))
        return tuple(out)

    def _attached_volumes(self, facts: DomainFacts) -> tuple[tuple[str, str | None], ...]:
        directory = self.pool_dir("volume_pool")
        if directory is None:
            return ()
        return tuple((os.path.basename(d.source), f"/dev/{d.target}") for d in facts.disks
                     if d.device == "disk" and d.source and os.path.dirname(d.source) == directory)

    # -- create --------------------------------------------------------------------------------
    @boundary
    def create_instance(self, *, image_id: str, hwp_id: str | None = None, realm_id: str | None = None,
                        hwp_overrides: Mapping[str, str] | None = None, keyname: str | None = None,
                        name: str | None = None, user_data: bytes | None = None,
                        **extra: str) -> Instance:
        image = self.image_volume(image_id)
        profile_id, vcpus, memory_mib, storage_gb = self.instance_sizes(hwp_id, dict(hwp_overrides or {}))
        if realm_id and realm_id != self.realm_id():
            raise ValidationError(f"Realm '{realm_id}' does not exist; this host's realm is '{self.realm_id()}'")
        name = check_name(name, "Instance name") if name else f"dc-{secrets.token_hex(4)}"
        if self._name_taken(name):
            raise Conflict(f"An instance named '{name}' already exists on this host")
        fingerprint = public_key_fingerprint(keyname) if keyname else None
        host = self.host_facts()
        instance_id = str(uuidlib.uuid4())
        image_facts = volume_facts(image.XMLDesc(0))
        pool = self.pool("instance_pool")
        made: list[libvirt.virStorageVolume] = []
        try:
            capacity = max(image_facts.capacity, storage_gb * 1024**3)
            disk = pool.createXML(overlay_volume_xml(f"{instance_id}-disk.qcow2", capacity, image.path(),
                                                     image_facts.fmt or "raw"), 0)
            made.append(disk)
            seed = None
            if user_data is not None or keyname:
                data = seed_iso(instance_id=instance_id, hostname=name, user_data=user_data,
                                public_keys=[keyname.strip()] if keyname else [])
                seed = pool.createXML(volume_xml(f"{instance_id}-seed.iso", len(data), fmt="raw"), 0)
                made.append(seed)
                upload(self.conn, seed, data)
            network = self._network()
            spec = DomainSpec(
                name=name, uuid=instance_id, domain_type=str(host["domain_type"]), arch=str(host["arch"]),
                vcpus=vcpus, memory_mib=memory_mib, root_path=disk.path(), seed_path=seed.path() if seed else None,
                network=network,
                metadata={"image": image_id, "owner": self.credentials.user, "profile": profile_id,
                          "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          "keyname": fingerprint or "", "disk": disk.name(), "seed": seed.name() if seed else ""})
            domain = self.conn.defineXML(domain_xml(spec))
        except BaseException:
            for volume in made:
                _delete_volume(volume)
            raise
        try:
            domain.create()
        except BaseException:
            _undefine(domain)
            for volume in made:
                _delete_volume(volume)
            raise
        return self._instance(domain)

    def _name_taken(self, name: str) -> bool:
        try:
            self.conn.lookupByName(name)
        except libvirt.libvirtError as exc:
            if is_code(exc, "NO_DOMAIN"):
                return False
            raise
        return True

    def _network(self) -> str | None:
        """The network of new instances: the setting (``none``: no NIC), else ``default`` when it is active."""
        wanted = self.settings.network
        if wanted and wanted.lower() == "none":
            return None
        try:
            network = self.conn.networkLookupByName(wanted or "default")
        except libvirt.libvirtError as exc:
            if is_code(exc, "NO_NETWORK") and not wanted:
                return None
            if is_code(exc, "NO_NETWORK"):
                raise ValidationError(f"The network '{wanted}' (DELTACLOUD_LIBVIRT_NETWORK) does not exist") from exc
            if is_code(exc, "NO_SUPPORT") and not wanted:
                return None
            raise
        if not network.isActive():
            if wanted:
                raise Conflict(f"The network '{wanted}' (DELTACLOUD_LIBVIRT_NETWORK) is not active")
            return None
        return network.name()

    # -- actions ---------------------------------------------------------------------------
    def _existing(self, id: str) -> libvirt.virDomain:
        domain = self.domain(id)
        if domain is None:
            raise ObjectNotFound(f"Instance '{id}' does not exist")
        return domain

    @boundary
    def start_instance(self, id: str) -> Instance:
        domain = self._existing(id)
        state, _reason = domain.state()
        if state == libvirt.VIR_DOMAIN_PAUSED:
            domain.resume()
        elif state == libvirt.VIR_DOMAIN_PMSUSPENDED:
            domain.pMWakeup(0)
        else:
            domain.create()
        return self._instance(domain)

    @boundary
    def stop_instance(self, id: str) -> Instance:
        domain = self._existing(id)
        grace = self.settings.stop_grace
        if grace <= 0:
            _power_off(domain)
            return self._instance(domain)
        deadline = time.time() + grace
        domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, stop_metadata_xml(deadline), "dcs", STOP_NS,
                           libvirt.VIR_DOMAIN_AFFECT_LIVE)
        try:
            domain.shutdown()
        except libvirt.libvirtError as exc:
            if not is_code(exc, "NO_SUPPORT", "OPERATION_UNSUPPORTED", "OPERATION_FAILED", "AGENT_UNRESPONSIVE"):
                raise
            log.info("instance %s: ACPI shutdown refused (%s); powering it off", id, exc.get_error_message())
            _power_off(domain)
        else:
            _schedule_power_off(domain, deadline)
        return self._instance(domain)

    @boundary
    def reboot_instance(self, id: str) -> Instance:
        domain = self._existing(id)
        if self.settings.reboot_mode == "reset":
            domain.reset(0)
        else:
            try:
                domain.reboot(0)
            except libvirt.libvirtError as exc:
                if not is_code(exc, "NO_SUPPORT", "OPERATION_UNSUPPORTED"):
                    raise
                domain.reset(0)
        return self._instance(domain)

    @boundary
    def destroy_instance(self, id: str) -> None:
        domain = self._existing(id)
        facts = parse_domain(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        _power_off(domain)
        flags = libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        try:
            domain.undefineFlags(flags)
        except libvirt.libvirtError as exc:
            if not is_code(exc, "NO_DOMAIN"):  # a transient domain is gone once powered off
                raise
        for key in ("disk", "seed"):
            name = facts.metadata.get(key)
            volume = self.volume("instance_pool", name) if name else None
            if volume is not None:
                _delete_volume(volume)
        return None


def _power_off(domain: libvirt.virDomain) -> None:
    """Power ``domain`` off now; nothing when it is off already."""
    try:
        if domain.isActive():
            domain.destroy()
    except libvirt.libvirtError as exc:
        if not is_code(exc, "OPERATION_INVALID", "NO_DOMAIN"):
            raise


def _schedule_power_off(domain: libvirt.virDomain, deadline: float) -> None:
    """Power ``domain`` off at ``deadline`` unless it stopped, or a newer ``stop`` moved the deadline."""

    def enforce() -> None:
        try:
            state, _reason = domain.state()
            facts = parse_domain(domain.XMLDesc(0))
            if state in _ACTIVE and facts.stop_deadline is not None and facts.stop_deadline <= deadline + 0.001:
                log.info("instance %s: still up %s after stop; powering it off", facts.uuid, "at the deadline")
                _power_off(domain)
        except libvirt.libvirtError as exc:
            log.debug("power-off at the deadline skipped: %s", exc.get_error_message())  # the next look does it

    timer = threading.Timer(max(0.0, deadline - time.time()), enforce)
    timer.daemon = True
    timer.start()


def _undefine(domain: libvirt.virDomain) -> None:
    try:
        _power_off(domain)
        domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    except libvirt.libvirtError:
        pass


def _delete_volume(volume: libvirt.virStorageVolume) -> None:
    try:
        volume.delete(0)
    except libvirt.libvirtError as exc:
        if not is_code(exc, "NO_STORAGE_VOL"):
            log.warning("could not remove volume %s: %s", volume.name(), exc.get_error_message())
