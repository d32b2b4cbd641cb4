"""The one pluggy ``PluginManager("deltacloud")`` and how plugins get on it.

* ``DEFAULT_PLUGINS``: the core's own modules of ``@hookimpl`` functions (collections,
  features, renderers), registered first, exactly as third-party plugins are.
* Entry-point group ``deltacloud.plugins``: third-party extension modules.
* ``DELTACLOUD_BLOCK_PLUGINS=name1,name2``: plugins (module or entry-point names) and drivers
  not to load. ``DELTACLOUD_TRACE_HOOKS=1``: log every hook call.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
from functools import lru_cache

import pluggy

from . import hookspecs

__all__ = ["DEFAULT_PLUGINS", "PLUGIN_GROUP", "blocked_names", "get_plugin_manager", "new_plugin_manager"]

PLUGIN_GROUP = "deltacloud.plugins"
log = logging.getLogger("deltacloud.plugins")

DEFAULT_PLUGINS: tuple[str, ...] = (
    "deltacloud_core.features_plugin",
    "deltacloud_core.collections.drivers",
    "deltacloud_core.collections.realms",
    "deltacloud_core.collections.hardware_profiles",
    "deltacloud_core.collections.images",
    "deltacloud_core.collections.instances",
    "deltacloud_core.collections.instance_states",
    "deltacloud_core.collections.keys",
    # -- storage collections
    "deltacloud_core.collections.storage_volumes",
    "deltacloud_core.collections.storage_snapshots",
    "deltacloud_core.collections.buckets",
    # -- network and monitoring collections
    "deltacloud_core.collections.addresses",
    "deltacloud_core.collections.firewalls",
    "deltacloud_core.collections.load_balancers",
    "deltacloud_core.collections.metrics",
    "deltacloud_core.collections.networks",
    "deltacloud_core.collections.subnets",
    "deltacloud_core.collections.network_interfaces",
    "deltacloud_core.web.renderers.xml",
    "deltacloud_core.web.renderers.json",
    "deltacloud_core.web.renderers.html",
    "deltacloud_core.web.renderers.graph",
    "deltacloud_core.web.events",
)


def blocked_names() -> set[str]:
    raw = os.environ.get("DELTACLOUD_BLOCK_PLUGINS", "")
    return {n.strip() for n in raw.split(",") if n.strip()}


def new_plugin_manager(extra_plugins: tuple[object, ...] = ()) -> pluggy.PluginManager:
    """A fresh manager: specs, DEFAULT_PLUGINS, entry-point plugins, then ``extra_plugins``."""
    pm = pluggy.PluginManager("deltacloud")
    pm.add_hookspecs(hookspecs)
    blocked = blocked_names()
    for name in DEFAULT_PLUGINS:
        if name in blocked:
            continue
        pm.register(importlib.import_module(name), name=name)
    for name in blocked:
        pm.set_blocked(name)
    for entry_point in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        if entry_point.name in blocked or pm.get_plugin(entry_point.name) is not None:
            continue
        try:
            pm.register(entry_point.load(), name=entry_point.name)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not take the others down
            log.warning("plugin %r (%s) skipped: %s: %s", entry_point.name, entry_point.value,
                        type(exc).__name__, exc)
    for plugin in extra_plugins:
        pm.register(plugin)
    pm.check_pending()
    if os.environ.get("DELTACLOUD_TRACE_HOOKS"):
        pm.trace.root.setwriter(lambda msg: log.info("hook: %s", msg.rstrip()))
        pm.enable_tracing()
    return pm


@lru_cache(maxsize=1)
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager (built on first use)."""
    return new_plugin_manager()
