"""The API's Kafka producer: every record it sends is committed in a transaction, so that an
answer is final.

Why transactions. A producer that retries in the background can deliver a record after the
API has given up on it and answered 503: the caller then resends (perhaps corrected) what is
already on its way. Here every record goes out inside a Kafka transaction, and the workers
read ``read_committed`` (``streams.kit.rebalance``): a record is applied only once its
transaction commits. So:

- a request answered 202 was committed before the answer;
- a request answered 503 with :class:`KafkaUnavailable` never will be: its transaction was not
  asked to commit, and it is aborted, by the broker's transaction timeout or, sooner, by the
  fresh producer of the same transactional id that takes the failed one's place;
- one case stays open: the commit was asked for and not confirmed in time (the broker went away
  in between). Whether it took effect is not known here; that is
  :class:`OutcomeUnknown`, and ingestion keeps the event's idempotency claim so that a resend is
  judged against it (``monitor.api.ledger``).

A transactional producer runs one transaction at a time, so the link keeps a few of them
(``api_kafka_producers``) and concurrent requests share transactions: :meth:`KafkaLink.send_all`
queues the request's records, and the first idle producer commits everything queued together
(group commit), then answers each request. Under load a transaction carries many requests,
and a request waits at most for the transactions already running to free a producer.

The API starts whether or not the brokers answer: ``/readyz`` then says Kafka is down and
ingestion answers 503 with Retry-After, while the read routes keep serving the read model. A
background task keeps trying to connect, with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from monitor.retry import Backoff, attempts
from monitor.settings import Settings

log = logging.getLogger("redline.api")

CONNECT_TIMEOUT_S = 10.0
# between attempts to connect: up to 0.5 s, 1 s, 2 s, 4 s, then up to 5 s
CONNECT_BACKOFF = Backoff(base=0.5, cap=5.0)
STOP_TIMEOUT_S = 2.0  # for a failed producer to let go
# What the broker allows a transaction beyond the API's wait before it aborts it: an API that
# died mid-transaction holds back the partitions' committed end that long at most.
TRANSACTION_SLACK_S = 10.0


class KafkaUnavailable(Exception):
    """The records were not committed and never will be: nothing of the request is applied."""


class OutcomeUnknown(KafkaUnavailable):
    """The commit was asked for and not confirmed in time: the records may or may not be
    applied. A resend of the same records is safe (the workers drop repeats)."""


@dataclass(slots=True)
class _Request:
    records: list[tuple[str, bytes, bytes]]  # (topic, key, value)
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(slots=True)
class _Lane:
    """One transactional producer: whether it reached the brokers and is committing now."""

    transactional_id: str
    producer: AIOKafkaProducer
    ready: bool = False
    busy: bool = False
    problem: str = "not connected yet"


class KafkaLink:
    """A few transactional producers (acks=all), each committing the requests queued while
    the others were busy: one transaction at a time each, so a request never waits behind more
    than the transactions already running."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lanes = [
            _Lane(transactional_id, self._new(transactional_id))
            for transactional_id in (
                f"redline-api-{settings.api_instance}-{n}"
                for n in range(settings.api_kafka_producers)
            )
        ]
        self._queue: list[_Request] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        """Whether some producer can take a transaction."""
        return any(lane.ready for lane in self.lanes)

    @property
    def problem(self) -> str:
        """What keeps the producers from the brokers ("" once one reached them)."""
        return "" if self.connected else self.lanes[0].problem

    def _new(self, transactional_id: str) -> AIOKafkaProducer:
        timeout_s = self.settings.api_kafka_timeout_s
        return AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id="redline-api",
            acks="all",  # every in-sync replica has the record before we answer 202
            transactional_id=transactional_id,  # implies the idempotent producer
            transaction_timeout_ms=int((timeout_s + TRANSACTION_SLACK_S) * 1000),
            request_timeout_ms=int(timeout_s * 1000) + 5_000,
            linger_ms=0,
        )

    def start(self) -> None:
        """Begin connecting in the background."""
        for lane in self.lanes:
            self._spawn(self._connect(lane, lane.producer), "redline-api-kafka")

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, lane: _Lane, first: AIOKafkaProducer) -> None:
        async for attempt in attempts(CONNECT_BACKOFF):
            producer = first if attempt.number == 0 else self._new(lane.transactional_id)
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    await producer.start()
            except (KafkaError, OSError, TimeoutError) as exc:
                lane.problem = f"cannot reach {self.settings.kafka_bootstrap} ({_name(exc)})"
                await _stop(producer)
                if attempt.number == 0 and lane is self.lanes[0]:
                    log.warning("Kafka: %s; ingestion answers 503 until it answers", lane.problem)
                continue
            lane.producer, lane.ready, lane.problem = producer, True, ""
            if attempt.number and lane is self.lanes[0]:
                log.warning("Kafka: connected to %s", self.settings.kafka_bootstrap)
            self._dispatch()
            return

    async def stop(self) -> None:
        """Stop connecting and committing; answer what is queued 503; close the producers."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail(self._queue, KafkaUnavailable("the API is stopping"))
        self._queue = []
        for lane in self.lanes:
            await _stop(lane.producer)

    async def check(self, timeout_s: float) -> str | None:
        """None when the brokers answer a metadata request now, else what is wrong."""
        lane = next((lane for lane in self.lanes if lane.ready), None)
        if lane is None:
            return self.problem
        try:
            async with asyncio.timeout(timeout_s):
                await lane.producer.client.fetch_all_metadata()
        except (KafkaError, OSError, TimeoutError) as exc:
            return f"{self.settings.kafka_bootstrap} does not answer ({_name(exc)})"
        return None

    async def send_all(self, topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
        """Produce every (key, value) to ``topic`` and return once they are committed; raise
        :class:`KafkaUnavailable` when none of them ever will be, :class:`OutcomeUnknown` when
        that is not known. Either comes within about ``api_kafka_timeout_s``."""
        if not self.connected:
            raise KafkaUnavailable(self.problem)
        request = _Request([(topic, key, value) for key, value in records])
        self._queue.append(request)
        self._dispatch()
        await asyncio.shield(request.done)  # a client going away does not undo the commit

    def _dispatch(self) -> None:
        """Hand what is queued to an idle producer, as one transaction; fail it at once when
        no producer is connected."""
        if not self._queue:
            return
        if not self.connected:
            self._fail(self._queue, KafkaUnavailable(self.problem))
            self._queue = []
            return
        lane = next((lane for lane in self.lanes if lane.ready and not lane.busy), None)
        if lane is None:
            return  # the next producer to finish takes the queue
        requests, self._queue = self._queue, []
        lane.busy = True
        self._spawn(self._commit(lane, requests), "redline-api-commit")

    async def _commit(self, lane: _Lane, requests: list[_Request]) -> None:
        """One transaction for ``requests``, each answered by its future."""
        producer = lane.producer
        committing = False
        try:
            async with asyncio.timeout(self.settings.api_kafka_timeout_s):
                await producer.begin_transaction()
                sent = [
                    await producer.send(topic, value=value, key=key)
                    for request in requests
                    for topic, key, value in request.records
                ]
                await asyncio.gather(*sent)
                committing = True
                await producer.commit_transaction()
        except (KafkaError, OSError, TimeoutError) as exc:
            kind = OutcomeUnknown if committing else KafkaUnavailable
            log.warning(
                "Kafka: a transaction of %d requests %s (%s)",
                len(requests),
                "may or may not have committed" if committing else "was not committed",
                _name(exc),
            )
            self._fail(requests, kind(_name(exc)))
            self._replace(lane, f"a transaction failed ({_name(exc)}); reconnecting")
        else:
            for request in requests:
                if not request.done.done():
                    request.done.set_result(None)
        finally:
            lane.busy = False
            self._dispatch()

    def _replace(self, lane: _Lane, problem: str) -> None:
        """Put a fresh producer of the same transactional id in the failed one's place: its
        start fences the failed one and aborts what it left open."""
        failed = lane.producer
        lane.ready, lane.problem = False, problem
        replacement = self._new(lane.transactional_id)

        async def swap() -> None:
            await _stop(failed)
            await self._connect(lane, replacement)

        self._spawn(swap(), "redline-api-kafka")

    @staticmethod
    def _fail(requests: list[_Request], error: KafkaUnavailable) -> None:
        for request in requests:
            if not request.done.done():
                request.done.set_exception(error)
                request.done.exception()  # retrieved: a caller that left logs nothing


async def _stop(producer: AIOKafkaProducer) -> None:
    """Close a producer, not waiting long for one whose brokers are gone."""
    with contextlib.suppress(KafkaError, OSError, TimeoutError):
        async with asyncio.timeout(STOP_TIMEOUT_S):
            await producer.stop()


def _name(exc: BaseException) -> str:
    name, text = type(exc).__name__, str(exc)
    if not text:
        return name
    return text if text.startswith(name) else f"{name}: {text}"
