"""What a stateful faust app needs around each rebalance: two seek fixes and its timers re-armed.

faust loses records in two places around a rebalance (both measured below): a partition the
group never committed is read from where the fetcher happened to be, and a record fetched
between recovery's seek and the resumption of the flow is dropped. :func:`install_seek_fixes`
puts both fixes on an app; :func:`rearm_after_rebalance` rebuilds the app's timers from its
store for the partitions it owns once each rebalance completes.

Use, while building the app and before it starts (faust creates its consumer lazily)::

    install_seek_fixes(app)
    rearm_after_rebalance(app, source_topic, timers, store, forget=cache.clear)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import aiokafka
import faust
from aiokafka import TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as FaustConsumer

from streams.kit.tablestore import Armed
from streams.kit.timers import Timers

log = logging.getLogger(__name__)


def never_committed(
    committed: Mapping[TopicPartition, int | None], changelogs: Iterable[str]
) -> list[TopicPartition]:
    """The stream partitions without a committed offset (changelog partitions are left out:
    recovery positions those itself)."""
    tables = set(changelogs)
    return [tp for tp, offset in committed.items() if not offset and tp.topic not in tables]


class SeekFixConsumerThread(AIOKafkaConsumerThread):
    """faust's consumer thread, reading committed records only, with two fixes: its livelock
    check no longer crashes the worker while the broker is away, and after a rebalance a
    stream partition that the group never committed is read from its beginning.

    faust seeks the stream partitions "to their committed offsets" after each rebalance, and
    aiokafka's ``seek_to_committed`` leaves a partition without a committed offset where the
    fetcher happens to be. Records fetched between the assignment and that seek are dropped
    with the flow-control queues, so on a new group (the first minutes of a deployment, when
    two workers start together and events arrive during their first rebalances) they were
    lost for good: the fetch position was already past them."""

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # Read committed records only: the API produces in transactions and answers 503 for
        # those it aborts, which must then never be applied (monitor/api/kafka.py). faust
        # reads committed only under exactly-once processing, which the workers do not use;
        # aiokafka takes the level when the consumer starts, which is after this.
        consumer._isolation_level = "read_committed"
        return consumer

    def verify_event_path(self, now: float, tp: Any) -> None:
        # faust's livelock check reads each partition's fetch position, which aiokafka asserts
        # is known; while the broker is away a partition's position is reset and unknown, and
        # the assertion crashed the whole worker. Such a partition is skipped until it has one.
        consumer = self._ensure_consumer()
        assignment = consumer._fetcher._subscriptions.subscription
        if assignment is not None:
            state = assignment.assignment.state_value(TopicPartition(tp.topic, tp.partition))
            if state is None or not state.has_valid_position:
                return None
        return super().verify_event_path(now, tp)

    async def seek_to_committed(self) -> Mapping[Any, int]:
        return await self.call_thread(self._seek_to_committed_or_beginning)  # type: ignore[no-any-return]

    async def _seek_to_committed_or_beginning(self) -> Mapping[TopicPartition, int]:
        consumer = self._ensure_consumer()
        committed: Mapping[TopicPartition, int] = await consumer.seek_to_committed()
        fresh = never_committed(committed, self.app.tables.changelog_topics)
        if fresh:
            await consumer.seek_to_beginning(*fresh)
        return committed


class SeekFixConsumer(FaustConsumer):
    """faust's aiokafka consumer on a :class:`SeekFixConsumerThread`."""

    def _new_consumer_thread(self) -> SeekFixConsumerThread:
        return SeekFixConsumerThread(self, loop=self.loop, beacon=self.beacon)


class SeekAgain:
    """Replaces ``app.on_rebalance_end``: faust's, then a seek of the stream partitions again.

    faust's recovery seeks the stream partitions, then resumes their flow, which clears
    its stream queues: a record fetched between the seek and the clear was dropped while
    the fetch position was already past it (a canary produced as a worker started was
    lost in 4 of 6 starts). So once the rebalance has ended, seek again: the records since
    the committed offsets are read once more (at least once; the engine drops repeats)."""

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self.rebalance_ended = app.on_rebalance_end
        self.pending: set[asyncio.Future[None]] = set()

    def __call__(self) -> None:
        self.rebalance_ended()
        seek = asyncio.ensure_future(self.seek())
        self.pending.add(seek)
        seek.add_done_callback(self.pending.discard)

    async def seek(self) -> None:
        """Seek the stream partitions to their committed offsets (once more)."""
        try:
            await self.app.consumer.perform_seek()
        except Exception as exc:  # a new rebalance took the partitions: it seeks itself
            log.info("no seek after the rebalance: %r", exc)


def install_seek_fixes(app: faust.App) -> None:
    """Both seek fixes on ``app``; call it before the app starts."""
    app.on_rebalance_end = SeekAgain(app)  # type: ignore[method-assign]
    # before the consumer exists (it is created lazily); faust types Consumer as a ClassVar
    app.transport.Consumer = SeekFixConsumer  # type: ignore[misc]


class ArmedStore(Protocol):
    """A store that says when each of its keys is next due (a
    :class:`~streams.kit.tablestore.TableStore`)."""

    def armed(self) -> Iterable[Armed]: ...


def rearm(timers: Timers, armed: Iterable[Armed], owned: set[int]) -> None:
    """The timers of the ``owned`` partitions rebuilt from ``armed``; others forgotten."""
    timers.revoke(timers.owned() - owned)
    for partition, key, due in armed:
        if partition in owned:
            timers.arm(partition, key, due)


def owned_partitions(app: faust.App, topic: str) -> set[int]:
    """The partitions of ``topic`` assigned to this worker as active (not standby)."""
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic}


def rearm_after_rebalance(
    app: faust.App,
    topic: str,
    timers: Timers,
    store: ArmedStore,
    forget: Callable[[], None] = lambda: None,
) -> None:
    """After each rebalance, rebuild the timers of the partitions of ``topic`` this worker now
    owns, from the store; ``forget`` drops what the app caches of its keys (another worker may
    have changed them meanwhile: they are reloaded)."""

    async def rearm_owned(sender: Any, *_: Any, **__: Any) -> None:
        owned = owned_partitions(app, topic)
        forget()
        rearm(timers, store.armed(), owned)

    app.on_rebalance_complete.connect(rearm_owned)  # type: ignore[arg-type]  # faust types it too narrowly
