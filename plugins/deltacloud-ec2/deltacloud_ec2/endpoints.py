"""Where the driver's AWS calls go: regions, providers and endpoint URLs.

A *provider* (``X-Deltacloud-Provider`` / ``;provider=``) is one of:

* an AWS region (``us-east-1``, the default; ``eu-west-1`` ...). The known regions come from
  botocore's bundled endpoint data: no network call;
* the original Eucalyptus form ``ec2=HOST:PORT;s3=HOST:PORT`` (kinds ``ec2``, ``s3``, ``elb``,
  ``mon``; a value may also be a full URL such as ``https://host:8773/services/compute``),
  to reach any EC2/S3-compatible cloud. A kind left out uses the ``ec2`` endpoint (Eucalyptus
  serves every service on one port). ``region=NAME`` sets the region requests are signed for
  (default ``us-east-1``);
* an EC2 endpoint host or URL (``ec2.eu-west-1.amazonaws.com``, ``http://127.0.0.1:5000``):
  every service goes there; the region is read from an AWS host name, else ``us-east-1``.

Endpoint URLs also honour the standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``
variables (``AWS_ENDPOINT_URL_EC2``, ``_S3``, ``_ELASTIC_LOAD_BALANCING``, ``_CLOUDWATCH``) and
``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``, as every AWS tool does. A provider that names an
endpoint wins over the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache

from deltacloud_core import ProviderInfo, ValidationError

__all__ = [
    "DEFAULT_REGION",
    "EC2_ENTRYPOINTS",
    "EUCALYPTUS_ENTRYPOINTS",
    "KINDS",
    "SERVICES",
    "Target",
    "known_regions",
    "region_providers",
    "resolve",
]

DEFAULT_REGION = "us-east-1"

#: The original's entrypoint kinds and the boto3 service each one is.
KINDS: Mapping[str, str] = {"ec2": "ec2", "s3": "s3", "elb": "elb", "mon": "cloudwatch"}
#: boto3 service name -> (entrypoint kind, the env-var suffix of ``AWS_ENDPOINT_URL_<SERVICE>``).
SERVICES: Mapping[str, tuple[str, str]] = {
    "ec2": ("ec2", "EC2"),
    "s3": ("s3", "S3"),
    "elb": ("elb", "ELASTIC_LOAD_BALANCING"),
    "cloudwatch": ("mon", "CLOUDWATCH"),
}
#: Spellings accepted for the kinds in an ``ec2=...;s3=...`` provider.
_KIND_ALIASES: Mapping[str, str] = {
    "ec2": "ec2", "compute": "ec2", "s3": "s3", "walrus": "s3", "storage": "s3", "elb": "elb",
    "elasticloadbalancing": "elb", "loadbalancing": "elb", "mon": "mon", "monitoring": "mon",
    "cloudwatch": "mon",
}
#: Partitions whose regions a public account can use.
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_AWS_HOST_RE = re.compile(r"^(?:ec2|s3|elasticloadbalancing|monitoring)[.-]([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com")


def _original_entrypoints() -> dict[str, dict[str, str]]:
    """The original's ``ec2.yaml``: s3, elb, ec2, mon hosts for its seven regions."""
    regions = ("us-west-1", "us-west-2", "ap-southeast-1", "ap-northeast-1", "eu-west-1", "us-east-1", "sa-east-1")
    return {
        "s3": {r: ("s3.amazonaws.com" if r == "us-east-1" else f"s3-{r}.amazonaws.com") for r in regions},
        "elb": {r: f"elasticloadbalancing.{r}.amazonaws.com" for r in regions},
        "ec2": {r: f"ec2.{r}.amazonaws.com" for r in regions},
        "mon": {r: f"monitoring.{r}.amazonaws.com" for r in regions},
    }


#: ``/api/drivers`` configuration of ec2 and eucalyptus, exactly as the original shipped it.
EC2_ENTRYPOINTS: Mapping[str, Mapping[str, str]] = _original_entrypoints()
EUCALYPTUS_ENTRYPOINTS: Mapping[str, Mapping[str, str]] = {
    "default": {"default": "ec2=EUCALYPTUS_IP[:PORT];s3=WALRUS_IP[:PORT]"},
}


@cache
def _partitions() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(partition, DNS suffix, regions) from botocore's bundled ``endpoints.json``."""
    import botocore.session

    data = botocore.session.get_session().get_data("endpoints")
    out = []
    for partition in data.get("partitions", ()):
        if partition.get("partition") in _PARTITIONS:
            out.append((partition["partition"], partition.get("dnsSuffix", "amazonaws.com"),
                        tuple(sorted(partition.get("regions", {})))))
    return tuple(out)


def known_regions() -> list[str]:
    """Every region of the public partitions botocore knows, sorted."""
    return sorted(r for _p, _s, regions in _partitions() for r in regions)


def _dns_suffix(region: str) -> str:
    for _partition, suffix, regions in _partitions():
        if region in regions:
            return suffix
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def _aws_hosts(region: str) -> dict[str, str]:
    """The public endpoint host of each kind in ``region`` (the original's host forms)."""
    suffix = _dns_suffix(region)
    s3 = f"s3.{suffix}" if region == DEFAULT_REGION else f"s3.{region}.{suffix}"
    return {"s3": s3, "elb": f"elasticloadbalancing.{region}.{suffix}", "ec2": f"ec2.{region}.{suffix}",
            "mon": f"monitoring.{region}.{suffix}"}


def region_providers() -> list[ProviderInfo]:
    """The live provider list of ``/api/drivers/ec2``: one provider per region, its four hosts."""
    return [ProviderInfo(region, _aws_hosts(region)) for region in known_regions()]


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved provider: the region to sign for and an endpoint URL per service (None = AWS's)."""

    region: str
    endpoints: Mapping[str, str | None] = field(default_factory=dict)
    #: True when the provider named endpoints itself (an EC2/S3-compatible cloud).
    custom: bool = False

    def endpoint(self, service: str) -> str | None:
        explicit = self.endpoints.get(service)
        if explicit:
            return explicit
        return _env_endpoint(service)


def _env_endpoint(service: str) -> str | None:
    env = os.environ
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return None
    suffix = SERVICES[service][1]
    return env.get(f"AWS_ENDPOINT_URL_{suffix}") or env.get("AWS_ENDPOINT_URL") or None


def _as_url(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError("An endpoint in the provider is empty.")
    return value if "://" in value else f"http://{value}"


def _parse_kinds(provider: str) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for part in provider.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if name.strip().lower() == "region" and value.strip():
            kinds["region"] = value.strip().lower()
            continue
        kind = _KIND_ALIASES.get(name.strip().lower())
        if not sep or kind is None:
            raise ValidationError(
                f"Provider part '{part.strip()}' is not understood: write ec2=HOST:PORT;s3=HOST:PORT "
                f"(kinds: {', '.join(sorted(KINDS))}; and region=NAME).")
        kinds[kind] = _as_url(value)
    if "ec2" not in kinds and "s3" not in kinds:
        raise ValidationError("The provider names no ec2= or s3= endpoint.")
    return kinds


@lru_cache(maxsize=256)
def resolve(provider: str | None, default_region: str = DEFAULT_REGION) -> Target:
    """The region and endpoints a provider string stands for (400 when it is not understood)."""
    text = (provider or "").strip()
    if not text or text == "default":
        return Target(default_region)
    if "=" in text:
        kinds = _parse_kinds(text)
        fallback = kinds.get("ec2") or kinds["s3"]
        endpoints = {service: kinds.get(kind) or fallback for service, (kind, _env) in SERVICES.items()}
        return Target(kinds.get("region", default_region), endpoints, custom=True)
    lowered = text.lower()
    if _REGION_RE.match(lowered):
        return Target(lowered)
    if "." in text or ":" in text or "/" in text:
        url = _as_url(text)
        host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0].lower()
        match = _AWS_HOST_RE.match(host)
        region = match.group(1) if match else default_region
        if match and host.startswith("ec2"):
            # A public AWS EC2 host: the other services keep their own public endpoints.
            return Target(region, {"ec2": url})
        return Target(region, dict.fromkeys(SERVICES, url), custom=True)
    raise ValidationError(
        f"Unknown provider '{text}': give an AWS region (e.g. {DEFAULT_REGION}, eu-west-1), an endpoint "
        "URL, or ec2=HOST:PORT;s3=HOST:PORT.")
