"""EC2 networking: Elastic IPs (addresses), VPCs (networks), subnets and network interfaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deltacloud_core import ForbiddenError, ObjectNotFound, ValidationError
from deltacloud_core.models import Address, Network, NetworkInterface, Subnet

from .clients import AwsDriverBase
from .shapes import looks_like, name_tag, name_tag_spec

__all__ = ["NetworkMixin"]

#: VPC / subnet states -> the documents' (the mock says ``UP``).
_NET_STATES: Mapping[str, str] = {"available": "UP", "pending": "PENDING"}
#: Address block of a network created without one.
DEFAULT_ADDRESS_BLOCK = "10.0.0.0/16"


def _address(item: Mapping[str, Any]) -> Address:
    return Address(id=item["PublicIp"], instance_id=item.get("InstanceId") or None,
                   extra={"allocation_id": item.get("AllocationId"), "association_id": item.get("AssociationId"),
                          "domain": item.get("Domain")})


def _net_state(state: str | None) -> str:
    return _NET_STATES.get((state or "").lower(), (state or "").upper())


class NetworkMixin(AwsDriverBase):
    """Addresses, networks, subnets and network interfaces."""

    # -- addresses -------------------------------------------------------------------------
    def _describe_addresses(self, ip: str | None = None) -> list[dict[str, Any]]:
        kwargs = {"PublicIps": [ip]} if ip else {}
        try:
            return list(self.ec2.describe_addresses(**kwargs)["Addresses"])
        except (ObjectNotFound, ValidationError):
            return []

    def _one_address(self, ip: str) -> dict[str, Any]:
        found = self._describe_addresses(ip)
        if not found:
            raise ObjectNotFound(f"Address '{ip}' does not exist")
        return found[0]

    def list_addresses(self, **filters: str) -> list[Address]:
        return [_address(a) for a in self._describe_addresses(filters.get("id"))]

    def get_address(self, id: str) -> Address | None:
        found = self._describe_addresses(id)
        return _address(found[0]) if found else None

    def create_address(self, **extra: str) -> Address:
        allocated = self.ec2.allocate_address(Domain="vpc")
        return Address(id=allocated["PublicIp"], extra={"allocation_id": allocated.get("AllocationId"),
                                                        "domain": allocated.get("Domain")})

    def destroy_address(self, id: str) -> None:
        item = self._one_address(id)
        if item.get("AssociationId") or item.get("InstanceId"):
            raise ForbiddenError(f"Address '{id}' is associated with instance {item.get('InstanceId')}: "
                                 "disassociate it first", backend_code="AddressInUse")
        if item.get("AllocationId"):
            self.ec2.release_address(AllocationId=item["AllocationId"])
        else:
            self.ec2.release_address(PublicIp=id)

    def associate_address(self, id: str, *, instance_id: str) -> None:
        item = self._one_address(id)
        if item.get("AssociationId") or item.get("InstanceId"):
            raise ForbiddenError(f"Address '{id}' is already associated with instance {item.get('InstanceId')}",
                                 backend_code="AddressInUse")
        if item.get("AllocationId"):
            self.ec2.associate_address(AllocationId=item["AllocationId"], InstanceId=instance_id)
        else:
            self.ec2.associate_address(PublicIp=id, InstanceId=instance_id)

    def disassociate_address(self, id: str) -> None:
        item = self._one_address(id)
        if not (item.get("AssociationId") or item.get("InstanceId")):
            raise ForbiddenError(f"Address '{id}' is not associated with an instance", backend_code="AddressNotInUse")
        if item.get("AssociationId"):
            self.ec2.disassociate_address(AssociationId=item["AssociationId"])
        else:
            self.ec2.disassociate_address(PublicIp=id)

    # -- networks (VPCs) -------------------------------------------------------------------
    def _subnet_ids(self, vpc_id: str | None = None) -> dict[str, list[str]]:
        kwargs = {"Filters": [{"Name": "vpc-id", "Values": [vpc_id]}]} if vpc_id else {}
        out: dict[str, list[str]] = {}
        for subnet in self.ec2.pages("describe_subnets", "Subnets", **kwargs):
            out.setdefault(subnet["VpcId"], []).append(subnet["SubnetId"])
        return out

    def list_networks(self, **filters: str) -> list[Network]:
        kwargs = {"VpcIds": [filters["id"]]} if filters.get("id") else {}
        try:
            vpcs = list(self.ec2.pages("describe_vpcs", "Vpcs", **kwargs))
        except ObjectNotFound:
            return []
        subnets = self._subnet_ids(filters.get("id"))
        out = []
        for vpc in vpcs:
            blocks = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet") or ()
                      if (a.get("CidrBlockState") or {}).get("State", "associated") == "associated"]
            out.append(Network(id=vpc["VpcId"], name=name_tag(vpc) or vpc["VpcId"], state=_net_state(vpc.get("State")),
                               address_blocks=tuple(blocks or [vpc.get("CidrBlock")]),
                               subnets=tuple(subnets.get(vpc["VpcId"], ())),
                               extra={"default": vpc.get("IsDefault")}))
        return out

    def get_network(self, id: str) -> Network | None:
        if not looks_like("vpc-", id):
            return None
        found = self.list_networks(id=id)
        return found[0] if found else None

    def create_network(self, *, address_block: str | None = None, name: str | None = None,
                       **extra: str) -> Network:
        kwargs: dict[str, Any] = {"CidrBlock": address_block or DEFAULT_ADDRESS_BLOCK}
        tags = name_tag_spec("vpc", name)
        if tags:
            kwargs["TagSpecifications"] = tags
        vpc = self.ec2.create_vpc(**kwargs)["Vpc"]
        return Network(id=vpc["VpcId"], name=name or vpc["VpcId"], state=_net_state(vpc.get("State")),
                       address_blocks=(vpc.get("CidrBlock"),), subnets=())

    def destroy_network(self, id: str) -> None:
        self.ec2.delete_vpc(VpcId=id)

    # -- subnets ---------------------------------------------------------------------------
    @staticmethod
    def _subnet(item: Mapping[str, Any]) -> Subnet:
        return Subnet(id=item["SubnetId"], network=item.get("VpcId"), name=name_tag(item) or item["SubnetId"],
                      address_block=item.get("CidrBlock"), state=_net_state(item.get("State")),
                      type="PUBLIC" if item.get("MapPublicIpOnLaunch") else "PRIVATE",
                      extra={"availability_zone": item.get("AvailabilityZone")})

    def list_subnets(self, **filters: str) -> list[Subnet]:
        kwargs = {"SubnetIds": [filters["id"]]} if filters.get("id") else {}
        try:
            return [self._subnet(s) for s in self.ec2.pages("describe_subnets", "Subnets", **kwargs)]
        except ObjectNotFound:
            return []

    def get_subnet(self, id: str) -> Subnet | None:
        if not looks_like("subnet-", id):
            return None
        found = self.list_subnets(id=id)
        return found[0] if found else None

    def create_subnet(self, *, network_id: str, address_block: str, name: str | None = None,
                      **extra: str) -> Subnet:
        kwargs: dict[str, Any] = {"VpcId": network_id, "CidrBlock": address_block}
        tags = name_tag_spec("subnet", name)
        if tags:
            kwargs["TagSpecifications"] = tags
        return self._subnet(self.ec2.create_subnet(**kwargs)["Subnet"])

    def destroy_subnet(self, id: str) -> None:
        self.ec2.delete_subnet(SubnetId=id)

    # -- network interfaces ----------------------------------------------------------------
    @staticmethod
    def _nic(item: Mapping[str, Any]) -> NetworkInterface:
        attachment = item.get("Attachment") or {}
        return NetworkInterface(id=item["NetworkInterfaceId"], instance=attachment.get("InstanceId"),
                                network=item.get("SubnetId"), name=name_tag(item) or item["NetworkInterfaceId"],
                                ip_address=item.get("PrivateIpAddress"),
                                extra={"description": item.get("Description"), "status": item.get("Status"),
                                       "attachment_id": attachment.get("AttachmentId"),
                                       "device_index": attachment.get("DeviceIndex")})

    def list_network_interfaces(self, **filters: str) -> list[NetworkInterface]:
        kwargs = {"NetworkInterfaceIds": [filters["id"]]} if filters.get("id") else {}
        try:
            return [self._nic(n) for n in self.ec2.pages("describe_network_interfaces", "NetworkInterfaces", **kwargs)]
        except ObjectNotFound:
            return []

    def get_network_interface(self, id: str) -> NetworkInterface | None:
        if not looks_like("eni-", id):
            return None
        found = self.list_network_interfaces(id=id)
        return found[0] if found else None

    def create_network_interface(self, *, instance: str, network: str, name: str | None = None,
                                 subnet: str | None = None, **extra: str) -> NetworkInterface:
        """A new interface in ``subnet`` (or ``network``, which must then name a subnet), attached
        to ``instance`` at its next free device index."""
        subnet_id = subnet or network
        if not looks_like("subnet-", subnet_id):
            raise ValidationError(f"'{subnet_id}' is not a subnet id: EC2 puts an interface in a subnet "
                                  "(give subnet=subnet-... or network=subnet-...).")
        reservations = self.ec2.describe_instances(InstanceIds=[instance])["Reservations"]
        used = [n.get("Attachment", {}).get("DeviceIndex", 0)
                for r in reservations for i in r.get("Instances") or () for n in i.get("NetworkInterfaces") or ()]
        kwargs: dict[str, Any] = {"SubnetId": subnet_id}
        if name:
            kwargs["Description"] = name
        tags = name_tag_spec("network-interface", name)
        if tags:
            kwargs["TagSpecifications"] = tags
        nic = self.ec2.create_network_interface(**kwargs)["NetworkInterface"]
        nic_id = nic["NetworkInterfaceId"]
        try:
            self.ec2.attach_network_interface(NetworkInterfaceId=nic_id, InstanceId=instance,
                                              DeviceIndex=max(used, default=0) + 1)
        except BaseException:
            self.ec2.delete_network_interface(NetworkInterfaceId=nic_id)
            raise
        return self.get_network_interface(nic_id) or self._nic(nic)

    def destroy_network_interface(self, id: str) -> None:
        found = self.list_network_interfaces(id=id)
        if not found:
            raise ObjectNotFound(f"Network interface '{id}' does not exist")
        attachment_id = found[0].extra.get("attachment_id")
        if attachment_id:
            self.ec2.detach_network_interface(AttachmentId=attachment_id, Force=True)
        self.ec2.delete_network_interface(NetworkInterfaceId=id)
