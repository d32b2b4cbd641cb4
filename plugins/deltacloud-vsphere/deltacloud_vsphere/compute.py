"""Realms (compute resources), the hardware profile, and instances (virtual machines).

Create clones the template into the realm (its root resource pool, its usable host with the most
free memory, its datastore with the most free space), reconfigures the clone's CPUs and memory
(and CD-ROM for ``user_iso``), and powers it on, each vSphere task awaited within the request's
bound (``DELTACLOUD_VSPHERE_TASK_TIMEOUT``). When a step after the clone fails, the clone is
destroyed again and the error carries vSphere's message: a failed create leaves nothing behind.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from deltacloud_core import (
    Conflict,
    HardwareProfile,
    Instance,
    InstanceProfile,
    ObjectNotFound,
    ProviderTimeout,
    Realm,
    ValidationError,
)
from pyVmomi import vim

from .base import VSphereBase
from .inventory import DEFAULT_PROFILE, MEMORY_STEP_MB, Inventory, Place, hardware_profile
from .machines import (
    IMAGE_KEY,
    ISO_KEY,
    OWNER_KEY,
    architecture,
    extra_config,
    guest_addresses,
    hardware,
    timestamp,
)
from .query import Found, retrieve_objects, wait_for_task
from .session import Session
from .states import instance_state
from .userdata import cdrom_change, check_cdrom, decode_user_iso, guestinfo, iso_path, upload

__all__ = ["ComputeMixin", "to_instance"]

log = logging.getLogger("deltacloud.vsphere")

#: vSphere's longest VM name.
MAX_NAME = 80
_TOOLS_RUNNING = "guestToolsRunning"


def to_instance(found: Found, realm_id: str | None, volumes: tuple[tuple[str, str | None], ...] = (),
                state: str | None = None) -> Instance:
    """The Deltacloud instance of a VM."""
    config = extra_config(found)
    current = state or instance_state(found.get("runtime.powerState"), found.get("runtime.connectionState"),
                                      found.get("guest.guestState"))
    return Instance(
        id=found.id, name=str(found.get("name") or found.id), state=current,
        owner_id=config.get(OWNER_KEY) or None, image_id=config.get(IMAGE_KEY) or None, realm_id=realm_id,
        instance_profile=InstanceProfile(DEFAULT_PROFILE, hardware(found)),
        launch_time=timestamp(found.get("summary.runtime.bootTime")) or timestamp(found.get("config.createDate")),
        public_addresses=guest_addresses(found), create_image=current == "STOPPED", storage_volumes=volumes,
        extra={"guest_os": found.get("config.guestFullName"), "architecture": architecture(found.get("config.guestId")),
               "tools": found.get("guest.toolsRunningStatus")})


def _size(overrides: Mapping[str, str], name: str) -> int | None:
    raw = overrides.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(f"hwp_{name} must be a whole number, not {raw!r}.") from None
    if value != int(value):
        raise ValidationError(f"hwp_{name} must be a whole number, not {raw!r}.")
    return int(value)


class ComputeMixin(VSphereBase):
    """Realms, hardware profiles and instances."""

    # -- realms -------------------------------------------------------------------------------------
    def list_realms(self, **filters: str) -> list[Realm]:
        realms = [p.realm() for p in sorted(self.inventory().places.values(), key=lambda p: (p.name, p.id))]
        if filters.get("id"):
            realms = [r for r in realms if r.id == filters["id"]]
        return realms

    # -- hardware profiles --------------------------------------------------------------------------
    def list_hardware_profiles(self, **filters: str) -> list[HardwareProfile]:
        profile = hardware_profile(self.inventory().places.values())
        profiles = [profile] if profile is not None else []
        if filters.get("id"):
            profiles = [p for p in profiles if p.id == filters["id"]]
        if filters.get("architecture"):
            profiles = [p for p in profiles if p.matches_architecture(filters["architecture"])]
        return profiles

    # -- instances ----------------------------------------------------------------------------------
    def instance_volumes(self, found: Found) -> tuple[tuple[str, str | None], ...]:
        """Overridden by the volumes part: the volumes attached to a VM."""
        return ()

    def list_instances(self, **filters: str) -> list[Instance]:
        if filters.get("id"):
            one = self.get_instance(filters["id"])
            instances = [one] if one is not None else []
        else:
            vms, owners = self.machines()
            instances = [to_instance(vm, owners.get(getattr(vm.get("resourcePool"), "_moId", "")),
                                     self.instance_volumes(vm))
                         for vm in vms if "name" in vm.props and not vm.get("config.template")]
            instances.sort(key=lambda i: (i.name or "", i.id))
        if filters.get("state"):
            instances = [i for i in instances if i.state.lower() == filters["state"].lower()]
        if filters.get("realm_id"):
            instances = [i for i in instances if i.realm_id == filters["realm_id"]]
        return instances

    def get_instance(self, id: str) -> Instance | None:
        hit = self.machine(id)
        if hit is None or hit[0].get("config.template"):
            return None
        return to_instance(hit[0], hit[1], self.instance_volumes(hit[0]))

    def _instance_now(self, vm_id: str, *, state: str | None = None) -> Instance:
        hit = self.machine(vm_id)
        if hit is None:
            raise ObjectNotFound(f"Instance '{vm_id}' does not exist (any more)")
        return to_instance(hit[0], hit[1], self.instance_volumes(hit[0]), state=state)

    def _place_for(self, inventory: Inventory, realm_id: str | None, template: Found) -> Place:
        if realm_id:
            place = inventory.place(realm_id)
            if not place.available:
                raise Conflict(f"Realm '{realm_id}' ({place.name}) is UNAVAILABLE: it has no connected host out "
                               "of maintenance mode, or no accessible datastore.")
            return place
        host = getattr(template.get("runtime.host"), "_moId", None)
        candidates = sorted((p for p in inventory.places.values() if p.available), key=lambda p: (p.name, p.id))
        for place in candidates:
            if any(h.id == host for h in place.hosts):
                return place
        if not candidates:
            raise Conflict("No realm can take an instance: no compute resource has a connected host out of "
                           "maintenance mode and an accessible datastore.")
        return candidates[0]

    def create_instance(self, *, image_id: str, hwp_id: str | None = None, realm_id: str | None = None,
                        hwp_overrides: Mapping[str, str] | None = None, keyname: str | None = None,
                        name: str | None = None, user_data: bytes | None = None,
                        **extra: str) -> Instance:
        # Everything is checked before vSphere is asked to change anything.
        overrides = dict(hwp_overrides or {})
        if hwp_id is not None and hwp_id != DEFAULT_PROFILE:
            raise ValidationError(f"Hardware profile '{hwp_id}' does not exist; the profile is '{DEFAULT_PROFILE}'.")
        template = self.machine(image_id)
        if template is None or not template[0].get("config.template"):
            raise ValidationError(f"Image '{image_id}' does not exist: images are the VM templates "
                                  "(GET /api/images lists them).")
        source = template[0]
        cpus, memory = _size(overrides, "cpu"), _size(overrides, "memory")
        if memory is not None and memory % MEMORY_STEP_MB:
            raise ValidationError(f"hwp_memory must be a multiple of {MEMORY_STEP_MB} MiB (vSphere's rule), "
                                  f"not {memory}.")
        wanted_arch = overrides.get("architecture")
        image_arch = architecture(source.get("config.guestId"))
        if wanted_arch and wanted_arch != image_arch:
            raise ValidationError(f"Image '{image_id}' is {image_arch} (guest {source.get('config.guestId')}); "
                                  f"hwp_architecture={wanted_arch} does not fit it.")
        vm_name = (name or f"deltacloud-{secrets.token_hex(4)}").strip()
        if not vm_name or len(vm_name) > MAX_NAME:
            raise ValidationError(f"The instance name must have 1 to {MAX_NAME} characters (vSphere's limit).")
        iso = decode_user_iso(extra["user_iso"], self.settings) if extra.get("user_iso") else None
        if iso is not None:
            check_cdrom(list(source.get("config.hardware.device") or ()))
        inventory = self.inventory()
        place = self._place_for(inventory, realm_id, source)
        store, host = place.best_store(), place.best_host()
        if store is None or host is None:  # an available place has both
            raise Conflict(f"Realm '{place.id}' has no usable host or datastore.")
        options = [*guestinfo(user_data, vm_name), vim.option.OptionValue(key=IMAGE_KEY, value=source.id),
                   vim.option.OptionValue(key=OWNER_KEY, value=self.credentials.user),
                   vim.option.OptionValue(key=ISO_KEY, value="")]
        spec = vim.vm.CloneSpec(
            location=vim.vm.RelocateSpec(pool=place.pool, datastore=store.ref, host=host.ref),
            powerOn=False, template=False, config=vim.vm.ConfigSpec(extraConfig=options))

        def clone(session: Session) -> Any:
            task = source.obj.CloneVM_Task(folder=place.datacenter.vm_folder, name=vm_name, spec=spec)
            return wait_for_task(session, task, deadline=self.deadline(),
                                 what=f"Clone of template {source.id} to '{vm_name}' in realm {place.id}")

        vm = self.vsphere(clone)
        self.forget_machines()
        try:
            self.vsphere(lambda session: self._configure_new(session, vm, place, store.name, vm_name, cpus, memory,
                                                             iso))
        except ProviderTimeout as exc:  # the clone exists: kept, and named, rather than half removed
            raise ProviderTimeout(f"{exc.message} Instance {vm._moId} ('{vm_name}') was created, but the steps "
                                  "after the one that timed out (sizes, user ISO, power-on) were not made: check it, "
                                  "or destroy it once it is STOPPED.", backend_code=exc.backend_code) from exc
        except Exception:
            self._discard(vm, vm_name, place.datacenter.ref)
            raise
        return self._instance_now(vm._moId)

    def _configure_new(self, session: Session, vm: Any, place: Place, store: str, vm_name: str, cpus: int | None,
                       memory: int | None, iso: bytes | None) -> None:
        """Sizes and user ISO of a fresh clone, then power on."""
        change = vim.vm.ConfigSpec(numCPUs=cpus, memoryMB=memory)  # None: left as the template has it
        needed = cpus is not None or memory is not None
        if iso is not None:
            path = upload(session, self.endpoint, self.settings, datacenter=place.datacenter.name, datastore=store,
                          path=iso_path(vm_name), data=iso)
            (devices,) = [f.get("config.hardware.device") or [] for f in _read(session, vm, ["config.hardware.device"])]
            change.deviceChange = [cdrom_change(list(devices), path)]
            change.extraConfig = [vim.option.OptionValue(key=ISO_KEY, value=path)]
            needed = True
        if needed:
            wait_for_task(session, vm.ReconfigVM_Task(spec=change), deadline=self.deadline(),
                          what=f"Reconfiguration of new instance {vm._moId}")
        wait_for_task(session, vm.PowerOnVM_Task(), deadline=self.deadline(),
                      what=f"Power-on of new instance {vm._moId}")

    def _discard(self, vm: Any, vm_name: str, datacenter: Any, *, delete_iso: bool = True) -> None:
        """Remove a clone whose configuration failed (best effort: the error that made us is what counts).
        ``delete_iso`` False for a copy of an instance: what it records is the instance's ISO."""
        def remove(session: Session) -> None:
            (found,) = _read(session, vm, ["runtime.powerState", "config.extraConfig"])
            if found.get("runtime.powerState") != "poweredOff":
                wait_for_task(session, vm.PowerOffVM_Task(), deadline=self.deadline(), what="Power-off")
            wait_for_task(session, vm.Destroy_Task(), deadline=self.deadline(), what="Destroy")
            if delete_iso:
                self._delete_iso(session, found, datacenter)

        try:
            self.vsphere(remove)
        except Exception as exc:  # noqa: BLE001 - reported in the log; the original error is raised
            log.warning("could not remove the half-made instance %s (%s): %s", vm._moId, vm_name, exc)

    def _delete_iso(self, session: Session, found: Found, datacenter: Any) -> None:
        """Delete the ``user_iso`` the driver uploaded for a VM (recorded in its extraConfig) from the
        datastore of the VM's datacenter (datastore names are unique per datacenter only)."""
        path = extra_config(found).get(ISO_KEY)
        if not path:
            return
        try:
            task = session.content.fileManager.DeleteDatastoreFile_Task(name=path, datacenter=datacenter)
            wait_for_task(session, task, deadline=self.deadline(), what=f"Deletion of {path}")
        except Exception as exc:  # noqa: BLE001 - a leftover ISO must not fail the destroy
            log.warning("could not delete %s: %s", path, exc)

    # -- actions --------------------------------------------------------------------------------
    def _vm_task(self, vm_id: str, start: str, what: str) -> None:
        vm = self.require_machine(vm_id, template=False, what="Instance").obj

        def run(session: Session) -> None:
            wait_for_task(session, getattr(vm, start)(), deadline=self.deadline(), what=f"{what} of {vm_id}",
                          action=True)

        self.vsphere(run, what=f"{what} of {vm_id}", action=True)

    def start_instance(self, id: str) -> Instance:
        self._vm_task(id, "PowerOnVM_Task", "Power-on")
        return self._instance_now(id)

    def stop_instance(self, id: str) -> Instance:
        found = self.require_machine(id, template=False, what="Instance")
        if found.get("guest.toolsRunningStatus") == _TOOLS_RUNNING:
            self.vsphere(lambda _s: found.obj.ShutdownGuest(), what=f"Guest shutdown of {id}", action=True)
            now = self._instance_now(id)
            return self._instance_now(id, state="STOPPING") if now.state == "RUNNING" else now
        self._vm_task(id, "PowerOffVM_Task", "Power-off")
        return self._instance_now(id)

    def reboot_instance(self, id: str) -> Instance:
        found = self.require_machine(id, template=False, what="Instance")
        if found.get("guest.toolsRunningStatus") == _TOOLS_RUNNING:
            try:
                self.vsphere(lambda _s: found.obj.RebootGuest(), what=f"Guest reboot of {id}", action=True)
                return self._instance_now(id)
            except Conflict:  # ToolsUnavailable: the tools stopped meanwhile; reset instead
                pass
        self._vm_task(id, "ResetVM_Task", "Reset")
        return self._instance_now(id)

    def detach_all_volumes(self, session: Session, found: Found) -> None:
        """Overridden by the volumes part: detach a VM's volumes before it is destroyed."""

    def destroy_instance(self, id: str) -> None:
        hit = self.machine(id)
        if hit is None or hit[0].get("config.template"):
            raise ObjectNotFound(f"Instance '{id}' does not exist")
        found, realm_id = hit
        place = self.inventory().places.get(realm_id or "")

        def destroy(session: Session) -> None:
            self.detach_all_volumes(session, found)
            wait_for_task(session, found.obj.Destroy_Task(), deadline=self.deadline(), what=f"Destroy of {id}",
                          action=True)
            self._delete_iso(session, found, place.datacenter.ref if place is not None else None)

        self.vsphere(destroy, what=f"Destroy of {id}", action=True)
        self.forget_machines()


def _read(session: Session, obj: Any, paths: list[str]) -> list[Found]:
    return retrieve_objects(session, [obj], paths)
