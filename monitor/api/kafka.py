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

A transactional producer runs one transaction at a time, so concurrent requests share one:
:meth:`KafkaLink.send_all` queues the request's records and a single task commits whatever
is queued together (group commit), then answers each request. Under load a transaction
carries many requests; alone, a request waits for one transaction's round trips.

The API starts whether or not the brokers answer: ``/readyz`` then says Kafka is down and
ingestion answers 503 with Retry-After, while the read routes keep serving the read model. A
background task keeps trying to connect, with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

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


class KafkaLink:
    """One transactional producer (acks=all), whether it reached the brokers, and the task
    that commits the queued requests together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.transactional_id = f"redline-api-{settings.api_instance}"
        self.producer = self._new()
        self.connected = False
        self.problem = "not connected yet"
        self.transactions = 0  # committed, since the start
        self._queue: list[_Request] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _new(self) -> AIOKafkaProducer:
        timeout_s = self.settings.api_kafka_timeout_s
        return AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id="redline-api",
            acks="all",  # every in-sync replica has the record before we answer 202
            transactional_id=self.transactional_id,  # implies the idempotent producer
            transaction_timeout_ms=int((timeout_s + TRANSACTION_SLACK_S) * 1000),
            request_timeout_ms=int(timeout_s * 1000) + 5_000,
            linger_ms=0,
        )

    def start(self) -> None:
        """Begin connecting in the background, and committing what is queued."""
        self._tasks = [
            asyncio.create_task(self._connect(self.producer), name="redline-api-kafka"),
            asyncio.create_task(self._commit_queued(), name="redline-api-commits"),
        ]

    async def _connect(self, first: AIOKafkaProducer) -> None:
        async for attempt in attempts(CONNECT_BACKOFF):
            producer = first if attempt.number == 0 else self._new()
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    await producer.start()
            except (KafkaError, OSError, TimeoutError) as exc:
                self.problem = f"cannot reach {self.settings.kafka_bootstrap} ({_name(exc)})"
                await _stop(producer)
                if attempt.number == 0:
                    log.warning("Kafka: %s; ingestion answers 503 until it answers", self.problem)
                continue
            self.producer, self.connected, self.problem = producer, True, ""
            if attempt.number:
                log.warning("Kafka: connected to %s", self.settings.kafka_bootstrap)
            return

    async def stop(self) -> None:
        """Stop connecting and committing; answer what is queued 503; close the producer."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail(self._queue, KafkaUnavailable("the API is stopping"))
        self._queue = []
        await _stop(self.producer)

    async def check(self, timeout_s: float) -> str | None:
        """None when the brokers answer a metadata request now, else what is wrong."""
        if not self.connected:
            return self.problem
        try:
            async with asyncio.timeout(timeout_s):
                await self.producer.client.fetch_all_metadata()
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
        self._wake.set()
        await asyncio.shield(request.done)  # a client going away does not undo the commit

    async def _commit_queued(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                requests, self._queue = self._queue, []
                await self._commit(requests)

    async def _commit(self, requests: list[_Request]) -> None:
        """One transaction for every queued request, each answered by its future."""
        producer = self.producer
        if not self.connected:
            self._fail(requests, KafkaUnavailable(self.problem))
            return
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
            self._replace(producer, f"a transaction failed ({_name(exc)}); reconnecting")
            return
        self.transactions += 1
        for request in requests:
            if not request.done.done():
                request.done.set_result(None)

    def _replace(self, failed: AIOKafkaProducer, problem: str) -> None:
        """Put a fresh producer of the same transactional id in the failed one's place: its
        start fences the failed one and aborts what it left open."""
        self.connected, self.problem = False, problem
        replacement = self._new()

        async def swap() -> None:
            await _stop(failed)
            await self._connect(replacement)

        self._tasks.append(asyncio.create_task(swap(), name="redline-api-kafka"))

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
