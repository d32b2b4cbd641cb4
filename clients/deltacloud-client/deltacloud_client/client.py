"""The blocking client: :class:`Client`, its collections and the resources it hands out.

Every method is one line over an operation of :mod:`.operations`; :mod:`.aio` is the same surface
with ``async``/``await``. ::

    with Client("http://localhost:3001", "mockuser", "mockpassword") as dc:
        inst = dc.instances.create(image="img1", hardware_profile="m1-large", memory=12288)
        inst.stop().wait_for("STOPPED", timeout=60).destroy()
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Generic, TypeVar, cast

import httpx

from . import models
from . import operations as ops
from .discovery import EntryPoint
from .protocol import Op, RetryPolicy
from .runner import SyncRunner
from .session import Format, PollPolicy, Session, Settings, api_url

__all__ = [
    "Blob", "Bucket", "Client", "Firewall", "IPAddress", "Image", "Instance", "Key", "LoadBalancer", "Network",
    "NetworkInterface", "StorageSnapshot", "StorageVolume", "Subnet",
]

T = TypeVar("T")
M = TypeVar("M", bound=models.Resource)
R = TypeVar("R", bound="_Bound")
USER_AGENT = "deltacloud-client/0.1 (python)"


def _http_client(user: str | None, password: str | None, timeout: float, transport: httpx.BaseTransport | None,
                 verify: bool | str) -> httpx.Client:
    auth = (user, password or "") if user is not None else None
    return httpx.Client(auth=auth, timeout=timeout, transport=transport, verify=verify,
                        headers={"User-Agent": USER_AGENT}, follow_redirects=True)


class Client:
    """A Deltacloud API 1.x server, for one driver and provider (``with_driver`` switches)."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None, *, driver: str | None = None,
                 provider: str | None = None, format: Format = "json", timeout: float = 30.0, retries: int = 2,
                 poll: PollPolicy | None = None, transport: httpx.BaseTransport | None = None,
                 verify: bool | str = True) -> None:
        settings = Settings(api_url(url), driver, provider, format, RetryPolicy(attempts=retries + 1),
                            poll or PollPolicy())
        self._http = _http_client(user, password, timeout, transport, verify)
        self._owns_http = True
        self._runner = SyncRunner(self._http)
        self._session = Session(settings)

    @classmethod
    def _sharing(cls, parent: Client, session: Session) -> Client:
        client = cls.__new__(cls)
        client._http, client._owns_http, client._runner, client._session = parent._http, False, parent._runner, session
        return client

    def with_driver(self, driver: str | None, provider: str | None = None) -> Client:
        """The same server and credentials, requests sent to ``driver`` (and ``provider``); shares
        this client's connection pool (close this one, not the derived one)."""
        return Client._sharing(self, self._session.switched(driver, provider))

    # -- plumbing --------------------------------------------------------------------------------

    def _run(self, op: Op[T]) -> T:
        return self._runner.run(op)

    def _iter(self, op: Op[None]) -> Iterator[Any]:
        return self._runner.iterate(op)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the server offers --------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._session.settings.url

    def api(self) -> EntryPoint:
        """The entry point (read once): driver, provider, collections with their features."""
        return self._run(ops.entry_point(self._session))

    def instance_states(self) -> models.StateMachine | None:
        return self._run(ops.state_machine(self._session))

    @property
    def realms(self) -> Collection[models.Realm]:
        return Collection(self, models.Realm)

    @property
    def hardware_profiles(self) -> Collection[models.HardwareProfile]:
        return Collection(self, models.HardwareProfile)

    @property
    def metrics(self) -> Collection[models.Metric]:
        return Collection(self, models.Metric)

    @property
    def drivers(self) -> Drivers:
        return Drivers(self, models.Driver)

    @property
    def images(self) -> Images:
        return Images(self, Image)

    @property
    def instances(self) -> Instances:
        return Instances(self, Instance)

    @property
    def keys(self) -> Keys:
        return Keys(self, Key)

    @property
    def storage_volumes(self) -> StorageVolumes:
        return StorageVolumes(self, StorageVolume)

    @property
    def storage_snapshots(self) -> StorageSnapshots:
        return StorageSnapshots(self, StorageSnapshot)

    @property
    def buckets(self) -> Buckets:
        return Buckets(self, Bucket)

    @property
    def addresses(self) -> Addresses:
        return Addresses(self, IPAddress)

    @property
    def firewalls(self) -> Firewalls:
        return Firewalls(self, Firewall)

    @property
    def load_balancers(self) -> LoadBalancers:
        return LoadBalancers(self, LoadBalancer)

    @property
    def networks(self) -> Networks:
        return Networks(self, Network)

    @property
    def subnets(self) -> Subnets:
        return Subnets(self, Subnet)

    @property
    def network_interfaces(self) -> NetworkInterfaces:
        return NetworkInterfaces(self, NetworkInterface)


# -- collections ---------------------------------------------------------------------------------

class Collection(Generic[M]):
    def __init__(self, client: Client, cls: type[M]) -> None:
        self._client = client
        self._cls = cls

    @property
    def _s(self) -> Session:
        return self._client._session

    def list(self, **filters: Any) -> list[M]:
        """Every member (``filters`` become query parameters: ``state="RUNNING"``, ``realm_id=...``)."""
        return self._client._run(ops.list_resources(self._s, self._cls, self._client, filters))

    def get(self, resource_id: str) -> M:
        return self._client._run(ops.get(self._s, self._cls, self._client, resource_id))

    def _create(self, params: Mapping[str, Any]) -> M:
        return self._client._run(ops.create(self._s, self._cls, self._client, params))[0]


class Drivers(Collection[models.Driver]):
    def list(self, **filters: Any) -> list[models.Driver]:
        return self._client._run(ops.list_drivers(self._s, self._client))


class Instances(Collection["Instance"]):
    def create(self, *, image: str, hardware_profile: str | None = None, realm: str | None = None,
               name: str | None = None, keyname: str | None = None, user_data: bytes | str | None = None,
               memory: int | str | None = None, cpu: int | float | str | None = None,
               storage: int | str | None = None, architecture: str | None = None, **extra: Any) -> Instance:
        """Launch an instance; ``memory``/``cpu``/``storage``/``architecture`` override the profile's
        defaults and are checked against its bounds before anything is sent. ``extra`` goes as it is
        (``firewalls1=...``, ``instance_count=...``, the driver's feature parameters)."""
        return self.create_many(image=image, hardware_profile=hardware_profile, realm=realm, name=name,
                                keyname=keyname, user_data=user_data, memory=memory, cpu=cpu, storage=storage,
                                architecture=architecture, **extra)[0]

    def create_many(self, *, image: str, hardware_profile: str | None = None, realm: str | None = None,
                    name: str | None = None, keyname: str | None = None, user_data: bytes | str | None = None,
                    memory: int | str | None = None, cpu: int | float | str | None = None,
                    storage: int | str | None = None, architecture: str | None = None,
                    **extra: Any) -> list[Instance]:
        """Like :meth:`create`; a list (several when ``instance_count`` > 1 and the driver launches several)."""
        params = self._client._run(ops.launch_params(
            self._s, image=image, hardware_profile=hardware_profile, realm=realm, name=name, keyname=keyname,
            user_data=user_data, overrides={"memory": memory, "cpu": cpu, "storage": storage,
                                            "architecture": architecture}, extra=extra))
        return self._client._run(ops.create(self._s, Instance, self._client, params))

    def watch(self, *, initial: list[Instance] | None = None, interval: float = 2.0, source: str | None = None,
              **filters: Any) -> Iterator[ops.Change]:
        """Every change, forever (stop iterating to end): ``inst1 changed from RUNNING to STOPPED``."""
        return self._client._iter(ops.watch(self._s, Instance, self._client, initial, interval, filters, source))


class Images(Collection["Image"]):
    def create(self, *, instance: str, name: str | None = None, description: str | None = None) -> Image:
        """An image of an instance."""
        return self._create({"instance_id": instance, "name": name, "description": description})


class Keys(Collection["Key"]):
    def create(self, name: str, *, public_key: str | None = None) -> Key:
        return self._create({"name": name, "public_key": public_key})


class StorageVolumes(Collection["StorageVolume"]):
    def create(self, *, capacity: int | str | None = None, realm: str | None = None, snapshot: str | None = None,
               name: str | None = None, description: str | None = None) -> StorageVolume:
        return self._create({"capacity": capacity, "realm_id": realm, "snapshot_id": snapshot, "name": name,
                             "description": description})


class StorageSnapshots(Collection["StorageSnapshot"]):
    def create(self, *, volume: str, name: str | None = None, description: str | None = None) -> StorageSnapshot:
        return self._create({"volume_id": volume, "name": name, "description": description})


class Buckets(Collection["Bucket"]):
    def create(self, name: str, *, location: str | None = None) -> Bucket:
        return self._create({"name": name, "location": location})


class Addresses(Collection["IPAddress"]):
    def create(self) -> IPAddress:
        return self._create({})


class Firewalls(Collection["Firewall"]):
    def create(self, name: str, *, description: str) -> Firewall:
        return self._create({"name": name, "description": description})


class LoadBalancers(Collection["LoadBalancer"]):
    def create(self, name: str, *, realm: str, protocol: str, balancer_port: int, instance_port: int) -> LoadBalancer:
        return self._create({"name": name, "realm_id": realm, "listener_protocol": protocol,
                             "listener_balancer_port": balancer_port, "listener_instance_port": instance_port})


class Networks(Collection["Network"]):
    def create(self, *, address_block: str | None = None, name: str | None = None) -> Network:
        return self._create({"address_block": address_block, "name": name})


class Subnets(Collection["Subnet"]):
    def create(self, *, network: str, address_block: str, name: str | None = None) -> Subnet:
        return self._create({"network_id": network, "address_block": address_block, "name": name})


class NetworkInterfaces(Collection["NetworkInterface"]):
    def create(self, *, instance: str, network: str, subnet: str | None = None,
               name: str | None = None) -> NetworkInterface:
        return self._create({"instance": instance, "network": network, "subnet": subnet, "name": name})


# -- resources -----------------------------------------------------------------------------------

class _Bound(models.Resource):
    """What every resource of a :class:`Client` can do."""

    @property
    def _client(self) -> Client:
        return cast(Client, self._bound)

    def refresh(self: R) -> R:
        """The resource as the server tells it now."""
        return self._client._run(ops.refresh(self._client._session, self))

    def destroy(self) -> None:
        self._client._run(ops.destroy(self._client._session, self))

    def action(self, rel: str, **params: Any) -> Any:
        """Follow the resource's ``rel`` link (with its method); the answer as this type, or None."""
        return self._client._run(ops.follow(self._client._session, type(self), self, rel, params))


class Instance(models.Instance, _Bound):
    def start(self) -> Instance:
        return self._client._run(ops.instance_action(self._client._session, self, "start"))

    def stop(self) -> Instance:
        return self._client._run(ops.instance_action(self._client._session, self, "stop"))

    def reboot(self) -> Instance:
        return self._client._run(ops.instance_action(self._client._session, self, "reboot"))

    def wait_for(self, state: str, *, timeout: float = 300.0) -> Instance:
        """Until the instance is in ``state`` (``"FINISH"``: gone); :class:`~.errors.WaitTimeout` otherwise."""
        return self._client._run(ops.wait_for(self._client._session, self, state, timeout))

    def create_image(self, *, name: str | None = None, description: str | None = None) -> Image:
        found = self._client._run(ops.follow(self._client._session, Image, self, "create_image",
                                             {"name": name, "description": description}))
        assert found is not None, "the server answered the image create without the image"
        return found

    def run(self, cmd: str, **params: Any) -> models.RunResult:
        found = self._client._run(ops.follow(self._client._session, models.RunResult, self, "run",
                                             {"cmd": cmd, **params}))
        assert found is not None, "the server answered the run without its result"
        return found


class Image(models.Image, _Bound):
    def launch(self, **params: Any) -> Instance:
        """An instance of this image (the parameters of :meth:`Instances.create`)."""
        return self._client.instances.create(image=self.id, **params)


class Key(models.Key, _Bound):
    pass


class StorageVolume(models.StorageVolume, _Bound):
    def attach(self, instance: str, device: str) -> StorageVolume:
        href = f"{self.href}/attach"
        return self._volume(ops.follow(self._client._session, StorageVolume, self, "attach",
                                       {"instance_id": instance, "device": device}, fallback=("POST", href)))

    def detach(self) -> StorageVolume:
        return self._volume(ops.follow(self._client._session, StorageVolume, self, "detach", {},
                                       fallback=("POST", f"{self.href}/detach")))

    def _volume(self, op: Op[StorageVolume | None]) -> StorageVolume:
        return self._client._run(op) or self.refresh()

    def snapshot(self, *, name: str | None = None, description: str | None = None) -> StorageSnapshot:
        return self._client.storage_snapshots.create(volume=self.id, name=name, description=description)


class StorageSnapshot(models.StorageSnapshot, _Bound):
    pass


class Bucket(models.Bucket, _Bound):
    def blob(self, blob_id: str) -> Blob:
        return self._client._run(ops.get_blob(self._client._session, Blob, self.href or "", self._client, blob_id))

    def put(self, blob_id: str, source: IO[bytes] | Path | str | bytes, *, content_type: str | None = None,
            metadata: Mapping[str, str] | None = None, progress: ops.Progress | None = None) -> Blob:
        """Upload a blob from a file object, a path or bytes, streamed; ``progress(done, total)``."""
        with _opened(source) as stream:
            return self._client._run(ops.put_blob(self._client._session, Blob, self.href or "", self._client, blob_id,
                                                  stream, content_type=content_type, metadata=metadata or {},
                                                  progress=progress))


class Blob(models.Blob, _Bound):
    def download(self, target: IO[bytes] | Path | str, *, progress: ops.Progress | None = None) -> int:
        """Stream the content into a file object or a path; returns the number of bytes."""
        if isinstance(target, str | Path):
            with open(target, "wb") as sink:
                return self._client._run(ops.download_blob(self._client._session, self, sink, progress))
        return self._client._run(ops.download_blob(self._client._session, self, target, progress))

    def read(self) -> bytes:
        import io

        buffer = io.BytesIO()
        self.download(buffer)
        return buffer.getvalue()

    def metadata(self) -> dict[str, str]:
        """The user metadata as the server reports it now (``HEAD``)."""
        return self._client._run(ops.blob_metadata(self._client._session, self))

    def set_metadata(self, metadata: Mapping[str, str]) -> None:
        """Replace all user metadata."""
        self._client._run(ops.set_blob_metadata(self._client._session, self, metadata))


class IPAddress(models.IPAddress, _Bound):
    def associate(self, instance: str) -> None:
        self._client._run(ops.follow(self._client._session, None, self, "associate", {"instance_id": instance},
                                     fallback=("POST", f"{self.href}/associate")))

    def disassociate(self) -> None:
        self._client._run(ops.follow(self._client._session, None, self, "disassociate", {},
                                     fallback=("POST", f"{self.href}/disassociate")))


class Firewall(models.Firewall, _Bound):
    def add_rule(self, *, protocol: str, port_from: int, port_to: int, sources: tuple[str, ...] = (),
                 groups: Mapping[str, str] | None = None) -> Firewall:
        """Allow ``protocol`` ports ``port_from``..``port_to`` from CIDRs and/or (group -> owner)."""
        params: dict[str, Any] = {"protocol": protocol, "port_from": port_from, "port_to": port_to}
        params.update({f"ip_address{i}": cidr for i, cidr in enumerate(sources, 1)})
        for i, (group, owner) in enumerate((groups or {}).items(), 1):
            params.update({f"group{i}": group, f"group{i}owner": owner})
        found = self._client._run(ops.follow(self._client._session, Firewall, self, "add_rule", params,
                                             fallback=("POST", f"{self.href}/rules")))
        return found or self.refresh()

    def delete_rule(self, rule_id: str) -> None:
        from urllib.parse import quote

        rule = next((r for r in self.rules if r.id == rule_id), None)
        link = next((a for a in rule.actions if a.rel == "destroy"), None) if rule else None
        href = link.href if link else f"{self.href}/{quote(rule_id, safe='')}"
        self._client._run(ops.follow(self._client._session, None, self, "", {}, fallback=("DELETE", href)))


class LoadBalancer(models.LoadBalancer, _Bound):
    def register(self, instance: str) -> LoadBalancer:
        found = self._client._run(ops.follow(self._client._session, LoadBalancer, self, "register",
                                             {"instance_id": instance}, fallback=("POST", f"{self.href}/register")))
        return found or self.refresh()

    def unregister(self, instance: str) -> LoadBalancer:
        found = self._client._run(ops.follow(self._client._session, LoadBalancer, self, "unregister",
                                             {"instance_id": instance}, fallback=("POST", f"{self.href}/unregister")))
        return found or self.refresh()


class Network(models.Network, _Bound):
    pass


class Subnet(models.Subnet, _Bound):
    pass


class NetworkInterface(models.NetworkInterface, _Bound):
    pass


class _opened:
    """A file object for ``put``'s source (a path is opened and closed again)."""

    def __init__(self, source: IO[bytes] | Path | str | bytes) -> None:
        self.source = source
        self.owned: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        import io

        if isinstance(self.source, bytes):
            return io.BytesIO(self.source)
        if isinstance(self.source, str | Path):
            self.owned = open(self.source, "rb")
            return self.owned
        return self.source

    def __exit__(self, *exc: object) -> None:
        if self.owned is not None:
            self.owned.close()
