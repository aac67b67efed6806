"""Prometheus metrics, kept in a registry of our own (not the library's global one).

Requests are labelled by route *template* (``/api/rooms/{room_id}``), never by raw path: raw paths
would create one time series per id and exhaust memory under a fuzzer. Unmatched paths share the
label ``unmatched``.

With RENTO_WORKERS > 1 each worker process serves its own figures; scrape per worker or run one
worker per container (the default).
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from rento import db

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

REQUEST_DURATION = Histogram(
    "rento_http_request_duration_seconds",
    "Time from request start to response start, by route template.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
HTTP_ERRORS = Counter(
    "rento_http_errors_total",
    "Responses with status >= 400, by route template and error code.",
    ["method", "route", "status", "code"],
    registry=REGISTRY,
)
UNHANDLED_EXCEPTIONS = Counter(
    "rento_unhandled_exceptions_total",
    "Server errors caught by the last-resort handler, by exception type.",
    ["error_type"],
    registry=REGISTRY,
)
ALERTS = Counter(
    "rento_alerts_total",
    "Alert deliveries by outcome (sent, failed, dropped).",
    ["outcome"],
    registry=REGISTRY,
)
BUILD_INFO = Gauge("rento_build_info", "Build version.", ["version"], registry=REGISTRY)


class PoolCollector(Collector):
    """Reads the main engine's pool state at scrape time (no bookkeeping on the hot path)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = _pool()
        if pool is None:
            return
        for name, doc, value in (
            ("rento_db_pool_size", "Configured pool size.", pool.size()),
            ("rento_db_pool_checked_out", "Connections in use.", pool.checkedout()),
            ("rento_db_pool_overflow", "Connections beyond pool_size.", max(pool.overflow(), 0)),
            ("rento_db_pool_idle", "Idle connections in the pool.", pool.checkedin()),
        ):
            yield GaugeMetricFamily(name, doc, value=value)


def _pool() -> Optional[Any]:
    try:
        return db.get_engine().pool
    except RuntimeError:
        return None


REGISTRY.register(PoolCollector())


def render() -> bytes:
    return generate_latest(REGISTRY)
