"""What a route may ask for: the settings, Redis, the read model and the Kafka producer.

Each is built once by the app's lifespan (``monitor/api/app.py``) and handed out from
``request.app.state``; nothing here is a module global, so every test app has its own. The
providers are ``async`` although they never await: FastAPI runs a plain ``def`` dependency in
a thread pool, a thread hop per dependency per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from fastapi import Depends, HTTPException, Request, status
from redis.asyncio import Redis

from monitor.api.kafka import KafkaLink
from monitor.readmodel import ReadModel
from monitor.settings import Settings


def _app_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency handing out ``request.app.state.<name>``; its alias below names the type."""

    async def provide(request: Request) -> Any:
        return getattr(request.app.state, name)

    return provide


async def _producer(request: Request) -> AIOKafkaProducer:
    """The producer once it reached the brokers; else 503 with Retry-After, so nothing is
    half-done and the caller knows when to try again."""
    if not request.app.state.kafka.connected:
        raise kafka_unavailable(request.app.state.settings)
    producer: AIOKafkaProducer = request.app.state.producer
    return producer


def kafka_unavailable(settings: Settings) -> HTTPException:
    """The answer when Kafka cannot take or confirm a record."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "Kafka is not reachable or did not confirm in time: nothing was accepted; "
        "send the same request again after Retry-After seconds (event_id makes it safe)",
        headers={"Retry-After": str(settings.api_retry_after_s)},
    )


SettingsDep = Annotated[Settings, Depends(_app_state("settings"))]
RedisDep = Annotated[Redis, Depends(_app_state("redis"))]
ReadModelDep = Annotated[ReadModel, Depends(_app_state("read_model"))]
ProducerDep = Annotated[AIOKafkaProducer, Depends(_producer)]  # 503 while Kafka is away
KafkaDep = Annotated[KafkaLink, Depends(_app_state("kafka"))]  # the producer with send-and-confirm
