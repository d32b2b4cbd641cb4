"""``/api/metrics``: monitoring data of instances (and other monitored entities)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..schemas.monitoring import MetricJson, MetricXml
from .base import (
    Collection,
    CollectionRegistry,
    Param,
    Resource,
    read_operations,
)

METRICS = Collection(
    name="metrics",
    singular="metric",
    description="Metrics of monitored entities: one per entity, with sampled values per property.",
    resources=(Resource("metric", "metrics", {"json": MetricJson(), "xml": MetricXml()}),),
    operations=(
        *read_operations("metric", "metrics", "list_metrics", "get_metric",
                         id_param=Param("id", required=True, description="Metric (monitored entity) id"),
                         index_description="List the monitored entities and the properties measured for each",
                         show_description="Show the sampled values of one entity's metric"),
    ),
)


@hookimpl
def deltacloud_register_collections(registry: CollectionRegistry) -> None:
    registry.register(METRICS, owner=__name__)
