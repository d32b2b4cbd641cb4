"""The sizes instances come in: one fixed profile and one a client can adjust."""

from deltacloud_core import HardwareProfile, HardwareProperty

HARDWARE_PROFILES = (
    HardwareProfile("small", (
        HardwareProperty.fixed("cpu", 1),
        HardwareProperty.fixed("memory", 1024),
        HardwareProperty.fixed("storage", 10),
        HardwareProperty.fixed("architecture", "x86_64"),
    )),
    # POST /api/instances?hwp_id=flex&hwp_cpu=4&hwp_memory=8192 is checked by the core
    # against these ranges and values before the driver sees it.
    HardwareProfile("flex", (
        HardwareProperty.range("cpu", 1, 8, default=2),
        HardwareProperty.range("memory", 512, 16384, default=2048),
        HardwareProperty.enum("storage", (20, 50, 100), default=20),
        HardwareProperty.enum("architecture", ("x86_64", "aarch64")),
    )),
)
