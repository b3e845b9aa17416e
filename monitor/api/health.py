"""Probes and metrics: ``/healthz`` (the process answers), ``/readyz`` (the process can do its
job: take events into Kafka, authenticate, write and read Redis) and ``/metrics`` (Prometheus
text format). No token: orchestrators and Prometheus call them, and they say nothing about a
case."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from monitor.api.metrics import ApiMetrics
from monitor.readmodel.collector import read_snapshot

router = APIRouter(tags=["health"])

PROBE_TIMEOUT_S = 2.0  # a probe that hangs is a probe that failed


@router.get("/healthz", summary="The process is up", response_model=dict[str, str])
async def healthz() -> dict[str, str]:
    """Answers while the process runs, whatever the state of Kafka and Redis."""
    return {"status": "ok"}


_READY_EXAMPLES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Kafka takes events, Redis is written and read, tokens can be checked",
        "content": {
            "application/json": {
                "example": {
                    "status": "ready",
                    "checks": {"kafka": "ok", "redis": "ok", "auth": "ok"},
                    "read_model": "whole",
                    "config": {"version": 3, "digest": "sha256:5b0c…"},
                }
            }
        },
    },
    503: {
        "description": "something this process needs is not there; `checks` says what",
        "content": {
            "application/json": {
                "example": {
                    "status": "not ready",
                    "checks": {
                        "kafka": "ok",
                        "redis": "ok",
                        "auth": "down: no live API token in Redis (did it lose its data?)",
                    },
                    "read_model": "not whole: a worker is rebuilding it from Kafka",
                }
            }
        },
    },
}


@router.get("/readyz", summary="The process can do its job", responses=_READY_EXAMPLES)
async def readyz(request: Request) -> JSONResponse:
    """200 when this process can take events (Kafka), write and read Redis, and authenticate
    (live tokens in Redis), else 503 naming what is missing. ``read_model`` says whether the
    read model is whole or still to be rebuilt from Kafka (a worker does it, moments after a
    Redis loss or the first start): the API answers meanwhile (ingestion is unaffected, reads
    may miss cases until it is done), so it does not decide readiness. ``config`` names the
    configuration version this process runs (``GET /v1/config`` says more)."""
    kafka, (redis, auth, whole) = await asyncio.gather(_kafka(request), _redis(request))
    checks = {"kafka": kafka, "redis": redis, "auth": auth}
    ready = all(value == "ok" for value in checks.values())
    record = request.app.state.config_record
    return JSONResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": checks,
            "read_model": whole,
            "config": {"version": record.version, "digest": record.digest},
        },
        status_code=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE,
    )


async def _kafka(request: Request) -> str:
    problem = await request.app.state.kafka.check(PROBE_TIMEOUT_S)
    return "ok" if problem is None else f"down: {problem}"


async def _redis(request: Request) -> tuple[str, str, str]:
    """Redis written and read back, the tokens there, the read model whole: each a word."""
    state = request.app.state
    probe, nonce = (
        state.settings.auth_prefix + "ready:" + state.settings.api_instance,
        secrets.token_hex(8),
    )
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await state.redis.set(probe, nonce, ex=60)
            if _text(await state.redis.get(probe)) != nonce:
                return "down: a value written was not read back", "unknown", "unknown"
            live = await state.tokens.live()
            whole = await state.read_model.is_built()
    except (RedisError, OSError, TimeoutError) as exc:
        down = f"down: {type(exc).__name__}: {exc}" if str(exc) else "down: no answer"
        return down, "unknown", "unknown"
    auth = "ok" if live else "down: no live API token in Redis (did it lose its data?)"
    return "ok", auth, "whole" if whole else "not whole: a worker is rebuilding it from Kafka"


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "text format 0.0.4"}},
)
async def metrics(request: Request) -> Response:
    """Cases by light, centre and department, alerts by kind, feed health per source (all
    from the read model, at scrape time), and the API's own request counts and latencies."""
    app_metrics: ApiMetrics = request.app.state.metrics
    try:
        snapshot = await read_snapshot(request.app.state.read_model)
    except (RedisError, OSError) as exc:
        # the request metrics still say something; the read model's gauges would be lies
        return Response(
            f"# the read model is not reachable: {type(exc).__name__}\n",
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            media_type="text/plain",
        )
    app_metrics.read_model.snapshot = snapshot  # then collect, with no await in between
    return Response(generate_latest(app_metrics.registry), media_type=CONTENT_TYPE_LATEST)
