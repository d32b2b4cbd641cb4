"""The ``ec2`` and ``eucalyptus`` drivers: every part put together.

Credentials are the request's HTTP Basic pair: user = access key id, password = secret
access key, handed to boto3 per request (clients are cached by a digest of them). The
provider is an AWS region (default ``us-east-1``) or an EC2/S3-compatible cloud's endpoints
(see :mod:`.endpoints`). Nothing in the entry point, the hardware profiles or the instance
states needs credentials: without them the hardware profiles are the original's static table,
with them the region's instance types (:mod:`.instance_types`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from deltacloud_core import DriverInfo, HardwareProfile, ProviderInfo, StateMachine

from .catalogue import (
    EC2_FEATURES,
    EC2_HARDWARE_PROFILES,
    EC2_STATES,
    EUCALYPTUS_FEATURES,
    EUCALYPTUS_HARDWARE_PROFILES,
)
from .cloudwatch import MetricsMixin
from .compute import ComputeMixin
from .elb import LoadBalancersMixin
from .endpoints import EC2_ENTRYPOINTS, EUCALYPTUS_ENTRYPOINTS, region_providers
from .firewalls import FirewallsMixin
from .network import NetworkMixin
from .s3 import S3Mixin
from .storage import StorageMixin

__all__ = ["EC2Driver", "EucalyptusDriver"]


class EC2Driver(ComputeMixin, StorageMixin, S3Mixin, NetworkMixin, FirewallsMixin, LoadBalancersMixin,
                MetricsMixin):
    """Amazon EC2 (compute, EBS, S3, ELB, CloudWatch) through boto3."""

    DISPLAY_NAME: ClassVar[str | None] = "EC2"
    ENTRYPOINTS: ClassVar[Mapping[str, Mapping[str, str]]] = EC2_ENTRYPOINTS
    INSTANCE_STATES: ClassVar[StateMachine | None] = EC2_STATES
    #: The original's table: listed without credentials, and by clouds without DescribeInstanceTypes.
    HARDWARE_PROFILES: ClassVar[Sequence[HardwareProfile]] = EC2_HARDWARE_PROFILES
    FEATURES: ClassVar[Mapping[str, Sequence[str]]] = EC2_FEATURES

    def providers(self) -> list[ProviderInfo] | None:
        """The AWS regions botocore knows (no network call, no credentials)."""
        return region_providers()


@dataclass(frozen=True, slots=True)
class _EucalyptusInfo(DriverInfo):
    """The original's ``eucalyptus.yaml`` lists name and credential labels before the entrypoints."""

    def config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.username_label:
            out["username"] = self.username_label
        if self.password_label:
            out["password"] = self.password_label
        if self.entrypoints:
            out["entrypoints"] = {k: dict(v) for k, v in self.entrypoints.items()}
        return out


class EucalyptusDriver(EC2Driver):
    """Eucalyptus, or any EC2/S3-compatible cloud: provider ``ec2=HOST:PORT;s3=HOST:PORT``."""

    DISPLAY_NAME: ClassVar[str | None] = "Eucalyptus"
    USERNAME_LABEL: ClassVar[str | None] = "Access Key ID"
    PASSWORD_LABEL: ClassVar[str | None] = "Secret Access Key"
    ENTRYPOINTS: ClassVar[Mapping[str, Mapping[str, str]]] = EUCALYPTUS_ENTRYPOINTS
    HARDWARE_PROFILES: ClassVar[Sequence[HardwareProfile]] = EUCALYPTUS_HARDWARE_PROFILES
    FEATURES: ClassVar[Mapping[str, Sequence[str]]] = EUCALYPTUS_FEATURES
    #: Eucalyptus images belong to account ids, not to ``amazon``: list them all.
    DEFAULT_IMAGE_OWNERS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def info(cls) -> DriverInfo:
        base = super().info()
        return _EucalyptusInfo(id=base.id, name=base.name, entrypoints=base.entrypoints,
                               username_label=base.username_label, password_label=base.password_label,
                               error=base.error)

    def providers(self) -> list[ProviderInfo] | None:
        return None  # the configured one: ec2=...;s3=...
