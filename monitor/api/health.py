"""Probes and metrics: ``/healthz`` (the process answers), ``/readyz`` (Kafka and Redis are
reachable) and ``/metrics`` (Prometheus text format). No token: orchestrators and Prometheus
call them, and they say nothing about a case."""

from __future__ import annotations

import asyncio
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
        "description": "Kafka and Redis are reachable",
        "content": {
            "application/json": {
                "example": {"status": "ready", "checks": {"kafka": "ok", "redis": "ok"}}
            }
        },
    },
    503: {
        "description": "Kafka or Redis is not reachable; `checks` says which",
        "content": {
            "application/json": {
                "example": {
                    "status": "not ready",
                    "checks": {"kafka": "down: not connected to 127.0.0.1:9092", "redis": "ok"},
                }
            }
        },
    },
}


@router.get("/readyz", summary="Kafka and Redis are reachable", responses=_READY_EXAMPLES)
async def readyz(request: Request) -> JSONResponse:
    """200 when this process can take events (Kafka) and answer queries (Redis), else 503
    naming what is down."""
    kafka, redis = await asyncio.gather(_kafka(request), _redis(request))
    checks = {"kafka": kafka, "redis": redis}
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE,
    )


async def _kafka(request: Request) -> str:
    problem = await request.app.state.kafka.check(PROBE_TIMEOUT_S)
    return "ok" if problem is None else f"down: {problem}"


async def _redis(request: Request) -> str:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await request.app.state.redis.ping()
    except (RedisError, OSError, TimeoutError) as exc:
        return f"down: {type(exc).__name__}: {exc}" if str(exc) else "down: no answer"
    return "ok"


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
