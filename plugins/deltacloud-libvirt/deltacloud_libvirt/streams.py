"""Small files written to and read from storage volumes through libvirt's streams.

Streams go over the libvirt connection itself (``virStorageVolUpload`` / ``Download``), so they work
for a remote host (``qemu+tls://``, ``qemu+ssh://``) exactly as for a local one: the server never needs
to see the host's file system. The test driver has no streams (``VIR_ERR_NO_SUPPORT``, 501).
"""

from __future__ import annotations

import contextlib

import libvirt
from deltacloud_core import BackendError

__all__ = ["CHUNK", "download", "upload"]

CHUNK = 256 * 1024


def upload(conn: libvirt.virConnect, volume: libvirt.virStorageVolume, data: bytes) -> None:
    """Write ``data`` at the start of ``volume``."""
    stream = conn.newStream(0)
    try:
        volume.upload(stream, 0, len(data), 0)
        view = memoryview(data)
        while view:
            sent = stream.send(bytes(view[:CHUNK]))
            if sent < 0:
                raise BackendError(f"libvirt refused the data for volume {volume.name()}")
            view = view[sent:]
        stream.finish()
    except BaseException:
        with contextlib.suppress(libvirt.libvirtError):
            stream.abort()
        raise


def download(conn: libvirt.virConnect, volume: libvirt.virStorageVolume, limit: int) -> bytes:
    """The first ``limit`` bytes of ``volume`` (all of it when it is smaller)."""
    size = min(limit, int(volume.info()[1]))
    stream = conn.newStream(0)
    chunks: list[bytes] = []
    try:
        volume.download(stream, 0, size, 0)
        received = 0
        while received < size:
            chunk = stream.recv(min(CHUNK, size - received))
            if not chunk:
                break
            if isinstance(chunk, int):  # -2: would block (never on a blocking stream)
                continue
            chunks.append(chunk)
            received += len(chunk)
        stream.finish()
    except BaseException:
        with contextlib.suppress(libvirt.libvirtError):
            stream.abort()
        raise
    return b"".join(chunks)
