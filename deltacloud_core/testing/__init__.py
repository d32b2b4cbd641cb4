"""The driver conformance kit: prove a driver with one small test file.

::

    import pytest
    from deltacloud_core import Credentials
    from deltacloud_core.testing import Conformance

    class TestMyDriver(Conformance):
        @pytest.fixture
        def driver(self):
            return MyDriver(credentials=Credentials("user", "secret"))

``Conformance`` runs the driver-level suite (:class:`DriverConformance`) and, in its nested
``TestApi``, the HTTP one (:class:`ApiConformance`); either can be subclassed alone.

Installed with ``pip install deltacloud-core[testing]``, which also registers the
``deltacloud`` pytest plugin (options ``--deltacloud-live``, ``--deltacloud-examples``,
``--deltacloud-steps``, ``--deltacloud-step-timeout``, ``--deltacloud-settle-timeout``; the
``deltacloud_live`` marker; the ``deltacloud_settings`` fixture). This module stays light:
the classes are imported on first use.

``running_server`` (with ``free_port``) runs a real ``deltacloudd`` in a subprocess on a free
loopback port for the length of a ``with`` block, for tests that need one over the network.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import ApiConformance, Conformance
    from .conformance import DriverConformance, Kit
    from .server import ServerError, free_port, running_server
    from .settings import LIVE_MARKER, ConformanceSettings
    from .stateful import bucket_lifecycle, instance_lifecycle, run_machine
    from .transport import Http, InProcess, Reply, Transport

__all__ = [
    "LIVE_MARKER",
    "ApiConformance",
    "Conformance",
    "ConformanceSettings",
    "DriverConformance",
    "Http",
    "InProcess",
    "Kit",
    "Reply",
    "ServerError",
    "Transport",
    "bucket_lifecycle",
    "free_port",
    "instance_lifecycle",
    "run_machine",
    "running_server",
]

_HOMES = {
    "LIVE_MARKER": "settings",
    "ApiConformance": "api",
    "Conformance": "api",
    "ConformanceSettings": "settings",
    "DriverConformance": "conformance",
    "Http": "transport",
    "InProcess": "transport",
    "Kit": "conformance",
    "Reply": "transport",
    "ServerError": "server",
    "Transport": "transport",
    "bucket_lifecycle": "stateful",
    "free_port": "server",
    "instance_lifecycle": "stateful",
    "run_machine": "stateful",
    "running_server": "server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
