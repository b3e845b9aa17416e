"""The read model's gauges, computed when Prometheus scrapes: from the aggregates in Redis, not
from counters kept in a process, so two API processes report the same numbers and a restart
loses nothing. Label values exist at zero from the start (every light, every configured centre
and department and ``(unknown)``, every alert kind), and no case id is ever a label.

The scraping route reads a :class:`Snapshot` (async), then the registry collects synchronously
from it. Names are in :mod:`monitor.metricnames`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor import metricnames as names
from monitor.alert import AlertKind
from monitor.config import Config
from monitor.readmodel.feed import OUTCOMES, SourceHealth
from monitor.readmodel.store import OPEN_ALERT_STATUSES, ReadModel
from monitor.readmodel.views import OPEN_LIGHTS, UNKNOWN_CODE, KnownCodes


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
    return Snapshot(
        lights=await read_model.totals(),
        centers=await read_model.center_totals(),
        departments=await read_model.department_totals(),
        alerts=await read_model.open_alert_counts(),
        sources=await read_model.sources(),
    )


class ReadModelCollector(Collector):
    """The read model's gauges. The /metrics route reads a :class:`Snapshot` (async) and then
    collects synchronously from it, with no await in between, so two scrapes cannot mix."""

    def __init__(self, config: Config) -> None:
        self.snapshot = Snapshot()
        self.use(config)

    def use(self, config: Config) -> None:
        """The label values of ``config`` (after a configuration switch)."""
        # configured codes and the one value every other code is counted under (the workers
        # fold them: monitor.readmodel.views.KnownCodes): their series exist at zero before
        # the first case arrives
        known = KnownCodes.of(config)
        self.centers = sorted(known.centers | {UNKNOWN_CODE})
        self.departments = sorted(known.departments | {UNKNOWN_CODE})

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        lights = GaugeMetricFamily(
            names.OPEN_CASES, "Open cases by light (红绿灯)", labels=["light"]
        )
        for light in OPEN_LIGHTS:
            lights.add_metric([light], snap.lights.get(light, 0))
        yield lights
        yield self._by("center", self.centers, snap.centers)
        yield self._by("department", self.departments, snap.departments)
        alerts = GaugeMetricFamily(
            names.ALERTS,
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
            names.open_cases_by(name),
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
            names.SOURCE_EVENTS,
            "Events offered by each source, by outcome",
            labels=["source", "outcome"],
        )
        arrival = GaugeMetricFamily(
            names.SOURCE_LAST_ARRIVAL,
            "When the source's latest event arrived (epoch seconds)",
            labels=["source"],
        )
        lag = GaugeMetricFamily(
            names.SOURCE_LAG,
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
