"""The audit log and the rebuild's own keys in the read model, against the real Redis: entries
written once whatever the redeliveries, paged newest first; the marker, one rebuild lock, and
the events offsets answered for."""

from __future__ import annotations

import random
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from monitor.casetypes import Command
from monitor.readmodel import ReadModel, project_records
from monitor.records import AuditRecord, SupervisorCommand, new_command_id

pytestmark = pytest.mark.integration


def decision(at_ms: int, note: str = "") -> AuditRecord:
    command = SupervisorCommand(
        "C-1", "a1", Command.ACKNOWLEDGE, at_ms // 1000, "王主任", note, new_command_id(at_ms)
    )
    return AuditRecord.of(command, "deadline_overdue")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    instants=st.lists(st.integers(1_700_000_000_000, 1_900_000_000_000), min_size=1, max_size=30),
    seed=st.integers(0, 1_000),
    page=st.integers(1, 7),
)
async def test_each_decision_is_in_the_log_once_newest_first_whatever_the_redeliveries(
    redis: Redis, instants: list[int], seed: int, page: int
) -> None:
    model = ReadModel(redis, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        entries = [decision(at_ms, str(n)) for n, at_ms in enumerate(instants)]
        # written in any order, some of them twice (a worker's batch redelivered)
        rng = random.Random(seed)
        writes = entries + rng.sample(entries, k=len(entries) // 2)
        rng.shuffle(writes)
        await project_records(model, writes)
        paged, before = [], None
        while True:
            found, more = await model.audit_entries(before, page)
            paged += found
            if not more:
                break
            before = found[-1]["id"]
        assert [e["id"] for e in paged] == sorted((e.id for e in entries), reverse=True)
        assert {e["id"]: e["note"] for e in paged} == {e.id: e.note for e in entries}
    finally:
        await model.flush()


async def test_the_marker_says_whole_and_a_flush_takes_it(model: ReadModel) -> None:
    assert not await model.is_built()
    await model.mark_built("rebuilt by a test")
    assert await model.is_built() and await model.built_at() == "rebuilt by a test"
    await model.flush()
    assert not await model.is_built()


async def test_one_holder_of_the_rebuild_lock_at_a_time(model: ReadModel, redis: Redis) -> None:
    assert await model.lock_rebuild("worker-1", 30)
    assert not await model.lock_rebuild("worker-2", 30)
    assert await model.lock_rebuild("worker-1", 30)  # its holder extends it
    await model.flush()  # a rebuild by hand flushes while it holds the lock
    assert not await model.lock_rebuild("worker-2", 30)
    await model.unlock_rebuild("worker-2")  # not its lock: nothing happens
    assert not await model.lock_rebuild("worker-2", 30)
    await model.unlock_rebuild("worker-1")
    assert await model.lock_rebuild("worker-2", 0.05)
    # a holder that died frees it when the lock lapses
    assert await redis.pttl(model.key("rebuilding")) <= 50


async def test_handled_offsets_only_rise(model: ReadModel) -> None:
    await model.mark_handled({0: 10, 1: 3})
    await model.mark_handled({0: 7, 2: 0})  # a zombie worker's older batch changes nothing
    assert await model.handled_upto({0, 1, 2, 3}) == {0: 10, 1: 3, 2: 0}
    assert await model.handled_upto(set()) == {}
