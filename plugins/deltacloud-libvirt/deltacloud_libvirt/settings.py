"""The operator's settings of the libvirt driver, read from the environment at each use.

=====================================  ===================================  ==========================================
Variable                               Default                              Meaning
=====================================  ===================================  ==========================================
``LIBVIRT_DEFAULT_URI``                ``qemu:///system``                   the provider when neither ``-P`` nor
                                                                            ``API_PROVIDER`` names one
``DELTACLOUD_LIBVIRT_NO_AUTH_URIS``    (none)                               glob patterns of URIs that may be used
                                                                            although libvirt asks for no credentials
                                                                            there (a unix socket whose permissions are
                                                                            the only protection); any other such URI
                                                                            is refused (403)
``DELTACLOUD_LIBVIRT_IMAGE_POOL``      ``deltacloud-images``                storage pool whose volumes are the images
``DELTACLOUD_LIBVIRT_VOLUME_POOL``     ``deltacloud-volumes``               storage pool of the storage volumes and
                                                                            their snapshots
``DELTACLOUD_LIBVIRT_INSTANCE_POOL``   ``deltacloud-instances``             storage pool of the instances' disks (the
                                                                            qcow2 overlays and seed ISOs)
``DELTACLOUD_LIBVIRT_NETWORK``         ``default`` when it exists           libvirt network of the instances' NIC;
                                                                            ``none`` for no NIC
``DELTACLOUD_LIBVIRT_DOMAIN_TYPE``     ``kvm`` when the host offers it,     ``<domain type=...>`` of new instances
                                       else ``qemu`` (TCG)
``DELTACLOUD_LIBVIRT_STOP_GRACE``      ``60``                               seconds a guest has to shut down after
                                                                            ``stop`` (ACPI) before it is powered off
``DELTACLOUD_LIBVIRT_REBOOT``          ``acpi``                             ``acpi``: ask the guest to reboot;
                                                                            ``reset``: reset the virtual machine
``DELTACLOUD_LIBVIRT_PROFILES``        (none)                               fixed hardware profiles besides the host's
                                                                            ranges: ``small:cpu=1,memory=512,storage=4
                                                                            large:cpu=4,memory=8192``
=====================================  ===================================  ==========================================

Which URIs clients may choose at all is the core's provider policy (``deltacloudd -P`` for the default,
``DELTACLOUD_PROVIDERS_LIBVIRT`` / ``--allow-provider libvirt=PATTERN`` for the others).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from deltacloud_core import HardwareProfile, HardwareProperty

__all__ = [
    "DEFAULT_URI",
    "Settings",
    "parse_profiles",
]

DEFAULT_URI = "qemu:///system"
_PREFIX = "DELTACLOUD_LIBVIRT_"
_PROFILE = re.compile(r"^(?P<id>[A-Za-z0-9_.-]+):(?P<props>.+)$")
_PROPERTY_NAMES = ("cpu", "memory", "storage")


@dataclass(frozen=True)
class Settings:
    """One reading of the environment (cheap: build it per request)."""

    default_uri: str
    no_auth_patterns: tuple[str, ...]
    image_pool: str
    volume_pool: str
    instance_pool: str
    network: str | None
    domain_type: str | None
    stop_grace: float
    reboot_mode: str
    profiles: tuple[HardwareProfile, ...]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            return env.get(_PREFIX + name, default).strip()

        grace_text = get("STOP_GRACE", "60")
        try:
            grace = float(grace_text)
        except ValueError:
            raise ValueError(f"{_PREFIX}STOP_GRACE must be a number of seconds, not {grace_text!r}") from None
        reboot = get("REBOOT", "acpi").lower()
        if reboot not in ("acpi", "reset"):
            raise ValueError(f"{_PREFIX}REBOOT must be 'acpi' or 'reset', not {reboot!r}")
        network = get("NETWORK") or None
        return cls(
            default_uri=env.get("LIBVIRT_DEFAULT_URI", "").strip() or DEFAULT_URI,
            no_auth_patterns=tuple(get("NO_AUTH_URIS").split()),
            image_pool=get("IMAGE_POOL") or "deltacloud-images",
            volume_pool=get("VOLUME_POOL") or "deltacloud-volumes",
            instance_pool=get("INSTANCE_POOL") or "deltacloud-instances",
            network=network,
            domain_type=get("DOMAIN_TYPE") or None,
            stop_grace=max(0.0, grace),
            reboot_mode=reboot,
            profiles=parse_profiles(get("PROFILES")),
        )

    def allows_no_auth(self, uri: str) -> bool:
        """The operator lets ``uri`` be used although libvirt asks for no credentials there."""
        return any(fnmatch.fnmatchcase(uri, pattern) for pattern in self.no_auth_patterns)


def parse_profiles(text: str) -> tuple[HardwareProfile, ...]:
    """Fixed profiles from ``id:cpu=N,memory=MiB,storage=GiB id2:...`` (ValueError naming the mistake)."""
    profiles = []
    for entry in text.split():
        match = _PROFILE.match(entry)
        if match is None:
            raise ValueError(f"{_PREFIX}PROFILES: {entry!r} is not id:cpu=N,memory=MiB,storage=GiB")
        props = []
        for part in match["props"].split(","):
            name, sep, value = part.partition("=")
            if not sep or name not in _PROPERTY_NAMES or not value.isdigit() or int(value) < 1:
                raise ValueError(f"{_PREFIX}PROFILES: {part!r} in {entry!r} is not cpu=N, memory=MiB or "
                                 "storage=GiB with a positive whole number")
            props.append(HardwareProperty.fixed(name, int(value)))
        if match["id"] in ("default",) or match["id"] in {p.id for p in profiles}:
            raise ValueError(f"{_PREFIX}PROFILES: profile id {match['id']!r} is taken")
        profiles.append(HardwareProfile(match["id"], tuple(props)))
    return tuple(profiles)
