"""The driver contract.

A driver is a class; the server builds one instance per request with that request's
credentials and provider, and drops it afterwards (no state between requests).

Every optional operation is a method here that raises :class:`NotSupportedError`; what a
driver supports is exactly what it overrides (see :mod:`.capabilities`). Methods may be
plain ``def`` (run in a bounded thread pool so a slow cloud never blocks the event loop)
or ``async def`` (awaited). Parameters are keyword-only and use Deltacloud's nouns.
Drivers translate their SDK's exceptions into :mod:`deltacloud_core.errors` at their
own boundary.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, ClassVar, TypeVar

from ..credentials import Credentials
from ..errors import AuthenticationRequired, NotSupportedError
from ..hardware import HardwareProfile
from ..models import DriverInfo, Image, Instance, Key, ProviderInfo, Realm, RunResult
from ..models.monitoring import Metric
from ..models.network import Address, Firewall, FirewallRuleSource, LoadBalancer, Network, NetworkInterface, Subnet
from ..models.storage import Blob, Bucket, ByteRange, StorageSnapshot, StorageVolume
from ..providers import hosts_in
from ..state_machine import StateMachine

__all__ = ["ClientCache", "Driver", "nonblocking", "optional_parameters", "unsupported"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def unsupported(func: F) -> F:
    """Mark a base-class method as 'not supported unless overridden'."""
    func.__deltacloud_unsupported__ = True  # type: ignore[attr-defined]
    return func


def optional_parameters(*names: str) -> Callable[[F], F]:
    """Mark keyword parameters of a contract method that an implementation may leave out: the
    server passes them only to implementations that declare them."""

    def mark(func: F) -> F:
        func.__deltacloud_optional_parameters__ = frozenset(names)  # type: ignore[attr-defined]
        return func

    return mark


def nonblocking(func: F) -> F:
    """Mark a plain ``def`` driver method that never waits on I/O (a local store's read): the server
    calls it right on the event loop instead of in a worker thread, whose hop would cost more than
    the call. Every other plain method runs in a worker thread; ``async def`` ones are awaited."""
    func.__deltacloud_nonblocking__ = True  # type: ignore[attr-defined]
    return func


def runs_on_loop(func: Callable[..., Any]) -> bool:
    """Whether a (bound) driver method is marked :func:`nonblocking`."""
    return bool(getattr(func, "__deltacloud_nonblocking__", False))


class ClientCache:
    """A small thread-safe LRU of SDK clients with a maximum age; memory only, never on disk."""

    def __init__(self, maxsize: int = 64, max_age: float = 3600.0) -> None:
        self.maxsize = maxsize
        self.max_age = max_age
        self._items: OrderedDict[tuple[object, ...], tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_create(self, key: tuple[object, ...], factory: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and now - hit[0] < self.max_age:
                self._items.move_to_end(key)
                return hit[1]  # type: ignore[return-value]
        value = factory()
        with self._lock:
            self._items[key] = (now, value)
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def _first(items: Iterable[T]) -> T | None:
    for item in items:
        return item
    return None


class Driver:
    """Base class of every driver. Subclass it, set the class attributes, override methods."""

    #: Display name in ``/api/drivers`` (``EC2``, ``Mock``); defaults to the id title-cased.
    DISPLAY_NAME: ClassVar[str | None] = None
    #: The original's entrypoint configuration: ``kind -> provider -> URL``.
    ENTRYPOINTS: ClassVar[Mapping[str, Mapping[str, str]]] = {}
    #: Labels a UI shows for the credentials (``Access Key ID`` ...).
    USERNAME_LABEL: ClassVar[str | None] = None
    PASSWORD_LABEL: ClassVar[str | None] = None
    #: The instance state machine; None for drivers without instances.
    INSTANCE_STATES: ClassVar[StateMachine | None] = None
    #: Static hardware profiles (drivers with dynamic ones override ``list_hardware_profiles``).
    HARDWARE_PROFILES: ClassVar[Sequence[HardwareProfile]] = ()
    #: Declared features per collection, by catalogue name.
    FEATURES: ClassVar[Mapping[str, Sequence[str]]] = {}
    #: Constraints per ``(collection, feature)``, e.g. ``{("instances", "user_name"): {"max_length": 20}}``.
    FEATURE_CONSTRAINTS: ClassVar[Mapping[tuple[str, str], Mapping[str, object]]] = {}
    #: Whether a client may name a provider the operator did not list (``DELTACLOUD_PROVIDERS_<ID>``);
    #: even then never one whose :meth:`provider_hosts` are link-local or cloud-metadata addresses.
    #: False for drivers whose provider makes the server connect to any host (libvirt URIs).
    OPEN_PROVIDERS: ClassVar[bool] = True
    #: True when the driver may serve a change without credentials (a file or a lab cloud without
    #: accounts): the server then reads an anonymous create, upload or action and lets the driver
    #: decide. False (the default): such a request is a 401 before a byte of its body is read.
    ACCEPTS_ANONYMOUS: ClassVar[bool] = False
    #: Clients shared by all instances of one driver class (see :meth:`cached_client`).
    CLIENT_CACHE: ClassVar[ClientCache | None] = None
    #: Collections whose every change this driver reports itself with :meth:`announce_change`;
    #: event watchers then poll them rarely, as a safety net, instead of every few seconds.
    ANNOUNCES_CHANGES: ClassVar[frozenset[str]] = frozenset()

    #: The id users type (``mock``), set by the registry from the entry-point name.
    driver_id: ClassVar[str] = ""

    def __init__(self, *, credentials: Credentials | Callable[[], Credentials | None] | None = None,
                 provider: str | None = None) -> None:
        self._credentials = credentials
        self.provider = provider
        #: The machine in force for this request (a plugin may replace the declared one).
        self.state_machine: StateMachine | None = self.INSTANCE_STATES
        #: The operator's provider patterns for this driver (``DELTACLOUD_PROVIDERS_<ID>``), set by
        #: the server: what a live provider list may show.
        self.allowed_providers: tuple[str, ...] = ()
        #: Where :meth:`announce_change` reports to (set by the server; None: nobody listens).
        self.change_listener: Callable[[Driver, str, str | None, Any], None] | None = None

    # -- credentials -----------------------------------------------------------------------
    @property
    def credentials(self) -> Credentials:
        """The request's credentials; asking for them is what makes an operation need them.

        Raises AuthenticationRequired (401 + WWW-Authenticate) when none were sent.
        """
        creds = self._credentials() if callable(self._credentials) else self._credentials
        if creds is None:
            raise AuthenticationRequired()
        return creds

    def cached_client(self, service: str, factory: Callable[[], T]) -> T:
        """An SDK client for ``service`` keyed by (provider, credentials digest), built once."""
        cls = type(self)
        if cls.CLIENT_CACHE is None:
            cls.CLIENT_CACHE = ClientCache()
        key = (service, self.provider, self.credentials.digest())
        return cls.CLIENT_CACHE.get_or_create(key, factory)

    def announce_change(self, collection: str, id: str | None = None, model: Any = None) -> None:
        """Report that a member of ``collection`` (``instances`` ...) changed: ``id`` was created,
        changed state or other fields, or was destroyed (None: unknown which). Call it after the
        change is made, from any method or thread; it returns at once. Pass ``model`` (the
        resource as ``get_*`` would return it now) when you have it: subscribers then see exactly
        this change, even when another one follows before the watcher looks. Otherwise the
        server's event watcher for these credentials and provider reads the member (or the
        list) again when it wakes, and changes quicker than that read are reported as one. List
        the collections whose every change you announce in ``ANNOUNCES_CHANGES``. Without a
        server listening it does nothing.
        """
        listener = self.change_listener
        if listener is not None:
            listener(self, collection, id, model)

    def validate_credentials(self) -> bool:
        """True when the credentials are accepted (``GET /api?force_auth``). Override to check."""
        self.credentials  # noqa: B018 - raises when absent
        return True

    # -- driver metadata -------------------------------------------------------------------
    @classmethod
    def info(cls) -> DriverInfo:
        return DriverInfo(
            id=cls.driver_id,
            name=cls.DISPLAY_NAME or cls.driver_id.title(),
            entrypoints=cls.ENTRYPOINTS,
            username_label=cls.USERNAME_LABEL,
            password_label=cls.PASSWORD_LABEL,
        )

    def entry_point_collections(self, names: Sequence[str]) -> list[str]:
        """The collections ``GET /api`` lists, from the ones the class implements (``names``).

        Override when what a cloud offers depends on the account (OpenStack's service catalogue):
        the entry point then asks the cloud, so it needs credentials. The default keeps them all.
        """
        return list(names)

    @classmethod
    def provider_hosts(cls, provider: str) -> list[str]:
        """The host names or IP literals ``provider`` makes the server connect to, judged by the
        server's provider policy before the driver is built. The default finds the host of every URL
        and every ``host:port`` in the ``;``-separated parts; override for another syntax."""
        return hosts_in(provider)

    @classmethod
    def idempotency_store(cls) -> Any:
        """Where this driver's ``Idempotency-Key`` records are kept: an
        :class:`~deltacloud_core.idempotency.IdempotencyStore`, or None (the default) for the
        server's own (Redis when configured, else memory). Override when the cloud's data lives in a
        store of the driver's (the mock keeps them in its SQLite store, beside the instances they made)."""
        return None

    def providers(self) -> list[ProviderInfo] | None:
        """Live provider list for ``/api/drivers/:id`` of the current driver; None = configured."""
        return None

    @classmethod
    def declared_features(cls, collection: str) -> tuple[str, ...]:
        return tuple(cls.FEATURES.get(collection, ()))

    @classmethod
    def has_feature(cls, collection: str, feature: str) -> bool:
        return feature in cls.FEATURES.get(collection, ())

    # -- realms ----------------------------------------------------------------------------
    @unsupported
    def list_realms(self, **filters: str) -> list[Realm]:
        raise NotSupportedError()

    def get_realm(self, id: str) -> Realm | None:
        return _first(self.list_realms(id=id))

    # -- hardware profiles -----------------------------------------------------------------
    @nonblocking
    def list_hardware_profiles(self, **filters: str) -> list[HardwareProfile]:
        """Static profiles filtered by ``id`` and ``architecture``; override for dynamic ones."""
        profiles = list(self.HARDWARE_PROFILES)
        if filters.get("id"):
            profiles = [p for p in profiles if p.id == filters["id"]]
        if filters.get("architecture"):
            profiles = [p for p in profiles if p.matches_architecture(filters["architecture"])]
        return profiles

    def get_hardware_profile(self, id: str) -> HardwareProfile | None:
        return _first(self.list_hardware_profiles(id=id))

    # -- images ----------------------------------------------------------------------------
    @unsupported
    def list_images(self, **filters: str) -> list[Image]:
        raise NotSupportedError()

    def get_image(self, id: str) -> Image | None:
        return _first(self.list_images(id=id))

    @unsupported
    def create_image(self, *, instance_id: str, name: str | None = None, description: str | None = None,
                     **extra: str) -> Image:
        raise NotSupportedError()

    @unsupported
    def destroy_image(self, id: str) -> None:
        raise NotSupportedError()

    # -- instances -------------------------------------------------------------------------
    @unsupported
    def list_instances(self, **filters: str) -> list[Instance]:
        raise NotSupportedError()

    def get_instance(self, id: str) -> Instance | None:
        return _first(self.list_instances(id=id))

    @unsupported
    def create_instance(self, *, image_id: str, hwp_id: str | None = None, realm_id: str | None = None,
                        hwp_overrides: Mapping[str, str] | None = None, keyname: str | None = None,
                        name: str | None = None, user_data: bytes | None = None,
                        **extra: str) -> Instance | list[Instance]:
        """Launch an instance. ``hwp_overrides`` are already validated against the profile;
        ``user_data`` is already base64-decoded. Returns the instance (or several)."""
        raise NotSupportedError()

    @unsupported
    def start_instance(self, id: str) -> Instance:
        raise NotSupportedError()

    @unsupported
    def stop_instance(self, id: str) -> Instance:
        raise NotSupportedError()

    @unsupported
    def reboot_instance(self, id: str) -> Instance:
        raise NotSupportedError()

    @unsupported
    def destroy_instance(self, id: str) -> Instance | None:
        raise NotSupportedError()

    @unsupported
    def run_on_instance(self, id: str, *, cmd: str, private_key: str | None = None,
                        password: str | None = None, ip: str | None = None, port: str | None = None,
                        **extra: str) -> RunResult:
        raise NotSupportedError()

    def instance_actions_for(self, instance: Instance) -> list[str]:
        """Actions ``instance`` allows now: its own list if it has one, else the machine's."""
        if instance.actions is not None:
            return list(instance.actions)
        machine = self.state_machine
        return machine.actions_for(instance.state) if machine else []

    # -- keys ------------------------------------------------------------------------------
    @unsupported
    def list_keys(self, **filters: str) -> list[Key]:
        raise NotSupportedError()

    def get_key(self, id: str) -> Key | None:
        return _first(self.list_keys(id=id))

    @unsupported
    def create_key(self, *, name: str, public_key: str | None = None, **extra: str) -> Key:
        raise NotSupportedError()

    @unsupported
    def destroy_key(self, id: str) -> None:
        raise NotSupportedError()

    # -- storage volumes / snapshots / buckets and blobs -----------------------------------
    # ``list_storage_volumes``, ``list_storage_snapshots`` and ``list_buckets`` decide whether
    # their collection is offered; the other methods are capabilities (412 when not
    # overridden). Unknown objects: return None from ``get_*`` (404) or raise ObjectNotFound.

    # storage volumes
    @unsupported
    def list_storage_volumes(self, **filters: str) -> list[StorageVolume]:
        """Block storage volumes; filter ``id``."""
        raise NotSupportedError()

    def get_storage_volume(self, id: str) -> StorageVolume | None:
        return _first(self.list_storage_volumes(id=id))

    @unsupported
    def create_storage_volume(self, *, capacity: str | None = None, realm_id: str | None = None,
                              snapshot_id: str | None = None, name: str | None = None,
                              description: str | None = None, **extra: str) -> StorageVolume:
        """Create a volume of ``capacity`` GB (as sent; None = the driver's default), optionally
        from snapshot ``snapshot_id`` in realm ``realm_id``. ``name``/``description`` come from
        the ``volume_name``/``volume_description`` features."""
        raise NotSupportedError()

    @unsupported
    def attach_storage_volume(self, id: str, *, instance_id: str, device: str) -> StorageVolume:
        """Attach volume ``id`` to instance ``instance_id`` as ``device`` (``/dev/sdh``).

        Returns the volume as it is now. Unknown volume or instance: ObjectNotFound.
        """
        raise NotSupportedError()

    @unsupported
    def detach_storage_volume(self, id: str) -> StorageVolume:
        """Detach volume ``id`` from the instance it is attached to (the driver looks it up).

        Unknown volume: ObjectNotFound; a volume that is not attached: ForbiddenError.
        """
        raise NotSupportedError()

    @unsupported
    def destroy_storage_volume(self, id: str) -> None:
        raise NotSupportedError()

    # storage snapshots
    @unsupported
    def list_storage_snapshots(self, **filters: str) -> list[StorageSnapshot]:
        """Snapshots of storage volumes; filter ``id``."""
        raise NotSupportedError()

    def get_storage_snapshot(self, id: str) -> StorageSnapshot | None:
        return _first(self.list_storage_snapshots(id=id))

    @unsupported
    def create_storage_snapshot(self, *, volume_id: str, name: str | None = None,
                                description: str | None = None, **extra: str) -> StorageSnapshot:
        raise NotSupportedError()

    @unsupported
    def destroy_storage_snapshot(self, id: str) -> None:
        raise NotSupportedError()

    # buckets
    @unsupported
    def list_buckets(self, **filters: str) -> list[Bucket]:
        """Buckets with the ids of their blobs; filter ``id``."""
        raise NotSupportedError()

    def get_bucket(self, id: str) -> Bucket | None:
        return _first(self.list_buckets(id=id))

    @unsupported
    def create_bucket(self, *, name: str, location: str | None = None, **extra: str) -> Bucket:
        """Create bucket ``name`` (its id); ``location`` comes from the ``bucket_location`` feature."""
        raise NotSupportedError()

    @unsupported
    def destroy_bucket(self, id: str) -> None:
        """Delete an empty bucket (capability name ``delete_bucket``).

        Unknown: ObjectNotFound; not empty: ForbiddenError.
        """
        raise NotSupportedError()

    # blobs (a sub-collection of buckets: ``/api/buckets/:bucket_id/:blob_id``)
    @unsupported
    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        """The blob's description (capability name ``blob``); None when unknown."""
        raise NotSupportedError()

    @unsupported
    @optional_parameters("byte_range")
    def blob_content(self, bucket_id: str, blob_id: str, *, byte_range: ByteRange | None = None) -> Iterator[bytes]:
        """The blob's data as an iterator of byte chunks, streamed to the client as it is read.

        Raise ObjectNotFound for an unknown blob *before* returning the iterator. The web layer
        takes ``Content-Type``/``Content-Length``/``etag`` from :meth:`get_blob`, or from a ``blob``
        attribute of the returned iterator when it has one (then exactly the version streamed).

        ``byte_range`` (optional: declare it to receive it): the client's ``Range``. A driver may
        read just those bytes from the cloud; its iterator then has ``served_range = (first, last)``
        (inclusive) and its ``blob`` describes the whole blob (``content_length`` = the full size).
        Raise RangeNotSatisfiable(size=...) when no byte of it exists. An iterator without
        ``served_range`` is taken as the whole blob, and the core cuts the range out of it.
        """
        raise NotSupportedError()

    @unsupported
    def create_blob(self, bucket_id: str, blob_id: str, *, data: BinaryIO, content_type: str,
                    user_metadata: Mapping[str, str], content_length: int | None = None) -> Blob:
        """Store ``data`` (a binary file object: read it in chunks, it may be 1 GiB) as blob
        ``blob_id`` of ``bucket_id``, replacing an existing one.

        ``content_type`` is stored as given (``""`` when the client sent none);
        ``user_metadata`` keys arrive lower-cased without the ``X-Deltacloud-Blobmeta-`` prefix;
        ``content_length`` is the length the client announced (None for chunked uploads).
        Unknown bucket: ObjectNotFound. Capability name ``create_blob``.
        """
        raise NotSupportedError()

    @unsupported
    def destroy_blob(self, bucket_id: str, blob_id: str) -> None:
        """Delete a blob (capability name ``delete_blob``); unknown: ObjectNotFound."""
        raise NotSupportedError()

    @unsupported
    def blob_metadata(self, bucket_id: str, blob_id: str) -> dict[str, str] | None:
        """The blob's user metadata (``HEAD`` on the blob); None when the blob is unknown."""
        raise NotSupportedError()

    @unsupported
    def update_blob_metadata(self, bucket_id: str, blob_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        """Replace the blob's user metadata by ``metadata``; returns what is stored now.

        Unknown blob: ObjectNotFound (or return None).
        """
        raise NotSupportedError()

    # -- addresses / firewalls / load balancers / metrics / networks -----------------------
    # Each group's ``list_*`` decides whether its collection is offered at all; the other
    # methods are the operations' capabilities (412 when not overridden). Lookups by id
    # default to filtering the list; ``None`` means "no such object" (404).

    # addresses
    @unsupported
    def list_addresses(self, **filters: str) -> list[Address]:
        """Public IP addresses; filter ``id``."""
        raise NotSupportedError()

    def get_address(self, id: str) -> Address | None:
        return _first(self.list_addresses(id=id))

    @unsupported
    def create_address(self, **extra: str) -> Address:
        """Allocate a new address (unassociated)."""
        raise NotSupportedError()

    @unsupported
    def destroy_address(self, id: str) -> None:
        """Release an address. Unknown: ObjectNotFound; still associated: ForbiddenError."""
        raise NotSupportedError()

    @unsupported
    def associate_address(self, id: str, *, instance_id: str) -> None:
        """Associate an address with an instance. Unknown address: ObjectNotFound; in use: ForbiddenError."""
        raise NotSupportedError()

    @unsupported
    def disassociate_address(self, id: str) -> None:
        """Free an associated address. Unknown: ObjectNotFound; not associated: ForbiddenError.

        (Its route is guarded by the ``associate_address`` capability name, as in the original.)
        """
        raise NotSupportedError()

    # firewalls
    @unsupported
    def list_firewalls(self, **filters: str) -> list[Firewall]:
        """Firewalls (security groups) with their rules; filter ``id``."""
        raise NotSupportedError()

    def get_firewall(self, id: str) -> Firewall | None:
        return _first(self.list_firewalls(id=id))

    @unsupported
    def create_firewall(self, *, name: str, description: str, **extra: str) -> Firewall:
        raise NotSupportedError()

    @unsupported
    def destroy_firewall(self, id: str) -> None:
        """Delete a firewall (capability name ``delete_firewall``)."""
        raise NotSupportedError()

    @unsupported
    def create_firewall_rule(self, id: str, *, protocol: str | None, port_from: str | None, port_to: str | None,
                             sources: Sequence[FirewallRuleSource], **extra: str) -> None:
        """Add an ingress rule to firewall ``id``.

        ``protocol`` (``tcp``/``udp``/``icmp``) and the ports arrive as sent (None when
        missing: the original never made them required). ``sources`` holds at least one
        group or address source; the core has already refused a rule without any (400).
        """
        raise NotSupportedError()

    @unsupported
    def destroy_firewall_rule(self, id: str, rule_id: str) -> None:
        """Delete rule ``rule_id`` of firewall ``id`` (capability name ``delete_firewall_rule``)."""
        raise NotSupportedError()

    # load balancers
    @unsupported
    def list_load_balancers(self, **filters: str) -> list[LoadBalancer]:
        raise NotSupportedError()

    def get_load_balancer(self, id: str) -> LoadBalancer | None:
        """Capability name ``load_balancer`` (show)."""
        return _first(self.list_load_balancers(id=id))

    @unsupported
    def create_load_balancer(self, *, name: str, realm_id: str, listener_protocol: str,
                             listener_balancer_port: str, listener_instance_port: str,
                             **extra: str) -> LoadBalancer:
        """Create a balancer with one listener (``listener_protocol`` ``HTTP``/``TCP``, not enforced)."""
        raise NotSupportedError()

    @unsupported
    def destroy_load_balancer(self, id: str) -> None:
        raise NotSupportedError()

    @unsupported
    def register_instance(self, id: str, *, instance_id: str) -> LoadBalancer | None:
        """Register an instance with load balancer ``id`` (capability ``lb_register_instance``).

        Returns the balancer, or None to let the core look it up again.
        """
        raise NotSupportedError()

    @unsupported
    def unregister_instance(self, id: str, *, instance_id: str) -> LoadBalancer | None:
        """Unregister an instance from load balancer ``id`` (capability ``lb_unregister_instance``)."""
        raise NotSupportedError()

    # metrics
    @unsupported
    def list_metrics(self, **filters: str) -> list[Metric]:
        """One metric per monitored entity, properties without values."""
        raise NotSupportedError()

    def get_metric(self, id: str) -> Metric | None:
        """The metric of entity ``id`` with sampled values; override to sample."""
        return _first(self.list_metrics(id=id))

    # networks
    @unsupported
    def list_networks(self, **filters: str) -> list[Network]:
        raise NotSupportedError()

    def get_network(self, id: str) -> Network | None:
        return _first(self.list_networks(id=id))

    @unsupported
    def create_network(self, *, address_block: str | None = None, name: str | None = None,
                       **extra: str) -> Network:
        raise NotSupportedError()

    @unsupported
    def destroy_network(self, id: str) -> None:
        raise NotSupportedError()

    # subnets
    @unsupported
    def list_subnets(self, **filters: str) -> list[Subnet]:
        raise NotSupportedError()

    def get_subnet(self, id: str) -> Subnet | None:
        return _first(self.list_subnets(id=id))

    @unsupported
    def create_subnet(self, *, network_id: str, address_block: str, name: str | None = None,
                      **extra: str) -> Subnet:
        raise NotSupportedError()

    @unsupported
    def destroy_subnet(self, id: str) -> None:
        raise NotSupportedError()

    # network interfaces
    @unsupported
    def list_network_interfaces(self, **filters: str) -> list[NetworkInterface]:
        raise NotSupportedError()

    def get_network_interface(self, id: str) -> NetworkInterface | None:
        return _first(self.list_network_interfaces(id=id))

    @unsupported
    def create_network_interface(self, *, instance: str, network: str, name: str | None = None,
                                 subnet: str | None = None, **extra: str) -> NetworkInterface:
        """Attach a new interface to instance ``instance`` in network (or subnet) ``network``;
        ``subnet``, when given, names the subnet the address comes from."""
        raise NotSupportedError()

    @unsupported
    def destroy_network_interface(self, id: str) -> None:
        raise NotSupportedError()
