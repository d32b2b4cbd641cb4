"""boto3 clients: built once per (credentials digest, region, endpoint, service), errors translated.

Building a boto3 client costs tens of milliseconds (service model, endpoint rules, signer), so
clients live in a bounded LRU shared by every request (:meth:`Driver.cached_client`, keyed by
the service with its region and endpoint, the provider and a SHA-256 digest of the
credentials; never written to disk). Clients are thread-safe; the boto3 session that builds
them is not, so building holds a lock.

Each client is wrapped in :class:`TranslatedClient`: every operation it calls raises the core's
errors (see :mod:`.errors`) instead of botocore's, so the driver's methods never see an SDK
exception.

Listings follow every page (:meth:`TranslatedClient.pages`): the continuation token of each
answer is sent back until the cloud sends none, and each paged call asks for its documented
maximum page (``MaxResults``) when the request allows one.

Tuning (environment, read when a client is built): ``AWS_MAX_ATTEMPTS`` (default 3) and
``AWS_RETRY_MODE`` (default ``standard``) as in every AWS tool; ``DELTACLOUD_EC2_CONNECT_TIMEOUT``
(seconds, default 10) and ``DELTACLOUD_EC2_READ_TIMEOUT`` (default 30). Read on every listing:
``DELTACLOUD_EC2_PAGE_SIZE``, a smaller page than each call's maximum (at least 5, AWS's minimum),
for clouds that time out on big pages.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from deltacloud_core import AuthenticationRequired, ClientCache, Credentials, Driver

from .endpoints import DEFAULT_REGION, Target, resolve
from .errors import aws_errors, translate

__all__ = ["PAGE_SIZES", "AwsDriverBase", "TranslatedClient", "build_client", "client_settings", "page_size"]

_session_lock = threading.Lock()
_session: Any = None
#: Operations that are not API calls (they return helpers, not responses).
_PASSTHROUGH = frozenset({"meta", "exceptions", "get_paginator", "get_waiter", "can_paginate",
                          "generate_presigned_url", "generate_presigned_post", "close"})
#: (request token, response token) of the paged operations that do not use ``NextToken`` for both.
_PAGE_TOKENS: dict[str, tuple[str, str]] = {
    "list_objects_v2": ("ContinuationToken", "NextContinuationToken"),
    "describe_load_balancers": ("Marker", "NextMarker"),
}
#: operation -> (its page-size parameter, AWS's largest page, the parameters it cannot be sent with).
#: Asking for pages is what makes AWS paginate big accounts predictably; calls naming ids get none.
PAGE_SIZES: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "describe_instances": ("MaxResults", 1000, ("InstanceIds",)),
    "describe_volumes": ("MaxResults", 500, ("VolumeIds",)),
    "describe_snapshots": ("MaxResults", 1000, ("SnapshotIds",)),
    "describe_images": ("MaxResults", 1000, ("ImageIds",)),
    "describe_instance_types": ("MaxResults", 100, ("InstanceTypes",)),
    "describe_security_groups": ("MaxResults", 1000, ("GroupIds", "GroupNames")),
    "describe_subnets": ("MaxResults", 1000, ("SubnetIds",)),
    "describe_vpcs": ("MaxResults", 1000, ("VpcIds",)),
    "describe_network_interfaces": ("MaxResults", 1000, ("NetworkInterfaceIds",)),
    "describe_load_balancers": ("PageSize", 400, ("LoadBalancerNames",)),
}
#: AWS's smallest ``MaxResults``.
_MIN_PAGE = 5


def _boto3_session() -> Any:
    global _session
    if _session is None:
        import boto3.session

        _session = boto3.session.Session()
    return _session


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def page_size(operation: str, kwargs: dict[str, Any]) -> tuple[str, int] | None:
    """(parameter, size) of the page to ask ``operation`` for, or None when it takes none here."""
    known = PAGE_SIZES.get(operation)
    if known is None:
        return None
    param, largest, excluded = known
    if param in kwargs or any(kwargs.get(name) for name in excluded):
        return None
    wanted = int(_env_number("DELTACLOUD_EC2_PAGE_SIZE", largest))
    return param, min(largest, max(_MIN_PAGE, wanted))


def client_settings() -> dict[str, Any]:
    """Timeouts and retries from the environment (see the module docstring)."""
    return {
        "connect_timeout": _env_number("DELTACLOUD_EC2_CONNECT_TIMEOUT", 10.0),
        "read_timeout": _env_number("DELTACLOUD_EC2_READ_TIMEOUT", 30.0),
        "max_attempts": int(_env_number("AWS_MAX_ATTEMPTS", 3)),
        "retry_mode": os.environ.get("AWS_RETRY_MODE", "").strip() or "standard",
    }


class TranslatedClient:
    """A boto3 client whose API calls raise the core's errors. Attribute access is cached."""

    def __init__(self, client: Any, service: str) -> None:
        self._client = client
        self.service = service

    @property
    def raw(self) -> Any:
        """The boto3 client itself."""
        return self._client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or name in _PASSTHROUGH or not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except Exception as exc:
                translated = translate(exc)
                if translated is None or translated is exc:
                    raise
                raise translated from exc

        self.__dict__[name] = call
        return call

    def pages(self, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
        """Every item under ``key`` of every page of ``operation`` (errors translated).

        A plain loop over the continuation token: botocore's paginator builds a class per call,
        which costs more than the rest of the driver's work on a small listing. The page size of
        :data:`PAGE_SIZES` is asked for unless the call names ids.
        """
        token_in, token_out = _PAGE_TOKENS.get(operation, ("NextToken", "NextToken"))
        call = getattr(self._client, operation)
        size = page_size(operation, kwargs)
        if size is not None:
            kwargs[size[0]] = size[1]
        with aws_errors():
            while True:
                page = call(**kwargs)
                yield from page.get(key) or ()
                token = page.get(token_out)
                if not token or token == kwargs.get(token_in):
                    return
                kwargs[token_in] = token


def build_client(service: str, target: Target, credentials: Credentials) -> TranslatedClient:
    """A new boto3 client for ``service`` in ``target``'s region and endpoint."""
    from botocore.config import Config

    settings = client_settings()
    endpoint = target.endpoint(service)
    options: dict[str, Any] = {
        "connect_timeout": settings["connect_timeout"],
        "read_timeout": settings["read_timeout"],
        "retries": {"total_max_attempts": max(1, settings["max_attempts"]), "mode": settings["retry_mode"]},
        "max_pool_connections": 64,
        "user_agent_extra": "deltacloud-ec2",
    }
    if service == "s3" and (endpoint or target.custom):
        options["s3"] = {"addressing_style": "path"}  # S3-compatible servers (Walrus, moto) want paths
    with _session_lock, aws_errors():
        client = _boto3_session().client(
            service, region_name=target.region, endpoint_url=endpoint,
            aws_access_key_id=credentials.user, aws_secret_access_key=credentials.password,
            config=Config(**options))
    return TranslatedClient(client, service)


class AwsDriverBase(Driver):
    """What every part of the EC2 driver shares: the provider's target and cached clients."""

    #: Shared by ec2 and eucalyptus (keys carry the endpoint): 128 clients at most, 15 minutes each.
    CLIENT_CACHE: ClassVar[ClientCache | None] = ClientCache(maxsize=128, max_age=900.0)
    #: Region used when the provider names none.
    DEFAULT_REGION: ClassVar[str] = DEFAULT_REGION

    @property
    def target(self) -> Target:
        """The region and endpoints of this request's provider (400 when it is not understood)."""
        return resolve(self.provider, self.DEFAULT_REGION)

    @property
    def region(self) -> str:
        return self.target.region

    def aws_credentials(self) -> Credentials:
        """The request's credentials; empty ones count as none (never the server's own AWS keys)."""
        creds = self.credentials
        if not creds.user or not creds.password:
            raise AuthenticationRequired()
        return creds

    def client(self, service: str) -> TranslatedClient:
        """The cached client for ``service`` (``ec2``, ``s3``, ``elb``, ``cloudwatch``)."""
        memo: dict[str, TranslatedClient] = self.__dict__.setdefault("_aws_clients", {})
        hit = memo.get(service)
        if hit is not None:
            return hit
        creds = self.aws_credentials()
        target = self.target
        factory: Callable[[], TranslatedClient] = functools.partial(build_client, service, target, creds)
        key = f"{service}|{target.region}|{target.endpoint(service) or ''}"
        client = self.cached_client(key, factory)
        memo[service] = client
        return client

    @property
    def ec2(self) -> TranslatedClient:
        return self.client("ec2")

    @property
    def s3(self) -> TranslatedClient:
        return self.client("s3")

    @property
    def elb(self) -> TranslatedClient:
        return self.client("elb")

    @property
    def cloudwatch(self) -> TranslatedClient:
        return self.client("cloudwatch")
