"""How the server calls backends: bulkheads per (driver, provider), worker threads for plain
``def`` driver methods, retries of reads, and the metrics of every call.

Drivers see none of it: a driver author writes plain (or ``async``) methods, and
:func:`deltacloud_core.collections.base.invoke_driver` calls them through :class:`BackendCalls`.
"""

from .bulkheads import Bulkhead, BulkheadConfig, BulkheadFull, Bulkheads
from .calls import BackendCalls, default_calls
from .labels import provider_label
from .retries import ReadRetries, RetryBudget
from .threads import ElasticThreads

__all__ = [
    "BackendCalls",
    "Bulkhead",
    "BulkheadConfig",
    "BulkheadFull",
    "Bulkheads",
    "ElasticThreads",
    "ReadRetries",
    "RetryBudget",
    "default_calls",
    "provider_label",
]
