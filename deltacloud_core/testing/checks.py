"""Contract checks on a driver class, as functions that return the problems they find.

Each returns a list of human-readable problems (empty: the driver is fine), so the test
classes can report all of them at once and other tools (a support-matrix generator, a
``deltacloudd --check`` some day) can reuse them.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..collections.base import Collection, CollectionRegistry, Operation
    from ..drivers.base import Driver
    from ..features import FeatureRegistry
    from ..state_machine import StateMachine

__all__ = [
    "ACTION_METHODS",
    "collections_of",
    "entry_point_problems",
    "feature_problems",
    "hardware_profile_problems",
    "machine_problems",
    "required_methods",
    "signature_problems",
    "unsupported_reason",
]

#: Driver method behind each state-machine action.
ACTION_METHODS: dict[str, str] = {
    "create": "create_instance",
    "reboot": "reboot_instance",
    "start": "start_instance",
    "stop": "stop_instance",
    "destroy": "destroy_instance",
}


def collections_of(plugins: Iterable[object] = ()) -> CollectionRegistry:
    """The collection registry an app builds: the core's, installed plugins', then ``plugins``."""
    from ..collections.base import CollectionRegistry
    from ..plugins import get_plugin_manager, new_plugin_manager

    extra = tuple(plugins)
    pm = new_plugin_manager(extra) if extra else get_plugin_manager()
    registry = CollectionRegistry()
    pm.hook.deltacloud_register_collections(registry=registry)
    return registry


def required_methods(op: Operation) -> tuple[str, ...]:
    """Driver methods an operation needs, when its requirement says (``needs(...)``)."""
    doc = (getattr(op.requires, "__doc__", None) or "").strip()
    if doc.startswith("implements "):
        return tuple(m.strip() for m in doc[len("implements "):].split(","))
    return ()


def unsupported_reason(driver_cls: type[Driver], collection: Collection, op: Operation) -> str:
    """Why ``op`` is not available: the methods the driver lacks, or the requirement's docstring."""
    from ..drivers.capabilities import implements

    missing = [m for m in required_methods(op) if not implements(driver_cls, m)]
    if missing:
        return f"{driver_cls.__name__} does not implement {', '.join(missing)}"
    doc = (getattr(op.requires, "__doc__", None) or "").strip().splitlines()
    return doc[0] if doc else f"requirement of {collection.name} {op.name} not met"


def feature_problems(driver_cls: type[Driver], features: FeatureRegistry, collections: CollectionRegistry,
                     tolerated: Iterable[tuple[str, str] | str] = ()) -> list[str]:
    """Declared features that are not in the catalogue, or of a collection that does not exist.

    ``tolerated``: features declared on purpose though not in the catalogue, as
    ``(collection, name)`` pairs or ``"collection:name"`` strings.
    """
    allowed = {tuple(t.split(":", 1)) if isinstance(t, str) else tuple(t) for t in tolerated}
    problems = []
    for collection, names in driver_cls.FEATURES.items():
        if collection not in collections:
            problems.append(f"FEATURES names collection '{collection}', which no plugin registers")
            continue
        for name in names:
            if features.get(collection, name) is None and (collection, name) not in allowed:
                known = ", ".join(f.name for f in features.for_collection(collection)) or "none"
                problems.append(f"feature '{name}' of '{collection}' is not in the catalogue (known: {known})")
    for (collection, name), _constraints in driver_cls.FEATURE_CONSTRAINTS.items():
        if name not in driver_cls.FEATURES.get(collection, ()):
            problems.append(f"FEATURE_CONSTRAINTS constrains '{collection}:{name}', which FEATURES does not declare")
    return problems


def machine_problems(driver_cls: type[Driver], machine: StateMachine) -> list[str]:
    """The machine breaks a rule, or advertises an action the driver cannot perform."""
    from ..drivers.capabilities import implements
    from ..state_machine import StateMachineError

    problems = []
    try:
        machine.validate()
    except StateMachineError as exc:
        problems.append(f"state machine: {exc}")
    for t in machine.transitions:
        if t.action is None:
            continue
        method = ACTION_METHODS.get(t.action)
        if method is not None and not implements(driver_cls, method):
            problems.append(f"'{t.source}' offers '{t.action}' but {driver_cls.__name__} does not implement {method}")
    return problems


def hardware_profile_problems(profiles: Iterable[Any]) -> list[str]:
    """Profiles that are not well formed: ids, property kinds, defaults inside their ranges."""
    from ..hardware import PROPERTY_UNITS, HardwareProfile

    problems = []
    seen: set[str] = set()
    for profile in profiles:
        if not isinstance(profile, HardwareProfile):
            problems.append(f"{profile!r} is not a HardwareProfile")
            continue
        if not profile.id or "/" in profile.id:
            problems.append(f"hardware profile id {profile.id!r} is empty or has a '/'")
        if profile.id in seen:
            problems.append(f"hardware profile '{profile.id}' is listed twice")
        seen.add(profile.id)
        for prop in profile.properties:
            where = f"hardware profile '{profile.id}' property '{prop.name}'"
            if prop.name not in PROPERTY_UNITS:
                problems.append(f"{where}: unknown property (known: {', '.join(PROPERTY_UNITS)})")
            if prop.kind not in ("fixed", "range", "enum"):
                problems.append(f"{where}: kind '{prop.kind}' is not fixed, range or enum")
            elif not prop.includes(prop.default):
                problems.append(f"{where}: default {prop.default!r} is outside what it allows ({prop.describe()})")
            if prop.kind == "enum" and len(set(map(str, prop.values))) != len(prop.values):
                problems.append(f"{where}: enum lists a value twice")
    return problems


def signature_problems(driver_cls: type[Driver], method: str) -> list[str]:
    """The override of ``method`` cannot be called the way the core calls the base method."""
    from ..drivers.base import Driver

    base = getattr(Driver, method, None)
    impl = getattr(driver_cls, method, None)
    if impl is None or not callable(impl):
        return [f"{driver_cls.__name__}.{method} is not callable"]
    if base is None:
        return []
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    extra = False
    # Parameters the server passes only to implementations that declare them (blob_content's byte_range).
    optional: frozenset[str] = getattr(base, "__deltacloud_optional_parameters__", frozenset())
    for p in list(inspect.signature(base).parameters.values())[1:]:
        if p.name in optional:
            continue
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(p.name)
        elif p.kind == p.KEYWORD_ONLY:
            kwargs[p.name] = p.name
        elif p.kind == p.VAR_KEYWORD:
            extra = True
    try:
        inspect.signature(impl).bind(None, *args, **kwargs)
    except TypeError as exc:
        return [f"{driver_cls.__name__}.{method} does not accept the core's call {method}"
                f"({', '.join([*args, *(f'{k}=' for k in kwargs)])}): {exc}"]
    if extra:
        try:
            inspect.signature(impl).bind(None, *args, **kwargs, some_provider_extra="x")
        except TypeError:
            return [f"{driver_cls.__name__}.{method} must accept **extra (provider-specific parameters)"]
    return []


def entry_point_problems(driver_cls: type[Driver], group: str = "deltacloud.drivers") -> list[str]:
    """No entry point of ``group`` names ``driver_cls`` (or a class it derives from)."""
    from importlib.metadata import entry_points

    wanted = {f"{c.__module__}:{c.__qualname__}" for c in driver_cls.__mro__
              if c.__module__ != "builtins" and not c.__module__.startswith("deltacloud_core.")}
    for ep in entry_points(group=group):
        if ep.value.replace(" ", "") in wanted:
            return []
    return [f"no entry point of group '{group}' names {driver_cls.__module__}:{driver_cls.__qualname__}; "
            f'add [project.entry-points."{group}"] <name> = "{driver_cls.__module__}:{driver_cls.__qualname__}" '
            "to the distribution's pyproject.toml"]
