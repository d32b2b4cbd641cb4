"""Metrics: vSphere's real-time performance counters of each instance (``PerformanceManager``).

One metric per instance (its id is the instance's). Showing one asks ``QueryPerf`` once for the
last :data:`WINDOW_SAMPLES` real-time samples (20 s apart) of the counters below and groups them
into periods of :data:`PERIOD` seconds: each period's minimum, maximum and average. A VM that is
powered off has no real-time samples: its properties have no values.

=================== ============================ ====================================
Property            vSphere counter              Unit (as vSphere's value converts)
=================== ============================ ====================================
cpuUtilization      ``cpu.usage.average``        Percent (vSphere: hundredths)
memoryUtilization   ``mem.usage.average``        Percent (vSphere: hundredths)
diskReadBytes       ``virtualDisk.read.average`` Bytes/Second (vSphere: KB/s)
diskWriteBytes      ``virtualDisk.write.average`` Bytes/Second (vSphere: KB/s)
nicInputByte        ``net.received.average``     Bytes/Second (vSphere: KB/s)
nicOutputByte       ``net.transmitted.average``  Bytes/Second (vSphere: KB/s)
nicInputPacket      ``net.packetsRx.summation``  Count (per 20 s sample)
nicOutputPacket     ``net.packetsTx.summation``  Count (per 20 s sample)
=================== ============================ ====================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deltacloud_core.models import Metric, MetricProperty, MetricSample
from pyVmomi import vim

from .base import VSphereBase
from .query import retrieve_objects
from .session import Session

__all__ = ["COUNTERS", "PERIOD", "WINDOW_SAMPLES", "MetricsMixin", "periods"]

#: Seconds between two real-time samples, seconds per reported period, samples asked for.
REALTIME_INTERVAL = 20
PERIOD = 60
WINDOW_SAMPLES = 30


@dataclass(frozen=True)
class Counter:
    counter: str
    unit: str
    scale: float


COUNTERS: Mapping[str, Counter] = {
    "cpuUtilization": Counter("cpu.usage.average", "Percent", 0.01),
    "memoryUtilization": Counter("mem.usage.average", "Percent", 0.01),
    "diskReadBytes": Counter("virtualDisk.read.average", "Bytes/Second", 1024),
    "diskWriteBytes": Counter("virtualDisk.write.average", "Bytes/Second", 1024),
    "nicInputByte": Counter("net.received.average", "Bytes/Second", 1024),
    "nicOutputByte": Counter("net.transmitted.average", "Bytes/Second", 1024),
    "nicInputPacket": Counter("net.packetsRx.summation", "Count", 1),
    "nicOutputPacket": Counter("net.packetsTx.summation", "Count", 1),
}


def _counter_ids(session: Session) -> dict[str, int]:
    """``group.name.rollup`` -> counter id, read once per session."""
    if "counters" not in session.facts:
        manager = session.content.perfManager
        (found,) = retrieve_objects(session, [manager], ["perfCounter"])
        session.facts["counters"] = {f"{c.groupInfo.key}.{c.nameInfo.key}.{c.rollupType}": int(c.key)
                                     for c in found.get("perfCounter") or ()}
    return session.facts["counters"]


def periods(stamps: Sequence[int], values: Sequence[float], unit: str,
            period: int = PERIOD) -> tuple[MetricSample, ...]:
    """Samples grouped into ``period``-second periods (oldest first): minimum, maximum, average."""
    groups: dict[int, list[float]] = {}
    for stamp, value in zip(stamps, values, strict=False):
        if value < 0:  # vSphere's "no value" (-1)
            continue
        groups.setdefault(stamp - stamp % period, []).append(value)
    return tuple(MetricSample(minimum=round(min(v), 4), maximum=round(max(v), 4), average=round(sum(v) / len(v), 4),
                              timestamp=start, unit=unit) for start, v in sorted(groups.items()))


class MetricsMixin(VSphereBase):
    """Instances' performance counters."""

    def list_metrics(self, **filters: str) -> list[Metric]:
        vms, _owners = self.machines()
        metrics = [Metric(id=vm.id, entity=str(vm.get("name")), properties=tuple(MetricProperty(n) for n in COUNTERS))
                   for vm in vms if "name" in vm.props and not vm.get("config.template")]
        if filters.get("id"):
            metrics = [m for m in metrics if m.id == filters["id"]]
        return sorted(metrics, key=lambda m: (m.entity or "", m.id))

    def get_metric(self, id: str) -> Metric | None:
        hit = self.machine(id)
        if hit is None or hit[0].get("config.template"):
            return None
        vm = hit[0]

        def sample(session: Session) -> dict[int, tuple[list[int], list[float]]]:
            ids = _counter_ids(session)
            wanted = [ids[c.counter] for c in COUNTERS.values() if c.counter in ids]
            if not wanted:
                return {}
            spec = vim.PerformanceManager.QuerySpec(
                entity=vm.obj, intervalId=REALTIME_INTERVAL, maxSample=WINDOW_SAMPLES,
                metricId=[vim.PerformanceManager.MetricId(counterId=k, instance="") for k in wanted])
            return _series(session.content.perfManager.QueryPerf([spec]) or ())

        series = self.vsphere(sample, what=f"Performance counters of {id}")
        ids = self._memo.get("counter-ids") or self.vsphere(_counter_ids)
        properties = []
        for name, counter in COUNTERS.items():
            stamps, raw = series.get(ids.get(counter.counter, -1), ([], []))
            properties.append(MetricProperty(name, periods(stamps, [v * counter.scale if v >= 0 else -1 for v in raw],
                                                           counter.unit)))
        return Metric(id=vm.id, entity=str(vm.get("name")), properties=tuple(properties))


def _series(results: Sequence[Any]) -> dict[int, tuple[list[int], list[float]]]:
    """counter id -> (timestamps, values) of the aggregate instance (``""``)."""
    out: dict[int, tuple[list[int], list[float]]] = {}
    for entity in results:
        stamps = [int(info.timestamp.timestamp()) for info in entity.sampleInfo or ()]
        for series in entity.value or ():
            if series.id.instance not in ("", None):
                continue
            out[int(series.id.counterId)] = (stamps, [float(v) for v in series.value or ()])
    return out
