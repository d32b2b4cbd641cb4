"""Drivers of the core's own tests, installed without packaging: a ``*.dist-info`` with entry points
and the modules beside it in a directory that goes on ``sys.path`` (this process) or ``PYTHONPATH``
(a ``deltacloudd`` subprocess): the very entry-point machinery a ``pip install`` would feed."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from pathlib import Path

from deltacloud_core.drivers import DRIVER_GROUP

__all__ = ["driver_site", "server_env"]


def driver_site(root: Path, dist: str, drivers: Mapping[str, str], modules: Mapping[str, str]) -> Path:
    """A site directory under ``root`` holding distribution ``dist`` with the driver entry points
    ``drivers`` (id -> ``module:Class``) and the ``modules`` (name -> source)."""
    site = root / f"site-{dist}"
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "\n".join(f"{name} = {target}" for name, target in drivers.items())
    (info / "entry_points.txt").write_text(f"[{DRIVER_GROUP}]\n{lines}\n")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source))
    return site


def server_env(site: Path, **extra: str) -> dict[str, str]:
    """This process's environment with ``site`` first on ``PYTHONPATH`` and ``extra`` set."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(site), env.get("PYTHONPATH", ""))))
    env.update(extra)
    return env
