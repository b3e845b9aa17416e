"""Engine benchmarks (issue: foundation): events/s, deadlines/s, memory per open case.

Each figure is measured on one core in this process; nothing here is asserted by tests.
"""

from __future__ import annotations

import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.workload import START, feed, feed_bytes
from monitor.casetypes import EVENT_ID, RAW
from monitor.clock import Clock, Timelines
from monitor.config import Config, ConfigFiles
from monitor.engine import Engine
from monitor.events import parse_event
from monitor.gctuning import tune_gc
from monitor.limits import parse_limit
from monitor.timeutil import DAY, zone

CATALOG = Path(__file__).resolve().parents[1] / "monitor" / "data" / "catalog.yaml"


@dataclass(frozen=True)
class Figure:
    """One measured figure, with its target for the table."""

    name: str
    value: float
    unit: str
    target: str
    note: str = ""


def quantile(values: list[float], p: float) -> float:
    """The ``p`` quantile of ``values`` (nearest rank, from below), for p50 and p99."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def percentiles(
    name: str, values: list[float], unit: str, target: str, note: str, at: str = ""
) -> list[Figure]:
    """p50, p99 (against ``target``) and max of ``values``, named ``{name} p50{at}`` and so on;
    one figure saying so when nothing was measured."""
    if not values:
        return [Figure(f"{name}{at}", float("nan"), unit, target, note + "; nothing measured")]
    return [
        Figure(f"{name} p50{at}", quantile(values, 0.50), unit, "—", note),
        Figure(f"{name} p99{at}", quantile(values, 0.99), unit, target, note),
        Figure(f"{name} max{at}", max(values), unit, "—", note),
    ]


def _config() -> Config:
    return ConfigFiles(CATALOG).load()


def _best_rate(count: int, run: Callable[[], None], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def engine_throughput(cases: int) -> list[Figure]:
    """Events/s through Engine.offer over realistic histories, validation excluded and included."""
    config = _config()
    raw = feed_bytes(cases)
    events = [parse_event(line) for line in raw]

    def offer_all() -> None:
        engine = Engine(config)
        for event, line in zip(events, raw, strict=True):
            engine.offer(event, line)

    def parse_and_offer() -> None:
        engine = Engine(config)
        for line in raw:
            engine.offer(parse_event(line), line)

    default_gc = _best_rate(len(events), offer_all)
    thresholds = gc.get_threshold()
    tune_gc()  # what `redline replay` and the workers do
    try:
        tuned = _best_rate(len(events), offer_all)
        with_parse = _best_rate(len(events), parse_and_offer)
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    note = f"{cases:,} cases, {len(events):,} events, in feed order"
    return [
        Figure("engine events/s (GC tuned)", tuned, "events/s", "≥ 100 000", note),
        Figure("engine events/s (default GC)", default_gc, "events/s", "—", note),
        Figure(
            "validate + engine events/s (GC tuned)",
            with_parse,
            "events/s",
            "—",
            "pydantic validation of the JSON bytes included",
        ),
    ]


def deadline_rate(count: int) -> Figure:
    """20wd deadlines computed per second from random start instants in 2025–2027."""
    from monitor.calendar import load_calendars

    timelines = Timelines(zone("Asia/Shanghai"), load_calendars().get("cn"))
    limit = parse_limit("20wd")
    timeline = timelines[limit.unit]
    rng = random.Random(3)
    starts = [START - 365 * DAY + rng.randrange(3 * 365 * DAY) for _ in range(count)]

    def compute() -> None:
        for start in starts:
            Clock(timeline, limit, start).deadline  # noqa: B018 - the computation is the point

    return Figure(
        "deadlines/s (20wd)",
        _best_rate(count, compute),
        "deadlines/s",
        "≥ 500 000",
        "Clock construction + deadline, indexed calendar, no day walking",
    )


def memory_per_open_case(cases: int) -> list[Figure]:
    """Bytes held per open case: live objects (tracemalloc), and as a compact snapshot."""
    config = _config()
    raw = [line for line in feed_bytes(cases) if b'"case.completed"' not in line]
    events = [parse_event(line) for line in raw]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    engine = Engine(config)
    for event, line in zip(events, raw, strict=True):
        engine.offer(event, line)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    open_cases = sum(1 for case in engine.cases.values() if case.is_open)
    facts = [fact for case in engine.cases.values() for fact in case.facts]
    history = sum(
        sys.getsizeof(fact) + sys.getsizeof(fact[EVENT_ID]) + sys.getsizeof(fact[RAW])
        for fact in facts
    )
    index = sys.getsizeof(engine.event_ids) + sum(sys.getsizeof(k) for k in engine.event_ids)
    per_event = len(events) / max(open_cases, 1)
    del engine, facts
    workload = f"{open_cases:,} open cases, {per_event:.1f} events each"
    return [
        Figure(
            "memory per open case (live engine, all of it)",
            held / open_cases,
            "bytes",
            "≤ 1 KB",
            workload,
        ),
        Figure(
            "… of which the case state (clocks, alerts, light)",
            (held - history - index) / open_cases,
            "bytes",
            "—",
            "what the timers and the wall need",
        ),
        Figure(
            "… of which the event history",
            history / open_cases,
            "bytes",
            "—",
            "each event's JSON, kept to replay late events",
        ),
        Figure(
            "… of which the event-id index",
            index / open_cases,
            "bytes",
            "—",
            "idempotency across cases",
        ),
    ]


def run(scale: float = 1.0) -> list[Figure]:
    """Every engine figure; ``scale`` shrinks the workloads for a quick look."""
    figures = engine_throughput(int(20_000 * scale))
    figures.append(deadline_rate(int(200_000 * scale)))
    figures.extend(memory_per_open_case(int(50_000 * scale)))
    return figures


if __name__ == "__main__":
    for figure in run(0.1):
        print(f"{figure.name}: {figure.value:,.0f} {figure.unit}")
    _ = feed  # the interleaved feed, for ad-hoc use
