"""Providers, endpoints and the client cache; eucalyptus against moto through its provider form."""

from __future__ import annotations

import io

import pytest
from conftest import ACCESS_KEY, CREDENTIALS, IMAGE_X86_64, SECRET_KEY
from deltacloud_ec2 import EC2Driver, EucalyptusDriver
from deltacloud_ec2.clients import TranslatedClient
from deltacloud_ec2.endpoints import known_regions, region_providers, resolve

from deltacloud_core import ClientCache, Credentials, ValidationError


@pytest.fixture
def no_endpoint_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_CLOUDWATCH",
                 "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(name, raising=False)


# -- providers and endpoints -----------------------------------------------------------------------

def test_regions_come_from_botocore_without_network():
    regions = known_regions()
    assert {"us-east-1", "eu-west-1", "ap-northeast-1", "sa-east-1", "cn-north-1", "us-gov-west-1"} <= set(regions)
    providers = {p.id: p.entrypoints for p in region_providers()}
    assert providers["eu-west-1"] == {"s3": "s3.eu-west-1.amazonaws.com",
                                      "elb": "elasticloadbalancing.eu-west-1.amazonaws.com",
                                      "ec2": "ec2.eu-west-1.amazonaws.com", "mon": "monitoring.eu-west-1.amazonaws.com"}
    assert providers["cn-north-1"]["ec2"] == "ec2.cn-north-1.amazonaws.com.cn"


def test_resolve_providers(no_endpoint_env):
    assert resolve(None).region == "us-east-1"
    assert resolve("default").region == "us-east-1"
    assert resolve("EU-West-1").region == "eu-west-1"
    assert resolve("eu-west-1").endpoint("ec2") is None  # AWS's own endpoint
    euca = resolve("ec2=10.0.0.5:8773;s3=10.0.0.6:8773")
    assert euca.custom
    assert (euca.endpoint("ec2"), euca.endpoint("s3")) == ("http://10.0.0.5:8773", "http://10.0.0.6:8773")
    assert (euca.endpoint("elb"), euca.endpoint("cloudwatch")) == ("http://10.0.0.5:8773", "http://10.0.0.5:8773")
    assert (euca.region, resolve("ec2=10.0.0.5:8773;region=Eucalyptus").region) == ("us-east-1", "eucalyptus")
    full = resolve("ec2=https://cloud.example.com:8773/services/compute;walrus=https://cloud.example.com:8773/services/"
                   "objectstorage;mon=https://mon.example.com/")
    assert full.endpoint("ec2") == "https://cloud.example.com:8773/services/compute"
    assert full.endpoint("s3") == "https://cloud.example.com:8773/services/objectstorage"
    assert full.endpoint("cloudwatch") == "https://mon.example.com/"
    host = resolve("ec2.ap-southeast-2.amazonaws.com")
    assert (host.region, host.endpoint("ec2"), host.endpoint("s3")) == (
        "ap-southeast-2", "http://ec2.ap-southeast-2.amazonaws.com", None)
    local = resolve("http://127.0.0.1:5000")
    assert (local.region, local.endpoint("s3"), local.custom) == ("us-east-1", "http://127.0.0.1:5000", True)
    for bad in ("not a region", "ec2=", "foo=bar", ";;", "region=eu-west-1"):
        with pytest.raises(ValidationError):
            resolve(bad)


def test_aws_endpoint_url_variables(no_endpoint_env, monkeypatch: pytest.MonkeyPatch):
    target = resolve("us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://everything:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://objects:2")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING", "http://balancers:3")
    assert [target.endpoint(s) for s in ("ec2", "s3", "elb", "cloudwatch")] == [
        "http://everything:1", "http://objects:2", "http://balancers:3", "http://everything:1"]
    assert resolve("ec2=a:1;s3=b:2").endpoint("s3") == "http://b:2"  # a provider that names endpoints wins
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert target.endpoint("s3") is None


# -- the client cache ------------------------------------------------------------------------------

def test_clients_are_cached_per_credentials_region_and_service(moto):
    cache = EC2Driver.CLIENT_CACHE
    assert isinstance(cache, ClientCache) and cache.maxsize == 128
    cache.clear()
    first = EC2Driver(credentials=CREDENTIALS)
    second = EC2Driver(credentials=Credentials(ACCESS_KEY, SECRET_KEY))  # another request, same keys
    assert isinstance(first.ec2, TranslatedClient)
    assert first.ec2 is second.ec2 and first.s3 is second.s3
    assert first.ec2 is not first.s3
    other_keys = EC2Driver(credentials=Credentials("AKIAOTHERKEY00000000", "other"))
    assert other_keys.ec2 is not first.ec2
    europe = EC2Driver(credentials=CREDENTIALS, provider="eu-west-1")
    assert europe.ec2 is not first.ec2 and europe.ec2.raw.meta.region_name == "eu-west-1"
    assert len(cache) == 4  # ec2 and s3 for the keys, ec2 for other keys, ec2 in eu-west-1
    for key in cache._items:  # the digest stands for the credentials; they never appear in a key
        assert SECRET_KEY not in repr(key) and ACCESS_KEY not in repr(key)
    assert first.ec2.raw.meta.endpoint_url == moto.url


def test_cache_is_bounded():
    cache = ClientCache(maxsize=3)
    for n in range(10):
        cache.get_or_create(("ec2", str(n)), object)
    assert len(cache) == 3


def test_s3_uses_path_style_on_custom_endpoints(moto):
    driver = EC2Driver(credentials=CREDENTIALS)
    assert driver.s3.raw.meta.config.s3 == {"addressing_style": "path"}


def test_clients_need_real_credentials():
    from deltacloud_core import AuthenticationRequired

    for creds in (None, Credentials("", ""), Credentials("AKIA", "")):
        with pytest.raises(AuthenticationRequired):
            EC2Driver(credentials=creds).client("ec2")


# -- eucalyptus (any EC2/S3-compatible cloud) ------------------------------------------------------

def test_eucalyptus_reaches_a_compatible_cloud_through_its_provider(moto, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # only the provider says where the cloud is
    endpoint = moto.url.removeprefix("http://")
    euca = EucalyptusDriver(credentials=CREDENTIALS, provider=f"ec2={endpoint};s3={endpoint}")
    assert euca.list_realms()[0].id == "us-east-1a"
    assert {i.id for i in euca.list_images()} == {"ami-dc0001", "ami-dc0002", "ami-dc0003", "ami-dc0004"}
    inst = euca.create_instance(image_id=IMAGE_X86_64, hwp_id="m1.small")
    assert euca.get_instance(inst.id).state == "RUNNING"
    euca.create_bucket(name="walrus-bucket")
    euca.create_blob("walrus-bucket", "b", data=io.BytesIO(b"x"), content_type="text/plain", user_metadata={})
    assert euca.get_bucket("walrus-bucket").blob_ids == ("b",)


def test_eucalyptus_declarations(anon):
    api = anon.get("/api;driver=eucalyptus?format=json").json()["api"]
    features = {link["rel"]: [f["name"] for group in link["features"] for f in group] for link in api["links"]}
    assert features["instances"] == ["user_data", "firewalls", "authentication_key", "instance_count"]
    assert features["images"] == ["owner_id"]
    assert [p["id"] for p in anon.get("/api;driver=eucalyptus/hardware_profiles?format=json").json()[
        "hardware_profiles"]] == ["m1.small", "c1.medium", "m1.large", "m1.xlarge", "c1.xlarge"]
    shown = anon.get("/api;driver=eucalyptus/drivers/eucalyptus?format=json").json()["driver"]
    assert list(shown) == ["name", "username", "password", "entrypoints", "id"]
    assert shown["entrypoints"] == {"default": {"default": "ec2=EUCALYPTUS_IP[:PORT];s3=WALRUS_IP[:PORT]"}}
