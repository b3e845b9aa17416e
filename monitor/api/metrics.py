"""Prometheus metrics of the API: the read model's gauges (``monitor.readmodel.collector``,
computed at scrape time) and the API's own request counts and latencies.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (never the global one), so
tests build as many apps as they like. Names are constants in :mod:`monitor.metricnames`.

Metric names:

- ``redline_open_cases{light}``, ``redline_open_cases_by_center{center, light}``,
  ``redline_open_cases_by_department{department, light}`` (a code the configuration lacks is
  ``(unknown)``: the label values are bounded)
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

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor import metricnames as names
from monitor.config import Config
from monitor.readmodel.collector import ReadModelCollector

access = logging.getLogger("redline.api.access")

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"  # a path no route serves: one label value, not one per path
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """The registry of one app: the read-model collector and the request metrics."""

    def __init__(self, config: Config) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.read_model = ReadModelCollector(config)
        self.registry.register(self.read_model)
        self.requests = Counter(
            names.API_REQUESTS,
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            names.API_REQUEST_DURATION,
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
