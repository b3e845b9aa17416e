"""End to end on the real stack: events into Kafka, a `redline worker`, the Redis read model."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from redis.asyncio import Redis

from bench.feeds import OPENING, SHANGHAI, event, produce
from bench.processes import WorkerProcess
from bench.runs import isolated_settings
from monitor.readmodel import ReadModel
from monitor.settings import Settings
from streams.app import AGENT_FAILED
from streams.rebuild import rebuild_read_model
from streams.topics import ensure_topics
from streams.tracker import REASON_HEADER
from tests.stack import eventually, once_changed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A worker of its own (topics, consumer group, data dir) for this module's tests."""
    data = tmp_path_factory.mktemp("worker")
    settings = isolated_settings(kafka_bootstrap, redis_url, data)
    asyncio.run(ensure_topics(settings))
    worker = WorkerProcess(settings, data)
    try:
        yield settings
    finally:
        worker.stop()


@pytest.fixture(scope="module")
async def read_model(stack: Settings) -> AsyncIterator[ReadModel]:
    """The worker's read model, as it stands across this module's tests."""
    redis = Redis.from_url(stack.redis_url)
    read_model = ReadModel(redis, stack.read_model_prefix)
    yield read_model
    await read_model.flush()
    await redis.aclose()


async def test_the_spec_example_reaches_the_read_model_red(
    stack: Settings, read_model: ReadModel
) -> None:
    accepted = int(SHANGHAI.day_start(20_724) + 10 * 3600)  # 2026-09-28 10:00 local
    await produce(
        stack, event("E2E-SPEC", 1, "accepted", accepted, **OPENING, data={"promised": "5wd"})
    )

    async def red() -> dict[str, Any] | None:
        case = await read_model.case("E2E-SPEC")
        return case if case and case["light"] == "red" else None

    case = await once_changed(read_model, red)
    assert case["deadline"] == "2026-10-11T00:00:00+08:00" and case["breached"] is True
    overdue = [a for a in case["alerts"] if a["kind"] == "deadline_overdue"]
    assert overdue[0]["fired_at"] == "2026-10-11T00:00:00+08:00"  # event time, not arrival


async def test_a_deadline_seconds_away_turns_red_at_its_instant(
    stack: Settings, read_model: ReadModel
) -> None:
    deadline = int(time.time()) + 8
    accepted = deadline - 3600  # a 1h promised limit runs from the instant itself
    await produce(
        stack, event("E2E-SOON", 1, "accepted", accepted, **OPENING, data={"promised": "1h"})
    )

    async def seen() -> dict[str, Any] | None:
        return await read_model.case("E2E-SOON")

    before = await once_changed(read_model, seen)
    assert before["light"] in ("green", "yellow")  # yellow: 0.8 of the hour is long past
    assert before["deadline"] == SHANGHAI.format(deadline)

    async def red() -> dict[str, Any] | None:
        case = await read_model.case("E2E-SOON")
        return case if case and case["light"] == "red" else None

    case = await once_changed(read_model, red, timeout=30)
    assert time.time() >= deadline, "red only once the deadline has passed"
    overdue = [a for a in case["alerts"] if a["kind"] == "deadline_overdue"]
    assert overdue[0]["fired_at"] == SHANGHAI.format(deadline)


async def test_bad_input_goes_to_the_dead_letter_topic_and_the_worker_goes_on(
    stack: Settings, read_model: ReadModel
) -> None:
    now = int(time.time())
    bad = [
        (b"E2E-BAD", b"{not json"),
        event("E2E-BAD", 1, "approved", now),
        event("E2E-BAD", 2, "accepted", now, center="GZ", item_code="NOPE"),
    ]
    await produce(stack, *bad, event("E2E-AFTER", 1, "submitted", now, **OPENING))
    consumer = AIOKafkaConsumer(
        stack.dlq_topic, bootstrap_servers=stack.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    letters: dict[bytes, list[dict[str, str]]] = {}
    try:
        async with asyncio.timeout(60):
            async for message in consumer:
                letters[message.value] = json.loads(dict(message.headers)[REASON_HEADER])
                if len(letters) == len(bad):
                    break
    finally:
        await consumer.stop()
    assert set(letters) == {value for _, value in bad}  # the original bytes, each one
    fields = sorted(reason["field"] for reasons in letters.values() for reason in reasons)
    assert fields == ["(body)", "item_code", "type"]

    async def after() -> dict[str, Any] | None:
        return await read_model.case("E2E-AFTER")

    assert (await once_changed(read_model, after))["status"] == "submitted"  # still consuming
    health = {source.source: source for source in await read_model.sources()}
    assert health["(unknown)"].refused >= 1  # the broken JSON names no source
    assert health["win-e2e"].refused >= 2  # the unknown type and the unknown item


async def test_a_flushed_read_model_is_rebuilt_from_kafka_as_it_was(
    stack: Settings, read_model: ReadModel
) -> None:
    now = int(time.time())
    await produce(
        stack,
        event("E2E-R1", 1, "accepted", now - 40 * 86_400, **OPENING),  # long overdue
        event("E2E-R2", 1, "submitted", now, **OPENING),
        event("E2E-R3", 1, "accepted", now - 86_400, **OPENING),
        event("E2E-R3", 2, "completed", now, data={"result": "approved"}),
    )

    async def settled() -> dict[str, Any] | None:
        cases = [await read_model.case(f"E2E-R{n}") for n in (1, 2, 3)]
        if any(case is None for case in cases):
            return None
        # E2E-R1 fires warning, overdue and statutory overdue one tick after the other: the
        # read model is settled only once the last of them is in
        if "statutory_overdue" not in {a["kind"] for a in cases[0]["alerts"]}:  # type: ignore[index]
            return None
        return {
            "cases": cases,
            "totals": await read_model.totals(),
            "alerts": await read_model.alerts(limit=100),
            "ranking": await read_model.department_ranking(),
        }

    before = await once_changed(read_model, settled)
    assert await read_model.case("E2E-R1") is not None
    await read_model.flush()
    assert await read_model.case("E2E-R1") is None
    done = await rebuild_read_model(stack)
    assert done.cases >= 3 and done.alerts >= 1
    assert await settled() == before


async def test_a_failure_nothing_expects_stops_the_worker_and_skips_nothing(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, redis_url, tmp_path)
    await ensure_topics(settings)
    redis = Redis.from_url(redis_url)
    read_model = ReadModel(redis, settings.read_model_prefix)
    # a read model someone broke by hand: the case script's counters are not a hash any more
    await redis.set(read_model.key("agg", "light"), "not a hash")
    first = WorkerProcess(settings, tmp_path / "first")
    second: WorkerProcess | None = None
    try:
        accepted = int(time.time()) - 3600
        await produce(settings, event("CRASH-1", 1, "accepted", accepted, **OPENING))

        async def exited() -> int | None:
            return first.process.poll()

        assert await eventually(exited, timeout=120) == AGENT_FAILED  # not alive and stalled
        assert "the worker's agent failed" in first.log()
        # repaired, the next worker reads the event again: nothing was skipped
        await redis.delete(read_model.key("agg", "light"))
        second = WorkerProcess(settings, tmp_path / "second")

        async def applied() -> dict[str, Any] | None:
            return await read_model.case("CRASH-1")

        case = await eventually(applied, timeout=120)
        assert case["light"] in ("green", "yellow")
    finally:
        first.stop()
        if second is not None:
            second.stop()
        await read_model.flush()
        await redis.aclose()
