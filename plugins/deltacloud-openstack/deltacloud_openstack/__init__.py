"""The Deltacloud OpenStack driver (``deltacloudd -i openstack -P <keystone URL>[;<region>]``)."""

from .driver import OpenStackDriver

__all__ = ["OpenStackDriver"]
__version__ = "0.1.0"
