"""Big accounts are listed in full: every page of every paged EC2 call is followed to the end.

On moto (the session's server): an account of :data:`INSTANCES` instances and :data:`VOLUMES`
volumes, listed through the driver and through the server, counts checked. moto pages
``DescribeInstances`` only (by reservation); ``DELTACLOUD_EC2_PAGE_SIZE`` makes it page a few
hundred instances as AWS pages thousands, and the pages are counted.

moto answers every other listing in one page whatever ``MaxResults`` says, so the paging of
volumes, snapshots, images, security groups, subnets and network interfaces is checked against
``aws_stub``: EC2's own XML in three pages linked by ``nextToken``.

Sizes: on this 2-core machine moto creates ~100 instances a second (5,000 took 61 s, and listing
them 33 s) and ~65 volumes a second (2,000 took 31 s); the counts below are what it creates in a
few seconds. ``benchmarks/ec2_big_account.py`` lists 5,000.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import boto3
import pytest
from aws_stub import Listing, running_stub
from conftest import ACCESS_KEY, CREDENTIALS, IMAGE_X86_64, SECRET_KEY, calls_of
from deltacloud_ec2 import EC2Driver
from deltacloud_ec2.clients import PAGE_SIZES

#: Instances of the big account, in reservations of :data:`PER_RESERVATION`.
INSTANCES = 600
PER_RESERVATION = 10
#: Volumes of the big account (besides the instances' root volumes).
VOLUMES = 400


def boto_ec2(moto):
    return boto3.client("ec2", endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY)


def test_every_instance_and_volume_of_a_big_account(moto, client, monkeypatch: pytest.MonkeyPatch):
    ec2 = boto_ec2(moto)
    for _ in range(INSTANCES // PER_RESERVATION):
        ec2.run_instances(ImageId=IMAGE_X86_64, MinCount=PER_RESERVATION, MaxCount=PER_RESERVATION,
                          InstanceType="t3.micro")
    for _ in range(VOLUMES):
        ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")
    driver = EC2Driver(credentials=CREDENTIALS)
    with calls_of(driver.ec2.raw, "DescribeInstances") as sent:
        listed = driver.list_instances()
    assert len(listed) == INSTANCES and len({i.id for i in listed}) == INSTANCES
    assert [s["MaxResults"] for s in sent] == [1000]  # one page of AWS's largest size
    volumes = driver.list_storage_volumes()
    assert len(volumes) == VOLUMES + INSTANCES  # every instance has its root volume
    monkeypatch.setenv("DELTACLOUD_EC2_PAGE_SIZE", "25")  # 25 reservations of 10 a page
    with calls_of(driver.ec2.raw, "DescribeInstances") as sent:
        paged = driver.list_instances()
    assert [i.id for i in paged] == [i.id for i in listed]
    assert len(sent) == 3 and [s.get("NextToken") is None for s in sent] == [True, False, False]
    assert all(s["MaxResults"] == 25 for s in sent)
    # Through the server: JSON and XML, in pages of 7 reservations.
    monkeypatch.setenv("DELTACLOUD_EC2_PAGE_SIZE", "7")
    instances = client.get("/api/instances?format=json").json()["instances"]
    assert len(instances) == INSTANCES
    assert len(client.get("/api/storage_volumes?format=json").json()["storage_volumes"]) == VOLUMES + INSTANCES
    xml = ET.fromstring(client.get("/api/instances?format=xml").content)
    assert len(xml.findall("instance")) == INSTANCES


def test_page_sizes_keep_to_what_aws_allows(monkeypatch: pytest.MonkeyPatch):
    from deltacloud_ec2.clients import page_size

    assert page_size("describe_volumes", {}) == ("MaxResults", 500)
    assert page_size("describe_volumes", {"VolumeIds": ["vol-1"]}) is None  # AWS refuses both at once
    assert page_size("describe_load_balancers", {}) == ("PageSize", 400)
    assert page_size("describe_key_pairs", {}) is None  # not paged
    monkeypatch.setenv("DELTACLOUD_EC2_PAGE_SIZE", "2")
    assert page_size("describe_instances", {}) == ("MaxResults", 5)  # AWS's smallest
    monkeypatch.setenv("DELTACLOUD_EC2_PAGE_SIZE", "5000")
    assert page_size("describe_instance_types", {}) == ("MaxResults", 100)


# -- every paged call, three pages each (aws_stub) -------------------------------------------------

def _pages(make, count: int = 3, per_page: int = 2) -> list[list[dict]]:
    return [[make(page * per_page + n) for n in range(per_page)] for page in range(count)]


LISTINGS = {
    "DescribeInstances": Listing("Reservations", _pages(lambda n: {
        "ReservationId": f"r-{n}", "OwnerId": "123456789012",
        "Instances": [{"InstanceId": f"i-{n:017d}", "State": {"Name": "running"}, "InstanceType": "m1.small"}]})),
    "DescribeVolumes": Listing("Volumes", _pages(lambda n: {
        "VolumeId": f"vol-{n}", "State": "available", "Size": 1, "AvailabilityZone": "us-east-1a"})),
    "DescribeSnapshots": Listing("Snapshots", _pages(lambda n: {
        "SnapshotId": f"snap-{n}", "VolumeId": "vol-0", "State": "completed"})),
    "DescribeImages": Listing("Images", _pages(lambda n: {
        "ImageId": f"ami-{n:08d}", "Name": f"image-{n}", "Architecture": "x86_64", "RootDeviceType": "ebs",
        "VirtualizationType": "hvm", "OwnerId": "123456789012", "State": "available"})),
    "DescribeInstanceTypes": Listing("InstanceTypes", _pages(lambda n: {
        "InstanceType": f"c{n}.large", "VCpuInfo": {"DefaultVCpus": 2}, "MemoryInfo": {"SizeInMiB": 4096},
        "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]}, "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": ["hvm"]})),
    "DescribeSecurityGroups": Listing("SecurityGroups", _pages(lambda n: {
        "GroupId": f"sg-{n}", "GroupName": f"group-{n}", "OwnerId": "123456789012", "Description": "d"})),
    "DescribeSubnets": Listing("Subnets", _pages(lambda n: {
        "SubnetId": f"subnet-{n}", "VpcId": "vpc-1", "CidrBlock": f"10.0.{n}.0/24", "State": "available"})),
    "DescribeNetworkInterfaces": Listing("NetworkInterfaces", _pages(lambda n: {
        "NetworkInterfaceId": f"eni-{n}", "SubnetId": "subnet-0", "VpcId": "vpc-1", "Status": "available"})),
}


@pytest.mark.parametrize(("action", "listing"), [
    ("DescribeInstances", lambda d: d.list_instances()),
    ("DescribeVolumes", lambda d: d.list_storage_volumes()),
    ("DescribeSnapshots", lambda d: d.list_storage_snapshots()),
    ("DescribeImages", lambda d: d.list_images()),
    ("DescribeInstanceTypes", lambda d: d.list_hardware_profiles()),
    ("DescribeSecurityGroups", lambda d: d.list_firewalls()),
    ("DescribeSubnets", lambda d: d.list_subnets()),
    ("DescribeNetworkInterfaces", lambda d: d.list_network_interfaces()),
])
def test_every_page_of_each_listing_is_followed(action: str, listing, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with running_stub(LISTINGS) as stub:
        driver = EC2Driver(credentials=CREDENTIALS, provider=stub.provider)
        found = listing(driver)
        assert len(found) == 6, (action, found)
        assert len({item.id for item in found}) == 6
        forms = [f for f in stub.forms if f["Action"] == action]
        assert [f.get("NextToken") for f in forms] == [None, "page-2", "page-3"]
        method = "".join("_" + c.lower() if c.isupper() else c for c in action).lstrip("_")
        param, size, _excluded = PAGE_SIZES[method]
        assert {f.get(param) for f in forms} == {str(size)}
