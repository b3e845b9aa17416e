"""``redline simulate``: a seeded, realistic load whose valid lines pass the contract, whose late
cases go red in the real engine, and whose faults are the ones asked for."""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from typer.testing import CliRunner

from bench.workload import feed_bytes
from monitor.cli import app
from monitor.config import Config, ConfigFiles
from monitor.engine import Engine
from monitor.events import EventRefused, EventType, parse_event
from monitor.replay import replay
from monitor.retry import Backoff
from monitor.timeutil import parse_instant
from streams.simulate.load import DEMO_CATALOG, DEMO_CENTERS, Load, Shares
from streams.simulate.schedule import Schedule, feed
from streams.simulate.sinks import HttpSink
from streams.simulate.wire import FaultKind, Line, Role
from tests.streams.topicends import read_to_end

START_TEXT = "2026-09-28T09:00:00+08:00"
START = parse_instant(START_TEXT)
MAIN = "from monitor.cli import main; main()"
NO_FAULTS = Shares(out_of_order=0.0, duplicate=0.0, malformed=0.0)
runner = CliRunner()


@pytest.fixture(scope="module")
def config() -> Config:
    return ConfigFiles(DEMO_CATALOG, DEMO_CENTERS).load()


def lines_of(config: Config, cases: int, shares: Shares, seed: int = 3) -> list[Line]:
    return list(feed(Load(config, START, seed=seed, cases=cases, shares=shares, rate=0)))


def simulate_to_file(path: Path, *options: str) -> dict[str, Any]:
    """``redline simulate --dry-run`` as a user runs it; its summary line."""
    result = runner.invoke(
        app,
        ["simulate", "--dry-run", str(path), "--rate", "0", "--start", START_TEXT, *options],
    )
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def index_of(event: dict[str, Any]) -> int:
    """An event's place in its case's life: event ids end with it."""
    return int(event["event_id"].rsplit("-", 1)[1])


def final_views(config: Config, path: Path) -> list[dict[str, Any]]:
    """Every case after replaying ``path`` in the engine, long after the last event."""
    engine = Engine(config)
    with path.open("rb") as lines:
        replay(lines, engine)
    last = max(parse_event(line).occurred_at for line in valid_lines(path))
    return list(engine.views(last + 400 * 86_400))


def valid_lines(path: Path) -> list[bytes]:
    found = []
    for line in path.read_bytes().splitlines():
        try:
            parse_event(line)
        except EventRefused:
            continue
        found.append(line)
    return found


# -- the dry run --------------------------------------------------------------------------------


def test_a_seeded_dry_run_is_deterministic(tmp_path: Path) -> None:
    first = simulate_to_file(tmp_path / "a.jsonl", "--cases", "300", "--seed", "7")
    again = simulate_to_file(tmp_path / "b.jsonl", "--cases", "300", "--seed", "7")
    simulate_to_file(tmp_path / "c.jsonl", "--cases", "300", "--seed", "8")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()
    timing = {"elapsed_s", "rate", "sink"}
    assert {k: v for k, v in first.items() if k not in timing} == {
        k: v for k, v in again.items() if k not in timing
    }
    assert first["stopped"] == "done" and first["cases"] == 300 and first["failed"] == 0
    lines = (tmp_path / "a.jsonl").read_bytes().splitlines()
    assert (
        len(lines) == first["lines"] == first["events"] + first["duplicates"] + first["malformed"]
    )


def test_the_summary_counts_what_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    summary = simulate_to_file(path, "--cases", "500", "--malformed-share", "0.05")
    events = [json.loads(line) for line in valid_lines(path)]
    conflicts = summary["malformed_by_kind"].get("conflict", 0)
    assert sum(summary["by_type"].values()) == summary["events"]
    assert len(events) == summary["events"] + summary["duplicates"] + conflicts
    assert summary["by_type"][EventType.SUBMITTED] >= summary["cases"] == 500
    assert summary["simulated_from"] == START_TEXT


def test_validate_reads_the_dry_run_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    summary = simulate_to_file(path, "--cases", "300", "--malformed-share", "0.05")
    result = runner.invoke(app, ["validate", str(path), "--catalog", str(DEMO_CATALOG)])
    # a conflicting duplicate keeps to the contract: only the engine's idempotency key refuses it
    invalid = summary["malformed"] - summary["malformed_by_kind"].get("conflict", 0)
    assert (
        result.stdout.splitlines()[-1] == f"{summary['lines'] - invalid} valid, {invalid} invalid"
    )


def test_every_line_but_the_malformed_keeps_the_contract_and_the_catalog(config: Config) -> None:
    engine = Engine(config)
    lines = lines_of(config, 1000, Shares(out_of_order=0.1, duplicate=0.05, malformed=0.02))
    kinds: Counter[str] = Counter()
    sources: defaultdict[str, set[str]] = defaultdict(set)
    for line in lines:
        if line.role is Role.MALFORMED:
            continue
        event = parse_event(line.value)
        assert engine.check(event) == []
        assert line.key == event.case_id.encode()
        sources[event.case_id].add(event.source)
        if event.center is not None:  # each centre is a window system of its own
            sources[event.case_id].add(f"win-{event.center}")
        kinds[event.type] += 1
    assert set(kinds) == set(EventType)  # every type of the contract appears
    assert all(len(found) == 1 for found in sources.values())
    assert set(sources) == {f"20260928010000-S3-{n:06d}" for n in range(1, 1001)}


def test_sources_are_the_centers_window_systems(config: Config) -> None:
    lines = lines_of(config, 300, NO_FAULTS)
    sources = {json.loads(line.value)["source"] for line in lines}
    assert sources == {f"win-{code}" for code in config.centers}


def test_the_shares_are_respected(config: Config) -> None:
    shares = Shares(
        late=0.25, suspend=0.3, extend=0.2, out_of_order=0.1, duplicate=0.05, malformed=0.02
    )
    lines = lines_of(config, 1500, shares)
    events = [line for line in lines if line.role is Role.EVENT]
    assert len(events) > 10_000
    types: defaultdict[bytes, set[str]] = defaultdict(set)
    for line in events:
        types[line.key].add(line.type)
    accepted = [key for key, kinds in types.items() if EventType.ACCEPTED in kinds]

    def share_of(kind: EventType) -> float:
        return sum(kind in types[key] for key in accepted) / len(accepted)

    assert share_of(EventType.SUSPENDED) == pytest.approx(0.3, abs=0.05)
    assert share_of(EventType.EXTENDED) == pytest.approx(0.2, abs=0.05)
    shuffled = sum(1 for line in events if line.first and line.shuffled)
    assert shuffled / len(types) == pytest.approx(0.1, abs=0.04)
    duplicates = sum(line.role is Role.DUPLICATE for line in lines)
    assert duplicates / len(events) == pytest.approx(0.05, abs=0.015)
    malformed = sum(line.role is Role.MALFORMED for line in lines)
    assert malformed / len(events) == pytest.approx(0.02, abs=0.01)

    engine = Engine(config)
    replay([line.value for line in lines], engine)
    views = list(engine.views(max(line.occurred_at for line in lines) + 400 * 86_400))
    measured = [view for view in views if view["accepted_at"] is not None]
    breached = sum(view["breached"] for view in measured) / len(measured)
    assert breached == pytest.approx(0.25, abs=0.05)


def test_malformed_lines_are_refused_naming_the_intended_field(config: Config) -> None:
    lines = lines_of(config, 1000, Shares(malformed=0.05))
    engine = Engine(config)
    faults: Counter[FaultKind] = Counter()
    for line in lines:
        fault = line.fault
        if line.role is not Role.MALFORMED:
            assert fault is None
            assert not engine.offer(parse_event(line.value), line.value).refused
            continue
        assert fault is not None
        faults[fault.kind] += 1
        if fault.kind is FaultKind.CONFLICT:  # same event id, other content: the engine refuses
            result = engine.offer(parse_event(line.value), line.value)
            assert [error.field for error in result.errors] == ["event_id"]
            assert "different content" in result.errors[0].rule
            continue
        with pytest.raises(EventRefused) as refused:
            parse_event(line.value)
        assert fault.field in [error.field for error in refused.value.errors], (
            fault,
            refused.value,
        )
    assert set(faults) == set(FaultKind)


def test_without_faults_nothing_is_shuffled_resent_or_malformed(config: Config) -> None:
    lines = lines_of(config, 500, NO_FAULTS)
    assert all(line.role is Role.EVENT and not line.shuffled for line in lines)
    last: dict[bytes, int] = {}
    for line in lines:  # each case's events go out in the order they happened
        index = index_of(json.loads(line.value))
        assert index == last.get(line.key, -1) + 1
        last[line.key] = index


def test_out_of_order_and_duplicates_appear_as_configured(config: Config) -> None:
    lines = lines_of(config, 500, Shares(out_of_order=0.3, duplicate=0.1, malformed=0.0))
    seen: set[bytes] = set()
    orders: defaultdict[bytes, list[int]] = defaultdict(list)
    for line in lines:
        if line.role is Role.DUPLICATE:
            assert line.value in seen  # verbatim, and after the original
            continue
        seen.add(line.value)
        orders[line.key].append(index_of(json.loads(line.value)))
    shuffled = {line.key for line in lines if line.shuffled}
    assert 100 < len(shuffled) < 200
    for key, order in orders.items():
        assert sorted(order) == list(range(len(order)))  # every event once
        if key in shuffled:
            assert order != sorted(order)
            # shuffled only within small windows: no event strays more than two places
            assert all(abs(place - index) <= 2 for place, index in enumerate(order))
        else:
            assert order == sorted(order)
    assert sum(line.role is Role.DUPLICATE for line in lines) > 200


@pytest.mark.parametrize("late_share", ["0", "1"])
def test_replayed_late_cases_are_red_and_the_others_not(
    config: Config, tmp_path: Path, late_share: str
) -> None:
    path = tmp_path / "feed.jsonl"
    simulate_to_file(
        path,
        *("--cases", "600", "--late-share", late_share, "--suspend-share", "0.3"),
        *("--extend-share", "0.2", "--out-of-order-share", "0.2"),
        *("--duplicate-share", "0.05", "--malformed-share", "0.01"),
    )
    views = final_views(config, path)
    accepted = [view for view in views if view["accepted_at"] is not None]
    assert len(accepted) > 500
    late = late_share == "1"
    assert all(view["breached"] is late for view in accepted)
    assert not any(view["breached"] for view in views if view["accepted_at"] is None)
    assert {view["light"] for view in views} == ({"red", "closed"} if late else {"closed"})


def test_on_time_cases_end_before_their_deadlines_whatever_the_seed(config: Config) -> None:
    shares = Shares(
        late=0.0, suspend=0.5, extend=0.5, out_of_order=0.0, duplicate=0.0, malformed=0.0
    )
    for seed in (11, 12, 13):
        engine = Engine(config)
        lines = lines_of(config, 800, shares, seed=seed)
        report = replay([line.value for line in lines], engine)
        assert report.problems == []
        views = engine.views(max(line.occurred_at for line in lines) + 400 * 86_400)
        alerts = {alert["kind"] for view in views for alert in view["alerts"]}
        assert alerts.isdisjoint(
            {"deadline_overdue", "intake_overdue", "late_extension", "procedure_violation"}
        )


def test_sigterm_and_ctrl_c_stop_with_a_summary(tmp_path: Path) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        path = tmp_path / f"{signum.name}.jsonl"
        process = subprocess.Popen(
            [sys.executable, "-c", MAIN, "simulate", "--dry-run", str(path), "--rate", "2000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while not (path.exists() and path.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err.decode()
        summary = json.loads(out)
        assert summary["stopped"] == signum.name
        assert summary["lines"] == len(path.read_bytes().splitlines()) > 0


# -- the schedule -------------------------------------------------------------------------------


class FakeTime:
    """A clock that moves only when the schedule sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def sent_at(schedule: Schedule, fake: FakeTime, send_at: list[int]) -> list[float]:
    times = []
    for at in send_at:
        assert await schedule.wait(at)
        times.append(round(fake.now, 6))
    return times


async def test_the_rate_spaces_lines_evenly() -> None:
    fake = FakeTime()
    schedule = Schedule(START, 3600, rate=10, clock=fake.clock, sleep=fake.sleep)
    assert await sent_at(schedule, fake, [START] * 5) == [0.0, 0.1, 0.2, 0.3, 0.4]


async def test_lines_wait_for_their_simulated_instant() -> None:
    fake = FakeTime()
    schedule = Schedule(START, 3600, rate=1000, clock=fake.clock, sleep=fake.sleep)
    hours = [START, START + 1800, START + 7200]
    assert await sent_at(schedule, fake, hours) == [0.0, 0.5, 2.0]


async def test_the_duration_ends_the_run_at_its_end() -> None:
    fake = FakeTime()
    schedule = Schedule(START, 3600, rate=1000, duration=1.5, clock=fake.clock, sleep=fake.sleep)
    assert await schedule.wait(START)
    assert not await schedule.wait(START + 7200)
    assert fake.now == 1.5


async def test_a_backlog_is_not_sent_as_a_burst() -> None:
    fake = FakeTime()
    schedule = Schedule(START, 3600, rate=10, clock=fake.clock, sleep=fake.sleep)
    await schedule.wait(START)
    fake.now += 10  # a slow sink: 100 lines behind
    times = await sent_at(schedule, fake, [START] * 4)
    assert times == [10.0, 10.0, 10.1, 10.2]  # only Schedule.BURST (0.1 s) is caught up


async def test_rate_zero_waits_for_nothing() -> None:
    fake = FakeTime()
    schedule = Schedule(START, 3600, rate=0, clock=fake.clock, sleep=fake.sleep)
    for hour in range(3000):
        assert await schedule.wait(START + hour * 3600)
    assert fake.now == 0 and set(fake.sleeps) == {0}


# -- the HTTP sink ------------------------------------------------------------------------------


async def post_through(answers: list[tuple[int, dict[str, Any]]], tries: int = 5) -> HttpSink:
    """Two events through an :class:`HttpSink` to a server that gives ``answers`` in turn (with
    Retry-After: 0 on 429 and 503), and the jitter drawn as 0: nothing really waits."""
    bodies: list[bytes] = []

    async def events(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        status, payload = answers[len(bodies) - 1]
        headers = {"Retry-After": "0"} if status in (429, 503) else {}
        return web.json_response(payload, status=status, headers=headers)

    app = web.Application()
    app.router.add_post("/v1/events", events)
    server = TestServer(app)
    await server.start_server()
    sink = HttpSink(
        str(server.make_url("/")), "rl_test", backoff=Backoff(0.5, uniform=lambda: 0.0), tries=tries
    )
    try:
        await sink.start()
        for number in range(2):
            await sink.send(Line(b"C-1", b'{"n":%d}' % number, Role.EVENT, "case.submitted", 0, 0))
        await sink.close()
    finally:
        await server.close()
    assert len(bodies) == min(len(answers), tries)
    assert all(body == b'{"events":[{"n":0},{"n":1}]}' for body in bodies)  # the same body again
    return sink


async def test_busy_answers_are_retried_until_the_events_are_taken() -> None:
    taken = {"accepted": 2, "duplicate": 0, "refused": 0, "results": []}
    sink = await post_through([(429, {"detail": "slow down"}), (503, {}), (202, taken)])
    assert sink.failed == 0 and sink.error is None
    assert sink.answers == Counter(accepted=2)


async def test_still_busy_after_the_last_try_is_a_failure() -> None:
    sink = await post_through([(503, {})] * 5, tries=3)
    assert sink.failed == 2 and sink.error == "still 429/503 after retries"


async def test_an_error_answer_is_not_retried() -> None:
    sink = await post_through([(401, {"detail": "unknown token"})])
    assert sink.failed == 2 and sink.error == "HTTP 401: {'detail': 'unknown token'}"


# -- the benchmarks' workload ------------------------------------------------------------------


def test_the_benchmark_workload_is_unchanged() -> None:
    # bench/workload.py now draws its histories from streams.simulate.lives: same bytes as before
    digest = hashlib.sha256(b"\n".join(feed_bytes(300, seed=7))).hexdigest()
    assert digest == "321c4b53721cb603ec74712ae02ee34b09b17893e085f9d748dfa1d12aa5c40a"


# -- the real broker ----------------------------------------------------------------------------


@pytest.mark.integration
async def test_the_load_reaches_kafka_keyed_by_case(kafka_bootstrap: str, config: Config) -> None:
    topic = f"simulate-{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])
        await check_the_round_trip(kafka_bootstrap, topic, config)
    finally:
        await admin.delete_topics([topic])
        await admin.close()


async def check_the_round_trip(bootstrap: str, topic: str, config: Config) -> None:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", MAIN, "simulate", "--bootstrap", bootstrap, "--topic", topic),
        *("--cases", "400", "--rate", "0", "--seed", "11", "--start", START_TEXT),
        *("--duplicate-share", "0.05", "--malformed-share", "0.01"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    summary = json.loads(out)
    shares = Shares(duplicate=0.05, malformed=0.01)
    expected = list(feed(Load(config, START, seed=11, cases=400, shares=shares, rate=0)))
    assert summary["lines"] == len(expected) and summary["failed"] == 0

    # the simulator has exited: the end offsets are final, nothing more can come
    records = await read_to_end(bootstrap, topic)
    assert Counter((r.key, r.value) for r in records) == Counter(
        (line.key, line.value) for line in expected
    )
    for line in expected:
        if line.role is Role.EVENT:
            assert line.key == json.loads(line.value)["case_id"].encode()
    partitions: defaultdict[bytes, set[int]] = defaultdict(set)
    for record in records:
        partitions[record.key].add(record.partition)
    assert all(len(found) == 1 for found in partitions.values())  # a case keeps to one
    assert {p for found in partitions.values() for p in found} == {0, 1, 2, 3}
