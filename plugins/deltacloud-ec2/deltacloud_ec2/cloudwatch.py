"""Metrics: CloudWatch's ``AWS/EC2`` metrics, one Deltacloud metric per instance.

The listing groups the metrics CloudWatch knows (``ListMetrics``) by their ``InstanceId``
dimension: the metric's id is the instance id, its properties the metric names
(``CPUUtilization`` ...). Showing one samples every property over the last
:data:`WINDOW_PERIODS` periods of :data:`PERIOD` seconds (``GetMetricStatistics``: minimum,
maximum, average and unit per period), as the original did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from deltacloud_core.models import Metric, MetricProperty, MetricSample

from .clients import AwsDriverBase

__all__ = ["NAMESPACE", "PERIOD", "WINDOW_PERIODS", "MetricsMixin"]

NAMESPACE = "AWS/EC2"
#: Seconds per sample, and how many samples a metric shows.
PERIOD = 60
WINDOW_PERIODS = 10
_DIMENSION = "InstanceId"


def _sample(point: Mapping[str, Any]) -> MetricSample:
    stamp = point.get("Timestamp")
    return MetricSample(minimum=point.get("Minimum"), maximum=point.get("Maximum"), average=point.get("Average"),
                        timestamp=int(stamp.timestamp()) if isinstance(stamp, dt.datetime) else None,
                        unit=point.get("Unit"))


class MetricsMixin(AwsDriverBase):
    """CloudWatch metrics of instances."""

    METRIC_PERIOD: ClassVar[int] = PERIOD

    def _metric_names(self, instance_id: str | None = None) -> dict[str, list[str]]:
        """instance id -> its metric names (first-seen order), from ``ListMetrics``."""
        dims: dict[str, Any] = {"Name": _DIMENSION}
        if instance_id:
            dims["Value"] = instance_id
        out: dict[str, list[str]] = {}
        for metric in self.cloudwatch.pages("list_metrics", "Metrics", Namespace=NAMESPACE, Dimensions=[dims]):
            dimensions = metric.get("Dimensions") or ()
            if len(dimensions) != 1 or dimensions[0].get("Name") != _DIMENSION:
                continue  # per-image / per-type aggregates are not an instance's metrics
            names = out.setdefault(dimensions[0]["Value"], [])
            if metric["MetricName"] not in names:
                names.append(metric["MetricName"])
        return out

    def list_metrics(self, **filters: str) -> list[Metric]:
        found = self._metric_names(filters.get("id") or None)
        return [Metric(id=entity, entity=entity, properties=tuple(MetricProperty(n) for n in names))
                for entity, names in sorted(found.items())]

    def get_metric(self, id: str) -> Metric | None:
        names = self._metric_names(id).get(id)
        if not names:
            return None
        end = dt.datetime.now(dt.UTC)
        start = end - dt.timedelta(seconds=self.METRIC_PERIOD * WINDOW_PERIODS)
        properties = []
        for name in names:
            points = self.cloudwatch.get_metric_statistics(
                Namespace=NAMESPACE, MetricName=name, Dimensions=[{"Name": _DIMENSION, "Value": id}],
                StartTime=start, EndTime=end, Period=self.METRIC_PERIOD,
                Statistics=["Minimum", "Maximum", "Average"])["Datapoints"]
            points = sorted(points, key=lambda p: p.get("Timestamp") or end)
            properties.append(MetricProperty(name, tuple(_sample(p) for p in points)))
        return Metric(id=id, entity=id, properties=tuple(properties))
