"""``redline simulate``: a realistic load of window systems (窗口系统), for demos, tests and
benchmarks.

Each centre of the centres file is a window system of its own (``source`` ``win-<centre>``).
Cases arrive at random (a Poisson stream) and live the lives of :mod:`streams.histories`,
measured against their real clocks: a share go overdue. The *wire* then does what real feeds do
to some of them: sends a case's events shuffled within a small window, resends an event
verbatim, or sends a malformed line.

Everything up to the wire is a pure, seeded iterator (:func:`feed`): the same options give the
same lines. Only *when* each line goes out depends on the wall clock (:class:`Schedule`): not
before its simulated instant comes (``--time-scale`` simulated seconds per real second, from
``--start``), and at most ``--rate`` lines a second. Lines go to Kafka (key = case id, acks=all)
or to a JSON Lines file (``--dry-run``).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import math
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

from monitor.clock import Timelines
from monitor.config import DEFAULT_TIMEZONE, Config, ConfigError, ConfigFiles
from monitor.events import EventType
from monitor.timeutil import InstantError, parse_instant, zone
from streams.histories import (
    DeadlineOdds,
    DeadlinePace,
    Event,
    Pace,
    Shape,
    chance,
    family_extension,
    step_limits,
    timed_history,
)

DEFAULT_RATE = 200.0
# an hour a second. A worker's timers run on the real clock, so for lights that change on
# their own, start in the past (make run starts a week ago)
DEFAULT_TIME_SCALE = 3600.0
DATA = Path(__file__).resolve().parents[1] / "monitor" / "data"  # as monitor/settings.py
DEMO_CATALOG = Path(str(DATA / "catalog.yaml"))
DEMO_CENTRES = Path(str(DATA / "centres.yaml"))
STEPS = (("审查", 0.5), ("决定", 0.3))  # review, decision: shares of the promised limit
# Drawn uniformly: 补正 (supplement) is the most common reason to stop the clocks.
SUSPEND_REASONS = ("supplement",) * 4 + (
    "inspection",
    "testing",
    "expert_review",
    "appraisal",
    "hearing",
    "quarantine",
    "other",
)
EXPECTED = {
    "supplement": "10wd",
    "inspection": "5wd",
    "testing": "10wd",
    "expert_review": "15wd",
    "appraisal": "10wd",
    "hearing": "5wd",
    "quarantine": "3wd",
}


@dataclass(frozen=True, slots=True)
class Shares:
    """How often each turn happens: the first three per accepted case, out-of-order per case,
    duplicate and malformed per event."""

    late: float = 0.1  # go overdue: completed after the promised deadline, or never
    suspend: float = 0.15  # 暂停计时 once, in the review step
    extend: float = 0.05  # 延期 once
    out_of_order: float = 0.02  # events sent shuffled within windows of 2–3
    duplicate: float = 0.01  # resent verbatim
    malformed: float = 0.001  # followed by a malformed line derived from it


DEFAULTS = Shares()


@dataclass(frozen=True, slots=True)
class Load:
    """What to generate. The same load gives the same lines; the rate and time scale also set
    when they go out (:class:`Schedule`)."""

    config: Config
    start: int  # the first simulated instant
    seed: int = 1
    cases: int | None = None  # None: no end
    shares: Shares = DEFAULTS
    time_scale: float = DEFAULT_TIME_SCALE
    rate: float = DEFAULT_RATE  # with the time scale, sets how often cases arrive


def world(config: Config, shares: Shares) -> Shape:
    """The demo population: every catalog item at every centre, lives measured on the clocks."""
    if not config.catalog or not config.centres:
        raise ConfigError("simulate needs at least one catalog item and one centre")
    timelines = {
        code: Timelines(zone(centre.timezone), config.calendars.get(centre.calendar))
        for code, centre in config.centres.items()
    }
    odds = DeadlineOdds(late_share=shares.late)

    def pace(rng: random.Random, item: str, centre: str) -> Pace:
        return DeadlinePace(rng, config.catalog[item], timelines[centre], odds)

    return Shape(
        items=list(config.catalog),
        centres=list(config.centres),
        pace=pace,
        zone=lambda centre: zone(config.centres[centre].timezone),
        steps=lambda item: step_limits(config.catalog[item], STEPS),
        suspend_reasons=SUSPEND_REASONS,
        expected=EXPECTED.get,
        extension=lambda item: family_extension(config.catalog[item]),
        handlers=60,
        windows=8,
        departments={code: item.department for code, item in config.catalog.items()},
        suspend_share=shares.suspend,
        extend_share=shares.extend,
        correction_share=0.08,
        abandon_share=0.2,
        reject_share=0.03,
        tolerance_share=0.1,
        denied_share=0.05,
        deliver_share=0.6,
    )


# -- the wire ---------------------------------------------------------------------------------


class Role(StrEnum):
    """What a line is."""

    EVENT = "event"  # an event, sent for the first time
    DUPLICATE = "duplicate"  # an event sent again, verbatim
    MALFORMED = "malformed"  # a line the contract (or the idempotency key) refuses


class FaultKind(StrEnum):
    """How a malformed line is broken."""

    BROKEN_JSON = "broken_json"  # cut short
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    OVERSIZED_VALUE = "oversized_value"  # longer than the contract allows
    CONFLICT = "conflict"  # an event id already sent, with different content


@dataclass(frozen=True, slots=True)
class Fault:
    """A malformed line's flaw and the field a refusal names."""

    kind: FaultKind
    field: str


@dataclass(frozen=True, slots=True)
class Line:
    """One record for the topic (or line for the file), and what it is."""

    key: bytes  # the case id
    value: bytes  # JSON, UTF-8
    role: Role
    type: str  # of the event it is, or derives from
    occurred_at: int  # of that event
    send_at: int  # the simulated instant it goes out (after occurred_at when held back)
    first: bool = False  # the first line of its case to go out
    shuffled: bool = False  # its case is sent out of order
    fault: Fault | None = None


def dumps(event: Event) -> bytes:
    """An event as the window system sends it: compact JSON, Chinese as UTF-8."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def feed(load: Load) -> Iterator[Line]:
    """Every line of the load in the order it goes out (by simulated send instant)."""
    shape = world(load.config, load.shares)
    lives = random.Random(load.seed)
    wire = random.Random(f"{load.seed}/wire")  # str seeds are hashed with SHA-512: stable
    prefix = datetime.fromtimestamp(load.start, UTC).strftime(f"%Y%m%d%H%M%S-S{load.seed}")
    arrivals = _arrivals(load, shape)
    pending: list[tuple[int, int, Line]] = []
    order = itertools.count()
    upcoming = next(arrivals, None)
    while upcoming is not None or pending:
        # A case's lines go out no earlier than it arrives: generate each case before anything
        # due after its arrival leaves.
        if upcoming is not None and (not pending or upcoming[1] <= pending[0][0]):
            number, at = upcoming
            history = timed_history(lives, f"{prefix}-{number:06d}", at, shape)
            for line in _wire(history, wire, load.shares):
                heapq.heappush(pending, (line.send_at, next(order), line))
            upcoming = next(arrivals, None)
        else:
            yield heapq.heappop(pending)[2]


def _arrivals(load: Load, shape: Shape) -> Iterator[tuple[int, int]]:
    """(case number from 1, arrival instant): a Poisson stream whose steady state is about
    ``rate`` lines per real second at the time scale."""
    rng = random.Random(f"{load.seed}/arrivals")
    sample = random.Random(f"{load.seed}/sample")
    events = sum(len(timed_history(sample, "x", load.start, shape)) for _ in range(200)) / 200
    shares = load.shares
    lines = events * (1 + shares.duplicate + shares.malformed)
    spacing = load.time_scale * lines / (load.rate or DEFAULT_RATE)  # simulated s between cases
    elapsed = 0.0
    for number in itertools.count(1) if load.cases is None else range(1, load.cases + 1):
        yield number, load.start + int(elapsed)
        elapsed += rng.expovariate(1 / spacing)


def _wire(history: list[tuple[int, Event]], rng: random.Random, shares: Shares) -> list[Line]:
    """The lines of one case, in the order they are queued, with what the wire does to them."""
    key = history[0][1]["case_id"].encode()
    send_at = [at for at, _ in history]
    order = list(range(len(history)))
    shuffled = len(history) > 1 and chance(rng, shares.out_of_order)
    if shuffled:
        order = _shuffle(rng, send_at)
    lines: list[Line] = []
    for index in order:
        at, event = history[index]
        line = Line(
            key,
            dumps(event),
            Role.EVENT,
            event["type"],
            at,
            send_at[index],
            first=not lines,
            shuffled=shuffled,
        )
        lines.append(line)
        if chance(rng, shares.duplicate):  # a retry after a lost acknowledgement
            later = line.send_at + rng.randrange(600)
            lines.append(replace(line, role=Role.DUPLICATE, send_at=later, first=False))
        if chance(rng, shares.malformed):
            lines.append(_malformed(rng, event, line))
    return lines


def _shuffle(rng: random.Random, send_at: list[int]) -> list[int]:
    """Windows of 2–3 consecutive events, each held until its last event happened and then
    sent in a shuffled order (never the right one). Updates ``send_at``; returns the order."""
    order: list[int] = []
    first = 0
    while first < len(send_at):
        window = list(range(first, min(first + rng.randrange(2, 4), len(send_at))))
        shuffled = window[:]
        rng.shuffle(shuffled)
        if shuffled == window:
            shuffled.reverse()
        for index in window:
            send_at[index] = send_at[window[-1]]
        order.extend(shuffled)
        first = window[-1] + 1
    return order


_UNKNOWN_TYPES = ("case.approved", "case.reopened", "case.transferred")
_REQUIRED = ("event_id", "case_id", "occurred_at", "source")
_OPENING_REQUIRED = ("center", "item_code")
_MAX_LENGTH = {"event_id": 128, "case_id": 64, "source": 64, "handler": 64}


def _malformed(rng: random.Random, event: Event, original: Line) -> Line:
    """A malformed line derived from ``event``, sent a little after it."""
    kind = rng.choice(list(FaultKind))
    if kind is FaultKind.BROKEN_JSON:
        text = original.value.decode()
        value, fault = text[: rng.randrange(1, len(text) - 1)].encode(), Fault(kind, "(body)")
    else:
        broken = dict(event)
        if kind is FaultKind.UNKNOWN_TYPE:
            broken["type"] = rng.choice(_UNKNOWN_TYPES)
            name = "type"
        elif kind is FaultKind.MISSING_FIELD:
            opening = event["type"] in (EventType.SUBMITTED, EventType.ACCEPTED)
            name = rng.choice(_REQUIRED + _OPENING_REQUIRED if opening else _REQUIRED)
            del broken[name]
        elif kind is FaultKind.OVERSIZED_VALUE:
            name = rng.choice(list(_MAX_LENGTH))
            broken[name] = "X" * (_MAX_LENGTH[name] + 1 + rng.randrange(200))
        else:  # the same event id reused for an edited event
            broken["handler"] = f"edited-{rng.randrange(1000)}"
            name = "event_id"
        value, fault = dumps(broken), Fault(kind, name)
    return replace(
        original,
        value=value,
        role=Role.MALFORMED,
        send_at=original.send_at + rng.randrange(600),
        first=False,
        fault=fault,
    )


# -- timing -----------------------------------------------------------------------------------


class Schedule:
    """When each line may go out, awaited on the event loop's clock (no busy loop).

    A line is due when its simulated instant comes (``start`` + real seconds × ``time_scale``)
    and at least 1/``rate`` s after the previous one; a backlog of more than ``BURST`` seconds
    is forgotten rather than sent in a burst. ``rate`` 0 waits for nothing.
    """

    BURST = 0.1

    def __init__(
        self,
        start: int,
        time_scale: float,
        rate: float,
        duration: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.start = start
        self.time_scale = time_scale
        self.interval = 1 / rate if rate else 0.0
        self.clock = clock
        self.sleep = sleep
        self.origin = clock()
        self.end = math.inf if duration is None else self.origin + duration
        self.next = self.origin
        self.count = 0

    async def wait(self, send_at: int) -> bool:
        """Sleep until the line is due; False (after sleeping to the end) if the run's duration
        is over first."""
        now = self.clock()
        if not self.interval:
            self.count += 1
            if self.count % 1024 == 0:
                await self.sleep(0)  # let the producer's sender and signal handlers run
            return now < self.end
        simulated = self.origin + (send_at - self.start) / self.time_scale
        due = max(simulated, self.next, now - self.BURST)
        if due >= self.end:
            await self.sleep(max(self.end - now, 0))
            return False
        if due > now:
            await self.sleep(due - now)
        self.next = due + self.interval
        return True


# -- sinks ------------------------------------------------------------------------------------


class Sink(Protocol):
    """Where lines go."""

    where: str
    failed: int  # lines not delivered

    async def start(self) -> None: ...

    async def send(self, line: Line) -> None: ...

    async def close(self) -> None:
        """Deliver what is pending and let go of the resources."""
        ...


class FileSink:
    """JSON Lines, one line per record (what ``redline validate`` and ``replay`` read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = f"file:{path}"
        self.failed = 0
        self._file: Any = None

    async def start(self) -> None:
        self._file = self.path.open("wb")

    async def send(self, line: Line) -> None:
        self._file.write(line.value + b"\n")

    async def close(self) -> None:
        if self._file is not None:
            self._file.close()


class KafkaSink:
    """The events topic: key = case id, so a case's events share a partition; acks=all."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.where = f"kafka:{bootstrap}/{topic}"
        self.failed = 0
        self.error: str | None = None  # the first delivery error
        self._producer: Any = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer  # only when producing: the CLI starts faster

        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, max_batch_size=65_536
        )
        try:
            await self._producer.start()
        except Exception:
            await self._producer.stop()
            raise

    async def send(self, line: Line) -> None:
        delivery = await self._producer.send(self.topic, line.value, key=line.key)
        delivery.add_done_callback(self._delivered)

    def _delivered(self, delivery: asyncio.Future[Any]) -> None:
        error = delivery.exception() if not delivery.cancelled() else "cancelled"
        if error is not None:
            self.failed += 1
            self.error = self.error or str(error)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()  # flushes what is pending


class HttpSink:
    """The API's ``POST /v1/events``: lines batched into ``{"events": [...]}`` bodies of up to
    ``batch`` events, sent when full or ``linger`` seconds after the first. A line of broken
    JSON goes alone, as its own body, as a window system's bug would.
    429 and 503 are retried after their ``Retry-After``; refusals are answers, not failures."""

    def __init__(self, url: str, token: str, batch: int = 100, linger: float = 0.2) -> None:
        self.url = url.rstrip("/") + "/v1/events"
        self.where = self.url
        self.failed = 0
        self.error: str | None = None
        self.answers: Counter[str] = Counter()  # accepted / duplicate / refused, as answered
        self.refusals: Counter[str] = Counter()  # "field: rule" of each refused event's first error
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._batch, self._linger = batch, linger
        self._pending: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self._session: Any = None

    async def start(self) -> None:
        import aiohttp  # only when posting: the CLI starts faster

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def send(self, line: Line) -> None:
        if line.fault is not None and line.fault.kind is FaultKind.BROKEN_JSON:
            self._post([line.value], single=True)  # it would break a whole batch's JSON
            return
        self._pending.append(line.value)
        if len(self._pending) >= self._batch:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._linger, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            self._post(self._pending)
            self._pending = []

    def _post(self, values: list[bytes], single: bool = False) -> None:
        body = values[0] if single else b'{"events":[' + b",".join(values) + b"]}"
        task = asyncio.ensure_future(self._deliver(body, len(values)))
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)

    async def _deliver(self, body: bytes, lines: int, attempts: int = 5) -> None:
        for _ in range(attempts):
            try:
                async with self._session.post(self.url, data=body, headers=self._headers) as answer:
                    if answer.status in (429, 503):
                        await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                        continue
                    payload = await answer.json(content_type=None)
                    if answer.status in (200, 202, 207, 422) and isinstance(payload, dict):
                        for outcome in ("accepted", "duplicate", "refused"):
                            self.answers[outcome] += int(payload.get(outcome) or 0)
                        for result in payload.get("results") or ():
                            if result.get("errors"):
                                first = result["errors"][0]
                                self.refusals[f"{first['field']}: {first['rule']}"] += 1
                        if "accepted" not in payload:  # a refusal of the whole body
                            self.answers["refused"] += lines
                            self.refusals[str(payload.get("detail"))[:300]] += lines
                        return
                    error = f"HTTP {answer.status}: {str(payload)[:200]}"
            except Exception as exc:  # unreachable, timed out, not JSON
                error = repr(exc)
            break
        else:
            error = "still 429/503 after retries"
        self.failed += lines
        self.error = self.error or error

    async def close(self) -> None:
        self._flush()
        while self._posts:
            await asyncio.gather(*list(self._posts))
        if self._session is not None:
            await self._session.close()


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What went out."""

    by_type: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    malformed: Counter[str] = field(default_factory=Counter)
    cases: int = 0
    out_of_order_cases: int = 0
    first_at: int | None = None
    last_at: int | None = None

    def add(self, line: Line) -> None:
        if line.role is Role.EVENT:
            self.by_type[line.type] += 1
            if line.first:
                self.cases += 1
                self.out_of_order_cases += line.shuffled
        elif line.role is Role.DUPLICATE:
            self.duplicates += 1
        else:
            assert line.fault is not None
            self.malformed[line.fault.kind.value] += 1
        if self.first_at is None:
            self.first_at = line.send_at
        self.last_at = line.send_at

    @property
    def lines(self) -> int:
        return sum(self.by_type.values()) + self.duplicates + sum(self.malformed.values())


async def simulate(
    load: Load, sink: Sink, duration: float | None = None, handle_signals: bool = False
) -> dict[str, Any]:
    """Send the load to ``sink`` until it is done, ``duration`` seconds have passed, or (with
    ``handle_signals``) SIGINT/SIGTERM arrives; the summary of what went out."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    await sink.start()
    started = loop.time()
    schedule = Schedule(load.start, load.time_scale, load.rate, duration, loop.time)
    pump = asyncio.ensure_future(_pump(feed(load), schedule, sink, tally))
    signalled: list[str] = []

    def stop(signum: signal.Signals) -> None:
        signalled.append(signum.name)
        pump.cancel()

    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    for signum in signals:
        loop.add_signal_handler(signum, stop, signum)
    try:
        stopped = await pump
    except asyncio.CancelledError:
        if not signalled:
            raise
        stopped = signalled[0]
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
        await sink.close()
    return summary(load, sink, tally, stopped, loop.time() - started)


async def _pump(lines: Iterator[Line], schedule: Schedule, sink: Sink, tally: Tally) -> str:
    for line in lines:
        if not await schedule.wait(line.send_at):
            return "duration"
        await sink.send(line)
        tally.add(line)
    return "done"


def summary(load: Load, sink: Sink, tally: Tally, stopped: str, elapsed: float) -> dict[str, Any]:
    """The run in one JSON object: what went out, by kind, and how fast."""
    fmt = zone(DEFAULT_TIMEZONE).format
    return {
        "sink": sink.where,
        "stopped": stopped,  # done | duration | SIGINT | SIGTERM
        "seed": load.seed,
        "cases": tally.cases,
        "events": sum(tally.by_type.values()),
        "by_type": dict(sorted(tally.by_type.items())),
        "duplicates": tally.duplicates,
        "malformed": sum(tally.malformed.values()),
        "malformed_by_kind": dict(sorted(tally.malformed.items())),
        "out_of_order_cases": tally.out_of_order_cases,
        "lines": tally.lines,
        "failed": sink.failed,
        "elapsed_s": round(elapsed, 3),
        "rate": round(tally.lines / elapsed, 1) if elapsed > 0 else None,
        "simulated_from": None if tally.first_at is None else fmt(tally.first_at),
        "simulated_to": None if tally.last_at is None else fmt(tally.last_at),
    }


# -- the command ------------------------------------------------------------------------------


def _fail(message: str) -> typer.Exit:
    typer.echo(f"redline: {message}", err=True)
    return typer.Exit(2)


def simulate_command(
    bootstrap: Annotated[str, typer.Option(help="Kafka bootstrap servers")] = "127.0.0.1:9092",
    topic: Annotated[str, typer.Option(help="the events topic")] = "approval-events",
    rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="lines per second at most; 0: as fast as possible, without waiting for "
            "simulated time. Cases arrive at a pace that reaches it once their lives overlap "
            "(a few minutes at the default time scale)",
        ),
    ] = DEFAULT_RATE,
    cases: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="start this many cases, and end once their last line is sent (which waits "
            "for simulated time unless --rate is 0)",
        ),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(min=0.0, help="stop after this many seconds")
    ] = None,
    late_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="accepted cases that go overdue")
    ] = DEFAULTS.late,
    suspend_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="accepted cases suspended once")
    ] = DEFAULTS.suspend,
    extend_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="accepted cases extended once")
    ] = DEFAULTS.extend,
    out_of_order_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="cases sent shuffled within small windows")
    ] = DEFAULTS.out_of_order,
    duplicate_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="events resent verbatim")
    ] = DEFAULTS.duplicate,
    malformed_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="events followed by a malformed line (broken JSON, unknown type, missing "
            "field, oversized value, conflicting duplicate)",
        ),
    ] = DEFAULTS.malformed,
    seed: Annotated[int, typer.Option(help="the same seed and --start give the same lines")] = 1,
    time_scale: Annotated[
        float, typer.Option(help="simulated seconds per real second")
    ] = DEFAULT_TIME_SCALE,
    start: Annotated[
        str | None, typer.Option(help="first simulated instant (RFC 3339); default: now")
    ] = None,
    dry_run: Annotated[
        Path | None,
        typer.Option("--dry-run", help="write JSON Lines to FILE instead of Kafka", dir_okay=False),
    ] = None,
    api: Annotated[
        str | None,
        typer.Option(
            help="post to the HTTP API at this URL (e.g. http://127.0.0.1:8000) instead of "
            "producing to Kafka, in batches of 100, with the token of REDLINE_INGEST_TOKEN"
        ),
    ] = None,
    catalog: Annotated[
        Path, typer.Option(help="catalog YAML (事项目录)", exists=True, dir_okay=False)
    ] = DEMO_CATALOG,
    centres: Annotated[
        Path, typer.Option(help="centres YAML", exists=True, dir_okay=False)
    ] = DEMO_CENTRES,
) -> None:
    """Produce a realistic load of window systems (窗口系统) to the events topic, or to a file.

    Prints a summary as one JSON line at the end (also on Ctrl-C or SIGTERM).
    """
    if time_scale <= 0:
        raise _fail("--time-scale: must be more than 0")
    try:
        first = parse_instant(start) if start else int(time.time())
    except InstantError as exc:
        raise _fail(f"--start: {exc}") from None
    try:
        config = ConfigFiles(catalog, centres).load()
        world(config, DEFAULTS)  # refuses an empty catalog or centres file
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    shares = Shares(
        late_share,
        suspend_share,
        extend_share,
        out_of_order_share,
        duplicate_share,
        malformed_share,
    )
    load = Load(config, first, seed, cases, shares, time_scale, rate)
    sink: Sink
    if dry_run:
        sink = FileSink(dry_run)
    elif api:
        token = os.environ.get("REDLINE_INGEST_TOKEN")
        if not token:
            raise _fail("--api: set REDLINE_INGEST_TOKEN to an integrator token")
        sink = HttpSink(api, token)
    else:
        sink = KafkaSink(bootstrap, topic)
    from aiokafka.errors import KafkaError

    try:
        result = asyncio.run(simulate(load, sink, duration, handle_signals=True))
    except (OSError, KafkaError) as exc:  # an unwritable file, an unreachable broker
        raise _fail(f"{sink.where}: {exc}") from None
    if isinstance(sink, HttpSink):
        result["answers"] = dict(sink.answers)
        result["refusals"] = dict(sink.refusals.most_common(10))
    typer.echo(json.dumps(result, ensure_ascii=False))
    if result["failed"]:
        error = getattr(sink, "error", None)
        typer.echo(f"redline: {result['failed']} lines not delivered: {error}", err=True)
        raise typer.Exit(1)
