"""``DriverConformance``: the driver-level conformance tests a driver's test file subclasses.

::

    class TestMyDriver(DriverConformance):
        @pytest.fixture
        def driver(self):
            return MyDriver(credentials=Credentials("user", "secret"))

Tests are generated from the collection registry (the core's collections and any
plugin's) and from what the driver overrides; what it does not implement is skipped with
a reason that names it, so ``pytest -rs`` reads as a support matrix. Requests run through
the collections' own operations (the core's parameter, capability and state-machine
checks) against the driver object, without HTTP; :class:`~.api.ApiConformance` does the
same over HTTP.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote

import pytest

from .settings import ConformanceSettings, overrides_from_config
from .stateful import MISSING_ID

if TYPE_CHECKING:
    from ..collections.base import Collection, CollectionRegistry, Operation
    from ..drivers.base import Driver
    from ..web.app import DeltacloudApp
    from .transport import Reply, Transport

__all__ = ["ConformanceBase", "DriverConformance", "Kit"]

F = TypeVar("F", bound=Callable[..., Any])


def over(shape: str) -> Callable[[F], F]:
    """Parametrize a test over the collections (or operations) of one shape; see :func:`_targets`."""

    def mark(func: F) -> F:
        func.deltacloud_over = shape  # type: ignore[attr-defined]
        return func

    return mark


@cache
def _registry(plugins: tuple[object, ...]) -> CollectionRegistry:
    from .checks import collections_of

    return collections_of(plugins)


def _driver_bound(collection: Collection) -> bool:
    index = collection.index
    return index is not None and not index.driverless and collection.parent is None


def _targets(registry: CollectionRegistry, shape: str) -> list[Any]:
    """``collections``: every collection a driver serves; ``members``: those with a show;
    ``named``: those created from a name alone and destroyable; ``operations``: every
    (collection, operation) that needs something of the driver."""
    cols = [c for c in registry if _driver_bound(c)]
    if shape == "collections":
        return [c.name for c in cols]
    if shape == "members":
        return [c.name for c in cols if _op(c, "show", "GET", "/{id}")]
    if shape == "named":
        return [c.name for c in cols if _named(c)]
    if shape == "operations":
        return [(c.name, op.name) for c in registry for op in c.operations
                if op.capability is not None and not op.driverless]
    raise ValueError(f"unknown shape {shape!r}")


def _named(collection: Collection) -> bool:
    """Members are created from a name alone (keys, buckets), shown and destroyed by id."""
    create = _op(collection, "create", "POST", "")
    return (create is not None and {p.name for p in create.required_params} <= {"name"}
            and _op(collection, "destroy", "DELETE", "/{id}") is not None
            and _op(collection, "show", "GET", "/{id}") is not None)


def _op(collection: Collection, name: str, method: str, path: str) -> Operation | None:
    op = collection.operation(name)
    return op if op is not None and op.http_method == method and op.path == path else None


def _credentials(driver: Driver) -> Any:
    from ..errors import AuthenticationRequired

    try:
        return driver.credentials
    except AuthenticationRequired:
        return None


@dataclass
class Kit:
    """What every conformance test works with: the driver, an app, a transport, the settings."""

    driver: Driver
    app: DeltacloudApp
    transport: Transport
    settings: ConformanceSettings

    @property
    def driver_cls(self) -> type[Driver]:
        return type(self.driver)

    @property
    def name(self) -> str:
        from .transport import driver_name

        return driver_name(self.driver_cls)

    def supports(self, method: str, path: str) -> bool:
        """The driver implements the operation that serves ``method path``."""
        from .transport import find_operation

        found = find_operation(self.app.collections, method, path)
        return found is not None and found[1].supported_by(self.driver_cls)

    def require(self, collection: str, operation: str) -> Operation:
        """The operation, or a skip naming what the driver lacks (after checking its 412)."""
        from .checks import unsupported_reason

        col = self.app.collections.get(collection)
        if col is None:
            pytest.skip(f"{self.name}: no '{collection}' collection on this server (neither core nor plugin)")
        op = col.operation(operation)
        if op is None:
            pytest.skip(f"{self.name}: {collection} has no '{operation}' operation")
        if op.requires is None or op.supported_by(self.driver_cls):
            return op
        from .transport import operation_path

        path = operation_path(col, op, MISSING_ID)
        reply = self.transport.request(op.http_method, path)
        assert reply.status == 412, (
            f"{op.http_method} /api{path} is not supported by {self.name}: expected 412, got {reply.describe()}")
        pytest.skip(f"{self.name}: {collection} {operation} not supported "
                    f"({unsupported_reason(self.driver_cls, col, op)})")

    @contextmanager
    def sample(self, collection: str) -> Iterator[list[dict[str, Any]]]:
        """Up to ``sample_size`` listed members; when none is listed and the collection can be
        created from a name alone (keys, buckets), one made for the occasion and destroyed after."""
        reply = self.get(f"/{collection}")
        assert reply.status == 200, f"GET /api/{collection}: {reply.describe()}"
        doc = reply.document
        if not (isinstance(doc, dict) and len(doc) == 1 and isinstance(next(iter(doc.values())), list)):
            yield []  # a single document (instance_states), not a list of members
            return
        members = _members(doc, collection)[: self.settings.sample_size]
        col = self.app.collections[collection]
        if members or not _named(col) or not all(
                self.supports(m, p) for m, p in (("POST", f"/{collection}"), ("DELETE", f"/{collection}/x"))):
            yield members
            return
        created = self.transport.request("POST", f"/{collection}", params={"name": f"dckit-{secrets.token_hex(4)}"})
        assert created.status == 201, f"POST /api/{collection} (a member to look at): {created.describe()}"
        (doc,) = created.document.values()
        try:
            yield [doc]
        finally:
            self.transport.request("DELETE", f"/{collection}/{quote(str(doc['id']), safe='')}")

    def get(self, path: str, **params: str) -> Reply:
        reply = self.transport.request("GET", path, params=params or None)
        return reply

    def listing(self, collection: str) -> list[dict[str, Any]]:
        """The members ``GET /<collection>`` lists (as JSON documents)."""
        reply = self.get(f"/{collection}")
        assert reply.status == 200, f"GET /api/{collection}: {reply.describe()}"
        return _members(reply.document, collection)


def _members(document: Any, collection: str) -> list[dict[str, Any]]:
    if isinstance(document, dict) and len(document) == 1:
        (value,) = document.values()
        if isinstance(value, list):
            return value
    raise AssertionError(f"GET /api/{collection} is not a collection document: {str(document)[:200]}")


class ConformanceBase:
    """What the driver-level and the HTTP-level classes share: fixtures and generic tests.

    Override the ``driver`` fixture. Class attributes tune the rest:
    ``settings`` (a :class:`~.settings.ConformanceSettings`), ``plugins`` (extra
    ``deltacloud`` plugin objects, e.g. a module adding a collection) and
    ``tolerated_features`` (features declared on purpose though not in the catalogue, as
    ``"collection:name"`` strings or ``(collection, name)`` pairs).
    """

    settings: ClassVar[ConformanceSettings] = ConformanceSettings()
    plugins: ClassVar[tuple[object, ...]] = ()
    tolerated_features: ClassVar[AbstractSet[tuple[str, str] | str]] = frozenset()

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        shape = getattr(metafunc.function, "deltacloud_over", None)
        if shape is None:
            return
        targets = _targets(_registry(tuple(self.plugins)), shape)
        if shape == "operations":
            metafunc.parametrize(("collection", "operation"), targets, ids=[f"{c}-{o}" for c, o in targets])
        else:
            metafunc.parametrize("collection", targets, ids=targets)

    # -- fixtures --------------------------------------------------------------------------
    @pytest.fixture
    def driver(self) -> Driver:
        """Override: return a driver object ready to talk to its backend."""
        raise pytest.UsageError(
            f"{type(self).__name__} must override the 'driver' fixture: "
            "@pytest.fixture\ndef driver(self): return MyDriver(credentials=..., provider=...)")

    @pytest.fixture
    def conformance_settings(self, request: pytest.FixtureRequest) -> ConformanceSettings:
        """The class's ``settings`` with the ini file's and the command line's on top."""
        return self.settings.replace(**overrides_from_config(request.config))

    @pytest.fixture
    def deltacloud_app(self, driver: Driver, conformance_settings: ConformanceSettings) -> DeltacloudApp:
        """An app whose default driver is the driver's class."""
        from .transport import build_app

        return build_app(type(driver), provider=driver.provider, plugins=self.plugins,
                         backend_timeout=conformance_settings.step_timeout)

    @pytest.fixture
    def transport(self, driver: Driver, deltacloud_app: DeltacloudApp,
                  conformance_settings: ConformanceSettings) -> Iterator[Transport]:
        raise NotImplementedError

    @pytest.fixture
    def kit(self, driver: Driver, deltacloud_app: DeltacloudApp, transport: Transport,
            conformance_settings: ConformanceSettings) -> Kit:
        return Kit(driver, deltacloud_app, transport, conformance_settings)

    # -- listing, show, not found ----------------------------------------------------------
    @over("collections")
    def test_index(self, kit: Kit, collection: str) -> None:
        kit.require(collection, "index")
        reply = kit.get(f"/{collection}")
        assert reply.status == 200, f"GET /api/{collection}: {reply.describe()}"
        if isinstance(reply.document, dict) and len(reply.document) == 1 and isinstance(
                next(iter(reply.document.values())), list):
            members = _members(reply.document, collection)
            ids = [str(m.get("id")) for m in members]
            assert all(m.get("id") not in (None, "") for m in members), f"a listed {collection} member has no id"
            assert len(set(ids)) == len(ids), f"GET /api/{collection} lists an id twice: {ids}"

    @over("members")
    def test_show(self, kit: Kit, collection: str) -> None:
        kit.require(collection, "show")
        with kit.sample(collection) as members:
            if not members:
                pytest.skip(f"{kit.name}: no {collection} to show (the listing is empty)")
            for member in members:
                member_id = str(member["id"])
                reply = kit.get(f"/{collection}/{quote(member_id, safe='')}")
                assert reply.status == 200, f"GET /api/{collection}/{member_id}: {reply.describe()}"
                (shown,) = reply.document.values()
                assert str(shown.get("id")) == member_id, f"GET /api/{collection}/{member_id} shows {shown.get('id')}"

    @over("members")
    def test_not_found(self, kit: Kit, collection: str) -> None:
        kit.require(collection, "show")
        try:
            reply = kit.get(f"/{collection}/{MISSING_ID}")
        except Exception as exc:  # noqa: BLE001 - reported, naming the problem
            pytest.fail(f"GET /api/{collection}/{MISSING_ID}: the driver raised {type(exc).__name__}: {exc} "
                        "(get_* must return None for an unknown id; the core answers 404)")
        assert reply.status == 404, (
            f"GET /api/{collection}/{MISSING_ID}: expected 404, got {reply.describe()} "
            "(get_* must return None for an unknown id)")

    @over("named")
    def test_create_destroy(self, kit: Kit, collection: str) -> None:
        """Create from a name, show it, find it listed, destroy it; then it cannot be shown."""
        kit.require(collection, "destroy")
        kit.require(collection, "create")
        name = f"dckit-{secrets.token_hex(4)}"
        created = kit.transport.request("POST", f"/{collection}", params={"name": name})
        assert created.status == 201, f"POST /api/{collection} name={name}: {created.describe()}"
        (doc,) = created.document.values()
        member_id = quote(str(doc["id"]), safe="")
        try:
            assert kit.get(f"/{collection}/{member_id}").status == 200, f"the new {collection} cannot be shown"
            listed = {str(m["id"]) for m in kit.listing(collection)}
            assert str(doc["id"]) in listed, f"the new {collection} is not listed"
        finally:
            destroyed = kit.transport.request("DELETE", f"/{collection}/{member_id}")
        assert destroyed.status in (200, 204), f"DELETE /api/{collection}/{member_id}: {destroyed.describe()}"
        assert kit.get(f"/{collection}/{member_id}").status == 404, f"the destroyed {collection} can still be shown"

    # -- life cycles -----------------------------------------------------------------------
    def test_instance_lifecycle(self, kit: Kit) -> None:
        from .stateful import instance_lifecycle, run_machine

        kit.require("instances", "create")
        machine = kit.app.state_machine_for(kit.driver_cls)
        assert machine is not None, f"{kit.name} creates instances but has no INSTANCE_STATES"
        params = dict(kit.settings.instance_params)
        if "image_id" not in params:
            kit.require("images", "index")
            images = kit.listing("images")
            if not images:
                pytest.skip(f"{kit.name}: no image to launch; set ConformanceSettings(instance_params=...)")
            params["image_id"] = str(images[0]["id"])
        run_machine(instance_lifecycle(kit.transport, machine, kit.settings, params, kit.supports), kit.settings)

    def test_bucket_lifecycle(self, kit: Kit) -> None:
        from .stateful import bucket_lifecycle, run_machine

        kit.require("buckets", "create")
        run_machine(bucket_lifecycle(kit.transport, kit.settings, kit.supports), kit.settings)


def _record(request: pytest.FixtureRequest, kit: Kit, collection: str, operation: str, supported: bool,
            reason: str) -> None:
    from .plugin import SUPPORT_PROPERTY

    request.node.user_properties.append((SUPPORT_PROPERTY, (kit.name, collection, operation, supported, reason)))


class DriverConformance(ConformanceBase):
    """Driver-level conformance: contract checks, then every collection through its operations."""

    @pytest.fixture
    def transport(self, driver: Driver, deltacloud_app: DeltacloudApp,
                  conformance_settings: ConformanceSettings) -> Iterator[Transport]:
        from .transport import InProcess

        with InProcess(deltacloud_app, driver, step_timeout=conformance_settings.step_timeout) as transport:
            yield transport

    # -- the support matrix ----------------------------------------------------------------
    @over("operations")
    def test_operation(self, kit: Kit, request: pytest.FixtureRequest, collection: str, operation: str) -> None:
        """Supported: the driver's methods accept the core's calls. Not: skipped, naming what is missing."""
        from .checks import required_methods, signature_problems, unsupported_reason

        col = kit.app.collections[collection]
        op = col.operation(operation)
        assert op is not None
        supported = op.supported_by(kit.driver_cls)
        _record(request, kit, collection, operation, supported,
                "" if supported else unsupported_reason(kit.driver_cls, col, op))
        kit.require(collection, operation)  # not supported: checks the 412, skips naming what is missing
        problems = [p for m in required_methods(op) for p in signature_problems(kit.driver_cls, m)]
        assert not problems, "\n".join(problems)

    # -- contract --------------------------------------------------------------------------
    def test_entry_point(self, kit: Kit) -> None:
        from .checks import entry_point_problems

        problems = entry_point_problems(kit.driver_cls)
        assert not problems, "\n".join(problems)

    def test_declared_features_in_catalogue(self, kit: Kit) -> None:
        from .checks import feature_problems

        problems = feature_problems(kit.driver_cls, kit.app.features, kit.app.collections,
                                    self.tolerated_features)
        assert not problems, "\n".join(problems)

    def test_state_machine_validates(self, kit: Kit) -> None:
        from .checks import machine_problems

        machine = kit.app.state_machine_for(kit.driver_cls)
        if machine is None:
            kit.require("instance_states", "index")
            pytest.skip(f"{kit.name}: no instance state machine")
        problems = machine_problems(kit.driver_cls, machine)
        assert not problems, "\n".join(problems)

    def test_creating_driver_has_create_transition(self, kit: Kit) -> None:
        kit.require("instances", "create")
        machine = kit.app.state_machine_for(kit.driver_cls)
        assert machine is not None, f"{kit.name} creates instances but declares no INSTANCE_STATES"
        assert machine.creates(), f"{kit.name} creates instances but its state machine has no 'create' transition"

    def test_hardware_profiles_well_formed(self, kit: Kit) -> None:
        from .checks import hardware_profile_problems

        kit.require("hardware_profiles", "index")
        profiles = kit.driver.list_hardware_profiles()
        problems = hardware_profile_problems(profiles)
        for profile in profiles:
            if kit.driver.get_hardware_profile(profile.id) != profile:
                problems.append(f"get_hardware_profile('{profile.id}') differs from the listed profile")
        assert kit.driver.get_hardware_profile(MISSING_ID) is None, "get_hardware_profile of an unknown id"
        assert not problems, "\n".join(problems)

    # -- serialisation ---------------------------------------------------------------------
    @over("collections")
    def test_serialisation(self, kit: Kit, collection: str) -> None:
        """Every listed model dumps through its schema to XML and JSON, and parses back the same."""
        from .serialisation import round_trip_problems

        kit.require(collection, "index")
        with kit.sample(collection):
            reply = kit.get(f"/{collection}")
            assert reply.status == 200 and reply.outcome is not None, f"GET /api/{collection}: {reply.describe()}"
            problems = round_trip_problems(kit.transport, reply.outcome, collection, kit.settings.sample_size)
        assert not problems, "\n".join(problems)
