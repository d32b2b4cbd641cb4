"""Realms, hardware profiles, images, instances and keys, driver level, against moto over HTTP."""

from __future__ import annotations

import base64

import boto3
import pytest
from conftest import ACCESS_KEY, IMAGE_ARM64, IMAGE_I386, IMAGE_INSTANCE_STORE, IMAGE_X86_64, SECRET_KEY, calls_of
from deltacloud_ec2 import EC2Driver
from deltacloud_ec2.catalogue import EC2_STATES
from deltacloud_ec2.compute import instance_from_aws, store_actions

from deltacloud_core import AuthenticationRequired, Conflict, Credentials, ObjectNotFound, ValidationError


def public_key() -> str:
    """A fresh RSA public key in OpenSSH format (what ``import_key`` is given)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode() + " test"


def boto(service: str, moto) -> object:
    return boto3.client(service, endpoint_url=moto.url, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


# -- realms ----------------------------------------------------------------------------------------

def test_realms_are_the_regions_availability_zones(driver: EC2Driver):
    realms = driver.list_realms()
    assert [r.id for r in realms][:3] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    first = realms[0]
    assert (first.name, first.state, first.limit) == ("us-east-1a", "available", None)
    assert driver.get_realm("us-east-1b").id == "us-east-1b"
    assert driver.get_realm("xx-nowhere-1a") is None
    assert driver.list_realms(id="nope") == []


def test_realms_follow_the_provider_region(moto):
    europe = EC2Driver(credentials=Credentials(ACCESS_KEY, SECRET_KEY), provider="eu-west-1")
    assert [r.id for r in europe.list_realms()] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def test_data_needs_credentials(moto):
    anonymous = EC2Driver(credentials=None)
    with pytest.raises(AuthenticationRequired):
        anonymous.list_realms()
    empty = EC2Driver(credentials=Credentials("", ""))
    with pytest.raises(AuthenticationRequired):  # never fall back to the server's own AWS keys
        empty.list_instances()


# -- hardware profiles -----------------------------------------------------------------------------

def test_static_profiles_need_no_credentials():
    anonymous = EC2Driver(credentials=None)
    ids = [p.id for p in anonymous.list_hardware_profiles()]
    assert ids == ["t1.micro", "m1.small", "m1.medium", "m1.large", "m1.xlarge", "c1.medium", "c1.xlarge",
                   "m2.xlarge", "m2.2xlarge", "m2.4xlarge"]
    assert anonymous.get_hardware_profile("m1.large").property("memory").value == 7680.0
    assert anonymous.get_hardware_profile("t2.micro") is None  # a live lookup needs credentials
    assert [p.id for p in anonymous.list_hardware_profiles(architecture="i386")] == [
        "t1.micro", "m1.small", "m1.medium", "c1.medium"]


# -- images ----------------------------------------------------------------------------------------

def fitting_types(types: dict[str, dict], architecture: str, root_type: str, virtualization: str) -> set[str]:
    """The instance types (as moto describes them) that run such an image."""
    root = {"persistent": "ebs", "transient": "instance-store"}[root_type]
    return {t["InstanceType"] for t in types.values() if architecture in t["ProcessorInfo"]["SupportedArchitectures"]
            and root in t["SupportedRootDeviceTypes"] and virtualization in t["SupportedVirtualizationTypes"]}


def test_images_list_amazons_and_own_sorted_by_owner_and_name(driver: EC2Driver, moto):
    images = driver.list_images()
    assert [i.id for i in images] == [IMAGE_ARM64, IMAGE_I386, IMAGE_X86_64, IMAGE_INSTANCE_STORE]
    ebs = driver.get_image(IMAGE_X86_64)
    assert ebs.name == "deltacloud-test-x86_64-ebs"
    assert ebs.description == "x86_64 EBS-backed test image"
    assert (ebs.owner_id, ebs.architecture, ebs.state, ebs.root_type) == (
        "137112412989", "x86_64", "available", "persistent")
    assert ebs.creation_time == "2024-01-02T03:04:05.000Z"


def test_images_list_the_profiles_that_run_them(driver: EC2Driver, moto_instance_types):
    """images_test.rb: every image lists its compatible profiles; an arm64 (Graviton) one too."""
    by_id = {i.id: i for i in driver.list_images()}
    for image_id, arch, root, virt in ((IMAGE_ARM64, "arm64", "persistent", "hvm"),
                                       (IMAGE_X86_64, "x86_64", "persistent", "hvm"),
                                       (IMAGE_I386, "i386", "persistent", "paravirtual"),
                                       (IMAGE_INSTANCE_STORE, "x86_64", "transient", "paravirtual")):
        expected = fitting_types(moto_instance_types, arch, root, virt)
        assert expected, image_id
        assert set(by_id[image_id].hardware_profiles) == expected, image_id
        assert len(by_id[image_id].hardware_profiles) == len(expected)  # no repeats
    arm = set(by_id[IMAGE_ARM64].hardware_profiles)
    assert {"t4g.micro", "m7g.large", "c6g.xlarge"} <= arm and "m5.large" not in arm
    assert "m1.small" in by_id[IMAGE_INSTANCE_STORE].hardware_profiles  # runs instance-store images
    assert "t2.micro" not in by_id[IMAGE_INSTANCE_STORE].hardware_profiles  # EBS only
    assert set(driver.get_image(IMAGE_ARM64).hardware_profiles) == arm


def test_image_filters_go_to_the_cloud(driver: EC2Driver):
    with calls_of(driver.ec2.raw, "DescribeImages") as sent:
        assert [i.id for i in driver.list_images(architecture="i386")] == [IMAGE_I386]
        assert [i.id for i in driver.list_images(architecture="arm64")] == [IMAGE_ARM64]
        assert [i.id for i in driver.list_images(owner_id="137112412989")] == [
            IMAGE_ARM64, IMAGE_I386, IMAGE_X86_64, IMAGE_INSTANCE_STORE]
        assert driver.list_images(owner_id="self") == []
    assert [s["Owners"] for s in sent] == [["self", "amazon"], ["self", "amazon"], ["137112412989"], ["self"]]
    assert [f for f in sent[1]["Filters"] if f["Name"] == "architecture"] == [
        {"Name": "architecture", "Values": ["arm64"]}]
    assert all(s["MaxResults"] == 1000 for s in sent)  # a listing asks for pages
    assert [i.id for i in driver.list_images(id=IMAGE_X86_64)] == [IMAGE_X86_64]
    assert [i.id for i in driver.list_images(id=IMAGE_X86_64, architecture="arm64")] == []
    assert driver.list_images(id="ami-00000000") == []
    assert driver.get_image("ami-00000000") is None
    assert driver.get_image("not-an-ami") is None


def test_create_image_from_instance_and_destroy_it(driver: EC2Driver):
    inst = driver.create_instance(image_id=IMAGE_X86_64)
    image = driver.create_image(instance_id=inst.id, name="my-image", description="made by a test")
    assert (image.name, image.description, image.owner_id) == ("my-image", "made by a test", "123456789012")
    assert [i.id for i in driver.list_images(owner_id="self")] == [image.id]
    assert image.id in [i.id for i in driver.list_images()]  # own images are listed by default
    driver.destroy_image(image.id)
    assert driver.get_image(image.id) is None
    with pytest.raises(ObjectNotFound) as err:
        driver.destroy_image(image.id)
    assert err.value.backend_code.startswith("InvalidAMIID.")  # moto: .Unavailable, AWS: .NotFound
    with pytest.raises(ObjectNotFound):
        driver.create_image(instance_id="i-00000000000000000", name="x")
    unnamed = driver.create_image(instance_id=inst.id)
    assert unnamed.name.startswith(f"{inst.id}-")


# -- instances -------------------------------------------------------------------------------------

def test_create_instance_defaults(driver: EC2Driver):
    inst = driver.create_instance(image_id=IMAGE_X86_64)
    assert inst.state == "PENDING"  # the run_instances answer
    shown = driver.get_instance(inst.id)
    assert shown.state == "RUNNING"  # moto moves it on at once
    assert shown.owner_id == "123456789012"
    assert shown.image_id == IMAGE_X86_64
    assert shown.realm_id.startswith("us-east-1")
    assert shown.instance_profile.id == "m1.small"
    assert shown.name == inst.id
    assert shown.launch_time.endswith("Z")
    assert [a.type for a in shown.public_addresses] == ["ipv4", "hostname"]
    assert [a.type for a in shown.private_addresses] == ["ipv4", "hostname"]
    assert shown.create_image is True
    assert len(shown.storage_volumes) == 1  # the root volume
    assert shown.firewalls  # the default group
    assert shown.network_interfaces and shown.network_interfaces[0].startswith("eni-")
    assert driver.instance_actions_for(shown) == ["reboot", "stop"]


def test_create_instance_with_everything(driver: EC2Driver, moto):
    key = driver.create_key(name="k1")
    fw = driver.create_firewall(name="web", description="web servers")
    volume = driver.create_storage_volume(capacity="2", realm_id="us-east-1b")
    snapshot = driver.create_storage_snapshot(volume_id=volume.id)
    inst = driver.create_instance(image_id=IMAGE_X86_64, hwp_id="m1.large", realm_id="us-east-1b", keyname=key.id,
                                  name="named", user_data=b"#!/bin/sh\necho hi\n", firewalls1=fw.id, metrics="yes",
                                  snapshot_id=snapshot.id, device_name="/dev/sdf")
    shown = driver.get_instance(inst.id)
    assert (shown.realm_id, shown.keyname, shown.instance_profile.id, shown.name) == (
        "us-east-1b", "k1", "m1.large", "named")
    assert shown.firewalls == (fw.id,)
    assert ("/dev/sdf" in [device for _vol, device in shown.storage_volumes])
    ec2 = boto("ec2", moto)
    data = ec2.describe_instance_attribute(InstanceId=inst.id, Attribute="userData")["UserData"]["Value"]
    assert base64.b64decode(data) == b"#!/bin/sh\necho hi\n"
    described = ec2.describe_instances(InstanceIds=[inst.id])["Reservations"][0]["Instances"][0]
    assert described["Monitoring"]["State"] == "enabled"


def test_firewalls_by_name_and_instance_count(driver: EC2Driver):
    driver.create_firewall(name="db", description="databases")
    created = driver.create_instance(image_id=IMAGE_I386, hwp_id="c1.medium", instance_count="3", firewalls0="db")
    assert isinstance(created, list) and len(created) == 3
    assert {i.instance_profile.id for i in created} == {"c1.medium"}
    listed = {i.id for i in driver.list_instances()}
    assert {i.id for i in created} <= listed
    with pytest.raises(ValidationError):
        driver.create_instance(image_id=IMAGE_X86_64, instance_count="lots")


def test_create_instance_errors(driver: EC2Driver):
    with pytest.raises(ObjectNotFound) as err:
        driver.create_instance(image_id="ami-00000000")
    assert err.value.backend_code == "InvalidAMIID.NotFound"
    with pytest.raises(ObjectNotFound) as err:
        driver.create_instance(image_id=IMAGE_X86_64, keyname="no-such-key")
    assert err.value.backend_code == "InvalidKeyPair.NotFound"
    with pytest.raises(ObjectNotFound):  # the original: "Invalid availability zone" is a 404
        driver.create_instance(image_id=IMAGE_X86_64, realm_id="xx-nowhere-1z")


def test_life_cycle_follows_the_state_machine(driver: EC2Driver):
    inst = driver.create_instance(image_id=IMAGE_X86_64)
    assert driver.reboot_instance(inst.id).state == "RUNNING"
    stopped = driver.stop_instance(inst.id)
    assert stopped.state in ("STOPPING", "STOPPED")
    assert driver.get_instance(inst.id).state == "STOPPED"
    assert driver.instance_actions_for(driver.get_instance(inst.id)) == ["start", "destroy"]
    assert driver.get_instance(inst.id).create_image is False
    assert driver.start_instance(inst.id).state in ("PENDING", "RUNNING")
    driver.stop_instance(inst.id)
    assert driver.destroy_instance(inst.id) is None
    gone = driver.get_instance(inst.id)
    assert gone.state == "FINISH"  # AWS keeps terminated instances for a while
    assert driver.instance_actions_for(gone) == []
    assert inst.id not in {i.id for i in driver.list_instances()}
    assert [i.id for i in driver.list_instances(state="FINISH")] == [inst.id]


def test_list_filters(driver: EC2Driver):
    a = driver.create_instance(image_id=IMAGE_X86_64, realm_id="us-east-1a")
    b = driver.create_instance(image_id=IMAGE_X86_64, realm_id="us-east-1c")
    driver.stop_instance(b.id)
    assert [i.id for i in driver.list_instances(state="RUNNING")] == [a.id]
    assert [i.id for i in driver.list_instances(state="STOPPED")] == [b.id]
    assert [i.id for i in driver.list_instances(realm_id="us-east-1c")] == [b.id]
    assert [i.id for i in driver.list_instances(id=a.id)] == [a.id]
    assert driver.list_instances(id="i-00000000000000000") == []
    assert driver.get_instance("i-00000000000000000") is None
    assert driver.get_instance("nope") is None


def test_unknown_instance_actions_are_404(driver: EC2Driver):
    for action in (driver.start_instance, driver.stop_instance, driver.reboot_instance):
        with pytest.raises(ObjectNotFound):
            action("i-00000000000000000")


def test_instance_store_rule():
    """moto boots every image from EBS, so the instance-store rule is checked on AWS-shaped data."""
    assert store_actions(["reboot", "stop"], "instance-store") == ["reboot", "destroy"]
    assert store_actions(["start", "destroy"], "instance-store") == ["destroy"]
    assert store_actions(["reboot", "stop"], "ebs") == ["reboot", "stop"]
    shape = {"InstanceId": "i-1", "State": {"Name": "running"}, "RootDeviceType": "instance-store",
             "InstanceType": "m1.small", "ImageId": IMAGE_INSTANCE_STORE, "Placement": {"AvailabilityZone": "a"}}
    inst = instance_from_aws(shape, "123")
    assert inst.create_image is False
    driver = EC2Driver(credentials=None)
    assert driver.instance_actions_for(inst) == ["reboot", "destroy"]
    assert EC2_STATES.actions_for("running") == ["reboot", "stop"]
    assert instance_from_aws({**shape, "State": {"Name": "shutting-down"}}, "123").state == "STOPPED"
    assert instance_from_aws({**shape, "State": {"Name": "weird"}}, "123").state == "UNKNOWN"


def test_each_listing_builds_new_models_equal_while_nothing_changed():
    """No interning: the render cache recognises an unchanged instance by equality."""
    import datetime as dt

    shape = {"InstanceId": "i-same", "State": {"Name": "running"}, "RootDeviceType": "ebs", "InstanceType": "m1.small",
             "ImageId": IMAGE_X86_64, "Placement": {"AvailabilityZone": "a"}, "PublicIpAddress": "1.2.3.4",
             "LaunchTime": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
             "SecurityGroups": [{"GroupId": "sg-1"}], "Tags": [{"Key": "Name", "Value": "web"}]}
    first = instance_from_aws(shape, "123")
    again = instance_from_aws(dict(shape), "123")
    assert again == first
    assert again is not first
    for changed in ({"State": {"Name": "stopped"}}, {"Tags": [{"Key": "Name", "Value": "db"}]},
                    {"PublicIpAddress": "5.6.7.8"}, {"SecurityGroups": [{"GroupId": "sg-2"}]}):
        assert instance_from_aws({**shape, **changed}, "123") != first
    assert instance_from_aws(shape, "another-owner") != first
    assert not hasattr(EC2Driver, "REUSES_MODELS") or not EC2Driver.REUSES_MODELS


# -- keys ------------------------------------------------------------------------------------------

def test_keys_create_import_destroy(driver: EC2Driver):
    created = driver.create_key(name="generated")
    assert created.pem_rsa_key and "PRIVATE KEY" in created.pem_rsa_key
    assert created.fingerprint
    imported = driver.create_key(name="imported", public_key=public_key())
    assert imported.pem_rsa_key is None and imported.fingerprint
    assert [k.id for k in driver.list_keys()] == ["generated", "imported"]
    shown = driver.get_key("generated")
    assert (shown.name, shown.credential_type, shown.pem_rsa_key) == ("generated", "key", None)
    with pytest.raises(Conflict) as err:
        driver.create_key(name="generated")
    assert err.value.backend_code == "InvalidKeyPair.Duplicate"
    driver.destroy_key("generated")
    assert driver.get_key("generated") is None
    with pytest.raises(ObjectNotFound):
        driver.destroy_key("generated")
    with pytest.raises(ValidationError):
        driver.create_key(name="")
