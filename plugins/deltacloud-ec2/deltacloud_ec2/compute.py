"""EC2 compute: realms (availability zones), hardware profiles, images, instances, keys."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from deltacloud_core import (
    AuthenticationFailure,
    AuthenticationRequired,
    HardwareProfile,
    Image,
    Instance,
    InstanceAddress,
    InstanceProfile,
    Key,
    ObjectNotFound,
    Realm,
    ValidationError,
)

from .catalogue import deltacloud_state
from .clients import AwsDriverBase
from .instance_types import INSTANCE_TYPES, fetch_profiles, fits_image
from .shapes import aws_time, looks_like, name_tag, name_tag_spec, unique

__all__ = ["ComputeMixin", "instance_from_aws", "store_actions"]

#: EC2 states of instances a listing shows (terminated ones are shown only when asked for by id).
_LIVE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]
#: Document state -> the EC2 states it stands for (``?state=`` filter).
_STATE_FILTER: Mapping[str, list[str]] = {
    "PENDING": ["pending"], "RUNNING": ["running"], "STOPPING": ["stopping"],
    "STOPPED": ["stopped", "shutting-down"], "FINISH": ["terminated"],
}
#: ``firewalls1``, ``firewalls2`` ... (the HTML form sends ``firewalls0..N``).
_FIREWALL_PARAM = re.compile(r"firewalls\d*$")
_MAX_INSTANCE_COUNT = 100


def store_actions(actions: Sequence[str], root_device_type: str | None) -> list[str]:
    """STATES.md: instance-store instances cannot stop; ``destroy`` takes the place of ``stop``."""
    if root_device_type != "instance-store":
        return list(actions)
    return unique("destroy" if a == "stop" else a for a in actions if a != "start")


def _addresses(ip: Any, dns: Any) -> tuple[InstanceAddress, ...]:
    out: list[InstanceAddress] = []
    if ip:
        out.append(InstanceAddress(str(ip), "ipv4"))
    if dns:
        out.append(InstanceAddress(str(dns), "hostname"))
    return tuple(out)


def _group_ids(inst: Mapping[str, Any]) -> tuple[str, ...]:
    """The instance's security groups; a VPC instance may list them on its interfaces only."""
    groups = [g["GroupId"] for g in inst.get("SecurityGroups") or () if g.get("GroupId")]
    if not groups:
        groups = [g["GroupId"] for nic in inst.get("NetworkInterfaces") or () for g in nic.get("Groups") or ()
                  if g.get("GroupId")]
    return tuple(unique(groups))


def instance_from_aws(inst: Mapping[str, Any], owner_id: str | None) -> Instance:
    """An Instance document from one ``Instances`` item of an EC2 reservation.

    A new frozen model each call: the server's render cache recognises an unchanged instance
    by equality, so nothing here needs to remember what it built before.
    """
    get = inst.get
    state = deltacloud_state((get("State") or {}).get("Name"))
    instance_type = get("InstanceType")
    root = get("RootDeviceType")
    nics = get("NetworkInterfaces")
    return Instance(
        id=inst["InstanceId"],
        state=state,
        name=name_tag(inst) or inst["InstanceId"],
        owner_id=owner_id,
        image_id=get("ImageId"),
        realm_id=(get("Placement") or {}).get("AvailabilityZone"),
        instance_profile=InstanceProfile(instance_type) if instance_type else None,
        actions=None,
        launch_time=aws_time(get("LaunchTime")),
        public_addresses=_addresses(get("PublicIpAddress"), get("PublicDnsName")),
        private_addresses=_addresses(get("PrivateIpAddress"), get("PrivateDnsName")),
        create_image=state == "RUNNING" and root != "instance-store",
        storage_volumes=tuple((m["Ebs"]["VolumeId"], m.get("DeviceName")) for m in get("BlockDeviceMappings") or ()
                              if (m.get("Ebs") or {}).get("VolumeId")),
        firewalls=_group_ids(inst),
        keyname=get("KeyName"),
        network_interfaces=None if nics is None else tuple(n["NetworkInterfaceId"] for n in nics),
        extra={"root_device_type": root, "instance_type": instance_type, "vpc_id": get("VpcId"),
               "subnet_id": get("SubnetId")},
    )


def _count(raw: str | None) -> int:
    if raw is None or str(raw).strip() == "":
        return 1
    text = str(raw).strip()
    if not text.isdigit() or not 1 <= int(text) <= _MAX_INSTANCE_COUNT:
        raise ValidationError(f"Parameter instance_count must be a whole number from 1 to {_MAX_INSTANCE_COUNT}, "
                              f"not '{raw}'.")
    return int(text)


class ComputeMixin(AwsDriverBase):
    """Realms, hardware profiles, images, instances and keys of EC2."""

    #: Instance type when ``hwp_id`` is not given (the original's default).
    DEFAULT_HWP: ClassVar[str] = "m1.small"
    #: Image owners listed when the request names none (``owner_id``); empty = every image.
    DEFAULT_IMAGE_OWNERS: ClassVar[tuple[str, ...]] = ("self", "amazon")

    # -- credentials -----------------------------------------------------------------------
    def validate_credentials(self) -> bool:
        try:
            self.ec2.describe_availability_zones()
        except AuthenticationFailure as exc:
            if isinstance(exc, AuthenticationRequired):
                raise
            return False
        return True

    # -- realms ----------------------------------------------------------------------------
    def list_realms(self, **filters: str) -> list[Realm]:
        kwargs: dict[str, Any] = {}
        if filters.get("id"):
            kwargs["Filters"] = [{"Name": "zone-name", "Values": [filters["id"]]}]
        zones = self.ec2.describe_availability_zones(**kwargs)["AvailabilityZones"]
        return [Realm(id=z["ZoneName"], name=z["ZoneName"], state=z.get("State") or "",
                      limit=None if z.get("State") == "available" else 0,
                      extra={"zone_id": z.get("ZoneId"), "region": z.get("RegionName")})
                for z in zones]

    # -- hardware profiles -----------------------------------------------------------------
    def hardware_profiles_in_force(self) -> tuple[HardwareProfile, ...]:
        """The region's instance types (:mod:`.instance_types`), else the static table.

        The static table answers without credentials (the collection is public, as in the
        original), when the cloud refuses the credentials, and for clouds that lack
        ``DescribeInstanceTypes``.
        """
        memo = self.__dict__.get("_profiles_in_force")
        if memo is None:
            live = self._live_profiles()
            memo = live if live is not None else tuple(self.HARDWARE_PROFILES)
            self.__dict__["_profiles_in_force"] = memo
        return memo

    def _live_profiles(self) -> tuple[HardwareProfile, ...] | None:
        try:
            self.aws_credentials()
        except AuthenticationRequired:
            return None
        target = self.target
        ec2 = self.ec2
        try:
            return INSTANCE_TYPES.get((target.region, target.endpoint("ec2") or ""), lambda: fetch_profiles(
                lambda: ec2.pages("describe_instance_types", "InstanceTypes")))
        except AuthenticationFailure:
            return None

    def list_hardware_profiles(self, **filters: str) -> list[HardwareProfile]:
        profiles = list(self.hardware_profiles_in_force())
        if filters.get("id"):
            profiles = [p for p in profiles if p.id == filters["id"]]
        if filters.get("architecture"):
            profiles = [p for p in profiles if p.matches_architecture(filters["architecture"])]
        return profiles

    def get_hardware_profile(self, id: str) -> HardwareProfile | None:
        return next((p for p in self.hardware_profiles_in_force() if p.id == id), None)

    # -- images ----------------------------------------------------------------------------
    def _image_profiles(self, architecture: str | None, root_type: str,
                        virtualization_type: str | None) -> tuple[str, ...]:
        """Ids of the profiles an image runs on; one shared tuple per kind of image and request."""
        memo: dict[tuple[Any, ...], tuple[str, ...]] = self.__dict__.setdefault("_image_profile_ids", {})
        key = (architecture, root_type, virtualization_type)
        found = memo.get(key)
        if found is None:
            found = memo[key] = tuple(p.id for p in self.hardware_profiles_in_force()
                                      if fits_image(p, architecture, root_type, virtualization_type))
        return found

    def _image(self, img: Mapping[str, Any]) -> Image:
        root_type = "transient" if img.get("RootDeviceType") == "instance-store" else "persistent"
        architecture = img.get("Architecture")
        return Image(
            id=img["ImageId"],
            name=img.get("Name") or img["ImageId"],
            description=img.get("Description") or img.get("ImageLocation") or "",
            owner_id=img.get("OwnerId"),
            architecture=architecture,
            state=img.get("State"),
            creation_time=img.get("CreationDate"),
            hardware_profiles=self._image_profiles(architecture, root_type, img.get("VirtualizationType")),
            root_type=root_type,
            extra={"owner_alias": img.get("ImageOwnerAlias"), "public": img.get("Public"),
                   "platform": img.get("Platform"), "virtualization_type": img.get("VirtualizationType")},
        )

    def list_images(self, **filters: str) -> list[Image]:
        """Images of the default owners (or of ``owner_id``), filtered by the cloud itself."""
        aws_filters: list[dict[str, Any]] = [{"Name": "image-type", "Values": ["machine"]}]
        kwargs: dict[str, Any] = {"Filters": aws_filters}
        if filters.get("id"):
            kwargs["ImageIds"] = [filters["id"]]
        if filters.get("owner_id"):
            kwargs["Owners"] = [filters["owner_id"]]
        elif self.DEFAULT_IMAGE_OWNERS and not filters.get("id"):
            kwargs["Owners"] = list(self.DEFAULT_IMAGE_OWNERS)
        if filters.get("architecture"):
            aws_filters.append({"Name": "architecture", "Values": [filters["architecture"]]})
        try:
            images = [self._image(img) for img in self.ec2.pages("describe_images", "Images", **kwargs)]
        except ObjectNotFound:
            return []
        if filters.get("id") and filters.get("architecture"):
            # One image at most; some EC2 servers (moto) ignore Filters next to ImageIds.
            images = [i for i in images if i.architecture == filters["architecture"]]
        images.sort(key=lambda i: (i.owner_id or "", i.name or ""))
        return images

    def get_image(self, id: str) -> Image | None:
        try:
            found = self.ec2.describe_images(ImageIds=[id])["Images"]
        except ObjectNotFound:
            return None
        return self._image(found[0]) if found else None

    def create_image(self, *, instance_id: str, name: str | None = None, description: str | None = None,
                     **extra: str) -> Image:
        if self.get_instance(instance_id) is None:
            raise ObjectNotFound(f"Instance '{instance_id}' does not exist")
        kwargs: dict[str, Any] = {"InstanceId": instance_id, "Name": name or f"{instance_id}-{int(time.time())}"}
        if description:
            kwargs["Description"] = description
        image_id = self.ec2.create_image(**kwargs)["ImageId"]
        return self.get_image(image_id) or Image(id=image_id, name=kwargs["Name"], description=description,
                                                 state="pending", hardware_profiles=(), root_type="persistent")

    def destroy_image(self, id: str) -> None:
        self.ec2.deregister_image(ImageId=id)

    # -- instances -------------------------------------------------------------------------
    def _describe(self, **kwargs: Any) -> list[Instance]:
        out: list[Instance] = []
        for reservation in self.ec2.pages("describe_instances", "Reservations", **kwargs):
            owner = reservation.get("OwnerId")
            out.extend(instance_from_aws(inst, owner) for inst in reservation.get("Instances") or ())
        return out

    def list_instances(self, **filters: str) -> list[Instance]:
        aws_filters: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        if filters.get("id"):
            kwargs["InstanceIds"] = [filters["id"]]
        wanted = filters.get("state", "").strip().upper()
        if wanted:
            aws_filters.append({"Name": "instance-state-name", "Values": _STATE_FILTER.get(wanted, [wanted.lower()])})
        elif not filters.get("id"):
            aws_filters.append({"Name": "instance-state-name", "Values": _LIVE_STATES})
        if filters.get("realm_id"):
            aws_filters.append({"Name": "availability-zone", "Values": [filters["realm_id"]]})
        if aws_filters:
            kwargs["Filters"] = aws_filters
        try:
            return self._describe(**kwargs)
        except ObjectNotFound:
            return []

    def get_instance(self, id: str) -> Instance | None:
        try:
            found = self._describe(InstanceIds=[id])
        except ObjectNotFound:
            return None
        return found[0] if found else None

    def _refreshed(self, id: str) -> Instance:
        instance = self.get_instance(id)
        if instance is None:
            raise ObjectNotFound(f"Instance '{id}' does not exist")
        return instance

    def instance_actions_for(self, instance: Instance) -> list[str]:
        return store_actions(super().instance_actions_for(instance), instance.extra.get("root_device_type"))

    def create_instance(self, *, image_id: str, hwp_id: str | None = None, realm_id: str | None = None,
                        hwp_overrides: Mapping[str, str] | None = None, keyname: str | None = None,
                        name: str | None = None, user_data: bytes | None = None,
                        **extra: str) -> Instance | list[Instance]:
        count = _count(extra.get("instance_count"))
        params: dict[str, Any] = {"ImageId": image_id, "MinCount": count, "MaxCount": count,
                                  "InstanceType": hwp_id or self.DEFAULT_HWP}
        if realm_id:
            params["Placement"] = {"AvailabilityZone": realm_id}
        if keyname:
            params["KeyName"] = keyname
        if user_data is not None:
            params["UserData"] = user_data  # botocore base64-encodes it for RunInstances
        firewalls = [v for k, v in sorted(extra.items()) if _FIREWALL_PARAM.search(k) and v]
        if firewalls:
            ids = [f for f in firewalls if looks_like("sg-", f)]
            names = [f for f in firewalls if not looks_like("sg-", f)]
            if ids:
                params["SecurityGroupIds"] = ids
            if names:
                params["SecurityGroups"] = names
        if (extra.get("metrics") or "").strip():
            params["Monitoring"] = {"Enabled": True}
        if extra.get("snapshot_id"):
            params["BlockDeviceMappings"] = [{"DeviceName": extra.get("device_name") or "/dev/sdh",
                                              "Ebs": {"SnapshotId": extra["snapshot_id"],
                                                      "DeleteOnTermination": True}}]
        tags = name_tag_spec("instance", name)
        if tags:
            params["TagSpecifications"] = tags
        reservation = self.ec2.run_instances(**params)
        created = [instance_from_aws(inst, reservation.get("OwnerId")) for inst in reservation["Instances"]]
        balancer = extra.get("load_balancer_id")
        if balancer:
            self.elb.register_instances_with_load_balancer(
                LoadBalancerName=balancer, Instances=[{"InstanceId": i.id} for i in created])
        return created[0] if len(created) == 1 else created

    def start_instance(self, id: str) -> Instance:
        self.ec2.start_instances(InstanceIds=[id])
        return self._refreshed(id)

    def stop_instance(self, id: str) -> Instance:
        instance = self._refreshed(id)
        if instance.extra.get("root_device_type") == "instance-store":
            self.ec2.terminate_instances(InstanceIds=[id])  # STATES.md: stop terminates these
        else:
            self.ec2.stop_instances(InstanceIds=[id])
        return self._refreshed(id)

    def reboot_instance(self, id: str) -> Instance:
        self.ec2.reboot_instances(InstanceIds=[id])
        return self._refreshed(id)

    def destroy_instance(self, id: str) -> None:
        self.ec2.terminate_instances(InstanceIds=[id])

    # -- keys ------------------------------------------------------------------------------
    @staticmethod
    def _key(pair: Mapping[str, Any], pem: str | None = None) -> Key:
        return Key(id=pair["KeyName"], credential_type="key", name=pair["KeyName"],
                   fingerprint=pair.get("KeyFingerprint"), pem_rsa_key=pem, state=None,
                   extra={"key_pair_id": pair.get("KeyPairId"), "key_type": pair.get("KeyType")})

    def list_keys(self, **filters: str) -> list[Key]:
        kwargs = {"KeyNames": [filters["id"]]} if filters.get("id") else {}
        try:
            pairs = self.ec2.describe_key_pairs(**kwargs)["KeyPairs"]
        except ObjectNotFound:
            return []
        return [self._key(p) for p in sorted(pairs, key=lambda p: p["KeyName"])]

    def create_key(self, *, name: str, public_key: str | None = None, **extra: str) -> Key:
        if not name:
            raise ValidationError("A key needs a name.")
        if public_key:
            pair = self.ec2.import_key_pair(KeyName=name, PublicKeyMaterial=public_key.strip().encode())
            return self._key(pair)
        pair = self.ec2.create_key_pair(KeyName=name)
        return self._key(pair, pem=pair.get("KeyMaterial"))

    def destroy_key(self, id: str) -> None:
        self.ec2.describe_key_pairs(KeyNames=[id])  # AWS deletes unknown keys silently: 404 first
        self.ec2.delete_key_pair(KeyName=id)
