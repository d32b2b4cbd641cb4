"""Images: VM templates (``config.template``). Creating one clones a stopped instance to a
template; destroying one destroys the template."""

from __future__ import annotations

import secrets
from typing import Any

from deltacloud_core import Conflict, Image, ObjectNotFound
from pyVmomi import vim

from .compute import MAX_NAME, ComputeMixin
from .inventory import DEFAULT_PROFILE
from .machines import IMAGE_KEY, ISO_KEY, OWNER_KEY, architecture, extra_config, timestamp
from .query import Found, retrieve_objects, wait_for_task
from .session import Session
from .userdata import eject_changes

__all__ = ["ImagesMixin", "to_image"]


def to_image(found: Found) -> Image:
    config = extra_config(found)
    return Image(
        id=found.id, name=str(found.get("name") or found.id),
        description=str(found.get("config.annotation") or found.get("config.guestFullName") or "") or None,
        owner_id=config.get(OWNER_KEY) or None, architecture=architecture(found.get("config.guestId")),
        state="AVAILABLE", creation_time=timestamp(found.get("config.createDate")),
        hardware_profiles=(DEFAULT_PROFILE,), root_type="persistent",
        extra={"guest_id": found.get("config.guestId"), "cpu": found.get("config.hardware.numCPU"),
               "memory": found.get("config.hardware.memoryMB")})


class ImagesMixin(ComputeMixin):
    """Templates as images."""

    def list_images(self, **filters: str) -> list[Image]:
        if filters.get("id"):
            one = self.get_image(filters["id"])
            images = [one] if one is not None else []
        else:
            vms, _owners = self.machines()
            images = sorted((to_image(vm) for vm in vms if vm.get("config.template")), key=lambda i: (i.name, i.id))
        if filters.get("architecture"):
            images = [i for i in images if i.architecture == filters["architecture"]]
        if filters.get("owner_id"):
            images = [i for i in images if i.owner_id == filters["owner_id"]]
        return images

    def get_image(self, id: str) -> Image | None:
        hit = self.machine(id)
        if hit is None or not hit[0].get("config.template"):
            return None
        return to_image(hit[0])

    def create_image(self, *, instance_id: str, name: str | None = None, description: str | None = None,
                     **extra: str) -> Image:
        """Clone stopped instance ``instance_id`` to a template beside it (same folder's datacenter,
        same datastore). The instance's user data does not go with it."""
        hit = self.machine(instance_id)
        if hit is None or hit[0].get("config.template"):
            raise ObjectNotFound(f"Instance '{instance_id}' does not exist")
        found, realm_id = hit
        if found.get("runtime.powerState") != "poweredOff":
            raise Conflict(f"Instance {instance_id} is {found.get('runtime.powerState')}: stop it before making an "
                           "image of it (vSphere clones a stopped VM to a template).")
        image_name = (name or f"{found.get('name')}-image-{secrets.token_hex(2)}")[:MAX_NAME]
        folder = found.get("parent")  # beside the instance; a VM in a vApp has none: its datacenter's folder
        if folder is None and realm_id is not None and realm_id in self.inventory().places:
            folder = self.inventory().places[realm_id].datacenter.vm_folder
        cleared = [vim.option.OptionValue(key=k, value="") for k in
                   ("guestinfo.userdata", "guestinfo.userdata.encoding", "guestinfo.metadata",
                    "guestinfo.metadata.encoding", ISO_KEY, IMAGE_KEY)]
        change = vim.vm.ConfigSpec(extraConfig=[*cleared, vim.option.OptionValue(key=OWNER_KEY,
                                                                                 value=self.credentials.user)])
        if description is not None:
            change.annotation = description
        what = f"Clone of instance {instance_id} to template '{image_name}'"

        def clone(session: Session) -> Any:
            task = found.obj.CloneVM_Task(folder=folder, name=image_name,
                                          spec=vim.vm.CloneSpec(location=vim.vm.RelocateSpec(), powerOn=False,
                                                                template=False))
            return wait_for_task(session, task, deadline=self.deadline(), what=what)

        iso = extra_config(found).get(ISO_KEY)

        def finish(session: Session, copy: Any) -> None:
            # The instance's user data and user ISO stay with it; then the copy becomes a template.
            if iso:
                (mine,) = retrieve_objects(session, [copy], ["config.hardware.device"])
                change.deviceChange = eject_changes(list(mine.get("config.hardware.device") or ()), iso)
            wait_for_task(session, copy.ReconfigVM_Task(spec=change), deadline=self.deadline(),
                          what=f"{what}: reconfiguration")
            copy.MarkAsTemplate()

        copy = self.vsphere(clone)
        self.forget_machines()
        try:
            self.vsphere(lambda session: finish(session, copy), what=what)
        except Exception:
            self._discard(copy, image_name, None, delete_iso=False)
            raise
        hit = self.machine(copy._moId)
        if hit is None:
            raise ObjectNotFound(f"The new template {copy._moId} went away")
        return to_image(hit[0])

    def destroy_image(self, id: str) -> None:
        found = self.require_machine(id, template=True, what="Image")
        self.vsphere(lambda session: wait_for_task(session, found.obj.Destroy_Task(), deadline=self.deadline(),
                                                   what=f"Destroy of template {id}"))
        self.forget_machines()

