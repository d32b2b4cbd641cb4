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
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote
from weakref import WeakKeyDictionary

import pytest

from .settings import ConformanceSettings, overrides_from_config
from .stateful import MISSING_ID

if TYPE_CHECKING:
    from ..collections.base import Collection, CollectionRegistry, Operation
    from ..drivers.base import Driver
    from ..state_machine import StateMachine
    from ..web.app import DeltacloudApp
    from .stateful import InstanceProbe
    from .transport import Reply, Transport

__all__ = ["ConformanceBase", "DriverConformance", "Kit"]

F = TypeVar("F", bound=Callable[..., Any])

def _deleted(reply: Reply) -> bool:
    """Whether a look at a member says it is gone: 404, or a document in state DELETED."""
    if reply.status == 404:
        return True
    doc = reply.document
    return reply.status == 200 and isinstance(doc, dict) and any(
        isinstance(v, dict) and str(v.get("state", "")).upper() == "DELETED" for v in doc.values())


#: States a member the kit made for a sample may be in before it can be used (and used from).
_TRANSIENT_STATES = frozenset({"PENDING", "CREATING", "QUEUED", "SAVING", "DOWNLOADING", "BUILDING"})


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
    ``referring``: those with a show whose members refer to others (:data:`~.references.REFERENCES`);
    ``named``: those created from a name alone and destroyable; ``operations``: every
    (collection, operation) that needs something of the driver."""
    from .references import REFERENCES

    cols = [c for c in registry if _driver_bound(c)]
    if shape == "collections":
        return [c.name for c in cols]
    if shape == "members":
        return [c.name for c in cols if _op(c, "show", "GET", "/{id}")]
    if shape == "referring":
        return [c.name for c in cols if _op(c, "show", "GET", "/{id}") and c.name in REFERENCES]
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


#: Values the kit gives the required parameters of a create it makes on its own (a sample).
_SAMPLE_DESCRIPTION = "made by the deltacloud conformance kit"
#: Per driver class, a wait that ran out (see :class:`~.stateful.InstanceProbe`): remembered for
#: the session, so a stuck instance costs ``settle_timeout`` once, not once per test.
_WAITS: WeakKeyDictionary[type[Driver], dict[str, str]] = WeakKeyDictionary()


@dataclass
class Kit:
    """What every conformance test works with: the driver, an app, a transport, the settings,
    and a tally of what the life cycles and checks really did (the kit's summary line)."""

    driver: Driver
    app: DeltacloudApp
    transport: Transport
    settings: ConformanceSettings
    tally: Counter[str] = field(default_factory=Counter)
    #: Why the last :meth:`sample` came back empty.
    why_empty: str = field(default="the listing is empty", init=False)
    #: Ids of the members the kit made during this test, per collection.
    made: dict[str, set[str]] = field(default_factory=dict, init=False)

    @property
    def driver_cls(self) -> type[Driver]:
        return type(self.driver)

    @property
    def name(self) -> str:
        from .transport import driver_name

        return driver_name(self.driver_cls)

    def supports(self, method: str, path: str) -> bool:
        """The driver implements the operation that serves ``method path``.

        A path no operation serves is a bug of the kit, not something the driver lacks: it fails
        loudly instead of reading as "not supported" (which once hid every blob round trip).
        """
        from .transport import find_operation

        found = find_operation(self.app.collections, method, path)
        if found is None:
            raise AssertionError(f"conformance kit: no operation of this server serves {method} /api{path}; "
                                 "the kit asks about an operation that does not exist (a bug in the kit)")
        return found[1].supported_by(self.driver_cls)

    def has(self, collection: str, operation: str) -> bool:
        """The driver implements ``operation`` of ``collection`` (False when no plugin registers it)."""
        col = self.app.collections.get(collection)
        if col is None:
            return False
        op = col.operation(operation)
        if op is None:
            raise AssertionError(f"conformance kit: {collection} has no '{operation}' operation (a bug in the kit)")
        return op.supported_by(self.driver_cls)

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

    # -- instances -------------------------------------------------------------------------
    @cached_property
    def machine(self) -> StateMachine:
        machine = self.app.state_machine_for(self.driver_cls)
        assert machine is not None, f"{self.name} creates instances but has no INSTANCE_STATES"
        return machine

    @cached_property
    def probe(self) -> InstanceProbe:
        """Creates, waits for and destroys instances (counting into :attr:`tally`)."""
        from .stateful import InstanceProbe

        return InstanceProbe(self.transport, self.machine, self.settings, self.supports, tally=self.tally,
                             references=self.reference_problems, made=self.made.setdefault("instances", set()),
                             memory=_WAITS.setdefault(self.driver_cls, {}))

    def instance_params(self) -> dict[str, str]:
        """``ConformanceSettings.instance_params``, with the first listed image when they name none."""
        params = dict(self.settings.instance_params)
        if "image_id" not in params:
            self.require("images", "index")
            images = self.listing("images")
            if not images:
                pytest.skip(f"{self.name}: no image to launch; set ConformanceSettings(instance_params=...)")
            params["image_id"] = str(images[0]["id"])
        return params

    # -- references ------------------------------------------------------------------------
    @cached_property
    def served(self) -> dict[str, str]:
        """Collections whose members the driver shows, with their member tags."""
        return {c.name: c.singular for c in self.app.collections
                if _op(c, "show", "GET", "/{id}") is not None and _driver_bound(c) and self.has(c.name, "show")}

    def reference_problems(self, collection: str, doc: Mapping[str, Any]) -> list[str]:
        """What the member ``doc`` of ``collection`` refers to and does not exist (counted). What may
        outlive its target in a real cloud is checked on the members the kit made only."""
        from .references import reference_problems

        made = str(doc.get("id")) in self.made.get(collection, ())
        problems, checked = reference_problems(self.transport, collection, doc, self.served, made=made)
        self.tally["references checked"] += checked
        return problems

    # -- samples ---------------------------------------------------------------------------
    @contextmanager
    def sample(self, collection: str) -> Iterator[list[dict[str, Any]]]:
        """Up to ``sample_size`` listed members; when none is listed and the kit can make one (a
        collection created from a name, a description, an image or a volume, or from nothing),
        one made for the occasion and destroyed after. :attr:`why_empty` says why not."""
        reply = self.get(f"/{collection}")
        assert reply.status == 200, f"GET /api/{collection}: {reply.describe()}"
        doc = reply.document
        if not (isinstance(doc, dict) and len(doc) == 1 and isinstance(next(iter(doc.values())), list)):
            yield []  # a single document (instance_states), not a list of members
            return
        members = _members(doc, collection)[: self.settings.sample_size]
        if members:
            yield members
            return
        with ExitStack() as stack:
            yield self._create_sample(collection, stack)

    def _create_sample(self, collection: str, stack: ExitStack) -> list[dict[str, Any]]:
        col = self.app.collections[collection]
        create = _op(col, "create", "POST", "")
        destroy = _op(col, "destroy", "DELETE", "/{id}")
        if create is None or destroy is None or not (create.supported_by(self.driver_cls)
                                                      and destroy.supported_by(self.driver_cls)):
            self.why_empty = f"the listing is empty and {self.name} cannot create and destroy {collection}"
            return []
        if collection == "instances":
            created = self.probe.create(self.instance_params())
            for doc in created:
                stack.callback(self.probe.dispose, str(doc["id"]))
            return created  # the probe notes them in made
        params: dict[str, str] = {}
        for param in create.required_params:
            if param.name == "name":
                params["name"] = f"dckit-{secrets.token_hex(4)}"
            elif param.name == "description":
                params["description"] = _SAMPLE_DESCRIPTION
            elif param.name == "volume_id":
                volumes = stack.enter_context(self.sample("storage_volumes"))
                if not volumes:
                    self.why_empty = f"the listing is empty and there is no volume to snapshot ({self.why_empty})"
                    return []
                params["volume_id"] = str(volumes[0]["id"])
            else:
                self.why_empty = (f"the listing is empty and the kit cannot fill the parameter '{param.name}' "
                                  f"of POST /api/{collection}")
                return []
        answer = self.transport.request("POST", f"/{collection}", params=params)
        assert answer.status in (200, 201), f"POST /api/{collection} (a member to look at): {answer.describe()}"
        doc = answer.member(col.singular)
        self.made.setdefault(collection, set()).add(str(doc["id"]))
        path = f"/{collection}/{quote(str(doc['id']), safe='')}"

        def remove() -> None:
            from .stateful import _leftover

            if not self.transport.request("DELETE", path).ok:
                _leftover(f"{col.singular} {doc['id']}")
            elif not self._gone(path):  # what it was made from (a snapshot's volume) is removed next
                _leftover(f"{col.singular} {doc['id']} (still listed {self.settings.settle_timeout:g} s after DELETE)")

        stack.callback(remove)
        return [self._settled(path, col.singular, doc)]

    def _settled(self, path: str, singular: str, doc: dict[str, Any]) -> dict[str, Any]:
        """``doc`` once the member left a transient state (a real cloud makes a volume or a snapshot
        in the background: CREATING, then AVAILABLE), looked at for at most ``settle_timeout`` s."""
        deadline = time.monotonic() + self.settings.settle_timeout
        while str(doc.get("state", "")).upper() in _TRANSIENT_STATES:
            assert time.monotonic() < deadline, (
                f"{singular} {doc['id']} the kit made is still '{doc['state']}' after "
                f"{self.settings.settle_timeout:g} s (ConformanceSettings.settle_timeout): the driver must report "
                "the backend's current state")
            time.sleep(self.settings.poll_interval)
            reply = self.transport.request("GET", path)
            assert reply.status == 200, f"GET /api{path} (a member the kit made): {reply.describe()}"
            doc = reply.member(singular)
        return doc

    def _gone(self, path: str) -> bool:
        """Whether ``GET path`` answers 404 within ``settle_timeout`` s (a real cloud deletes in the
        background; what the member was made from cannot go before it)."""
        deadline = time.monotonic() + self.settings.settle_timeout
        while not _deleted(self.transport.request("GET", path)):
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.settings.poll_interval)
        return True

    def get(self, path: str, **params: str) -> Reply:
        reply = self.transport.request("GET", path, params=params or None)
        return reply

    def listing(self, collection: str) -> list[dict[str, Any]]:
        """The members ``GET /<collection>`` lists (as JSON documents)."""
        reply = self.get(f"/{collection}")
        assert reply.status == 200, f"GET /api/{collection}: {reply.describe()}"
        return _members(reply.document, collection)

    def filters_by_id(self, collection: str) -> bool:
        """``GET /<collection>?id=X`` reaches the driver's list method as the ``id`` filter (the core's
        collections all pass it; a plugin's may not)."""
        return self.app.collections.owner(collection).startswith("deltacloud_core.")


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
    def kit(self, request: pytest.FixtureRequest, driver: Driver, deltacloud_app: DeltacloudApp,
            transport: Transport, conformance_settings: ConformanceSettings) -> Iterator[Kit]:
        """The :class:`Kit` of one test; what it counted goes into the kit's summary line."""
        from .plugin import COUNTS_PROPERTY, DRIVER_PROPERTY

        kit = Kit(driver, deltacloud_app, transport, conformance_settings)
        request.node.user_properties.append((DRIVER_PROPERTY, kit.name))
        try:
            yield kit
        finally:
            if kit.tally:
                request.node.user_properties.append((COUNTS_PROPERTY, (kit.name, dict(kit.tally))))

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
        """A few members (one made for the occasion when none is listed): each shows itself, and
        the listing filtered by its id lists it alone."""
        kit.require(collection, "show")
        singular = kit.app.collections[collection].singular
        with kit.sample(collection) as members:
            if not members:
                pytest.skip(f"{kit.name}: no {collection} to show ({kit.why_empty})")
            for member in members:
                member_id = str(member["id"])
                path = f"/{collection}/{quote(member_id, safe='')}"
                reply = kit.get(path)
                assert reply.status == 200, f"GET /api{path}: {reply.describe()}"
                shown = reply.member(singular)
                hint = (f" (the default get_{singular} returns the first of list_{collection}(id=...), so "
                        f"list_{collection} must honour the id filter)" if _default_get(kit.driver_cls, singular)
                        else "")
                assert str(shown.get("id")) == member_id, (
                    f"GET /api{path} shows {singular} {shown.get('id')}: get_{singular} must return the one asked "
                    f"for{hint}")
                if kit.filters_by_id(collection):
                    listed = [str(m.get("id")) for m in _members(kit.get(f"/{collection}", id=member_id).document,
                                                                 collection)]
                    assert listed == [member_id], (
                        f"GET /api/{collection}?id={member_id} lists {listed}: list_{collection} must honour "
                        "the id filter")

    @over("members")
    def test_not_found(self, kit: Kit, collection: str) -> None:
        """An unknown id is a 404 (with members around, made for the occasion when none is listed)."""
        kit.require(collection, "show")
        singular = kit.app.collections[collection].singular
        with kit.sample(collection) as members:
            if members and kit.filters_by_id(collection):
                listed = [str(m.get("id")) for m in _members(kit.get(f"/{collection}", id=MISSING_ID).document,
                                                             collection)]
                assert not listed, (f"GET /api/{collection}?id={MISSING_ID} lists {listed}: list_{collection} "
                                    "must honour the id filter")
            try:
                reply = kit.get(f"/{collection}/{MISSING_ID}")
            except Exception as exc:  # noqa: BLE001 - reported, naming the problem
                pytest.fail(f"GET /api/{collection}/{MISSING_ID}: the driver raised {type(exc).__name__}: {exc} "
                            "(get_* must return None for an unknown id; the core answers 404)")
            hint = ""
            if reply.status == 200 and isinstance(reply.document, dict):
                hint = f"; it answered {singular} {reply.member(singular).get('id')}"
                if _default_get(kit.driver_cls, singular):
                    hint += (f" from the default get_{singular}, the first of list_{collection}(id=...): "
                             f"list_{collection} must honour the id filter")
            assert reply.status == 404, (
                f"GET /api/{collection}/{MISSING_ID}: expected 404, got {reply.status} "
                f"(get_* must return None for an unknown id{hint})")

    @over("referring")
    def test_references(self, kit: Kit, collection: str) -> None:
        """What members refer to (an instance's image, realm, profile, key, volumes; a volume's realm
        and instance; a snapshot's volume ...) exists and is the member named."""
        kit.require(collection, "show")
        singular = kit.app.collections[collection].singular
        problems: list[str] = []
        before = kit.tally["references checked"]
        with kit.sample(collection) as members:
            if not members:
                pytest.skip(f"{kit.name}: no {collection} to look at ({kit.why_empty})")
            for member in members:
                path = f"/{collection}/{quote(str(member['id']), safe='')}"
                reply = kit.get(path)
                assert reply.status == 200, f"GET /api{path}: {reply.describe()}"
                problems += kit.reference_problems(collection, reply.member(singular))
        assert not problems, "\n".join(problems)
        if kit.tally["references checked"] == before:
            pytest.skip(f"{kit.name}: the {collection} looked at refer to nothing {kit.name} serves")

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
        """The first instance step by step (a stuck boot or a destroyed instance that stays listed
        fails here, once, naming it), then random legal and illegal actions (hypothesis)."""
        from .stateful import instance_lifecycle, run_machine

        kit.require("instances", "create")
        machine = kit.machine
        params = kit.instance_params()
        probe = kit.probe
        created = [str(doc["id"]) for doc in probe.create(params)]
        try:
            problems = [p for doc_id in created for p in probe.creation_problems(_shown(kit, doc_id), params)]
            assert not problems, "\n".join(problems)
            for instance_id in created:
                probe.settle(instance_id, " after POST /api/instances")
            for instance_id in list(created):
                if probe.destroy(instance_id):
                    created.remove(instance_id)
        finally:
            for instance_id in created:
                probe.dispose(instance_id)
        run_machine(instance_lifecycle(kit.transport, machine, kit.settings, params, kit.supports, probe=probe),
                    kit.settings)

    def test_bucket_lifecycle(self, kit: Kit) -> None:
        """Buckets (and their blobs, when the driver stores blobs) against an in-memory model."""
        from .stateful import bucket_lifecycle, run_machine

        kit.require("buckets", "create")
        blobs = all(kit.has("blobs", op) for op in BLOB_ROUND_TRIP)
        run_machine(bucket_lifecycle(kit.transport, kit.settings, kit.supports, blobs=blobs, tally=kit.tally),
                    kit.settings)

    def test_blob_round_trip(self, kit: Kit) -> None:
        """Blobs of a few shapes (empty, text, every byte value, ``max_blob_size`` random bytes) are
        stored, described, read back byte for byte and deleted, in a bucket of their own."""
        from .stateful import blob_bucket

        kit.require("buckets", "create")
        for operation in BLOB_ROUND_TRIP:
            kit.require("blobs", operation)
        bucket = f"dckit-{secrets.token_hex(4)}"
        made = kit.transport.request("POST", "/buckets", params={"name": bucket})
        assert made.status == 201, f"POST /api/buckets name={bucket}: {made.describe()}"
        bucket = str(made.member("bucket")["id"])
        contents = {f"{bucket}-empty": (b"", "application/octet-stream"),
                    f"{bucket}-text": (b"abcdef", "text/plain"),
                    f"{bucket}-bytes": (bytes(range(256)), "application/octet-stream"),
                    f"{bucket}-random": (secrets.token_bytes(kit.settings.max_blob_size), "application/octet-stream")}
        stored: list[str] = []
        try:
            for name, (content, content_type) in contents.items():
                path = f"/buckets/{bucket}/{name}"
                put = kit.transport.request("PUT", path, body=content, headers={
                    "Content-Type": content_type, "X-Deltacloud-Blobmeta-Kit": "round-trip"})
                assert put.status in (200, 201), f"PUT /api{path}: {put.describe()}"
                stored.append(name)
                shown = kit.get(path)
                assert shown.status == 200, f"GET /api{path}: {shown.describe()}"
                doc = shown.member("blob")
                assert str(doc.get("id")) == name, f"GET /api{path} shows blob {doc.get('id')}"
                assert blob_bucket(doc) == bucket, f"GET /api{path} shows a blob of bucket {blob_bucket(doc)}"
                kit.tally["references checked"] += 1
                assert doc.get("content_length") is not None and int(doc["content_length"]) == len(content), (
                    f"GET /api{path}: content_length {doc.get('content_length')}, {len(content)} bytes were stored")
                read = kit.get(f"{path}/content")
                assert read.status == 200, f"GET /api{path}/content: {read.describe()}"
                assert read.body == content, (
                    f"GET /api{path}/content: {len(read.body)} bytes {read.body[:16]!r}... differ from the "
                    f"{len(content)} bytes {content[:16]!r}... stored")
                kit.tally["blob round trips"] += 1
            assert _blob_ids(kit, bucket) == set(stored), (
                f"bucket {bucket} lists {sorted(_blob_ids(kit, bucket))}; stored were {sorted(stored)}")
            for name in list(stored):
                deleted = kit.transport.request("DELETE", f"/buckets/{bucket}/{name}")
                assert deleted.status in (200, 204), f"DELETE /api/buckets/{bucket}/{name}: {deleted.describe()}"
                stored.remove(name)
                gone = kit.get(f"/buckets/{bucket}/{name}")
                assert gone.status == 404, f"GET of deleted blob {bucket}/{name}: expected 404, got {gone.describe()}"
            assert not _blob_ids(kit, bucket), f"bucket {bucket} still lists {sorted(_blob_ids(kit, bucket))}"
        finally:
            for name in stored:
                kit.transport.request("DELETE", f"/buckets/{bucket}/{name}")
            if kit.has("buckets", "destroy"):
                kit.transport.request("DELETE", f"/buckets/{bucket}")


def _blob_ids(kit: Kit, bucket: str) -> set[str]:
    reply = kit.get(f"/buckets/{bucket}")
    assert reply.status == 200, f"GET /api/buckets/{bucket}: {reply.describe()}"
    return {str(b["id"]) for b in reply.member("bucket").get("blob_list") or ()}


#: The blob operations a round trip needs: store, describe, read, delete.
BLOB_ROUND_TRIP = ("stream", "show", "content", "destroy")


def _default_get(driver_cls: type[Driver], singular: str) -> bool:
    """The driver keeps the base class's ``get_<singular>`` (the first of ``list_*(id=...)``)."""
    from ..drivers.base import Driver

    method = f"get_{singular}"
    return getattr(Driver, method, None) is not None and getattr(driver_cls, method, None) is getattr(Driver, method)


def _shown(kit: Kit, instance_id: str) -> dict[str, Any]:
    doc = kit.probe.show(instance_id)
    assert doc is not None, f"GET /api/instances/{instance_id}: 404 right after POST /api/instances created it"
    return doc


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
        from .transport import InProcess

        kit.require(collection, "index")
        with kit.sample(collection):
            reply = kit.get(f"/{collection}")
            assert reply.status == 200 and reply.outcome is not None, f"GET /api/{collection}: {reply.describe()}"
            assert isinstance(kit.transport, InProcess), "the driver-level kit renders in process"
            problems = round_trip_problems(kit.transport, reply.outcome, collection, kit.settings.sample_size)
        assert not problems, "\n".join(problems)
