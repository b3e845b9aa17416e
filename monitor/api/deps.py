"""What a route may ask for: the settings, Redis, the read model and the Kafka producer.

Each is built once by the app's lifespan (``monitor/api/app.py``) and handed out from
``request.app.state``; nothing here is a module global, so every test app has its own. The
providers are ``async`` although they never await: FastAPI runs a plain ``def`` dependency in
a thread pool, a thread hop per dependency per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from redis.asyncio import Redis

from monitor.api.fanout import ChangeHub
from monitor.api.kafka import KafkaLink
from monitor.readmodel import ReadModel
from monitor.settings import Settings


def _app_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency handing out ``request.app.state.<name>``; its alias below names the type."""

    async def provide(request: Request) -> Any:
        return getattr(request.app.state, name)

    return provide


def kafka_unavailable(settings: Settings) -> HTTPException:
    """The answer when Kafka cannot take or confirm a record."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "Kafka is not reachable or did not confirm in time: nothing of this request was "
        "or will be applied; send it again after Retry-After seconds",
        headers={"Retry-After": str(settings.api_retry_after_s)},
    )


def outcome_unknown(settings: Settings) -> HTTPException:
    """The answer when Kafka was asked to commit and did not confirm in time."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "Kafka did not confirm in time, after it was asked to commit: whether this was "
        "applied is not known; send the same request again after Retry-After seconds "
        "(it is applied once)",
        headers={"Retry-After": str(settings.api_retry_after_s)},
    )


SettingsDep = Annotated[Settings, Depends(_app_state("settings"))]
RedisDep = Annotated[Redis, Depends(_app_state("redis"))]
ReadModelDep = Annotated[ReadModel, Depends(_app_state("read_model"))]
KafkaDep = Annotated[KafkaLink, Depends(_app_state("kafka"))]  # sends in committed transactions
ChangeHubDep = Annotated[ChangeHub, Depends(_app_state("changes"))]  # the change-feed reader
