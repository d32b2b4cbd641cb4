"""Load balancers: classic Elastic Load Balancing (the ``elb`` API), register / unregister instances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deltacloud_core import Instance, ObjectNotFound, ValidationError
from deltacloud_core.models import Listener, LoadBalancer

from .clients import AwsDriverBase
from .compute import instance_from_aws
from .shapes import ruby_time

__all__ = ["LoadBalancersMixin"]


def _port(value: str, name: str) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValidationError(f"Parameter {name} must be a port number (1-65535), not '{value}'.")
    return int(text)


class LoadBalancersMixin(AwsDriverBase):
    """Classic ELB load balancers; the balancer's id is its name."""

    def _instances(self, ids: Sequence[str]) -> tuple[Instance, ...]:
        if not ids:
            return ()
        try:
            reservations = list(self.ec2.pages("describe_instances", "Reservations", InstanceIds=list(ids)))
        except ObjectNotFound:
            return ()
        return tuple(instance_from_aws(i, r.get("OwnerId")) for r in reservations for i in r.get("Instances") or ())

    def _balancer(self, item: Mapping[str, Any]) -> LoadBalancer:
        listeners = tuple(
            Listener(protocol=str(d["Listener"].get("Protocol")), load_balancer_port=d["Listener"]["LoadBalancerPort"],
                     instance_port=d["Listener"]["InstancePort"])
            for d in item.get("ListenerDescriptions") or ())
        ids = [i["InstanceId"] for i in item.get("Instances") or ()]
        return LoadBalancer(
            id=item["LoadBalancerName"],
            realms=tuple(item.get("AvailabilityZones") or ()),
            listeners=listeners,
            instances=self._instances(ids),
            public_addresses=(item["DNSName"],) if item.get("DNSName") else (),
            created_at=ruby_time(item.get("CreatedTime")),
            extra={"vpc_id": item.get("VPCId"), "scheme": item.get("Scheme")},
        )

    def list_load_balancers(self, **filters: str) -> list[LoadBalancer]:
        kwargs = {"LoadBalancerNames": [filters["id"]]} if filters.get("id") else {}
        try:
            found = list(self.elb.pages("describe_load_balancers", "LoadBalancerDescriptions", **kwargs))
        except (ObjectNotFound, ValidationError):
            return []
        return [self._balancer(b) for b in found]

    def get_load_balancer(self, id: str) -> LoadBalancer | None:
        found = self.list_load_balancers(id=id)
        return found[0] if found else None

    def create_load_balancer(self, *, name: str, realm_id: str, listener_protocol: str, listener_balancer_port: str,
                             listener_instance_port: str, **extra: str) -> LoadBalancer:
        protocol = (listener_protocol or "").strip().upper() or "HTTP"
        listener = {"Protocol": protocol, "InstanceProtocol": protocol,
                    "LoadBalancerPort": _port(listener_balancer_port, "listener_balancer_port"),
                    "InstancePort": _port(listener_instance_port, "listener_instance_port")}
        self.elb.create_load_balancer(LoadBalancerName=name, AvailabilityZones=[realm_id], Listeners=[listener])
        balancer = self.get_load_balancer(name)
        if balancer is None:
            raise ObjectNotFound(f"Load balancer '{name}' vanished right after it was created")
        return balancer

    def destroy_load_balancer(self, id: str) -> None:
        self._require(id)  # ELB deletes unknown names silently: 404 first
        self.elb.delete_load_balancer(LoadBalancerName=id)

    def _require(self, id: str) -> None:
        if not self.list_load_balancers(id=id):
            raise ObjectNotFound(f"Load balancer '{id}' does not exist", backend_code="LoadBalancerNotFound")

    def register_instance(self, id: str, *, instance_id: str) -> LoadBalancer | None:
        self._require(id)
        self.elb.register_instances_with_load_balancer(LoadBalancerName=id, Instances=[{"InstanceId": instance_id}])
        return self.get_load_balancer(id)

    def unregister_instance(self, id: str, *, instance_id: str) -> LoadBalancer | None:
        self._require(id)
        self.elb.deregister_instances_from_load_balancer(LoadBalancerName=id, Instances=[{"InstanceId": instance_id}])
        return self.get_load_balancer(id)
