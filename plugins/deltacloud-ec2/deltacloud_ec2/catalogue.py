"""What the driver declares without asking the cloud: profiles, state machine, features.

All of it is the original's (``server/lib/deltacloud/drivers/ec2/ec2_driver.rb`` and
``eucalyptus_driver.rb`` in Apache Deltacloud 1.1.3), so the entry point, ``/api/hardware_profiles``
and ``/api/instance_states`` answer without credentials and match the recordings.
"""

from __future__ import annotations

from collections.abc import Mapping

from deltacloud_core import HardwareProfile, HardwareProperty, StateMachine

__all__ = [
    "EC2_FEATURES",
    "EC2_HARDWARE_PROFILES",
    "EC2_STATES",
    "EUCALYPTUS_FEATURES",
    "EUCALYPTUS_HARDWARE_PROFILES",
    "STATE_MAP",
    "deltacloud_state",
]

_BOTH_ARCHES = ("i386", "x86_64")


def _profile(id: str, cpu: float, memory: float, storage: int, architecture: str | tuple[str, ...],
             root_type: str | None = None) -> HardwareProfile:
    arch = (HardwareProperty.enum("architecture", architecture) if isinstance(architecture, tuple)
            else HardwareProperty.fixed("architecture", architecture))
    props = [HardwareProperty.fixed("cpu", cpu), HardwareProperty.fixed("memory", memory),
             HardwareProperty.fixed("storage", storage), arch]
    if root_type is not None:
        props.append(HardwareProperty.fixed("root_type", root_type))
    return HardwareProfile(id, tuple(props))


#: The original's static EC2 instance types, in its order (JSON keeps it; XML sorts by cpu, memory).
#: Memory values are printed as the original computed them (``613``, ``1740.8``, ``3840.0`` ...).
EC2_HARDWARE_PROFILES: tuple[HardwareProfile, ...] = (
    _profile("t1.micro", 1, 613, 160, _BOTH_ARCHES, root_type="persistent"),
    _profile("m1.small", 1, 1740.8, 160, _BOTH_ARCHES),
    _profile("m1.medium", 2, 3840.0, 410, _BOTH_ARCHES),
    _profile("m1.large", 4, 7680.0, 850, "x86_64"),
    _profile("m1.xlarge", 8, 15360, 1690, "x86_64"),
    _profile("c1.medium", 5, 1740.8, 350, _BOTH_ARCHES),
    _profile("c1.xlarge", 20, 7168, 1690, "x86_64"),
    _profile("m2.xlarge", 6.5, 17510.4, 420, "x86_64"),
    _profile("m2.2xlarge", 13, 35020.8, 850, "x86_64"),
    _profile("m2.4xlarge", 26, 70041.6, 1690, "x86_64"),
)

#: Eucalyptus' default VM types (its own 2.x defaults, as the original's eucalyptus driver listed them).
EUCALYPTUS_HARDWARE_PROFILES: tuple[HardwareProfile, ...] = (
    _profile("m1.small", 1, 128, 2, _BOTH_ARCHES),
    _profile("c1.medium", 1, 256, 5, _BOTH_ARCHES),
    _profile("m1.large", 2, 512, 10, _BOTH_ARCHES),
    _profile("m1.xlarge", 2, 1024, 20, _BOTH_ARCHES),
    _profile("c1.xlarge", 4, 2048, 20, _BOTH_ARCHES),
)

#: STATES.md, ec2: the cloud creates (``start -> pending`` is automatic), EBS instances stop and start.
EC2_STATES: StateMachine = (
    StateMachine.builder()
    .auto("start", "pending")
    .auto("pending", "running")
    .on("running", "reboot", "running")
    .on("running", "stop", "stopping")
    .auto("stopping", "stopped")
    .on("stopped", "start", "running")
    .on("stopped", "destroy", "finish")
    .build()
)

#: EC2 instance state names -> the instance document's state.
STATE_MAP: Mapping[str, str] = {
    "pending": "PENDING",
    "running": "RUNNING",
    "stopping": "STOPPING",
    "stopped": "STOPPED",
    "shutting-down": "STOPPED",
    "terminated": "FINISH",
}


def deltacloud_state(ec2_state: str | None) -> str:
    return STATE_MAP.get((ec2_state or "").lower(), "UNKNOWN")


#: FEATURES.md §4, in the catalogue's advertising order. No ``user_name`` (TESTSUITE A.1).
EC2_FEATURES: Mapping[str, tuple[str, ...]] = {
    "images": ("owner_id", "image_name", "image_description"),
    "buckets": ("bucket_location",),
    "instances": ("metrics", "user_data", "firewalls", "authentication_key", "instance_count", "attach_snapshot"),
}
EUCALYPTUS_FEATURES: Mapping[str, tuple[str, ...]] = {
    "images": ("owner_id",),
    "instances": ("user_data", "firewalls", "authentication_key", "instance_count"),
}
