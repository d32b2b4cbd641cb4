"""deltacloud-client: a Python library and the ``deltacloud`` command line for Deltacloud API 1.x.

::

    from deltacloud_client import Client

    with Client("http://localhost:3001", "mockuser", "mockpassword") as dc:
        for instance in dc.instances.list():
            print(instance.id, instance.state)

:class:`Client` blocks, :class:`AsyncClient` awaits; both run the same operations
(:mod:`deltacloud_client.operations`). Models are in :mod:`deltacloud_client.models`, errors in
:mod:`deltacloud_client.errors` (also exported here).
"""

from . import models
from .aio import AsyncClient
from .client import Blob, Bucket, Client, Firewall, Image, Instance, IPAddress, Key, LoadBalancer, StorageVolume
from .discovery import CollectionLink, EntryPoint, Feature
from .errors import (
    ActionNotAvailable,
    APIError,
    BadGateway,
    BadRequest,
    Conflict,
    ConnectionFailed,
    DeltacloudError,
    Forbidden,
    GatewayTimeout,
    HardwareProfileError,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    NotImplementedByServer,
    NotSupported,
    PayloadTooLarge,
    PreconditionFailed,
    RateLimited,
    ServerError,
    Timeout,
    TransportError,
    Unauthorized,
    UnprocessableEntity,
    UsageError,
    WaitTimeout,
)
from .hardware import HardwareProperty
from .operations import Change, StateUnreachable
from .session import PollPolicy

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "ActionNotAvailable",
    "AsyncClient",
    "BadGateway",
    "BadRequest",
    "Blob",
    "Bucket",
    "Change",
    "Client",
    "CollectionLink",
    "Conflict",
    "ConnectionFailed",
    "DeltacloudError",
    "EntryPoint",
    "Feature",
    "Firewall",
    "Forbidden",
    "GatewayTimeout",
    "HardwareProfileError",
    "HardwareProperty",
    "IPAddress",
    "Image",
    "Instance",
    "Key",
    "LoadBalancer",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "NotImplementedByServer",
    "NotSupported",
    "PayloadTooLarge",
    "PollPolicy",
    "PreconditionFailed",
    "RateLimited",
    "ServerError",
    "StateUnreachable",
    "StorageVolume",
    "Timeout",
    "TransportError",
    "Unauthorized",
    "UnprocessableEntity",
    "UsageError",
    "WaitTimeout",
    "__version__",
    "models",
]
