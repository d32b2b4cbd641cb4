"""Metrics and networks: read-only views of the host.

* metrics: one metric per running domain (id = the instance's id), sampled from libvirt's domain stats
  (``virConnectGetAllDomainStats``: ``cpu.time``, ``balloon.*``, ``block.N.*``, ``net.N.*``). Each property
  is one sample of the counter now (minimum = maximum = average): libvirt keeps no history, so a rate
  is the difference of two looks.
* networks: libvirt's networks (id = name), ``UP`` when active, with the address blocks of their
  ``<ip>`` elements. Creating them is left to the operator (a bridge, NAT and DHCP are host matters).
"""

from __future__ import annotations

import ipaddress
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping

import libvirt
from deltacloud_core import Metric, MetricProperty, MetricSample, Network

from .base import LibvirtBase, boundary

__all__ = ["METRICS", "MonitoringMixin", "domain_samples"]

#: Property name -> (unit, how to read it from one domain's stats).
METRICS: tuple[tuple[str, str], ...] = (
    ("cpuTime", "Seconds"),
    ("memoryUsed", "Bytes"),
    ("memoryAvailable", "Bytes"),
    ("diskReadBytes", "Bytes"),
    ("diskWriteBytes", "Bytes"),
    ("diskReadOps", "Count"),
    ("diskWriteOps", "Count"),
    ("networkIn", "Bytes"),
    ("networkOut", "Bytes"),
)
_STATS = (libvirt.VIR_DOMAIN_STATS_CPU_TOTAL | libvirt.VIR_DOMAIN_STATS_BALLOON | libvirt.VIR_DOMAIN_STATS_BLOCK
          | libvirt.VIR_DOMAIN_STATS_INTERFACE | libvirt.VIR_DOMAIN_STATS_STATE)


def _sum(stats: Mapping[str, object], group: str, field: str) -> int | None:
    count = stats.get(f"{group}.count")
    if not isinstance(count, int):
        return None
    values = [stats.get(f"{group}.{i}.{field}") for i in range(count)]
    numbers = [v for v in values if isinstance(v, int)]
    return sum(numbers) if numbers else None


def domain_samples(stats: Mapping[str, object]) -> dict[str, int | float]:
    """Metric name -> value from one domain's stats (names libvirt did not report are left out)."""
    values: dict[str, int | float | None] = {
        "cpuTime": stats["cpu.time"] / 1e9 if isinstance(stats.get("cpu.time"), int) else None,  # type: ignore[operator]
        "memoryUsed": _kib(stats.get("balloon.rss") or stats.get("balloon.current")),
        "memoryAvailable": _kib(stats.get("balloon.available") or stats.get("balloon.maximum")),
        "diskReadBytes": _sum(stats, "block", "rd.bytes"),
        "diskWriteBytes": _sum(stats, "block", "wr.bytes"),
        "diskReadOps": _sum(stats, "block", "rd.reqs"),
        "diskWriteOps": _sum(stats, "block", "wr.reqs"),
        "networkIn": _sum(stats, "net", "rx.bytes"),
        "networkOut": _sum(stats, "net", "tx.bytes"),
    }
    return {name: value for name, value in values.items() if value is not None}


def _kib(value: object) -> int | None:
    return value * 1024 if isinstance(value, int) else None


class MonitoringMixin(LibvirtBase):
    @boundary
    def list_metrics(self, **filters: str) -> list[Metric]:
        metrics = []
        for domain in self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            uuid = domain.UUIDString()
            if filters.get("id") and uuid != filters["id"]:
                continue
            metrics.append(Metric(id=uuid, entity=domain.name(),
                                  properties=tuple(MetricProperty(name) for name, _unit in METRICS)))
        return sorted(metrics, key=lambda m: (m.entity or "", m.id))

    @boundary
    def get_metric(self, id: str) -> Metric | None:
        domain = self.domain(id)
        if domain is None or not domain.isActive():
            return None
        ((_domain, stats),) = self.conn.domainListGetStats([domain], _STATS, 0)
        now = int(time.time())
        values = domain_samples(stats)
        properties = tuple(
            MetricProperty(name, (MetricSample(minimum=values[name], maximum=values[name], average=values[name],
                                               timestamp=now, unit=unit),) if name in values else ())
            for name, unit in METRICS)
        return Metric(id=id, entity=domain.name(), properties=properties)

    @boundary
    def list_networks(self, **filters: str) -> list[Network]:
        try:
            networks = self.conn.listAllNetworks(0)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                return []  # a hypervisor without libvirt networks (some xen, esx)
            raise
        out = []
        for network in networks:
            name = network.name()
            if filters.get("id") and name != filters["id"]:
                continue
            out.append(Network(id=name, name=name, state="UP" if network.isActive() else "DOWN",
                               address_blocks=_address_blocks(network.XMLDesc(0)),
                               extra={"uuid": network.UUIDString(), "autostart": bool(network.autostart())}))
        return sorted(out, key=lambda n: n.id)


def _address_blocks(xml: str) -> tuple[str, ...]:
    blocks = []
    for ip in ET.fromstring(xml).findall("ip"):
        address = ip.get("address")
        if not address:
            continue
        prefix = ip.get("prefix") or ip.get("netmask") or ("64" if ":" in address else "24")
        try:
            blocks.append(str(ipaddress.ip_interface(f"{address}/{prefix}").network))
        except ValueError:
            continue
    return tuple(blocks)
