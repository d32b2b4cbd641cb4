"""``/api/metrics``: monitoring data of instances (and other monitored entities)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..schemas.monitoring import MetricJson, MetricXml
from .base import Collection, CollectionRegistry, Operation, Param, Resource, index_handler, needs, show_handler

METRICS = Collection(
    name="metrics",
    singular="metric",
    description="Metrics of monitored entities: one per entity, with sampled values per property.",
    resources=(Resource("metric", "metrics", {"json": MetricJson(), "xml": MetricXml()}),),
    operations=(
        Operation("index", "GET", "", index_handler("metric", "list_metrics", ("id",)), capability="metrics",
                  requires=needs("list_metrics"), timed=True,
                  description="List the monitored entities and the properties measured for each"),
        Operation("show", "GET", "/{id}", show_handler("metric", "get_metric"), capability="metrics",
                  requires=needs("list_metrics"), timed=True,
                  params=(Param("id", required=True, description="Metric (monitored entity) id"),),
                  description="Show the sampled values of one entity's metric"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(METRICS, owner=__name__)
