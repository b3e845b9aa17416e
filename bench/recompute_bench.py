"""Recompute after a calendar change: two workers holding N open cases, a configuration applied
live, and the time until both have recomputed their partitions; deadline-to-red and ingestion
latency while it runs.

The open cases are seeded into the workers' changelog as in ``bench/scale_bench.py`` (the real
engine builds each from one ``case.accepted`` event). Two workers start on empty data
directories, restore their partitions and settle. Then two changes are applied in turn, each as
``redline config apply`` does it (a record on the configuration topic, ``monitor.configlink``):

- **next year's calendar** (the change every operator makes in December): a 2027 year file,
  the provisional rule's days made official. Only the cases whose working-day span reaches into
  2027 can move; the span filter (``CalendarChange.touches``) leaves the others unloaded;
- **a day off at short notice**: the third working day from now made a day off. Every open case
  counted in working days whose deadline lies beyond it moves: the worst case of a calendar
  change.

While each pass runs, a trickle of probe cases (``PROBE_RATE`` a second, a 1h promised limit
that ends ``PROBE_LEAD_S`` after each is sent) is fed through the events topic: its **ingestion
latency** is from the send to the case's view in the read model (Redis polled every 20 ms), its
**deadline-to-red latency** the Kafka append time of its deadline_overdue record minus its
deadline, as in ``bench/latency_bench.py``. Only probes whose deadline falls before the pass
ends count for the latter.

The **recompute time** is from the record's publication to the instant the read model shows both
workers finished (each reports on finishing; polled every 0.2 s). Each worker's own figure (its
pass, from its switch) comes with it. In the same run, the bench process measures what one case
costs a single core with no I/O: the filter (``span_of`` and ``touches``) and the replay
(``load_case`` under the new configuration, ``case_view``, ``dump_case``), which says what the
workers' rate can reach and what it would take to reach the target.

``PYTHONPATH=. .venv/bin/python bench/recompute_bench.py 100000``
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import faust
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis

from bench.engine_bench import Figure, percentiles
from bench.feeds import OPENING, SHANGHAI, event
from bench.processes import WorkerProcess
from bench.runs import delete_topics, isolated_settings
from bench.scale_bench import BATCH_BYTES, CaseFactory, ChangelogWriter, create_changelog
from monitor import configlink
from monitor.calendar import provisional_holidays
from monitor.caseview import case_view
from monitor.config import Config
from monitor.configfile import Source
from monitor.configrecord import CalendarChange, ConfigRecord, ConfigSet, calendar_change
from monitor.engine import Engine
from monitor.readmodel import ReadModel
from monitor.settings import Settings
from monitor.snapshot import dump_case, load_case, next_change_of, span_of
from monitor.timeutil import HOUR, parse_instant
from streams.kit.batches import writing_to
from streams.kit.tablestore import TableStore
from streams.topics import ensure_topics
from streams.tracker import Tracker

EPOCH = date(1970, 1, 1)
PROBE_RATE = 20  # probe cases a second while a pass runs
PROBE_LEAD_S = 10  # from a probe's send to its deadline
POLL_S = 0.02  # the read model, for the probes' views
WORKERS = 2
SAMPLE = 2_000  # cases timed in process
SETTLE_S = 5.0
STEADY_WAIT_S = 180.0  # at most, for the workers to settle after the restore (compactions)
STEADY_S = 0.5  # ingestion latency under which the workers count as settled
BASELINE_S = 10.0


@dataclass
class Change:
    """One configuration change and what it can touch, counted at seeding."""

    name: str
    files: list[Source]
    config: Config
    change: CalendarChange | None
    touched: int = 0  # seeded cases whose span holds a changed day


@dataclass
class Pass:
    """One change applied to the running workers, and what was measured while it ran."""

    change: Change
    version: int = 0
    seconds: float = float("nan")  # publication to both workers finished
    worker_seconds: list[float] = field(default_factory=list)
    cases: int = 0  # open cases the workers went through (filtered out included)
    baseline: list[float] = field(default_factory=list)  # ingestion, before the change
    ingestion: list[float] = field(default_factory=list)  # while the pass runs
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (sent - published, s)
    red: list[float] = field(default_factory=list)
    probes_sent: int = 0
    probes_due: int = 0  # probes whose deadline fell before the pass ended


@dataclass
class Costs:
    """Single-core, in-process cost of one case, in seconds."""

    filter_s: float = 0.0
    replay_s: float = 0.0
    view_s: float = 0.0
    dump_s: float = 0.0

    @property
    def case_s(self) -> float:
        return self.filter_s + self.replay_s + self.view_s + self.dump_s


@dataclass
class Run:
    cases: int
    seed_s: float = 0.0
    ready_s: float = 0.0
    passes: list[Pass] = field(default_factory=list)
    touched_costs: Costs = field(default_factory=Costs)
    untouched_filter_s: float = 0.0
    tracker_s: list[float] = field(default_factory=list)  # per change, per case of the sample


# -- the changes -------------------------------------------------------------------------------


def _year_file(year: int, holidays: set[date], workdays: set[date], source: str) -> Source:
    body = {
        "calendar": "cn",
        "year": year,
        "source": source,
        "holidays": sorted(map(str, holidays)),
        "workdays": sorted(map(str, workdays)),
    }
    return Source(f"cn-{year}.yaml", yaml.safe_dump(body, allow_unicode=True))


def changes(base: ConfigSet, config: Config, now: int) -> list[Change]:
    """Next year's file, then a day off at short notice on top of it."""
    today = EPOCH + timedelta(days=SHANGHAI.local_day(now))
    next_year = today.year + 1
    festivals = config.calendars.festival_dates(next_year)
    official = _year_file(
        next_year,
        set(provisional_holidays(next_year, festivals)),
        set(),
        f"{next_year} (benchmark: the provisional rule's days made official)",
    )
    first_set, first = base.with_files([official])
    calendar = first.calendars.get("cn")
    day, found = today, 0
    while found < 3:
        day += timedelta(days=1)
        found += calendar.is_workday((day - EPOCH).days)
    schedule = first.calendars.years("cn").get(day.year)
    holidays = set(schedule.holidays) if schedule else set()
    workdays = set(schedule.workdays) if schedule else set()
    short_notice = _year_file(
        day.year, holidays | {day}, workdays, f"{day.year} (benchmark: {day} made a day off)"
    )
    _, second = first_set.with_files([short_notice])
    return [
        Change(f"next year's calendar ({next_year} made official)", [official], first, None),
        Change(f"a day off at short notice ({day})", [short_notice], second, None),
    ]


# -- seeding -------------------------------------------------------------------------------


async def seed(settings: Settings, cases: int, wanted: list[Change]) -> tuple[float, list[bytes]]:
    """Produce ``cases`` open cases to the changelog; count, per change, those it touches (each
    change is counted from the one before). Returns the seconds and a sample of snapshots."""
    factory = CaseFactory(settings.config_files().load(), settings.partitions)
    before = factory.engine.config
    for each in wanted:
        each.change = calendar_change(before, each.config)
        before = each.config
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", max_batch_size=BATCH_BYTES
    )
    await producer.start()
    sample: list[bytes] = []
    every = max(cases // SAMPLE, 1)
    started = time.perf_counter()
    try:
        writer = ChangelogWriter(producer, f"{settings.app_id}-state-changelog")
        now = int(time.time())
        for n in range(cases):
            key, snapshot, _ = factory.background(n, now)
            await writer.put(factory.partition(key), key, snapshot)
            span = span_of(snapshot)
            for each in wanted:
                each.touched += each.change is None or each.change.touches(span)
            if n % every == 0:
                sample.append(snapshot)
        await writer.flush()
    finally:
        await producer.stop()
    return time.perf_counter() - started, sample


def costs(sample: list[bytes], change: Change, now: int) -> tuple[Costs, float]:
    """One case's cost on one core for the cases ``change`` touches, and the filter's alone for
    those it leaves."""
    rules = Engine(change.config).rules
    touched, left = Costs(), 0.0
    counted = untouched = 0
    for snapshot in sample:
        t0 = time.perf_counter()
        touches = change.change is None or change.change.touches(span_of(snapshot))
        t1 = time.perf_counter()
        if not touches:
            left += t1 - t0
            untouched += 1
            continue
        case = load_case(snapshot, rules)
        case.take_changes()
        t2 = time.perf_counter()
        case_view(case, now)
        t3 = time.perf_counter()
        dump_case(case)
        t4 = time.perf_counter()
        touched.filter_s += t1 - t0
        touched.replay_s += t2 - t1
        touched.view_s += t3 - t2
        touched.dump_s += t4 - t3
        counted += 1
    for name in ("filter_s", "replay_s", "view_s", "dump_s"):
        setattr(touched, name, getattr(touched, name) / max(counted, 1))
    return touched, left / max(untouched, 1)


def tracker_cost(sample: list[bytes], change: Change, now: int) -> float:
    """Seconds a case of ``sample`` costs the worker's own recompute (``Tracker.recompute`` in
    turns of 200, filter included, its outputs built as the worker builds them) on one core,
    in process: no Kafka, no Redis, a memory table."""
    app = faust.App(f"recompute-bench-{uuid.uuid4().hex[:8]}", store="memory://", web_enabled=False)
    store = TableStore(
        app.Table("state", partitions=1, key_type=bytes, value_type=bytes), next_change_of
    )
    tracker = Tracker(Engine(change.config), store)
    ids = []
    for snapshot in sample:
        case_id = json.loads(snapshot[8:])["case_id"]  # after the next-change prefix
        store[case_id] = snapshot
        ids.append(case_id)
    store.take_changes()
    found = change.change
    touches = None if found is None else (lambda stored: found.touches(span_of(stored)))
    started = time.perf_counter()
    for start in range(0, len(ids), 200):
        with writing_to(0):
            tracker.recompute(ids[start : start + 200], now, touches)
        store.take_changes()
    return (time.perf_counter() - started) / max(len(ids), 1)


# -- the workers -----------------------------------------------------------------------------


async def workers_ready(
    settings: Settings, read_model: ReadModel, workers: list[WorkerProcess], timeout: float
) -> None:
    """Until a canary case on every partition is in the read model and each worker reports
    partitions of its own."""
    factory = CaseFactory(settings.config_files().load(), settings.partitions)
    canaries: dict[int, tuple[bytes, bytes]] = {}
    n = 0
    while len(canaries) < settings.partitions:
        key, value = event(f"CANARY-{n}", 1, "accepted", int(time.time()), **OPENING)
        canaries.setdefault(factory.partition(key), (key, value))
        n += 1
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in canaries.values():
            await producer.send_and_wait(settings.events_topic, key=key, value=value)
    finally:
        await producer.stop()
    deadline = time.time() + timeout
    while True:
        for worker in workers:
            if worker.process.poll() is not None:
                raise RuntimeError(f"a worker died: see {worker.log_path}")
        seen = [await read_model.case(key.decode()) for key, _ in canaries.values()]
        reports = [r for r in await read_model.config_reports() if r.get("process") == "worker"]
        owners = [r for r in reports if r.get("partitions")]
        if all(seen) and len(owners) == len(workers):
            owned = sorted(p for r in owners for p in r["partitions"])
            if owned == list(range(settings.partitions)):
                return
        if time.time() > deadline:
            raise TimeoutError(f"workers not ready after {timeout:.0f} s")
        await asyncio.sleep(0.5)


# -- one pass --------------------------------------------------------------------------------


async def _probes(
    settings: Settings, label: str, sent: dict[str, tuple[float, int]], stop: asyncio.Event
) -> None:
    """``PROBE_RATE`` probe cases a second until ``stop``: id -> (sent at, deadline)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks=1)
    await producer.start()
    try:
        n = 0
        start = time.time()
        while not stop.is_set():
            deadline = int(time.time()) + PROBE_LEAD_S
            case_id = f"PROBE-{label}-{n:06d}"
            key, value = event(
                case_id, 1, "accepted", deadline - HOUR, **OPENING, data={"promised": "1h"}
            )
            sent[case_id] = (time.time(), deadline)
            await producer.send(settings.events_topic, key=key, value=value)
            n += 1
            await asyncio.sleep(max(start + n / PROBE_RATE - time.time(), 0))
        await producer.flush()
    finally:
        await producer.stop()


async def _views(
    redis: Redis,
    read_model: ReadModel,
    sent: dict[str, tuple[float, int]],
    seen: dict[str, float],
    stop: asyncio.Event,
) -> None:
    """Each probe's first appearance in the read model, polled every ``POLL_S``."""
    while not stop.is_set() or len(seen) < len(sent):
        waiting = [case_id for case_id in list(sent) if case_id not in seen]
        if waiting:
            async with redis.pipeline(transaction=False) as pipe:
                for case_id in waiting:
                    pipe.exists(read_model.key("case", case_id))
                found = await pipe.execute()
            at = time.time()
            for case_id, there in zip(waiting, found, strict=True):
                if there:
                    seen[case_id] = at - sent[case_id][0]
        await asyncio.sleep(POLL_S)


async def _reds(consumer: AIOKafkaConsumer, prefix: str, reds: dict[str, float]) -> None:
    """deadline_overdue records of the probes: Kafka append time minus the deadline."""
    while True:
        batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
        for messages in batches.values():
            for message in messages:
                if prefix.encode() not in message.value:  # keyed by alert id
                    continue
                record = json.loads(message.value)
                if record["kind"] == "deadline_overdue" and record["status"] == "firing":
                    deadline = parse_instant(record["fired_at"])
                    reds[record["case_id"]] = message.timestamp / 1000 - deadline


async def _steady(sent: dict[str, tuple[float, int]], seen: dict[str, float], until: float) -> None:
    """Until the probes of the last few seconds went through in under ``STEADY_S`` each: after a
    large restore, RocksDB compacts for a while and takes the cores the workers need."""
    while time.time() < until:
        recent = [c for c, (at, _) in sent.items() if time.time() - 6 <= at < time.time() - 3]
        if len(recent) >= 20 and all(seen.get(c, float("inf")) < STEADY_S for c in recent):
            return
        await asyncio.sleep(0.5)


def _finished(reports: list[dict[str, Any]], version: int, workers: int) -> list[float] | None:
    done = [
        r["recompute"]["seconds"]
        for r in reports
        if r.get("process") == "worker"
        and r.get("version") == version
        and r.get("recompute")
        and r["recompute"]["version"] == version
        and r["recompute"]["finished"]
    ]
    return done if len(done) >= workers else None


async def apply(
    settings: Settings,
    redis: Redis,
    read_model: ReadModel,
    change: Change,
    label: str,
    timeout: float,
) -> Pass:
    """Publish ``change`` and measure until both workers have recomputed under it."""
    measured = Pass(change)
    prefix = f"PROBE-{label}-"
    sent: dict[str, tuple[float, int]] = {}
    seen: dict[str, float] = {}
    reds: dict[str, float] = {}
    stop = asyncio.Event()
    consumer = AIOKafkaConsumer(
        settings.alerts_topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="latest",
        group_id=None,
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=100)  # assigned, positioned at the end
    tasks = [
        asyncio.create_task(_probes(settings, label, sent, stop)),
        asyncio.create_task(_views(redis, read_model, sent, seen, stop)),
        asyncio.create_task(_reds(consumer, prefix, reds)),
    ]
    try:
        await _steady(sent, seen, time.time() + STEADY_WAIT_S)
        await asyncio.sleep(BASELINE_S)  # the trickle's latency before the change, as baseline
        base = ConfigSet.read(settings.config_files())
        current = await configlink.newest(settings)
        files = current.files if current is not None else base
        wanted, _ = files.with_files(change.files)
        published = time.time()
        record = await configlink.publish(
            settings, ConfigRecord(wanted, "bench", int(published), "apply")
        )
        measured.version = record.version
        while (
            done := _finished(await read_model.config_reports(), record.version, WORKERS)
        ) is None:
            if time.time() - published > timeout:
                raise TimeoutError(f"{change.name}: not recomputed after {timeout:.0f} s")
            await asyncio.sleep(0.2)
        ended = time.time()
        measured.seconds = ended - published
        measured.worker_seconds = sorted(done)
        reports = await read_model.config_reports()
        measured.cases = sum(
            r["recompute"]["cases"]
            for r in reports
            if r.get("recompute") and r["recompute"]["version"] == record.version
        )
        stop.set()
        await tasks[0]
        await asyncio.wait_for(tasks[1], 60)
        last_deadline = max((d for _, d in sent.values()), default=0)
        while time.time() < last_deadline + 10 and len(reds) < len(sent):
            await asyncio.sleep(0.2)
        measured.probes_sent = len(sent)
        due = {case_id for case_id, (_, d) in sent.items() if d < ended}
        measured.probes_due = len(due)
        measured.timeline = sorted((sent[c][0] - published, s) for c, s in seen.items())
        measured.baseline = sorted(s for at, s in measured.timeline if -BASELINE_S <= at < 0)
        measured.ingestion = sorted(s for at, s in measured.timeline if 0 <= at < ended - published)
        measured.red = sorted(reds[c] for c in due if c in reds)
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await consumer.stop()
    return measured


# -- the run ---------------------------------------------------------------------------------


async def _measure(run: Run, bootstrap: str, redis_url: str, root: Path) -> None:
    redis = Redis.from_url(redis_url)
    settings = isolated_settings(bootstrap, redis_url, root)
    read_model = ReadModel(redis, settings.read_model_prefix)
    workers: list[WorkerProcess] = []
    try:
        await ensure_topics(settings)
        await create_changelog(settings)
        await configlink.running(settings)  # version 1, the files on disk, before the workers
        base_config = settings.config_files().load()
        now = int(time.time())
        wanted = changes(ConfigSet.read(settings.config_files()), base_config, now)
        run.seed_s, sample = await seed(settings, run.cases, wanted)
        started = time.time()
        workers = [WorkerProcess(settings, root / f"worker-{n}") for n in range(WORKERS)]
        await workers_ready(settings, read_model, workers, 300 + run.cases * 1e-3)
        run.ready_s = time.time() - started
        await asyncio.sleep(SETTLE_S)
        timeout = 120 + run.cases * 5e-3
        for n, change in enumerate(wanted):
            run.passes.append(await apply(settings, redis, read_model, change, f"{n}", timeout))
        now = int(time.time())
        run.touched_costs, _ = costs(sample, wanted[-1], now)  # touches nearly all
        _, run.untouched_filter_s = costs(sample, wanted[0], now)  # leaves most
        run.tracker_s = [tracker_cost(sample, change, now) for change in wanted]
    finally:
        for worker in workers:
            worker.stop()
        if keep := os.environ.get("REDLINE_BENCH_LOGS"):  # a directory for the workers' logs
            for worker in workers:
                shutil.copy(worker.log_path, Path(keep) / worker.log_path.parent.name)
        await read_model.flush()
        await delete_topics(settings.kafka_bootstrap, [settings.app_id])
        await redis.aclose()


def measure(
    cases: int, bootstrap: str = "127.0.0.1:9092", redis_url: str = "redis://127.0.0.1:6379/0"
) -> Run:
    run = Run(cases)
    with tempfile.TemporaryDirectory(prefix="redline-recompute-") as tmp:
        asyncio.run(_measure(run, bootstrap, redis_url, Path(tmp)))
    return run


def figures(run: Run) -> list[Figure]:
    """The run's figures, for BENCHMARKS.md."""
    n = run.cases
    at = f" at {n:,} open cases"
    out = [
        Figure(
            f"seeding and starting {WORKERS} workers{at}",
            run.seed_s + run.ready_s,
            "s",
            "—",
            f"seed {run.seed_s:.1f} s, restore until every partition is consumed "
            f"{run.ready_s:.1f} s",
        )
    ]
    costs = run.touched_costs
    for index, each in enumerate(run.passes):
        change = each.change
        rate = change.touched / each.seconds if each.seconds == each.seconds else float("nan")
        target = "≤ 60 s at 1,000,000" if n >= 1_000_000 else "—"
        out.append(
            Figure(
                f"recompute, {change.name}{at}",
                each.seconds,
                "s",
                target,
                f"{change.touched:,} cases touched by the change and replayed "
                f"({rate:,.0f}/s over {WORKERS} workers), {each.cases - change.touched:,} "
                f"left by the span filter; the workers' passes "
                f"{', '.join(f'{s:.1f}' for s in each.worker_seconds)} s",
            )
        )
        if len(run.tracker_s) > index:
            per_case = run.tracker_s[index]
            out.append(
                Figure(
                    f"… the same pass in process on one core (Tracker.recompute, no I/O){at}",
                    per_case * each.cases,
                    "s",
                    "—",
                    f"{per_case * 1e6:.0f} µs a case of a sample of {SAMPLE:,}, filtered ones "
                    f"included: {1 / per_case:,.0f} cases/s a core; the workers did "
                    f"{each.cases / max(each.worker_seconds or [float('nan')]) / WORKERS:,.0f}/s "
                    "each",
                )
            )
        note = (
            f"during the recompute of {change.name}: {each.probes_sent:,} probe cases at "
            f"{PROBE_RATE}/s, {each.probes_due:,} due before it ended"
        )
        red = percentiles("deadline-to-red latency", each.red, "s", "p99 ≤ 1 s", note, at)
        out += red[1:] if each.red else red
        out += percentiles(
            "ingestion latency before the change",
            each.baseline,
            "s",
            "—",
            f"the same trickle in the {BASELINE_S:.0f} s before the change was published",
            at,
        )[1:2]
        out += percentiles(
            "ingestion latency (event sent → view in the read model)",
            each.ingestion,
            "s",
            "—",
            note + f", Redis polled every {POLL_S * 1000:.0f} ms",
            at,
        )[1:]  # p99 and max
    out += [
        Figure(
            "one case's recompute on one core, no I/O",
            costs.case_s * 1e6,
            "µs",
            "—",
            f"filter {costs.filter_s * 1e6:.0f} µs (span_of, touches), replay "
            f"{costs.replay_s * 1e6:.0f} µs (load_case), view {costs.view_s * 1e6:.0f} µs, "
            f"snapshot {costs.dump_s * 1e6:.0f} µs; {1 / costs.case_s:,.0f} cases/s a core "
            "at most",
        ),
        Figure(
            "… a case the span filter leaves, on one core",
            run.untouched_filter_s * 1e6,
            "µs",
            "—",
            "span_of parses the snapshot's JSON, touches bisects the changed days",
        ),
    ]
    return out


def run(
    cases: int = 100_000,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
) -> list[Figure]:
    return figures(measure(cases, bootstrap, redis_url))


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    measured = measure(count)
    for figure in figures(measured):
        print(f"{figure.name}: {figure.value:,.2f} {figure.unit} ({figure.note})")
    if "--timeline" in sys.argv:  # ingestion latency by second of sending, from publication
        for each in measured.passes:
            print(each.change.name)
            by_second: dict[int, list[float]] = {}
            for at, latency in each.timeline:
                by_second.setdefault(int(at // 1), []).append(latency)
            for second, latencies in sorted(by_second.items()):
                print(f"  {second:+4d} s: max {max(latencies):.2f} s")
