"""The pipeline at scale: a worker holding 100 000 or 1 000 000 open cases.

Ingesting a million cases through a worker would take hours at its ~2 000 events/s, so the
worker's state is **seeded**: each open case is built offline by the real engine from one
``case.accepted`` event, its passed thresholds fired the way the worker's ticks would have
fired them, and its snapshot produced to the table's changelog topic exactly as the worker
writes it (key = case id, value = partition + ``dump_case``), on the partition its events hash
to (aiokafka's murmur2 partitioner). A worker started on an empty data directory then does what
a replacement machine does: restores every case from the changelog, re-arms one timer per case
(``rearm_after_rebalance`` in ``streams/kit/rebalance.py``) and resumes its streams.

Measured, in one run:

- **seeding**: the offline build and the produce to the changelog;
- **recovery**: from the worker process's start until it has processed a new event, a
  *canary* case produced right at the start and awaited in the Redis read model. Three starts:
  (a) an empty data directory (full restore), (b) after ``kill -9``, the same data directory
  (RocksDB kept), (c) after ``kill -9``, an empty one again. The worker's info log splits (a)
  into restore (until faust's "Restore complete!") and re-arming (until "Worker ready");
- **deadline-to-red latency**: probe cases with a 1h promised limit whose deadlines fall over
  30 s shortly after the worker is expected to be ready; the Kafka append time of each
  deadline_overdue record minus its deadline, as in ``bench/latency_bench.py``;
- **memory per open case**: the worker's RSS once recovered and armed, minus the RSS of a
  worker with an empty table measured the same way, over the number of cases. The Python
  heap's share (the timers) is measured apart with tracemalloc on the same structure; the
  rest is RocksDB (memtables and block cache) and allocator slack.

``PYTHONPATH=. .venv/bin/python bench/scale_bench.py 100000`` (add ``--quick`` to skip (c)).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import re
import struct
import sys
import tempfile
import time
import tracemalloc
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from redis.asyncio import Redis

from bench.engine_bench import Figure, percentiles
from bench.feeds import OPENING, event, produce
from bench.latency_bench import overdue_latencies
from bench.processes import WorkerProcess
from bench.runs import delete_topics, isolated_settings
from monitor.alert import AlertKind
from monitor.config import Config, Item
from monitor.engine import Engine
from monitor.events import parse_event
from monitor.limits import Unit
from monitor.readmodel import ReadModel
from monitor.settings import Settings
from monitor.snapshot import dump_case, next_change_of
from monitor.timeutil import DAY, HOUR
from streams.kit.timers import Timers
from streams.topics import ensure_topics

PROBES = 2_000
SPREAD_S = 30  # the probes' deadlines, like bench/latency_bench.py
SETTLE_S = 5.0  # after the canary, before reading RSS: lets the startup garbage be collected
STUCK_S = 60.0  # a canary not processed this long after "Worker ready" never will be
BATCH_BYTES = 512 * 1024  # per produce request; under the broker's 1 MiB message.max.bytes
IN_FLIGHT = 64  # produce batches awaited at most, so seeding memory stays flat
_PARTITION = struct.Struct(">i")  # the table value's prefix (streams.kit.tablestore.TableStore)
_LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


def changelog_topic(settings: Settings) -> str:
    """The worker table's changelog (faust: ``{app_id}-{table}-changelog``)."""
    return f"{settings.app_id}-state-changelog"


# -- seeding -------------------------------------------------------------------------------


@dataclass
class Seeded:
    """What was produced to the changelog, and the figures of doing it."""

    cases: int = 0  # background cases
    probes: int = 0
    seconds: float = 0.0
    snapshot_bytes: int = 0
    red: int = 0  # background cases already overdue (a few same-day items)
    first_deadline: int = 0  # of the probes
    partitions: array[int] = field(default_factory=lambda: array("i"))
    dues: array[int] = field(default_factory=lambda: array("q"))  # next change, -1 for none


def _span(item: Item) -> int:
    """Roughly how long a case of this item stays open, in calendar seconds: a working day is
    about 1.4 calendar days, and a same-day item (0wd) about half a day."""
    limit = item.promised
    if limit.unit is Unit.HOURS:
        return max(limit.amount, 1) * HOUR
    per = int(1.4 * DAY) if limit.unit is Unit.WORKING_DAYS else DAY
    return max(limit.amount * per, DAY // 2)


class CaseFactory:
    """Open cases built by the real engine, as snapshots the worker would have stored."""

    def __init__(self, config: Config, partitions: int, seed: int = 7) -> None:
        self.engine = Engine(config)
        self.rng = random.Random(seed)
        # Little's law: with the same intake per item, the open stock of an item grows with how
        # long its cases stay open, so the long items dominate a centre's open cases.
        self.items = list(config.catalog.values())
        self.weights = [_span(item) for item in self.items]
        self.centers = list(config.centers) or [OPENING["center"]]
        self.all_partitions = list(range(partitions))
        self.partitioner = DefaultPartitioner()

    def partition(self, key: bytes) -> int:
        """Where the producers' default partitioner sends this case's events."""
        return int(self.partitioner(key, self.all_partitions, self.all_partitions))

    def snapshot(self, key: bytes, value: bytes, now: int) -> tuple[bytes, bool]:
        """The case of one ``case.accepted`` event as of ``now``, and whether it is red."""
        event = parse_event(value)
        result = self.engine.offer(event, value)
        if result.refused:
            raise ValueError(f"seed event refused: {result.errors}")
        case_id = event.case_id
        case = self.engine.cases[case_id]
        # The ticks the worker would have had: each passed threshold fires at its instant.
        while (due := case.next_change()) is not None and due <= now:
            self.engine.advance(case_id, due)
        red = any(a.kind is AlertKind.DEADLINE_OVERDUE for a in case.alerts.values())
        snapshot = dump_case(case)
        # the offline engine holds one case at a time, and no idempotency index
        self.engine.forget(case_id)
        self.engine.event_ids.clear()
        return snapshot, red

    def background(self, n: int, now: int) -> tuple[bytes, bytes, bool]:
        """Case ``n``: an item by open stock, accepted at a random point of its promised time
        (so its deadline is usually ahead); redrawn younger if it came out overdue."""
        case_id = f"SC-2026-{n:09d}"
        item = self.rng.choices(self.items, self.weights)[0]
        center = self.rng.choice(self.centers)
        age = int(self.rng.random() * 0.9 * _span(item))
        for _ in range(3):
            key, value = event(
                case_id, 1, "accepted", now - age, center=center, item_code=item.code
            )
            snapshot, red = self.snapshot(key, value, now)
            if not red:
                break
            age //= 8
        return key, snapshot, red

    def probe(self, n: int, deadline: int, now: int) -> tuple[bytes, bytes]:
        """A probe: a 1h promised limit whose deadline is ``deadline``."""
        key, value = event(
            f"PROBE-{n:05d}", 1, "accepted", deadline - HOUR, **OPENING, data={"promised": "1h"}
        )
        return key, self.snapshot(key, value, now)[0]


class ChangelogWriter:
    """Produces table records in full batches per partition, a bounded number in flight."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.open: dict[int, BatchBuilder] = {}
        self.in_flight: list[asyncio.Future[object]] = []

    async def put(self, partition: int, key: bytes, snapshot: bytes) -> None:
        value = _PARTITION.pack(partition) + snapshot
        batch = self.open.get(partition)
        if batch is None:
            batch = self.open[partition] = self.producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None) is None:  # full
            await self._send(partition)
            batch = self.open[partition] = self.producer.create_batch()
            batch.append(key=key, value=value, timestamp=None)

    async def _send(self, partition: int) -> None:
        batch = self.open.pop(partition)
        self.in_flight.append(
            await self.producer.send_batch(batch, self.topic, partition=partition)
        )
        if len(self.in_flight) > IN_FLIGHT:
            done, self.in_flight = (
                self.in_flight[: IN_FLIGHT // 2],
                self.in_flight[IN_FLIGHT // 2 :],
            )
            await asyncio.gather(*done)

    async def flush(self) -> None:
        for partition in list(self.open):
            await self._send(partition)
        await asyncio.gather(*self.in_flight)
        self.in_flight = []


async def create_changelog(settings: Settings) -> None:
    """The changelog topic as faust would create it (compacted, the table's partition count):
    it must exist before the seed, and faust then leaves an existing topic as it is."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        topic = NewTopic(
            name=changelog_topic(settings),
            num_partitions=settings.partitions,
            replication_factor=settings.replication,
            topic_configs={"cleanup.policy": "compact"},
        )
        await admin.create_topics([topic])
    finally:
        await admin.close()


async def seed(settings: Settings, cases: int, probes: int, lead: float) -> Seeded:
    """Produce ``cases`` background snapshots and ``probes`` probe snapshots to the changelog.
    The probes come last, their deadlines ``lead`` seconds after the seeding ends."""
    factory = CaseFactory(settings.config_files().load(), settings.partitions)
    seeded = Seeded(cases=cases, probes=probes)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", max_batch_size=BATCH_BYTES
    )
    await producer.start()
    started = time.perf_counter()
    try:
        writer = ChangelogWriter(producer, changelog_topic(settings))
        now = int(time.time())
        for n in range(cases):
            key, snapshot, red = factory.background(n, now)
            partition = factory.partition(key)
            await writer.put(partition, key, snapshot)
            seeded.snapshot_bytes += len(snapshot)
            seeded.red += red
            seeded.partitions.append(partition)
            due = next_change_of(snapshot)
            seeded.dues.append(-1 if due is None else due)
        now = int(time.time())
        seeded.first_deadline = now + int(lead)
        for n in range(probes):
            deadline = seeded.first_deadline + n % SPREAD_S
            key, snapshot = factory.probe(n, deadline, now)
            await writer.put(factory.partition(key), key, snapshot)
        await writer.flush()
    finally:
        await producer.stop()
    seeded.seconds = time.perf_counter() - started
    return seeded


# -- a worker's start, its memory, its log ---------------------------------------------------


@contextmanager
def _loglevel(level: str) -> Iterator[None]:
    """WorkerProcess passes REDLINE_TEST_LOGLEVEL on: info logs carry the recovery's phases."""
    old = os.environ.get("REDLINE_TEST_LOGLEVEL")
    os.environ["REDLINE_TEST_LOGLEVEL"] = level
    try:
        yield
    finally:
        if old is None:
            del os.environ["REDLINE_TEST_LOGLEVEL"]
        else:
            os.environ["REDLINE_TEST_LOGLEVEL"] = old


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _log_instant(log: Path, marker: str, since: float) -> float | None:
    """Epoch seconds of the last line containing ``marker`` logged at or after ``since``
    (faust logs local time; a restart on the same data directory appends to the same log)."""
    found = None
    for line in log.read_text("utf-8", "replace").splitlines():
        if marker in line and (match := _LOG_TIME.match(line)):
            at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if at >= since:
                found = at
    return found


@dataclass
class Start:
    """One worker start, timed from its process's start (wall clock)."""

    worker: WorkerProcess
    started: float
    ready: float = float("nan")  # the canary is in the read model (nan: it never was)
    restored: float | None = None  # faust: "Restore complete!"
    rearmed: float | None = None  # faust: "Seek stream partitions…", logged after rearm
    resumed: float | None = None  # faust: "Worker ready"
    rss_kib: int = 0
    hwm_kib: int = 0

    @property
    def seconds(self) -> float:
        return self.ready - self.started

    def read_log(self) -> None:
        log, since = self.worker.log_path, self.started - 0.5  # log times are to the ms
        self.restored = _log_instant(log, "Restore complete", since)
        self.rearmed = _log_instant(log, "Seek stream partitions", since)
        self.resumed = _log_instant(log, "Worker ready", since)

    def phases(self) -> str:
        def span(start: float | None, end: float | None) -> str:
            return "?" if start is None or end is None else f"{end - start:.1f}"

        stuck = "" if self.ready == self.ready else "; the canary was never processed"
        return (
            f"restore done at {span(self.started, self.restored)} s, re-arming "
            f"{span(self.restored, self.rearmed)} s, seek and resume "
            f"{span(self.rearmed, self.resumed)} s{stuck}"
        )


async def start_worker(
    settings: Settings, data_dir: Path, read_model: ReadModel, label: str, timeout: float
) -> Start:
    """Start a worker, produce a canary case at once and wait for it in the read model."""
    started = time.time()
    with _loglevel("info"):
        start = Start(WorkerProcess(settings, data_dir), started)
    canary = f"CANARY-{label}"
    await produce(settings, event(canary, 1, "accepted", int(started), **OPENING))
    while await read_model.case(canary) is None:
        if start.worker.process.poll() is not None:
            raise RuntimeError(f"the worker died: see {start.worker.log_path}")
        if time.time() - started > timeout:
            raise TimeoutError(f"no canary after {timeout:.0f} s: see {start.worker.log_path}")
        start.read_log()
        if start.resumed is not None and time.time() - start.resumed > STUCK_S:
            # Ready for a while, yet the canary's partition is not consumed: reported, and
            # the run goes on (the other partitions, the timers and a restart still work).
            break
        await asyncio.sleep(0.1)
    else:
        start.ready = time.time()
    start.read_log()
    await asyncio.sleep(SETTLE_S)
    start.rss_kib, start.hwm_kib = memory_kib(start.worker.process.pid)
    return start


def timers_bytes(seeded: Seeded) -> float:
    """Python heap per armed case of a worker's Timers holding the seeded cases (tracemalloc),
    with the same key strings and instants a worker's rearm creates."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    timers = Timers()
    for n, (partition, due) in enumerate(zip(seeded.partitions, seeded.dues, strict=True)):
        timers.arm(partition, f"SC-2026-{n:09d}", None if due < 0 else due)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    armed = len(timers)
    del timers
    return held / max(armed, 1)


# -- the run -----------------------------------------------------------------------------


@dataclass
class Scale:
    """Everything one run measured."""

    cases: int
    seeded: Seeded = field(default_factory=Seeded)
    empty: Start | None = None
    first: Start | None = None
    killed: Start | None = None
    fresh: Start | None = None
    latencies: list[float] = field(default_factory=list)
    late_probes: int = 0  # due before the worker was ready: they measure recovery, not timers
    rss_after_window_kib: int = 0
    timers_bytes: float = 0.0


def _lead(cases: int) -> float:
    """Seconds from the seed's end to the first probe deadline: the worker's expected start,
    restore and re-arm (about 150 µs a case on this machine) with a margin."""
    return 45 + cases * 180e-6


async def _measure(
    scale: Scale, bootstrap: str, redis_url: str, root: Path, fresh_restart: bool
) -> None:
    redis = Redis.from_url(redis_url)
    baseline = isolated_settings(bootstrap, redis_url, root)
    settings = isolated_settings(bootstrap, redis_url, root)
    timeout = 120 + scale.cases * 1e-3
    current: WorkerProcess | None = None
    try:
        # An empty table: the same worker's floor for memory and start-up.
        await ensure_topics(baseline)
        start = await start_worker(
            baseline, root / "empty", ReadModel(redis, baseline.read_model_prefix), "empty", 120
        )
        start.worker.stop()
        scale.empty = start

        await ensure_topics(settings)
        await create_changelog(settings)
        scale.seeded = await seed(settings, scale.cases, PROBES, _lead(scale.cases))

        read_model = ReadModel(redis, settings.read_model_prefix)
        first = await start_worker(settings, root / "a", read_model, "a", timeout)
        current = first.worker
        scale.first = first
        armed_at = first.rearmed or first.ready
        until = scale.seeded.first_deadline + SPREAD_S + 120
        latencies = await overdue_latencies(settings, PROBES, until, prefix="PROBE-")
        deadlines = {
            f"PROBE-{n:05d}": scale.seeded.first_deadline + n % SPREAD_S for n in range(PROBES)
        }
        scale.late_probes = sum(1 for d in deadlines.values() if d < armed_at)
        scale.latencies = sorted(
            latency for case_id, latency in latencies.items() if deadlines[case_id] >= armed_at
        )
        scale.rss_after_window_kib = memory_kib(first.worker.process.pid)[0]

        first.worker.kill()
        killed = await start_worker(settings, root / "a", read_model, "b", timeout)
        current = killed.worker
        scale.killed = killed
        if fresh_restart:
            killed.worker.kill()
            fresh = await start_worker(settings, root / "c", read_model, "c", timeout)
            current = fresh.worker
            scale.fresh = fresh
        current.stop()
        current = None
    finally:
        if current is not None:
            current.stop()
        for each in (baseline, settings):
            await ReadModel(redis, each.read_model_prefix).flush()
            await delete_topics(each.kafka_bootstrap, [each.app_id])
        await redis.aclose()
    scale.timers_bytes = timers_bytes(scale.seeded)


def measure(
    cases: int,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
    fresh_restart: bool = True,
) -> Scale:
    """Seed ``cases`` open cases and measure a worker holding them."""
    scale = Scale(cases)
    with tempfile.TemporaryDirectory(prefix="redline-scale-") as tmp:
        asyncio.run(_measure(scale, bootstrap, redis_url, Path(tmp), fresh_restart))
    return scale


def figures(scale: Scale) -> list[Figure]:
    """The run's figures, for BENCHMARKS.md."""
    n = scale.cases
    at = f"at {n:,} open cases"
    seeded, first, empty = scale.seeded, scale.first, scale.empty
    assert first is not None and empty is not None
    out = [
        Figure(
            f"seeding the changelog {at}",
            seeded.seconds,
            "s",
            "—",
            f"{(n + seeded.probes) / seeded.seconds:,.0f} cases/s, snapshots "
            f"{seeded.snapshot_bytes / max(n, 1):.0f} B on average, {seeded.red:,} already red",
        ),
        Figure(
            "recovery, empty table (start to first event processed)",
            empty.seconds,
            "s",
            "—",
            "the floor: process start, joining the group",
        ),
        Figure(
            f"recovery {at}, empty data dir (full restore)",
            first.seconds,
            "s",
            "—",
            first.phases(),
        ),
    ]
    if scale.killed is not None:
        out.append(
            Figure(
                f"recovery after kill -9 {at}, RocksDB kept",
                scale.killed.seconds,
                "s",
                "≤ 60 s",
                scale.killed.phases() + "; includes the dead member's 10 s session timeout",
            )
        )
    if scale.fresh is not None:
        out.append(
            Figure(
                f"recovery after kill -9 {at}, empty data dir",
                scale.fresh.seconds,
                "s",
                "≤ 60 s",
                scale.fresh.phases(),
            )
        )
    latencies = scale.latencies
    note = (
        f"{seeded.probes:,} probes over {SPREAD_S} s among {n:,} open cases; "
        f"{len(latencies):,} turned red after arming, {scale.late_probes:,} were due before"
    )
    out += percentiles("deadline-to-red latency", latencies, "s", "p99 ≤ 1 s", note, f" {at}")
    per_case = (first.rss_kib - empty.rss_kib) * 1024 / max(n, 1)
    out += [
        Figure(
            f"worker memory per open case {at}",
            per_case,
            "bytes",
            "≤ 1 KB",
            f"RSS {first.rss_kib / 1024:,.0f} MiB after restore and arming (peak "
            f"{first.hwm_kib / 1024:,.0f} MiB), {empty.rss_kib / 1024:,.0f} MiB, empty table",
        ),
        Figure(
            "… of which the timers (Python heap)",
            scale.timers_bytes,
            "bytes",
            "—",
            "tracemalloc over the same Timers; the rest is RocksDB and allocator slack",
        ),
    ]
    if scale.killed is not None:
        out.append(
            Figure(
                f"worker memory per open case {at}, restarted on its RocksDB",
                (scale.killed.rss_kib - empty.rss_kib) * 1024 / max(n, 1),
                "bytes",
                "≤ 1 KB",
                f"RSS {scale.killed.rss_kib / 1024:,.0f} MiB",
            )
        )
    return out


def run(
    cases: int = 100_000,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
    fresh_restart: bool = True,
) -> list[Figure]:
    """Every scale figure at ``cases`` open cases."""
    return figures(measure(cases, bootstrap, redis_url, fresh_restart))


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    for figure in run(count, fresh_restart="--quick" not in sys.argv):
        print(f"{figure.name}: {figure.value:,.2f} {figure.unit} ({figure.note})")
