"""Failover on the real stack: two workers share the partitions, one is killed (SIGKILL)."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

from bench.feeds import OPENING, SHANGHAI, event, produce
from bench.processes import WorkerProcess
from bench.runs import isolated_settings
from monitor.readmodel import ReadModel
from monitor.settings import Settings
from streams.topics import ensure_topics
from tests.stack import eventually, once_changed
from tests.streams.topicends import all_committed, end_offsets, read_to_end

pytestmark = pytest.mark.integration
CASES = 24


async def two_members_stable(settings: Settings) -> bool | None:
    """True once the workers' consumer group is stable with two members (4 partitions: faust's
    assignor gives each some)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([settings.app_id])
    finally:
        await admin.close()
    groups = [group for response in responses for group in response.groups]
    # (error_code, group, state, protocol_type, protocol, members)
    stable = [g for g in groups if g[2] == "Stable" and len(g[5]) == 2]
    return True if stable else None


async def answered_for(settings: Settings, read_model: ReadModel) -> bool | None:
    """True once the stored handled offsets reach the end of every events partition."""
    ends = await end_offsets(settings.kafka_bootstrap, [settings.events_topic])
    stored = await read_model.handled_upto({tp.partition for tp in ends})
    return all(stored.get(tp.partition, -1) >= end - 1 for tp, end in ends.items()) or None


async def alert_records(settings: Settings) -> list[dict[str, Any]]:
    """Every alert record, once the workers have handled and committed every input: nothing
    more comes without new input (proven by end offsets, not by a quiet while)."""
    inputs = [settings.events_topic, settings.ticks_topic, settings.commands_topic]
    await eventually(lambda: all_committed(settings.kafka_bootstrap, settings.app_id, inputs))
    records = await read_to_end(settings.kafka_bootstrap, settings.alerts_topic)
    return [json.loads(record.value) for record in records]


async def test_the_survivor_takes_over_without_losing_state_or_alerts(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, redis_url, tmp_path).model_copy(
        update={"session_timeout_s": 6.0}
    )
    await ensure_topics(settings)
    redis = Redis.from_url(redis_url)
    read_model = ReadModel(redis, settings.read_model_prefix)
    first = WorkerProcess(settings, tmp_path / "first")
    second = WorkerProcess(settings, tmp_path / "second")
    try:
        await eventually(lambda: two_members_stable(settings), timeout=120)
        accepted = int(time.time()) - 30 * 86_400  # FOOD-LICENSE, 10wd: long overdue
        ids = [f"FO-{n:02d}" for n in range(CASES)]
        await produce(settings, *(event(i, 1, "accepted", accepted, **OPENING) for i in ids))

        async def all_red() -> list[dict[str, Any]] | None:
            views = [await read_model.case(i) for i in ids]
            red = [v for v in views if v is not None and v["light"] == "red"]
            return red if len(red) == CASES else None

        await once_changed(read_model, all_red, timeout=90)
        # every event answered for (its feed-health count out, its offset stored), and not all
        # of them committed yet, most likely: the survivor reads those again
        await eventually(lambda: answered_for(settings, read_model))
        first.kill()  # SIGKILL: no goodbye to the group, nothing flushed on purpose

        done_at = int(time.time())
        await produce(
            settings, *(event(i, 2, "completed", done_at, data={"result": "ok"}) for i in ids)
        )

        async def all_completed() -> list[dict[str, Any]] | None:
            views = [await read_model.case(i) for i in ids]
            done = [v for v in views if v is not None and v["status"] == "completed"]
            return done if len(done) == CASES else None

        views = await once_changed(read_model, all_completed, timeout=120)  # the survivor took over
        for view in views:  # no state lost: the acceptance from before the kill is there
            assert view["accepted_at"] == SHANGHAI.format(accepted)
            assert view["breached"] is True and view["on_time"] is False

        records = await alert_records(settings)
        overdue = {
            r["case_id"]: r
            for r in records
            if r["kind"] == "deadline_overdue" and r["status"] == "resolved"
        }
        assert set(overdue) == set(ids)  # no alert lost
        assert all(r["resolution"] == "completed" for r in overdue.values())
        changes = Counter(
            (r["id"], r["status"], r["resolution"], r["fired_at"], r["resolved_at"])
            for r in records
        )
        assert [c for c, n in changes.items() if n > 1] == []  # none duplicated
        # feed health counts what the window system sent, once: events the survivor read
        # again are not counted as its resends
        (health,) = [h for h in await read_model.sources() if h.source == "win-e2e"]
        assert (health.accepted, health.duplicate, health.refused) == (2 * CASES, 0, 0)
    finally:
        first.kill()
        second.stop()
        await read_model.flush()
        await redis.aclose()
