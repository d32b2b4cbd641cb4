"""Printing results: tables for people, JSON or YAML for scripts.

``-o json`` prints every field of every model (unknown fields under ``extra``), keys in the
model's field order, so scripts can rely on it; ``-o yaml`` is the same data. Tables show the
columns a person looks at first, with colour only on a terminal (rich decides, and honours
``NO_COLOR``).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from ..discovery import EntryPoint
from ..hardware import HardwareProperty
from ..models import Link, Ref, Resource

__all__ = ["COLUMNS", "emit", "plain", "stderr_console", "stdout_console"]

#: The table columns per collection (attribute paths); anything else is in -o json.
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "instances": ("id", "name", "state", "image", "realm", "hardware_profile", "public_addresses"),
    "images": ("id", "name", "state", "architecture", "owner_id", "description"),
    "realms": ("id", "name", "state", "limit"),
    "hardware_profiles": ("id", "name", "properties"),
    "keys": ("id", "credential_type", "fingerprint", "state"),
    "storage_volumes": ("id", "name", "state", "capacity", "realm", "instance", "device"),
    "storage_snapshots": ("id", "state", "storage_volume", "created"),
    "buckets": ("id", "name", "size"),
    "blobs": ("id", "bucket", "content_length", "content_type", "last_modified"),
    "addresses": ("id", "associated", "instance_id"),
    "firewalls": ("id", "name", "description", "owner_id", "rules"),
    "load_balancers": ("id", "public_addresses", "listeners", "instances"),
    "metrics": ("id", "entity", "properties"),
    "networks": ("id", "name", "state", "address_blocks", "subnets"),
    "subnets": ("id", "name", "state", "address_block", "network"),
    "network_interfaces": ("id", "name", "ip_address", "network", "instance"),
    "drivers": ("id", "name", "providers"),
}


def stdout_console() -> Console:
    return Console(soft_wrap=True)


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def plain(value: Any) -> Any:
    """Models and their parts as JSON-ready data (``_bound`` left out)."""
    if isinstance(value, EntryPoint):
        return {"version": value.version, "driver": value.driver, "provider": value.provider,
                "collections": {name: {"href": link.href, "features": [plain(f) for f in link.features]}
                                for name, link in value.collections.items()},
                "events": value.events_url, "idempotency": value.idempotency}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Ref):
        return value.id
    if isinstance(value, HardwareProperty):
        return f"{value.name}={value.value}" + (f" ({value.describe()})" if value.kind in ("range", "enum") else "")
    if isinstance(value, Link):
        return value.rel
    if isinstance(value, tuple | list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name in ("id", "address", "name"):
            if hasattr(value, name):
                return str(getattr(value, name))
    return str(value)


def table(console: Console, rows: Sequence[Resource], collection: str) -> None:
    columns = COLUMNS.get(collection, ("id",))
    if not console.is_terminal:  # plain aligned text for pipes: no box characters, no colour
        cells = [[c.upper() for c in columns]] + [[_cell(getattr(row, c, None)) for c in columns] for row in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
        for line in cells:
            console.print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip(),
                          markup=False, highlight=False)
        return
    grid = Table(show_edge=False, header_style="bold")
    for column in columns:
        grid.add_column(column.upper(), overflow="fold")
    for row in rows:
        grid.add_row(*[_cell(getattr(row, c, None)) for c in columns])
    console.print(grid)


def detail(console: Console, resource: Any) -> None:
    data = plain(resource)
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        if value in (None, "", [], {}):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        console.print(f"{key.ljust(width)}  {text}", markup=False, highlight=False)


def emit(result: Any, output: str, collection: str) -> None:
    """Print ``result`` (a model, a list of models, or plain data) as ``output`` asks."""
    if output == "json":
        sys.stdout.write(json.dumps(plain(result), indent=2, ensure_ascii=False) + "\n")
        return
    if output == "yaml":
        sys.stdout.write(yaml.safe_dump(plain(result), sort_keys=False, allow_unicode=True))
        return
    console = stdout_console()
    if isinstance(result, list) and all(isinstance(r, Resource) for r in result):
        table(console, result, collection)
    elif isinstance(result, Resource | EntryPoint) or dataclasses.is_dataclass(result):
        detail(console, result)
    elif result is not None:
        console.print(result if isinstance(result, str) else json.dumps(plain(result), indent=2),
                      markup=False, highlight=False)
