"""Getting data into a new VM: ``user_data`` through guestinfo, ``user_iso`` as a CD-ROM.

* ``user_data`` (already base64-decoded by the core) goes to the VM's ``guestinfo.userdata``
  (base64, ``guestinfo.userdata.encoding=base64``), with ``guestinfo.metadata`` naming a fresh
  ``instance-id`` and the VM's name as ``local-hostname``: what cloud-init's VMware datasource
  reads (cloud-init 21.3 and later), so a template prepared with cloud-init configures each clone
  once. Without ``user_data`` the keys are cleared, so a template's own never reaches its clones.
* ``user_iso`` (as the original: a base64-encoded, gzipped ISO 9660 image; a plain ISO is
  accepted too) is uploaded to the datastore of the new VM (``[datastore] deltacloud-iso/...``)
  through vSphere's datastore file service (``/folder``), attached as a connected CD-ROM, recorded
  in ``deltacloud.user-iso``, and deleted with the VM.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import http.client
import io
import json
import re
import uuid
import zlib
from typing import Any
from urllib.parse import quote, urlencode

from deltacloud_core import ForbiddenError, ObjectNotFound, ProviderError, ValidationError
from deltacloud_core.errors import PayloadTooLarge
from pyVmomi import vim

from .provider import Endpoint
from .session import Session
from .settings import Settings

__all__ = ["ISO_FOLDER", "cdrom_change", "check_cdrom", "decode_user_iso", "eject_changes", "guestinfo", "iso_path",
           "upload"]

ISO_FOLDER = "deltacloud-iso"
#: Where ISO 9660 keeps its signature: the first volume descriptor, at sector 16.
_ISO_MAGIC_OFFSET = 0x8001
_ISO_MAGIC = b"CD001"


def guestinfo(user_data: bytes | None, hostname: str) -> list[Any]:
    """``extraConfig`` options for cloud-init's VMware datasource (empty values clear a key)."""
    meta = json.dumps({"instance-id": f"deltacloud-{uuid.uuid4()}", "local-hostname": hostname})
    values = {
        "guestinfo.metadata": base64.b64encode(meta.encode()).decode(),
        "guestinfo.metadata.encoding": "base64",
        "guestinfo.userdata": base64.b64encode(user_data).decode() if user_data else "",
        "guestinfo.userdata.encoding": "base64" if user_data else "",
    }
    return [vim.option.OptionValue(key=k, value=v) for k, v in values.items()]


def decode_user_iso(raw: str, settings: Settings) -> bytes:
    """The ISO image of a ``user_iso`` parameter; 400 when it is not one, 413 when too large."""
    try:
        data = base64.b64decode("".join(raw.split()).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValidationError("Parameter user_iso must be a base64-encoded (gzipped) ISO 9660 image.") from None
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(settings.max_iso_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValidationError(f"Parameter user_iso is not a valid gzip stream: {exc}.") from None
    if len(data) > settings.max_iso_bytes:
        raise PayloadTooLarge(f"Parameter user_iso unzips to more than {settings.max_iso_bytes // 2**20} MiB, "
                              "the largest this server accepts (DELTACLOUD_VSPHERE_MAX_ISO_MB).")
    if data[_ISO_MAGIC_OFFSET:_ISO_MAGIC_OFFSET + len(_ISO_MAGIC)] != _ISO_MAGIC:
        raise ValidationError("Parameter user_iso is not an ISO 9660 image (no CD001 volume descriptor at "
                              "sector 16); make one with genisoimage or xorriso, gzip it and base64-encode it.")
    return data


def upload(session: Session, endpoint: Endpoint, settings: Settings, *, datacenter: str, datastore: str,
           path: str, data: bytes) -> str:
    """PUT ``data`` to ``path`` of ``datastore`` with the session's cookie; the datastore path
    (``[datastore] path``). Bounded by the operator's timeout, TLS checked like SOAP."""
    query = urlencode({"dcPath": datacenter, "dsName": datastore})
    target = f"{endpoint.base_url.split('://', 1)[1]}"
    connection: http.client.HTTPConnection
    if endpoint.scheme == "https":
        connection = http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=settings.timeout,
                                                 context=settings.ssl_context())
    else:
        connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=settings.timeout)
    try:
        connection.request("PUT", f"/folder/{quote(path)}?{query}", body=data, headers={
            "Cookie": session.cookie, "Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
        response = connection.getresponse()
        detail = response.read(512).decode("utf-8", "replace").strip()
    finally:
        connection.close()
    if response.status in (200, 201, 204):
        return f"[{datastore}] {path}"
    where = f"the datastore file service of {target}"
    if response.status in (401, 403):
        raise ForbiddenError(f"{where} refused the upload of the user_iso ({response.status}): {detail or 'no detail'}")
    if response.status == 404:
        raise ObjectNotFound(f"{where} does not know datastore {datastore} of datacenter {datacenter}")
    raise ProviderError(f"{where} answered {response.status} to the upload of the user_iso: {detail or 'no detail'}")


def iso_path(name: str) -> str:
    """Where a VM's user ISO goes: ``deltacloud-iso/NAME-xxxxxxxx.iso``, the name reduced to what a
    datastore path takes everywhere (a VM may be named ``web/1 é``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "instance"
    return f"{ISO_FOLDER}/{safe[:60]}-{uuid.uuid4().hex[:8]}.iso"


def check_cdrom(devices: list[Any]) -> None:
    """400 when a VM with these devices cannot take a user ISO: no CD-ROM drive, no free IDE slot."""
    if any(isinstance(d, vim.vm.device.VirtualCdrom) for d in devices):
        return
    taken = {(d.controllerKey, d.unitNumber) for d in devices if getattr(d, "controllerKey", None) is not None}
    if any((c.key, unit) not in taken for c in devices if isinstance(c, vim.vm.device.VirtualIDEController)
           for unit in (0, 1)):
        return
    raise ValidationError("The template has no CD-ROM drive and no free IDE slot for one: user_iso cannot be "
                          "attached; add a CD-ROM drive to the template.")


def cdrom_change(found_devices: list[Any], iso: str) -> Any:
    """The device change that puts ``iso`` in the VM: its first CD-ROM drive if it has one, else a
    new drive on a free IDE slot."""
    for device in found_devices:
        if isinstance(device, vim.vm.device.VirtualCdrom):
            device.backing = vim.vm.device.VirtualCdrom.IsoBackingInfo(fileName=iso)
            device.connectable = vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, connected=True,
                                                                        allowGuestControl=True)
            return vim.vm.device.VirtualDeviceSpec(operation="edit", device=device)
    ide = [d for d in found_devices if isinstance(d, vim.vm.device.VirtualIDEController)]
    taken = {(d.controllerKey, d.unitNumber) for d in found_devices if getattr(d, "controllerKey", None) is not None}
    for controller in ide:
        for unit in (0, 1):
            if (controller.key, unit) not in taken:
                drive = vim.vm.device.VirtualCdrom(
                    key=-100, controllerKey=controller.key, unitNumber=unit,
                    backing=vim.vm.device.VirtualCdrom.IsoBackingInfo(fileName=iso),
                    connectable=vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, connected=True,
                                                                       allowGuestControl=True))
                return vim.vm.device.VirtualDeviceSpec(operation="add", device=drive)
    raise ValidationError("The template has no CD-ROM drive and no free IDE slot for one: user_iso cannot be "
                          "attached; add a CD-ROM drive to the template.")


def eject_changes(devices: list[Any], iso: str) -> list[Any]:
    """Device changes that take ``iso`` out of the CD-ROM drives that hold it (a copy of the VM must
    not point at the VM's own user ISO, deleted with it)."""
    changes = []
    for device in devices:
        if (isinstance(device, vim.vm.device.VirtualCdrom)
                and isinstance(device.backing, vim.vm.device.VirtualCdrom.IsoBackingInfo)
                and device.backing.fileName == iso):
            device.backing = vim.vm.device.VirtualCdrom.RemotePassthroughBackingInfo(deviceName="", exclusive=False)
            device.connectable = vim.vm.device.VirtualDevice.ConnectInfo(startConnected=False, connected=False,
                                                                        allowGuestControl=True)
            changes.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=device))
    return changes
