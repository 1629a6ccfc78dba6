"""GET /metrics (Prometheus text) and GET /healthz.

Request counts and latency and SSE clients come from this process; system-wide figures are
read from the store at scrape time (CONTRACT §3): readings stored, quarantined by reason,
alerts by kind, severity and status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

router = APIRouter(tags=["operations"])

STORE_QUERIES = {
    "readings": "SELECT coalesce((SELECT value FROM counters WHERE name = 'readings_stored'), 0) AS n",
    "quarantine": "SELECT reason_code, count(*) AS n FROM quarantine GROUP BY reason_code",
    "alerts": "SELECT kind, severity, status, count(*) AS n FROM alerts GROUP BY kind, severity, status",
}


class StoreCollector(Collector):
    """Figures read from the store just before each scrape renders."""

    def __init__(self) -> None:
        self.snapshot: dict[str, list[dict[str, Any]]] = {}

    def collect(self) -> Iterator[Metric]:
        readings = CounterMetricFamily("dolbom_readings_stored", "Readings stored (whole system)")
        for row in self.snapshot.get("readings", []):
            readings.add_metric([], float(row["n"]))
        yield readings
        quarantined = CounterMetricFamily(
            "dolbom_quarantined", "Payloads quarantined, by reason (whole system)", labels=["reason"]
        )
        for row in self.snapshot.get("quarantine", []):
            quarantined.add_metric([row["reason_code"]], float(row["n"]))
        yield quarantined
        alerts = GaugeMetricFamily(
            "dolbom_alerts", "Alerts by kind, severity and status", labels=["kind", "severity", "status"]
        )
        for row in self.snapshot.get("alerts", []):
            alerts.add_metric([row["kind"], row["severity"], row["status"]], float(row["n"]))
        yield alerts


class ApiMetrics:
    """This app's registry (one per app, so tests can build several apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("dolbom_api_requests", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram(
            "dolbom_api_request_seconds", "HTTP request latency (to first byte)", ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=self.registry,
        )
        self.sse_clients = Gauge("dolbom_api_sse_clients", "Connected alert stream clients",
                                 registry=self.registry)
        self.store = StoreCollector()
        self.registry.register(self.store)
        self.lock = asyncio.Lock()


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}})
async def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    state = request.app.state
    api_metrics: ApiMetrics = state.metrics
    snapshot: dict[str, list[dict[str, Any]]] = {}
    async with state.pool.connection() as conn:
        for name, query in STORE_QUERIES.items():
            snapshot[name] = list(await (await conn.execute(query)).fetchall())
    async with api_metrics.lock:
        api_metrics.sse_clients.set(len(state.hub.subscribers))
        api_metrics.store.snapshot = snapshot
        body = generate_latest(api_metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", responses={503: {"description": "the alert listener is not listening"}})
async def healthz(request: Request) -> Response:
    """Liveness: the process answers, its database answers, its alert listener listens."""
    async with request.app.state.pool.connection() as conn:
        await conn.execute("SELECT 1")
    listening, line = request.app.state.hub.health()
    if not listening:
        return JSONResponse({"status": "degraded", "alert_listener": line,
                             "detail": f"alert listener {line}"}, status_code=503,
                            headers={"Retry-After": "5"})
    return JSONResponse({"status": "ok", "alert_listener": line})
