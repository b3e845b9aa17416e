"""The API's Kafka producer, which may come and go without taking the API down.

The API starts whether or not the brokers answer: ``/readyz`` then says Kafka is down and
ingestion answers 503 with Retry-After, while the read routes keep serving the read model. A
background task keeps trying to connect, with backoff; once connected, aiokafka itself
reconnects after a broker restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from monitor.retry import Backoff, attempts
from monitor.settings import Settings

log = logging.getLogger("redline.api")

CONNECT_TIMEOUT_S = 10.0
# between attempts to connect: up to 0.5 s, 1 s, 2 s, 4 s, then up to 5 s
CONNECT_BACKOFF = Backoff(base=0.5, cap=5.0)


class KafkaUnavailable(Exception):
    """The brokers could not take or confirm the records in time: nothing is acknowledged."""


class KafkaLink:
    """One idempotent producer (acks=all) and whether it reached the brokers."""

    def __init__(
        self, settings: Settings, on_connect: Callable[[AIOKafkaProducer], None] | None = None
    ) -> None:
        self.settings = settings
        self.producer = self._new()
        self.connected = False
        self.problem = "not connected yet"
        self._on_connect = on_connect
        self._task: asyncio.Task[None] | None = None

    def _new(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id="redline-api",
            acks="all",  # every in-sync replica has the record before we answer 202
            enable_idempotence=True,  # a retried produce is not written twice
            request_timeout_ms=int(self.settings.api_kafka_timeout_s * 1000) + 5_000,
        )

    def start(self) -> None:
        """Begin connecting in the background."""
        self._task = asyncio.create_task(self._connect(), name="redline-api-kafka")

    async def _connect(self) -> None:
        async for attempt in attempts(CONNECT_BACKOFF):
            producer = self.producer if attempt.number == 0 else self._new()
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    await producer.start()
            except (KafkaError, OSError, TimeoutError) as exc:
                self.problem = f"cannot reach {self.settings.kafka_bootstrap} ({_name(exc)})"
                await producer.stop()
                if attempt.number == 0:
                    log.warning("Kafka: %s; ingestion answers 503 until it answers", self.problem)
                continue
            self.producer, self.connected, self.problem = producer, True, ""
            if self._on_connect is not None:
                self._on_connect(producer)
            if attempt.number:
                log.warning("Kafka: connected to %s", self.settings.kafka_bootstrap)
            return

    async def stop(self) -> None:
        """Stop connecting; flush and close the producer."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.producer.stop()

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
        """Produce every (key, value) and wait until the brokers confirmed each one, or raise
        :class:`KafkaUnavailable`. Some may have been written when it raises: a retry
        produces them again, and the workers drop the repeat as a duplicate (event_id).

        One ``send`` per record: the accumulator then packs the records of every concurrent
        request into shared batches. (``send_batch`` would queue a batch per request and
        partition, each waiting for the previous one to drain.)"""
        if not self.connected:
            raise KafkaUnavailable(self.problem)
        producer = self.producer
        futures: list[asyncio.Future[object]] = []
        try:
            async with asyncio.timeout(self.settings.api_kafka_timeout_s):
                for key, value in records:
                    futures.append(await producer.send(topic, value=value, key=key))
                await asyncio.gather(*futures)
        except (KafkaError, TimeoutError) as exc:
            for future in futures:  # their outcome no longer matters to anyone
                future.add_done_callback(_settle)
            raise KafkaUnavailable(_name(exc)) from None


def _settle(future: asyncio.Future[object]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: no "exception was never retrieved" in the log


def _name(exc: BaseException) -> str:
    name, text = type(exc).__name__, str(exc)
    if not text:
        return name
    return text if text.startswith(name) else f"{name}: {text}"
