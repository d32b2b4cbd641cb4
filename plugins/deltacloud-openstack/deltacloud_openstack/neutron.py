"""Neutron: networks, subnets, network interfaces (ports) and addresses (floating IPs).

What a project sees is what Nova shows it: its own objects, plus the networks it may use (shared
ones and the external ones floating IPs come from). An admin token would list every project's
objects, so every listing names the project (``project_id``) or keeps to those networks.

* A network's address blocks are its subnets' CIDRs; creating one with ``address_block`` also
  creates that subnet.
* A network interface is a port; creating one for an instance creates the port and attaches it
  through Nova (``os-interface``); destroying it deletes the port (Neutron tells Nova, which
  detaches it).
* An address is a floating IP, its id the IP itself; it is allocated on an external network
  (the first one, or ``network_id``) and associated with the instance's first port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from deltacloud_core import ForbiddenError, ObjectNotFound, ValidationError
from deltacloud_core.models import Address, Network, NetworkInterface, Subnet

from .errors import translated
from .rest import call, json_of, paged, segment

if TYPE_CHECKING:
    from .session import Cloud

__all__ = [
    "NeutronMixin",
    "neutron_address",
    "neutron_network",
    "neutron_port",
    "neutron_subnet",
    "ports_by_instance",
    "ports_of_instance",
    "usable_networks",
]

#: Neutron network status -> the document's (the mock says ``UP``).
_NETWORK_STATES: Mapping[str, str] = {"ACTIVE": "UP", "BUILD": "PENDING", "DOWN": "DOWN", "ERROR": "ERROR"}
#: Up to this many ports are looked up by id (longer lists would make a long URL): else all of them.
_PORTS_BY_ID = 50


def neutron_network(network: Mapping[str, Any], subnets: Iterable[Mapping[str, Any]]) -> Network:
    """A Neutron network and its subnets as a network."""
    own = [s for s in subnets if s.get("network_id") == network["id"]]
    status = str(network.get("status") or "")
    return Network(
        id=str(network["id"]),
        name=network.get("name") or str(network["id"]),
        state=_NETWORK_STATES.get(status, status or None),
        address_blocks=tuple(str(s["cidr"]) for s in own if s.get("cidr")),
        # Only the subnets the caller can see: an external network shows another project's subnet
        # ids in its "subnets", which GET /subnets/<id> answers 404 for (a reference to nothing).
        subnets=tuple(str(s["id"]) for s in own),
        extra={"external": bool(network.get("router:external")), "shared": bool(network.get("shared")),
               "project_id": network.get("project_id") or network.get("tenant_id"), "mtu": network.get("mtu")},
    )


def neutron_subnet(subnet: Mapping[str, Any], external: bool = False) -> Subnet:
    return Subnet(
        id=str(subnet["id"]),
        network=subnet.get("network_id"),
        name=subnet.get("name") or str(subnet["id"]),
        address_block=subnet.get("cidr"),
        state="UP",
        type="PUBLIC" if external else "PRIVATE",
        extra={"ip_version": subnet.get("ip_version"), "gateway_ip": subnet.get("gateway_ip"),
               "enable_dhcp": subnet.get("enable_dhcp")},
    )


def _instance_of(port: Mapping[str, Any]) -> str | None:
    """The server a port is plugged into (Nova's ports say ``compute:<zone>``)."""
    owner = str(port.get("device_owner") or "")
    return str(port["device_id"]) if owner.startswith("compute:") and port.get("device_id") else None


def neutron_port(port: Mapping[str, Any]) -> NetworkInterface:
    fixed = [ip for ip in port.get("fixed_ips") or () if ip.get("ip_address")]
    return NetworkInterface(
        id=str(port["id"]),
        instance=_instance_of(port),
        network=port.get("network_id"),
        name=port.get("name") or str(port["id"]),
        ip_address=fixed[0]["ip_address"] if fixed else None,
        extra={"mac_address": port.get("mac_address"), "status": port.get("status"),
               "device_owner": port.get("device_owner"), "subnet_id": fixed[0].get("subnet_id") if fixed else None,
               "security_groups": tuple(port.get("security_groups") or ())},
    )


def neutron_address(floating_ip: Mapping[str, Any], instance_of_port: Mapping[str, str | None]) -> Address:
    port = floating_ip.get("port_id")
    return Address(
        id=str(floating_ip["floating_ip_address"]),
        instance_id=instance_of_port.get(port) if port else None,
        extra={"floating_ip_id": floating_ip.get("id"), "floating_network_id": floating_ip.get("floating_network_id"),
               "port_id": port, "fixed_ip_address": floating_ip.get("fixed_ip_address"),
               "status": floating_ip.get("status")},
    )


def _cidr(value: str | None, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(value or "").strip(), strict=False)
    except ValueError:
        raise ValidationError(f"Parameter {what} must be an address block such as 10.0.0.0/24, "
                              f"not {value!r}.") from None


def _listing(cloud: Cloud, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    return list(paged(cloud.network, path, key, params=params))


def _project_ports(cloud: Cloud, **params: Any) -> list[dict[str, Any]]:
    scope = {"project_id": cloud.project_id} if cloud.project_id else {}
    return _listing(cloud, "/ports", "ports", **scope, **params)


def usable_networks(cloud: Cloud) -> list[dict[str, Any]]:
    """The networks a project may use: its own, the shared ones and the external ones."""
    project = cloud.project_id
    return [n for n in _listing(cloud, "/networks", "networks")
            if n.get("shared") or n.get("router:external") or project is None
            or (n.get("project_id") or n.get("tenant_id")) == project]


_PORT_OWNER_FIELDS = ["id", "device_id", "device_owner"]


def ports_by_instance(cloud: Cloud) -> dict[str, tuple[str, ...]]:
    """The project's ports plugged into servers, by server id (one listing)."""
    out: dict[str, list[str]] = {}
    for port in _project_ports(cloud, fields=_PORT_OWNER_FIELDS):
        server = _instance_of(port)
        if server:
            out.setdefault(server, []).append(str(port["id"]))
    return {k: tuple(v) for k, v in out.items()}


def ports_of_instance(cloud: Cloud, instance_id: str) -> tuple[str, ...]:
    return tuple(str(p["id"]) for p in _project_ports(cloud, device_id=instance_id, fields=_PORT_OWNER_FIELDS)
                 if _instance_of(p) == instance_id)


class NeutronMixin:
    """Networks, subnets, network interfaces and addresses from Neutron."""

    cloud: Cloud

    def _neutron(self, method: str, path: str, **kwargs: Any) -> Any:
        return json_of(call(self.cloud.network, method, path, **kwargs)) or {}

    def _neutron_list(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        return _listing(self.cloud, path, key, **params)

    # -- networks ----------------------------------------------------------------------------------
    def _subnets_of(self, networks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        ids = {n["id"] for n in networks}
        return [s for s in self._neutron_list("/subnets", "subnets") if s.get("network_id") in ids]

    @translated
    def list_networks(self, **filters: str) -> list[Network]:
        if filters.get("id"):
            one = self.get_network(filters["id"])
            return [one] if one is not None else []
        networks = usable_networks(self.cloud)
        subnets = self._subnets_of(networks)
        return [neutron_network(n, subnets) for n in networks]

    @translated
    def get_network(self, id: str) -> Network | None:
        response = call(self.cloud.network, "GET", f"/networks/{segment(id)}", allow=(404,))
        if response.status_code == 404:
            return None
        network = response.json()["network"]
        subnets = self._neutron_list("/subnets", "subnets", network_id=network["id"])
        return neutron_network(network, subnets)

    @translated
    def create_network(self, *, address_block: str | None = None, name: str | None = None,
                       **extra: str) -> Network:
        """A network of this project; with ``address_block``, also its first subnet."""
        block = _cidr(address_block, "address_block") if address_block else None
        body: dict[str, Any] = {"name": name} if name else {}
        network = self._neutron("POST", "/networks", json={"network": body})["network"]
        if block is not None:
            try:
                self._create_subnet(network["id"], block, f"{name or 'network'}-subnet")
            except Exception:
                call(self.cloud.network, "DELETE", f"/networks/{segment(network['id'])}", allow=(404,))
                raise
        return self.get_network(network["id"]) or neutron_network(network, ())

    @translated
    def destroy_network(self, id: str) -> None:
        """Deletes the network and its subnets (Neutron refuses while ports use it: 409)."""
        call(self.cloud.network, "DELETE", f"/networks/{segment(id)}")

    # -- subnets -----------------------------------------------------------------------------------
    def _create_subnet(self, network_id: str, block: ipaddress.IPv4Network | ipaddress.IPv6Network,
                       name: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"network_id": network_id, "cidr": str(block), "ip_version": block.version}
        if name:
            body["name"] = name
        return self._neutron("POST", "/subnets", json={"subnet": body})["subnet"]

    @translated
    def list_subnets(self, **filters: str) -> list[Subnet]:
        if filters.get("id"):
            one = self.get_subnet(filters["id"])
            return [one] if one is not None else []
        networks = usable_networks(self.cloud)
        external = {n["id"] for n in networks if n.get("router:external")}
        return [neutron_subnet(s, s.get("network_id") in external) for s in self._subnets_of(networks)]

    @translated
    def get_subnet(self, id: str) -> Subnet | None:
        response = call(self.cloud.network, "GET", f"/subnets/{segment(id)}", allow=(404,))
        if response.status_code == 404:
            return None
        subnet = response.json()["subnet"]
        network = self._neutron("GET", f"/networks/{segment(subnet['network_id'])}").get("network") or {}
        return neutron_subnet(subnet, bool(network.get("router:external")))

    @translated
    def create_subnet(self, *, network_id: str, address_block: str, name: str | None = None,
                      **extra: str) -> Subnet:
        block = _cidr(address_block, "address_block")
        if self.get_network(network_id) is None:
            raise ObjectNotFound(f"Network {network_id} could not be found.")
        subnet = self._create_subnet(network_id, block, name)
        return neutron_subnet(subnet)

    @translated
    def destroy_subnet(self, id: str) -> None:
        call(self.cloud.network, "DELETE", f"/subnets/{segment(id)}")

    # -- network interfaces (ports) ----------------------------------------------------------------
    @translated
    def list_network_interfaces(self, **filters: str) -> list[NetworkInterface]:
        if filters.get("id"):
            one = self.get_network_interface(filters["id"])
            return [one] if one is not None else []
        return [neutron_port(p) for p in _project_ports(self.cloud)]

    @translated
    def get_network_interface(self, id: str) -> NetworkInterface | None:
        response = call(self.cloud.network, "GET", f"/ports/{segment(id)}", allow=(404,))
        return None if response.status_code == 404 else neutron_port(response.json()["port"])

    @translated
    def create_network_interface(self, *, instance: str, network: str, name: str | None = None,
                                 subnet: str | None = None, **extra: str) -> NetworkInterface:
        """A port on ``network`` (its address from ``subnet`` when given), attached to ``instance``."""
        cloud = self.cloud
        if call(cloud.compute, "GET", f"/servers/{segment(instance)}", allow=(404,)).status_code == 404:
            raise ObjectNotFound(f"Instance {instance} could not be found.")
        body: dict[str, Any] = {"network_id": network}
        if name:
            body["name"] = name
        if subnet:
            body["fixed_ips"] = [{"subnet_id": subnet}]
        port = self._neutron("POST", "/ports", json={"port": body})["port"]
        try:
            call(cloud.compute, "POST", f"/servers/{segment(instance)}/os-interface",
                 microversion=cloud.compute_microversion, json={"interfaceAttachment": {"port_id": port["id"]}})
        except Exception:
            call(cloud.network, "DELETE", f"/ports/{segment(port['id'])}", allow=(404,))
            raise
        return self.get_network_interface(port["id"]) or neutron_port(port)

    @translated
    def destroy_network_interface(self, id: str) -> None:
        """Deletes the port; Neutron tells Nova, which detaches it from its server."""
        call(self.cloud.network, "DELETE", f"/ports/{segment(id)}")

    # -- addresses (floating IPs) ------------------------------------------------------------------
    def _floating_ips(self, ip: str | None = None) -> list[dict[str, Any]]:
        cloud = self.cloud
        params = {"floating_ip_address": ip} if ip else {}
        scope = {"project_id": cloud.project_id} if cloud.project_id else {}
        return self._neutron_list("/floatingips", "floatingips", **scope, **params)

    def _floating_ip(self, ip: str) -> dict[str, Any]:
        found = self._floating_ips(ip)
        if not found:
            raise ObjectNotFound(f"Address {ip} could not be found.")
        return found[0]

    def _instances_of_ports(self, ports: Iterable[str]) -> dict[str, str | None]:
        """Port id -> its server, for the ports named (by id when few, else the project's listing)."""
        wanted = sorted({p for p in ports if p})
        if not wanted:
            return {}
        by_id = {"id": wanted} if len(wanted) <= _PORTS_BY_ID else {}
        return {str(p["id"]): _instance_of(p) for p in _project_ports(self.cloud, fields=_PORT_OWNER_FIELDS, **by_id)}

    def _addresses(self, found: list[dict[str, Any]]) -> list[Address]:
        owners = self._instances_of_ports(f.get("port_id") for f in found)
        return [neutron_address(f, owners) for f in found]

    @translated
    def list_addresses(self, **filters: str) -> list[Address]:
        return self._addresses(self._floating_ips(filters.get("id") or None))

    @translated
    def get_address(self, id: str) -> Address | None:
        found = self._addresses(self._floating_ips(id))
        return found[0] if found else None

    def _external_network(self, wanted: str | None) -> str:
        if wanted:
            return wanted
        external = self._neutron_list("/networks", "networks", **{"router:external": True, "fields": "id"})
        if not external:
            raise ValidationError("The cloud has no external network to allocate an address on.")
        return str(external[0]["id"])

    @translated
    def create_address(self, **extra: str) -> Address:
        """A floating IP on ``network_id`` (an external network; default: the first one)."""
        body = {"floating_network_id": self._external_network(extra.get("network_id") or None)}
        created = self._neutron("POST", "/floatingips", json={"floatingip": body})["floatingip"]
        return neutron_address(created, {})

    @translated
    def destroy_address(self, id: str) -> None:
        found = self._floating_ip(id)
        if found.get("port_id"):
            raise ForbiddenError(f"Address {id} is associated with an instance: disassociate it first.",
                                 backend_code="AddressInUse")
        call(self.cloud.network, "DELETE", f"/floatingips/{segment(found['id'])}")

    @translated
    def associate_address(self, id: str, *, instance_id: str) -> None:
        """Points the floating IP at the instance's first port (Neutron checks a router reaches it)."""
        found = self._floating_ip(id)
        if found.get("port_id"):
            raise ForbiddenError(f"Address {id} is already associated with an instance.",
                                 backend_code="AddressInUse")
        cloud = self.cloud
        if call(cloud.compute, "GET", f"/servers/{segment(instance_id)}", allow=(404,)).status_code == 404:
            raise ObjectNotFound(f"Instance {instance_id} could not be found.")
        ports = ports_of_instance(cloud, instance_id)
        if not ports:
            raise ValidationError(f"Instance {instance_id} has no network interface to give address {id} to.")
        self._neutron("PUT", f"/floatingips/{segment(found['id'])}", json={"floatingip": {"port_id": ports[0]}})

    @translated
    def disassociate_address(self, id: str) -> None:
        found = self._floating_ip(id)
        if not found.get("port_id"):
            raise ForbiddenError(f"Address {id} is not associated with an instance.", backend_code="AddressNotInUse")
        self._neutron("PUT", f"/floatingips/{segment(found['id'])}", json={"floatingip": {"port_id": None}})
