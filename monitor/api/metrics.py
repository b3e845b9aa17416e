"""Prometheus metrics of the API: the read model's gauges, computed at scrape time, and the
API's own request counts and latencies.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (never the global one), so
tests build as many apps as they like. The gauges come from the read model's aggregates when
Prometheus scrapes, not from counters kept in this process: two API processes report the same
numbers, and a restart loses nothing. Label values exist at zero from the start (every light,
every configured centre and department, every alert kind), and no case id is ever a label.

Metric names:

- ``redline_open_cases{light}``, ``redline_open_cases_by_center{center, light}``,
  ``redline_open_cases_by_department{department, light}``
- ``redline_alerts{kind, status}``: alerts firing or acknowledged
- ``redline_source_events_total{source, outcome}``: events offered per source (accepted,
  duplicate, refused), ``redline_source_last_arrival_timestamp_seconds{source}``,
  ``redline_source_lag_seconds{source}`` (arrival − occurred_at of the latest accepted event)
- ``redline_api_requests_total{method, route, status}``,
  ``redline_api_request_duration_seconds{method, route}`` (route: the path template, such as
  ``/v1/cases/{case_id}``)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.alert import AlertKind
from monitor.config import Config
from streams.readmodel import OPEN_LIGHTS, OUTCOMES, ReadModel, SourceHealth

access = logging.getLogger("redline.api.access")

OPEN_ALERT_STATUSES = ("firing", "acknowledged")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"  # a path no route serves: one label value, not one per path
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(slots=True)
class Snapshot:
    """What one scrape reads from the read model."""

    lights: dict[str, int] = field(default_factory=dict)
    centers: dict[str, dict[str, int]] = field(default_factory=dict)
    departments: dict[str, dict[str, int]] = field(default_factory=dict)
    alerts: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, status) -> n
    sources: list[SourceHealth] = field(default_factory=list)


async def read_snapshot(read_model: ReadModel) -> Snapshot:
    """Every number the gauges need, read from Redis at scrape time."""
    pairs = [(kind.value, status) for kind in AlertKind for status in OPEN_ALERT_STATUSES]
    async with read_model.redis.pipeline(transaction=False) as pipe:
        for kind, status in pairs:
            pipe.zcard(read_model.key("alerts", status, kind))
        counts = await pipe.execute()
    return Snapshot(
        lights=await read_model.totals(),
        centers=await read_model.centre_totals(),
        departments=await read_model.department_totals(),
        alerts={pair: int(n) for pair, n in zip(pairs, counts, strict=True)},
        sources=await read_model.sources(),
    )


class ReadModelCollector(Collector):
    """The read model's gauges. The /metrics route reads a :class:`Snapshot` (async) and then
    collects synchronously from it, with no await in between, so two scrapes cannot mix."""

    def __init__(self, config: Config) -> None:
        self.snapshot = Snapshot()
        # configured codes: their series exist at zero before the first case arrives
        self.centers = sorted(config.centres)
        self.departments = sorted({item.department for item in config.catalog.values()})

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        lights = GaugeMetricFamily(
            "redline_open_cases", "Open cases by light (红绿灯)", labels=["light"]
        )
        for light in OPEN_LIGHTS:
            lights.add_metric([light], snap.lights.get(light, 0))
        yield lights
        yield self._by("center", self.centers, snap.centers)
        yield self._by("department", self.departments, snap.departments)
        alerts = GaugeMetricFamily(
            "redline_alerts",
            "Alerts waiting for action, by kind and status",
            labels=["kind", "status"],
        )
        for kind in AlertKind:
            for status in OPEN_ALERT_STATUSES:
                alerts.add_metric([kind.value, status], snap.alerts.get((kind.value, status), 0))
        yield alerts
        yield from self._sources(snap.sources)

    @staticmethod
    def _by(name: str, configured: Iterable[str], table: dict[str, dict[str, int]]) -> Metric:
        family = GaugeMetricFamily(
            f"redline_open_cases_by_{name}",
            f"Open cases by {name} and light",
            labels=[name, "light"],
        )
        for code in sorted(set(configured) | set(table)):
            counts = table.get(code, {})
            for light in OPEN_LIGHTS:
                family.add_metric([code, light], counts.get(light, 0))
        return family

    @staticmethod
    def _sources(sources: list[SourceHealth]) -> Iterator[Metric]:
        events = CounterMetricFamily(
            "redline_source_events",
            "Events offered by each source, by outcome",
            labels=["source", "outcome"],
        )
        arrival = GaugeMetricFamily(
            "redline_source_last_arrival_timestamp_seconds",
            "When the source's latest event arrived (epoch seconds)",
            labels=["source"],
        )
        lag = GaugeMetricFamily(
            "redline_source_lag_seconds",
            "Arrival minus occurred_at of the source's latest accepted event",
            labels=["source"],
        )
        for health in sources:
            for outcome in OUTCOMES:
                events.add_metric([health.source, outcome], getattr(health, outcome))
            if health.last_arrival_at is not None:
                arrival.add_metric([health.source], health.last_arrival_at)
            if health.lag_last_s is not None:
                lag.add_metric([health.source], health.lag_last_s)
        yield events
        yield arrival
        yield lag


class ApiMetrics:
    """The registry of one app: the read-model collector and the request metrics."""

    def __init__(self, config: Config) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.read_model = ReadModelCollector(config)
        self.registry.register(self.read_model)
        self.requests = Counter(
            "redline_api_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "redline_api_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )


class RequestMetrics:
    """ASGI middleware counting each request by its route's path template and status, and
    writing the access log (``redline.api.access``) when asked to.

    The access log is this one, not uvicorn's: uvicorn's prints the query string, and the
    wall's event stream may carry its token there (``?token=``, since a browser's EventSource
    cannot send headers). Here a line names the path without its query, the status, the time
    taken and the token's id, never a secret."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, access_log: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            # path_format: the template without converters ("{case_id}", not "{case_id:path}")
            template = getattr(route, "path_format", None) or getattr(route, "path", None)
            template = template or UNMATCHED
            method = scope.get("method", "")
            method = method if method in METHODS else "other"  # a fuzzer invents methods
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            if self.access_log:
                _log_access(scope, status, elapsed)


def _log_access(scope: Scope, status: int, elapsed: float) -> None:
    client = scope.get("client")
    where = f"{client[0]}:{client[1]}" if client else "-"
    principal = scope.get("state", {}).get("principal")
    token = getattr(principal, "token_id", "-")
    path = scope.get("path", "")  # without the query string, on purpose
    access.info(
        '%s "%s %s" %d %.1fms token=%s',
        where,
        scope.get("method"),
        path,
        status,
        elapsed * 1000,
        token,
    )
