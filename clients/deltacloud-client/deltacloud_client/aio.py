"""The async client: :class:`AsyncClient`, the same surface as :class:`~.client.Client` with ``await``.

Every method is one line over the same operation of :mod:`.operations` as its blocking twin; only
the runner differs (``httpx.AsyncClient``, ``anyio.sleep``). Works on asyncio and trio. ::

    async with AsyncClient("http://localhost:3001", "mockuser", "mockpassword") as dc:
        inst = await dc.instances.create(image="img1")
        await (await inst.stop()).wait_for("STOPPED")
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import IO, Any, Generic, TypeVar, cast

import httpx

from . import models
from . import operations as ops
from .client import USER_AGENT, _opened
from .discovery import EntryPoint
from .protocol import Op, RetryPolicy
from .runner import AsyncRunner
from .session import Format, PollPolicy, Session, Settings, api_url

__all__ = [
    "AsyncBlob", "AsyncBucket", "AsyncClient", "AsyncFirewall", "AsyncIPAddress", "AsyncImage", "AsyncInstance",
    "AsyncKey", "AsyncLoadBalancer", "AsyncNetwork", "AsyncNetworkInterface", "AsyncStorageSnapshot",
    "AsyncStorageVolume", "AsyncSubnet",
]

T = TypeVar("T")
M = TypeVar("M", bound=models.Resource)
R = TypeVar("R", bound="_AsyncBound")


def _http_client(user: str | None, password: str | None, timeout: float, transport: httpx.AsyncBaseTransport | None,
                 verify: bool | str) -> httpx.AsyncClient:
    auth = (user, password or "") if user is not None else None
    return httpx.AsyncClient(auth=auth, timeout=timeout, transport=transport, verify=verify,
                        headers={"User-Agent": USER_AGENT}, follow_redirects=True)


class AsyncClient:
    """A Deltacloud API 1.x server, for one driver and provider (``with_driver`` switches)."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None, *, driver: str | None = None,
                 provider: str | None = None, format: Format = "json", timeout: float = 30.0, retries: int = 2,
                 poll: PollPolicy | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 verify: bool | str = True) -> None:
        settings = Settings(api_url(url), driver, provider, format, RetryPolicy(attempts=retries + 1),
                            poll or PollPolicy())
        self._http = _http_client(user, password, timeout, transport, verify)
        self._owns_http = True
        self._runner = AsyncRunner(self._http)
        self._session = Session(settings)

    @classmethod
    def _sharing(cls, parent: AsyncClient, session: Session) -> AsyncClient:
        client = cls.__new__(cls)
        client._http, client._owns_http, client._runner, client._session = parent._http, False, parent._runner, session
        return client

    def with_driver(self, driver: str | None, provider: str | None = None) -> AsyncClient:
        """The same server and credentials, requests sent to ``driver`` (and ``provider``); shares
        this client's connection pool (close this one, not the derived one)."""
        return AsyncClient._sharing(self, self._session.switched(driver, provider))

    # -- plumbing --------------------------------------------------------------------------------

    async def _run(self, op: Op[T]) -> T:
        return await self._runner.run(op)

    def _iter(self, op: Op[None]) -> AsyncIterator[Any]:
        return self._runner.iterate(op)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- what the server offers --------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._session.settings.url

    async def api(self) -> EntryPoint:
        """The entry point (read once): driver, provider, collections with their features."""
        return await self._run(ops.entry_point(self._session))

    async def instance_states(self) -> models.StateMachine | None:
        return await self._run(ops.state_machine(self._session))

    @property
    def realms(self) -> AsyncCollection[models.Realm]:
        return AsyncCollection(self, models.Realm)

    @property
    def hardware_profiles(self) -> AsyncCollection[models.HardwareProfile]:
        return AsyncCollection(self, models.HardwareProfile)

    @property
    def metrics(self) -> AsyncCollection[models.Metric]:
        return AsyncCollection(self, models.Metric)

    @property
    def drivers(self) -> AsyncDrivers:
        return AsyncDrivers(self, models.Driver)

    @property
    def images(self) -> AsyncImages:
        return AsyncImages(self, AsyncImage)

    @property
    def instances(self) -> AsyncInstances:
        return AsyncInstances(self, AsyncInstance)

    @property
    def keys(self) -> AsyncKeys:
        return AsyncKeys(self, AsyncKey)

    @property
    def storage_volumes(self) -> AsyncStorageVolumes:
        return AsyncStorageVolumes(self, AsyncStorageVolume)

    @property
    def storage_snapshots(self) -> AsyncStorageSnapshots:
        return AsyncStorageSnapshots(self, AsyncStorageSnapshot)

    @property
    def buckets(self) -> AsyncBuckets:
        return AsyncBuckets(self, AsyncBucket)

    @property
    def addresses(self) -> AsyncAddresses:
        return AsyncAddresses(self, AsyncIPAddress)

    @property
    def firewalls(self) -> AsyncFirewalls:
        return AsyncFirewalls(self, AsyncFirewall)

    @property
    def load_balancers(self) -> AsyncLoadBalancers:
        return AsyncLoadBalancers(self, AsyncLoadBalancer)

    @property
    def networks(self) -> AsyncNetworks:
        return AsyncNetworks(self, AsyncNetwork)

    @property
    def subnets(self) -> AsyncSubnets:
        return AsyncSubnets(self, AsyncSubnet)

    @property
    def network_interfaces(self) -> AsyncNetworkInterfaces:
        return AsyncNetworkInterfaces(self, AsyncNetworkInterface)


# -- collections ---------------------------------------------------------------------------------

class AsyncCollection(Generic[M]):
    def __init__(self, client: AsyncClient, cls: type[M]) -> None:
        self._client = client
        self._cls = cls

    @property
    def _s(self) -> Session:
        return self._client._session

    async def list(self, **filters: Any) -> list[M]:
        """Every member (``filters`` become query parameters: ``state="RUNNING"``, ``realm_id=...``)."""
        return await self._client._run(ops.list_resources(self._s, self._cls, self._client, filters))

    async def get(self, resource_id: str) -> M:
        return await self._client._run(ops.get(self._s, self._cls, self._client, resource_id))

    async def _create(self, params: Mapping[str, Any]) -> M:
        return (await self._client._run(ops.create(self._s, self._cls, self._client, params)))[0]


class AsyncDrivers(AsyncCollection[models.Driver]):
    async def list(self, **filters: Any) -> list[models.Driver]:
        return await self._client._run(ops.list_drivers(self._s, self._client))


class AsyncInstances(AsyncCollection["AsyncInstance"]):
    async def create(self, *, image: str, hardware_profile: str | None = None, realm: str | None = None,
               name: str | None = None, keyname: str | None = None, user_data: bytes | str | None = None,
               memory: int | str | None = None, cpu: int | float | str | None = None,
               storage: int | str | None = None, architecture: str | None = None, **extra: Any) -> AsyncInstance:
        """Launch an instance; ``memory``/``cpu``/``storage``/``architecture`` override the profile's
        defaults and are checked against its bounds before anything is sent. ``extra`` goes as it is
        (``firewalls1=...``, ``instance_count=...``, the driver's feature parameters)."""
        return (await self.create_many(image=image, hardware_profile=hardware_profile, realm=realm, name=name,
                                keyname=keyname, user_data=user_data, memory=memory, cpu=cpu, storage=storage,
                                architecture=architecture, **extra))[0]

    async def create_many(self, *, image: str, hardware_profile: str | None = None, realm: str | None = None,
                    name: str | None = None, keyname: str | None = None, user_data: bytes | str | None = None,
                    memory: int | str | None = None, cpu: int | float | str | None = None,
                    storage: int | str | None = None, architecture: str | None = None,
                    **extra: Any) -> list[AsyncInstance]:
        """Like :meth:`create`; a list (several when ``instance_count`` > 1 and the driver launches several)."""
        params = await self._client._run(ops.launch_params(
            self._s, image=image, hardware_profile=hardware_profile, realm=realm, name=name, keyname=keyname,
            user_data=user_data, overrides={"memory": memory, "cpu": cpu, "storage": storage,
                                            "architecture": architecture}, extra=extra))
        return await self._client._run(ops.create(self._s, AsyncInstance, self._client, params))

    def watch(self, *, initial: list[AsyncInstance] | None = None, interval: float = 2.0, source: str | None = None,
              **filters: Any) -> AsyncIterator[ops.Change]:
        """Every change, forever (stop iterating to end): ``inst1 changed from RUNNING to STOPPED``."""
        return self._client._iter(ops.watch(self._s, AsyncInstance, self._client, initial, interval, filters, source))


class AsyncImages(AsyncCollection["AsyncImage"]):
    async def create(self, *, instance: str, name: str | None = None, description: str | None = None) -> AsyncImage:
        """An image of an instance."""
        return await self._create({"instance_id": instance, "name": name, "description": description})


class AsyncKeys(AsyncCollection["AsyncKey"]):
    async def create(self, name: str, *, public_key: str | None = None) -> AsyncKey:
        return await self._create({"name": name, "public_key": public_key})


class AsyncStorageVolumes(AsyncCollection["AsyncStorageVolume"]):
    async def create(self, *, capacity: int | str | None = None, realm: str | None = None, snapshot: str | None = None,
               name: str | None = None, description: str | None = None) -> AsyncStorageVolume:
        return await self._create({"capacity": capacity, "realm_id": realm, "snapshot_id": snapshot, "name": name,
                             "description": description})


class AsyncStorageSnapshots(AsyncCollection["AsyncStorageSnapshot"]):
    async def create(self, *, volume: str, name: str | None = None,
                     description: str | None = None) -> AsyncStorageSnapshot:
        return await self._create({"volume_id": volume, "name": name, "description": description})


class AsyncBuckets(AsyncCollection["AsyncBucket"]):
    async def create(self, name: str, *, location: str | None = None) -> AsyncBucket:
        return await self._create({"name": name, "location": location})


class AsyncAddresses(AsyncCollection["AsyncIPAddress"]):
    async def create(self) -> AsyncIPAddress:
        return await self._create({})


class AsyncFirewalls(AsyncCollection["AsyncFirewall"]):
    async def create(self, name: str, *, description: str) -> AsyncFirewall:
        return await self._create({"name": name, "description": description})


class AsyncLoadBalancers(AsyncCollection["AsyncLoadBalancer"]):
    async def create(self, name: str, *, realm: str, protocol: str, balancer_port: int,
                     instance_port: int) -> AsyncLoadBalancer:
        return await self._create({"name": name, "realm_id": realm, "listener_protocol": protocol,
                             "listener_balancer_port": balancer_port, "listener_instance_port": instance_port})


class AsyncNetworks(AsyncCollection["AsyncNetwork"]):
    async def create(self, *, address_block: str | None = None, name: str | None = None) -> AsyncNetwork:
        return await self._create({"address_block": address_block, "name": name})


class AsyncSubnets(AsyncCollection["AsyncSubnet"]):
    async def create(self, *, network: str, address_block: str, name: str | None = None) -> AsyncSubnet:
        return await self._create({"network_id": network, "address_block": address_block, "name": name})


class AsyncNetworkInterfaces(AsyncCollection["AsyncNetworkInterface"]):
    async def create(self, *, instance: str, network: str, subnet: str | None = None,
               name: str | None = None) -> AsyncNetworkInterface:
        return await self._create({"instance": instance, "network": network, "subnet": subnet, "name": name})


# -- resources -----------------------------------------------------------------------------------

class _AsyncBound(models.Resource):
    """What every resource of a :class:`AsyncClient` can do."""

    @property
    def _client(self) -> AsyncClient:
        return cast(AsyncClient, self._bound)

    async def refresh(self: R) -> R:
        """The resource as the server tells it now."""
        return await self._client._run(ops.refresh(self._client._session, self))

    async def destroy(self) -> None:
        await self._client._run(ops.destroy(self._client._session, self))

    async def action(self, rel: str, **params: Any) -> Any:
        """Follow the resource's ``rel`` link (with its method); the answer as this type, or None."""
        return await self._client._run(ops.follow(self._client._session, type(self), self, rel, params))


class AsyncInstance(models.Instance, _AsyncBound):
    async def start(self) -> AsyncInstance:
        return await self._client._run(ops.instance_action(self._client._session, self, "start"))

    async def stop(self) -> AsyncInstance:
        return await self._client._run(ops.instance_action(self._client._session, self, "stop"))

    async def reboot(self) -> AsyncInstance:
        return await self._client._run(ops.instance_action(self._client._session, self, "reboot"))

    async def wait_for(self, state: str, *, timeout: float = 300.0) -> AsyncInstance:
        """Until the instance is in ``state`` (``"FINISH"``: gone); :class:`~.errors.WaitTimeout` otherwise."""
        return await self._client._run(ops.wait_for(self._client._session, self, state, timeout))

    async def create_image(self, *, name: str | None = None, description: str | None = None) -> AsyncImage:
        found = await self._client._run(ops.follow(self._client._session, AsyncImage, self, "create_image",
                                             {"name": name, "description": description}))
        assert found is not None, "the server answered the image create without the image"
        return found

    async def run(self, cmd: str, **params: Any) -> models.RunResult:
        found = await self._client._run(ops.follow(self._client._session, models.RunResult, self, "run",
                                             {"cmd": cmd, **params}))
        assert found is not None, "the server answered the run without its result"
        return found


class AsyncImage(models.Image, _AsyncBound):
    async def launch(self, **params: Any) -> AsyncInstance:
        """An instance of this image (the parameters of :meth:`AsyncInstances.create`)."""
        return await self._client.instances.create(image=self.id, **params)


class AsyncKey(models.Key, _AsyncBound):
    pass


class AsyncStorageVolume(models.StorageVolume, _AsyncBound):
    async def attach(self, instance: str, device: str) -> AsyncStorageVolume:
        href = f"{self.href}/attach"
        return await self._volume(ops.follow(self._client._session, AsyncStorageVolume, self, "attach",
                                       {"instance_id": instance, "device": device}, fallback=("POST", href)))

    async def detach(self) -> AsyncStorageVolume:
        return await self._volume(ops.follow(self._client._session, AsyncStorageVolume, self, "detach", {},
                                       fallback=("POST", f"{self.href}/detach")))

    async def _volume(self, op: Op[AsyncStorageVolume | None]) -> AsyncStorageVolume:
        return await self._client._run(op) or await self.refresh()

    async def snapshot(self, *, name: str | None = None, description: str | None = None) -> AsyncStorageSnapshot:
        return await self._client.storage_snapshots.create(volume=self.id, name=name, description=description)


class AsyncStorageSnapshot(models.StorageSnapshot, _AsyncBound):
    pass


class AsyncBucket(models.Bucket, _AsyncBound):
    async def blob(self, blob_id: str) -> AsyncBlob:
        return await self._client._run(ops.get_blob(self._client._session, AsyncBlob, self.href or "", self._client,
                                                    blob_id))

    async def put(self, blob_id: str, source: IO[bytes] | Path | str | bytes, *, content_type: str | None = None,
            metadata: Mapping[str, str] | None = None, progress: ops.Progress | None = None) -> AsyncBlob:
        """Upload a blob from a file object, a path or bytes, streamed; ``progress(done, total)``."""
        with _opened(source) as stream:
            return await self._client._run(ops.put_blob(self._client._session, AsyncBlob, self.href or "", self._client,
                                                        blob_id,
                                                  stream, content_type=content_type, metadata=metadata or {},
                                                  progress=progress))


class AsyncBlob(models.Blob, _AsyncBound):
    async def download(self, target: IO[bytes] | Path | str, *, progress: ops.Progress | None = None) -> int:
        """Stream the content into a file object or a path; returns the number of bytes."""
        if isinstance(target, str | Path):
            with open(target, "wb") as sink:
                return await self._client._run(ops.download_blob(self._client._session, self, sink, progress))
        return await self._client._run(ops.download_blob(self._client._session, self, target, progress))

    async def read(self) -> bytes:
        import io

        buffer = io.BytesIO()
        await self.download(buffer)
        return buffer.getvalue()

    async def metadata(self) -> dict[str, str]:
        """The user metadata as the server reports it now (``HEAD``)."""
        return await self._client._run(ops.blob_metadata(self._client._session, self))

    async def set_metadata(self, metadata: Mapping[str, str]) -> None:
        """Replace all user metadata."""
        await self._client._run(ops.set_blob_metadata(self._client._session, self, metadata))


class AsyncIPAddress(models.IPAddress, _AsyncBound):
    async def associate(self, instance: str) -> None:
        await self._client._run(ops.follow(self._client._session, None, self, "associate", {"instance_id": instance},
                                     fallback=("POST", f"{self.href}/associate")))

    async def disassociate(self) -> None:
        await self._client._run(ops.follow(self._client._session, None, self, "disassociate", {},
                                     fallback=("POST", f"{self.href}/disassociate")))


class AsyncFirewall(models.Firewall, _AsyncBound):
    async def add_rule(self, *, protocol: str, port_from: int, port_to: int, sources: tuple[str, ...] = (),
                 groups: Mapping[str, str] | None = None) -> AsyncFirewall:
        """Allow ``protocol`` ports ``port_from``..``port_to`` from CIDRs and/or (group -> owner)."""
        params: dict[str, Any] = {"protocol": protocol, "port_from": port_from, "port_to": port_to}
        params.update({f"ip_address{i}": cidr for i, cidr in enumerate(sources, 1)})
        for i, (group, owner) in enumerate((groups or {}).items(), 1):
            params.update({f"group{i}": group, f"group{i}owner": owner})
        found = await self._client._run(ops.follow(self._client._session, AsyncFirewall, self, "add_rule", params,
                                             fallback=("POST", f"{self.href}/rules")))
        return found or await self.refresh()

    async def delete_rule(self, rule_id: str) -> None:
        from urllib.parse import quote

        rule = next((r for r in self.rules if r.id == rule_id), None)
        link = next((a for a in rule.actions if a.rel == "destroy"), None) if rule else None
        href = link.href if link else f"{self.href}/{quote(rule_id, safe='')}"
        await self._client._run(ops.follow(self._client._session, None, self, "", {}, fallback=("DELETE", href)))


class AsyncLoadBalancer(models.LoadBalancer, _AsyncBound):
    async def register(self, instance: str) -> AsyncLoadBalancer:
        found = await self._client._run(ops.follow(self._client._session, AsyncLoadBalancer, self, "register",
                                             {"instance_id": instance}, fallback=("POST", f"{self.href}/register")))
        return found or await self.refresh()

    async def unregister(self, instance: str) -> AsyncLoadBalancer:
        found = await self._client._run(ops.follow(self._client._session, AsyncLoadBalancer, self, "unregister",
                                             {"instance_id": instance}, fallback=("POST", f"{self.href}/unregister")))
        return found or await self.refresh()


class AsyncNetwork(models.Network, _AsyncBound):
    pass


class AsyncSubnet(models.Subnet, _AsyncBound):
    pass


class AsyncNetworkInterface(models.NetworkInterface, _AsyncBound):
    pass
