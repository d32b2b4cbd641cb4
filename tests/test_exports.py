"""``deltacloud_core.__all__`` is exactly the public surface the package defines (httpx-style)."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import deltacloud_core

#: Dunder names that are part of the public surface.
INCLUDED_PRIVATE_MEMBERS = {"__version__"}


def public_members() -> set[str]:
    """Names bound in the package namespace that are meant for users.

    Submodules are left out: importing ``deltacloud_core.errors`` binds ``errors`` as an
    attribute of the package as a side effect, which does not make it an export.
    """
    return {
        name for name, value in vars(deltacloud_core).items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS)
        and not isinstance(value, types.ModuleType)
    }


def test_all_is_exactly_the_public_members():
    assert set(deltacloud_core.__all__) == public_members()


def test_all_has_no_duplicates():
    assert len(deltacloud_core.__all__) == len(set(deltacloud_core.__all__))


@pytest.mark.parametrize("name", deltacloud_core.__all__)
def test_each_export_is_importable(name):
    namespace: dict[str, object] = {}
    exec(f"from deltacloud_core import {name}", namespace)
    assert namespace[name] is getattr(deltacloud_core, name)


@pytest.mark.parametrize("name", [n for n in deltacloud_core.__all__ if isinstance(getattr(deltacloud_core, n), type)])
def test_exported_classes_are_defined_by_the_core(name):
    cls = getattr(deltacloud_core, name)
    assert cls.__module__.startswith("deltacloud_core."), f"{name} comes from {cls.__module__}"


def test_star_import_gives_exactly_all():
    namespace: dict[str, object] = {}
    exec("from deltacloud_core import *", namespace)
    namespace.pop("__builtins__", None)
    assert set(namespace) == set(deltacloud_core.__all__)


def test_version_is_the_distribution_version():
    from importlib.metadata import version

    assert deltacloud_core.__version__ == version("deltacloud-core")


def test_driver_authors_surface_does_not_pull_in_the_web_layer():
    """Importing the package (what a driver does) must not import Starlette, Jinja2 or xmltodict."""
    code = ("import sys, deltacloud_core; "
            "print(','.join(m for m in ('starlette', 'jinja2', 'xmltodict', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
