"""The Prometheus metrics of the server (``prometheus-client``), never with a credential in a label.

=========================================================  =====================================================
``deltacloud_requests_total``                              route (template, ``/api/instances/{id}``), method,
                                                           status, driver
``deltacloud_request_duration_seconds``                    route, driver (histogram)
``deltacloud_backend_calls_total``                         driver, provider, operation (driver method), outcome
                                                           (``ok``, a status such as ``404``/``503``,
                                                           ``timeout``, ``abandoned``, ``exception``)
``deltacloud_backend_call_duration_seconds``               driver, provider, operation (histogram)
``deltacloud_bulkhead_in_flight``                          driver, provider: calls holding a slot now
``deltacloud_bulkhead_limit``                              driver, provider: the share's size
``deltacloud_bulkhead_rejections_total``                   driver, provider: calls refused with a 503
``deltacloud_backend_retries_total``                       driver, provider, operation, reason (the status retried)
``deltacloud_idempotency_requests_total``                  result: ``new``, ``replayed``, ``conflict`` (409),
                                                           ``mismatch`` (422)
=========================================================  =====================================================

``provider`` is the provider's label (:func:`~deltacloud_core.backends.provider_label`: no user,
password or query), one per bulkhead, so its values stay few. With several workers the metrics of
all of them are summed (``PROMETHEUS_MULTIPROC_DIR``, set by ``deltacloudd``).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ..backends.bulkheads import Bulkhead

__all__ = ["CONTENT_TYPE_LATEST", "PrometheusObserver", "exposition", "note_idempotency", "observe_request"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUESTS = Counter("deltacloud_requests", "HTTP requests answered.", ["route", "method", "status", "driver"])
REQUEST_SECONDS = Histogram("deltacloud_request_duration_seconds", "Time to answer a request.", ["route", "driver"],
                            buckets=_LATENCY_BUCKETS)
BACKEND_CALLS = Counter("deltacloud_backend_calls", "Driver calls to a backend, by outcome.",
                        ["driver", "provider", "operation", "outcome"])
BACKEND_SECONDS = Histogram("deltacloud_backend_call_duration_seconds", "Time a driver call took.",
                            ["driver", "provider", "operation"], buckets=_LATENCY_BUCKETS)
IN_FLIGHT = Gauge("deltacloud_bulkhead_in_flight", "Calls holding a slot of their bulkhead now.",
                  ["driver", "provider"], multiprocess_mode="livesum")
LIMIT = Gauge("deltacloud_bulkhead_limit", "Slots of a bulkhead (per worker).", ["driver", "provider"],
              multiprocess_mode="liveall")
REJECTIONS = Counter("deltacloud_bulkhead_rejections", "Calls refused because their bulkhead was full (503).",
                     ["driver", "provider"])
RETRIES = Counter("deltacloud_backend_retries", "Reads the server retried on its own.",
                  ["driver", "provider", "operation", "reason"])
IDEMPOTENCY = Counter("deltacloud_idempotency_requests", "Requests with an Idempotency-Key, by what happened.",
                      ["result"])


class PrometheusObserver:
    """The :class:`~deltacloud_core.backends.calls.CallObserver` that feeds these metrics."""

    def __init__(self) -> None:
        self._limits_set: set[int] = set()

    def slot_taken(self, bulkhead: Bulkhead) -> None:
        if id(bulkhead) not in self._limits_set:
            self._limits_set.add(id(bulkhead))
            LIMIT.labels(bulkhead.driver, bulkhead.provider).set(bulkhead.limit)
        IN_FLIGHT.labels(bulkhead.driver, bulkhead.provider).inc()

    def slot_given_back(self, bulkhead: Bulkhead) -> None:
        IN_FLIGHT.labels(bulkhead.driver, bulkhead.provider).dec()

    def call_done(self, bulkhead: Bulkhead, operation: str, outcome: str, seconds: float) -> None:
        BACKEND_CALLS.labels(bulkhead.driver, bulkhead.provider, operation, outcome).inc()
        BACKEND_SECONDS.labels(bulkhead.driver, bulkhead.provider, operation).observe(seconds)

    def rejected(self, bulkhead: Bulkhead, operation: str) -> None:
        REJECTIONS.labels(bulkhead.driver, bulkhead.provider).inc()
        BACKEND_CALLS.labels(bulkhead.driver, bulkhead.provider, operation, "rejected").inc()

    def retried(self, bulkhead: Bulkhead, operation: str, reason: str) -> None:
        RETRIES.labels(bulkhead.driver, bulkhead.provider, operation, reason).inc()


def note_idempotency(result: str) -> None:
    IDEMPOTENCY.labels(result).inc()


def observe_request(route: str, method: str, status: int, driver: str, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status), driver).inc()
    REQUEST_SECONDS.labels(route, driver).observe(seconds)


def exposition() -> bytes:
    """The metrics in Prometheus' text format: this process's, or every worker's when
    ``PROMETHEUS_MULTIPROC_DIR`` is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
