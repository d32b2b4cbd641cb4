"""The cloud-init NoCloud seed: an ISO 9660 image labelled ``cidata`` with ``user-data`` and ``meta-data``.

It is what every private cloud on libvirt attaches as a CD-ROM: cloud-init in the guest finds the
volume by its label, reads the instance id and host name from ``meta-data`` (YAML; every value is
written as a JSON string, which YAML reads as is) and runs ``user-data`` as the client sent it. The
``authentication_key`` feature adds the key's public part as ``public-keys``.

The image is made in memory by pycdlib (pure Python, so the server needs no ISO tool), with Rock
Ridge and Joliet names so that the guest sees ``user-data`` rather than ``USERDATA.;1``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import pycdlib

__all__ = ["VOLUME_LABEL", "meta_data", "seed_iso"]

VOLUME_LABEL = "cidata"


def meta_data(instance_id: str, hostname: str, public_keys: Sequence[str] = ()) -> bytes:
    """The ``meta-data`` document of a NoCloud seed."""
    lines = [f"instance-id: {json.dumps(instance_id)}", f"local-hostname: {json.dumps(hostname)}"]
    if public_keys:
        lines.append("public-keys:")
        lines.extend(f"  - {json.dumps(key)}" for key in public_keys)
    return ("\n".join(lines) + "\n").encode()


def seed_iso(*, instance_id: str, hostname: str, user_data: bytes | None,
             public_keys: Sequence[str] = ()) -> bytes:
    """The bytes of the seed ISO for one instance."""
    files = {
        "user-data": user_data or b"",
        "meta-data": meta_data(instance_id, hostname, public_keys),
    }
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=VOLUME_LABEL)
    try:
        for name, content in files.items():
            iso_name = "/" + name.replace("-", "").upper()[:8] + ".;1"
            iso.add_fp(io.BytesIO(content), len(content), iso_name, rr_name=name, joliet_path=f"/{name}")
        out = io.BytesIO()
        iso.write_fp(out)
    finally:
        iso.close()
    return out.getvalue()
