"""The Deltacloud VMware vSphere driver (vCenter or ESXi, through pyvmomi)."""

from .driver import VSphereDriver

__all__ = ["VSphereDriver"]
