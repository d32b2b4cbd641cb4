"""Hardware profiles from the cloud: the region's instance types, cached; the static table as the
fallback for clouds without ``DescribeInstanceTypes``; images' compatible profiles on moto's own
catalogue of ~1,300 Amazon images.

moto describes ~1,400 instance types in one page; the paging of ``DescribeInstanceTypes`` (AWS:
pages of 100) and the answers of clouds without the call are served by ``aws_stub``, which
writes EC2's XML from botocore's description of the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_stub import Canned, Listing, running_stub
from conftest import CREDENTIALS, calls_of
from deltacloud_ec2 import EC2Driver, EucalyptusDriver
from deltacloud_ec2.catalogue import EC2_HARDWARE_PROFILES, EUCALYPTUS_HARDWARE_PROFILES
from deltacloud_ec2.instance_types import INSTANCE_TYPES, InstanceTypeCache
from moto_process import MotoServer

from deltacloud_core import ProviderError

STATIC_EC2 = [p.id for p in EC2_HARDWARE_PROFILES]
STATIC_EUCALYPTUS = [p.id for p in EUCALYPTUS_HARDWARE_PROFILES]


# -- the region's instance types -------------------------------------------------------------------

def test_profiles_are_the_regions_instance_types(driver: EC2Driver, moto_instance_types):
    types = moto_instance_types
    profiles = driver.list_hardware_profiles()
    assert len(profiles) == len(types) > 1000
    assert {p.id for p in profiles} == set(types)
    by_id = {p.id: p for p in profiles}
    graviton, gpu, burstable, storage = by_id["t4g.micro"], by_id["g4dn.xlarge"], by_id["t3.micro"], by_id["d2.xlarge"]
    assert [(p.name, p.kind, p.value) for p in graviton.properties] == [
        ("cpu", "fixed", 2), ("memory", "fixed", 1024), ("storage", "fixed", 0), ("architecture", "fixed", "arm64")]
    assert graviton.extra["burstable"] is True and graviton.extra["root_types"] == ("persistent",)
    assert gpu.extra["gpus"] == 1 and gpu.extra["gpu_names"] == ("T4",)
    assert burstable.property("architecture").value == "x86_64" and burstable.extra["burstable"] is True
    assert storage.property("storage").value == 6144  # local instance storage, GB
    assert storage.extra["root_types"] == ("persistent", "transient")
    assert by_id["m1.small"].property("architecture").values == ("i386", "x86_64")
    assert by_id["m1.small"].property("memory").value == 1740
    families = [p.id.split(".")[0] for p in profiles]
    assert families == sorted(families)  # family by family
    metal = [p.id for p in profiles if p.id.startswith("m5.")]
    assert metal.index("m5.large") < metal.index("m5.xlarge") < metal.index("m5.24xlarge")  # small first
    arm = driver.list_hardware_profiles(architecture="arm64")
    assert {p.id for p in arm} == {t for t, d in types.items()
                                   if "arm64" in d["ProcessorInfo"]["SupportedArchitectures"]}
    assert driver.get_hardware_profile("m7g.large").property("architecture").value == "arm64"
    assert driver.get_hardware_profile("x9.nonsense") is None


def test_profiles_over_http_with_and_without_credentials(client, anon, moto_instance_types):
    live = client.get("/api/hardware_profiles?format=json").json()["hardware_profiles"]
    assert len(live) == len(moto_instance_types)
    shown = client.get("/api/hardware_profiles/c7g.large?format=xml")
    assert shown.status_code == 200 and "arm64" in shown.text
    static = anon.get("/api/hardware_profiles?format=json").json()["hardware_profiles"]
    assert [p["id"] for p in static] == STATIC_EC2  # public, as the original's
    created = client.post("/api/instances?format=json", data={"image_id": "ami-dc0004", "hwp_id": "t4g.micro"})
    assert created.status_code == 201, created.text
    assert created.json()["instance"]["hardware_profile"]["id"] == "t4g.micro"


def test_the_list_is_read_once_per_region(moto):
    INSTANCE_TYPES.clear()
    first = EC2Driver(credentials=CREDENTIALS)
    with calls_of(first.ec2.raw, "DescribeInstanceTypes") as sent:
        assert len(first.list_hardware_profiles()) > 1000
        assert first.get_hardware_profile("m5.large") is not None  # same request: no second reading
        later = EC2Driver(credentials=CREDENTIALS)  # another request of the same region
        assert later.get_hardware_profile("t2.micro") is not None
    assert len(sent) == 1
    assert sent[0]["MaxResults"] == 100  # AWS's largest page of instance types
    assert len(INSTANCE_TYPES) == 1


def test_refused_credentials_get_the_static_table(moto, tmp_path: Path):
    server = MotoServer(tmp_path / "strict.log", extra_env={"INITIAL_NO_AUTH_ACTION_COUNT": "0"}).start()
    try:
        endpoint = server.url.removeprefix("http://")
        driver = EC2Driver(credentials=CREDENTIALS, provider=f"ec2={endpoint};s3={endpoint}")
        assert [p.id for p in driver.list_hardware_profiles()] == STATIC_EC2
    finally:
        server.stop()


# -- the cache -------------------------------------------------------------------------------------

def test_cache_is_bounded_and_aged():
    age = [3600.0]
    cache = InstanceTypeCache(maxsize=2, max_age=lambda: age[0])
    reads: list[str] = []

    def fetch(key: str):
        def read():
            reads.append(key)
            return ()
        return read

    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get(key, fetch(key))
    assert reads == ["a", "b", "c", "b"]  # b was the oldest when c came
    assert len(cache) == 2
    age[0] = 0.0  # everything is too old now
    cache.get("a", fetch("a"))
    assert reads[-1] == "a"


def test_cache_reads_a_region_once_for_concurrent_requests():
    cache = InstanceTypeCache()
    started, release = threading.Event(), threading.Event()
    reads: list[int] = []

    def slow_read():
        reads.append(1)
        started.set()
        release.wait(10)
        return ("profiles",)

    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("r", slow_read))) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert started.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert reads == [1] and results == [("profiles",)] * 8


def test_errors_are_not_cached():
    cache = InstanceTypeCache()

    def failing():
        raise ProviderError("down")

    with pytest.raises(ProviderError):
        cache.get("r", failing)
    assert cache.get("r", lambda: ("ok",)) == ("ok",)


# -- clouds without DescribeInstanceTypes (and one with it, paged) ---------------------------------

#: AWS's own answer to an action it does not know.
INVALID_ACTION = Canned(400, "InvalidAction", "The action DescribeInstanceTypes is not valid for this web service.")
#: Eucalyptus answers its own ``DescribeInstanceTypes`` (euca2ools' euca-describe-instance-types):
#: ``instanceTypeDetails`` of name/cpu/memory/disk, none of which AWS's answer has.
EUCALYPTUS_OWN = Canned(200, raw=(
    b'<?xml version="1.0" encoding="UTF-8"?><DescribeInstanceTypesResponse xmlns="http://msgs.eucalyptus.com/">'
    b"<requestId>r-1</requestId><instanceTypeDetails><item><name>m1.small</name><cpu>1</cpu><disk>5</disk>"
    b"<memory>256</memory></item></instanceTypeDetails></DescribeInstanceTypesResponse>"))


@pytest.fixture
def fresh_types() -> Iterator[None]:
    INSTANCE_TYPES.clear()
    yield
    INSTANCE_TYPES.clear()


@pytest.mark.parametrize(("answer", "driver_class", "static"), [
    (INVALID_ACTION, EucalyptusDriver, STATIC_EUCALYPTUS),
    (EUCALYPTUS_OWN, EucalyptusDriver, STATIC_EUCALYPTUS),
    (Canned(501, "NotImplemented", "not here"), EC2Driver, STATIC_EC2),
])
def test_a_cloud_without_the_call_gets_the_static_table(fresh_types, answer, driver_class, static):
    with running_stub({"DescribeInstanceTypes": answer}) as stub:
        driver = driver_class(credentials=CREDENTIALS, provider=stub.provider)
        assert [p.id for p in driver.list_hardware_profiles()] == static
        again = driver_class(credentials=CREDENTIALS, provider=stub.provider)
        assert again.get_hardware_profile(static[0]) is not None
        assert stub.seen == ["DescribeInstanceTypes"]  # the verdict is cached with the region


def test_other_failures_are_errors_not_a_fallback(fresh_types, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with running_stub({"DescribeInstanceTypes": Canned(500, "InternalError", "try again")}) as stub:
        driver = EucalyptusDriver(credentials=CREDENTIALS, provider=stub.provider)
        with pytest.raises(ProviderError):
            driver.list_hardware_profiles()


def _type(name: str, arch: str) -> dict:
    return {"InstanceType": name, "VCpuInfo": {"DefaultVCpus": 2}, "MemoryInfo": {"SizeInMiB": 4096},
            "ProcessorInfo": {"SupportedArchitectures": [arch]}, "SupportedRootDeviceTypes": ["ebs"],
            "SupportedVirtualizationTypes": ["hvm"]}


def test_a_compatible_cloud_that_has_the_call_gets_its_own_types_every_page(fresh_types):
    """The choice follows the answer: eucalyptus too lists live types when its cloud describes them."""
    pages = [[_type("a1.large", "arm64"), _type("c5.large", "x86_64")], [_type("c5.xlarge", "x86_64")],
             [_type("t4g.nano", "arm64")]]
    with running_stub({"DescribeInstanceTypes": Listing("InstanceTypes", pages)}) as stub:
        driver = EucalyptusDriver(credentials=CREDENTIALS, provider=stub.provider)
        assert [p.id for p in driver.list_hardware_profiles()] == ["a1.large", "c5.large", "c5.xlarge", "t4g.nano"]
        assert [f.get("NextToken") for f in stub.forms] == [None, "page-2", "page-3"]
        assert {f["MaxResults"] for f in stub.forms} == {"100"}


# -- moto's own image catalogue (the report: arm64 images listed no profile) ---------------

@pytest.fixture(scope="module")
def catalogue_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto with its default catalogue of Amazon images (the session's has four test images)."""
    log = Path(tmp_path_factory.mktemp("catalogue-moto")) / "moto_server.log"
    server = MotoServer(log, unset=("MOTO_AMIS_PATH",)).start()
    try:
        yield server
    finally:
        server.stop()


def test_every_image_of_moto_lists_the_profiles_of_its_architecture(catalogue_moto: MotoServer,
                                                                      moto_instance_types):
    endpoint = catalogue_moto.url
    driver = EC2Driver(credentials=CREDENTIALS, provider=endpoint)
    images = driver.list_images()
    assert len(images) > 1000
    arches = {i.architecture for i in images}
    assert {"x86_64", "arm64"} <= arches
    types = moto_instance_types  # every moto describes the same types
    runs = {arch: {t for t, d in types.items() if arch in d["ProcessorInfo"]["SupportedArchitectures"]}
            for arch in arches}
    for image in images:
        assert image.hardware_profiles, image.id
        assert set(image.hardware_profiles) <= runs[image.architecture], image.id
    arm = [i for i in images if i.architecture == "arm64"]
    assert len(arm) > 100 and all("t4g.micro" in i.hardware_profiles for i in arm
                                  if i.root_type == "persistent" and i.extra["virtualization_type"] == "hvm")
