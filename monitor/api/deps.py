"""What a route may ask for: the settings, the configuration, Redis, the read model and the
Kafka producer.

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
from monitor.api.kafka import KafkaLink, KafkaUnavailable, OutcomeUnknown
from monitor.config import Config
from monitor.readmodel import ReadModel
from monitor.settings import Settings


def _app_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency handing out ``request.app.state.<name>``; its alias below names the type."""

    async def provide(request: Request) -> Any:
        return getattr(request.app.state, name)

    return provide


def kafka_refusal(settings: Settings, failure: KafkaUnavailable) -> HTTPException:
    """The 503 for a write Kafka did not commit: final, unless the commit's outcome is
    unknown (:class:`~monitor.api.kafka.OutcomeUnknown`), which the text says."""
    if isinstance(failure, OutcomeUnknown):
        detail = (
            "Kafka did not confirm in time, after it was asked to commit: whether this was "
            "applied is not known; send the same request again after Retry-After seconds "
            "(it is applied once)"
        )
    else:
        detail = (
            "Kafka is not reachable or did not confirm in time: nothing of this request was "
            "or will be applied; send it again after Retry-After seconds"
        )
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail,
        headers={"Retry-After": str(settings.api_retry_after_s)},
    )


SettingsDep = Annotated[Settings, Depends(_app_state("settings"))]
ConfigDep = Annotated[Config, Depends(_app_state("config"))]  # the operators' files, at start
RedisDep = Annotated[Redis, Depends(_app_state("redis"))]
ReadModelDep = Annotated[ReadModel, Depends(_app_state("read_model"))]
KafkaDep = Annotated[KafkaLink, Depends(_app_state("kafka"))]  # sends in committed transactions
ChangeHubDep = Annotated[ChangeHub, Depends(_app_state("changes"))]  # the change-feed reader
