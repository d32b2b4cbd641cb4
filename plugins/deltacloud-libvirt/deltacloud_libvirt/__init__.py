"""The Deltacloud libvirt driver (``deltacloudd -i libvirt``)."""

from .driver import LibvirtDriver

__all__ = ["LibvirtDriver"]
