"""Recovery on the real stack: the only worker stops, time passes, a new one takes over."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bench.feeds import OPENING, SHANGHAI, event, produce
from bench.processes import WorkerProcess
from bench.runs import isolated_settings
from monitor.readmodel import ReadModel
from streams.topics import ensure_topics
from tests.stack import once_changed
from tests.streams.topicends import read_to_end

pytestmark = pytest.mark.integration


async def test_a_restarted_worker_recovers_state_rearms_timers_and_catches_up(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = isolated_settings(kafka_bootstrap, redis_url, tmp_path)
    await ensure_topics(settings)
    redis = Redis.from_url(redis_url)
    read_model = ReadModel(redis, settings.read_model_prefix)

    async def case(case_id: str, **want: Any) -> dict[str, Any] | None:
        view = await read_model.case(case_id)
        if view is None or any(view.get(k) != v for k, v in want.items()):
            return None
        return view

    first = WorkerProcess(settings, tmp_path / "first")
    try:
        now = int(time.time())
        await produce(settings, event("REC-WARM", 1, "submitted", now, **OPENING))
        await once_changed(
            read_model, lambda: case("REC-WARM"), timeout=90
        )  # the worker is consuming

        deadline = int(time.time()) + 10
        accepted_long_ago = now - 86_400
        await produce(
            settings,
            event("REC-SOON", 1, "accepted", deadline - 3600, **OPENING, data={"promised": "1h"}),
            event("REC-OPEN", 1, "accepted", accepted_long_ago, **OPENING),
        )
        await once_changed(read_model, lambda: case("REC-OPEN"))
        soon = await once_changed(read_model, lambda: case("REC-SOON"))
        assert soon["light"] != "red", "the worker must stop before the deadline"
    finally:
        first.stop()
    # the first worker sent no tick for REC-SOON before it stopped (read up to the end offsets,
    # not a glance at the read model): red can come only from the new worker's re-armed timers
    ticks = await read_to_end(settings.kafka_bootstrap, settings.ticks_topic)
    assert b"REC-SOON" not in {tick.key for tick in ticks}, "stopped after the deadline"

    # the deadline passes with no worker: the workers run on the real clock, so this wait is
    # the scenario itself (the new worker's tick comes late, and must still carry the deadline)
    await asyncio.sleep(max(0.0, deadline + 1 - time.time()))

    second = WorkerProcess(settings, tmp_path / "second")  # empty store: state from changelog
    try:
        red = await once_changed(read_model, lambda: case("REC-SOON", light="red"), timeout=90)
        overdue = [a for a in red["alerts"] if a["kind"] == "deadline_overdue"]
        assert overdue[0]["fired_at"] == SHANGHAI.format(deadline)  # at the deadline, not later

        await produce(
            settings,
            event("REC-OPEN", 2, "completed", int(time.time()), data={"result": "approved"}),
        )
        done = await once_changed(read_model, lambda: case("REC-OPEN", status="completed"))
        assert done["accepted_at"] == SHANGHAI.format(accepted_long_ago)  # history kept
        assert done["on_time"] is True
    finally:
        second.stop()
        await read_model.flush()
        await redis.aclose()
