"""Around a rebalance: the partitions to read from their start, the re-seek, the re-arm."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition

from streams.kit.rebalance import SeekAgain, never_committed, rearm
from streams.kit.tablestore import Armed
from streams.kit.timers import Timers


def test_only_stream_partitions_never_committed_are_read_from_their_start() -> None:
    events0, events1, events2 = (TopicPartition("events", n) for n in range(3))
    changelog = TopicPartition("app-state-changelog", 0)
    committed = {events0: 42, events1: None, events2: 0, changelog: None}
    assert never_committed(committed, ["app-state-changelog"]) == [events1, events2]  # type: ignore[arg-type]


def test_re_arming_keeps_the_owned_partitions_from_the_store_and_forgets_the_rest() -> None:
    timers = Timers()
    timers.arm(0, "OLD", 50)  # a partition no longer owned
    timers.arm(1, "STALE", 60)  # owned still: rebuilt from the store, which no longer arms it
    armed = [Armed(1, "A", 100), Armed(2, "B", 100), Armed(3, "C", 100), Armed(1, "D", None)]
    rearm(timers, armed, owned={1, 2})
    assert timers.owned() == {1, 2}
    assert sorted(timers.pop_due(1_000)) == [(1, "A", 100), (1, "STALE", 60), (2, "B", 100)]


def test_re_arming_moves_a_key_to_the_instant_the_store_holds() -> None:
    timers = Timers()
    timers.arm(1, "A", 100)
    rearm(timers, [Armed(1, "A", 200)], owned={1})
    assert timers.pop_due(199) == [] and timers.pop_due(200) == [(1, "A", 200)]


class FakeConsumer:
    def __init__(self, error: Exception | None = None) -> None:
        self.seeks = 0
        self.error = error

    async def perform_seek(self) -> None:
        self.seeks += 1
        if self.error is not None:
            raise self.error


class FakeApp:
    def __init__(self, consumer: FakeConsumer) -> None:
        self.consumer = consumer
        self.ended = 0

    def on_rebalance_end(self) -> None:
        self.ended += 1


async def test_after_the_rebalance_ends_the_stream_partitions_are_sought_again() -> None:
    app = FakeApp(FakeConsumer())
    seek_again = SeekAgain(app)  # type: ignore[arg-type]
    seek_again()
    assert app.ended == 1  # faust's own handler first
    await asyncio.gather(*seek_again.pending)
    assert app.consumer.seeks == 1 and not seek_again.pending


async def test_a_seek_that_a_new_rebalance_interrupts_is_let_go() -> None:
    app: Any = FakeApp(FakeConsumer(RuntimeError("partitions revoked")))
    seek_again = SeekAgain(app)
    seek_again()
    await asyncio.gather(*seek_again.pending)  # does not raise
    assert app.consumer.seeks == 1
