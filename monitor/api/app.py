"""The API application: ``create_app(settings)`` builds it, ``redline api`` serves it.

The lifespan opens what the routes share and puts it on ``app.state``: the settings, the
operators' configuration (loaded once, at start), Redis,
the read model, the Kafka producer (through :class:`~monitor.api.kafka.KafkaLink`, which lets
the API start while Kafka is away) and the token store, where the dev tokens are registered.
Nothing is a module global, so a test can build as many apps as it likes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from monitor.api import configview, examples, health, ingest, routers
from monitor.api.auth import Role, TokenStore
from monitor.api.bodies import BodyLimits, not_json
from monitor.api.fanout import ChangeHub
from monitor.api.kafka import KafkaLink
from monitor.api.metrics import ApiMetrics, RequestMetrics
from monitor.configrecord import ConfigRecord, ConfigSet
from monitor.readmodel import ReadModel
from monitor.redisclient import connect
from monitor.retry import Backoff, attempts
from monitor.settings import Settings

log = logging.getLogger("redline.api")

DEV_INGEST_ID = "dev-ingest"
DEV_SUPERVISOR_ID = "dev-supervisor"
# a Redis that does not answer is a 503 after this long, not a hang; above the change feed's
# blocking read (monitor.api.fanout.BLOCK_MS)
REDIS_TIMEOUT_S = 5.0
DEV_TOKENS_BACKOFF = Backoff(base=0.5, cap=2.0)  # until Redis takes them: up to 0.5 s, 1 s, 2 s
DEV_TOKENS_EVERY_S = 2.0  # how often the dev tokens are looked for (and put back if gone)

DESCRIPTION = """\
Redline's HTTP API: window systems send events (`POST /v1/events`, integrator tokens);
supervisors read cases, alerts, rankings and feed health, and act on alerts (person tokens).

Every route but the probes, `/metrics` and the public progress page takes
`Authorization: Bearer <token>`. Errors are JSON: `{"detail": "..."}`, or for field problems
`{"detail": [{"field": ..., "rule": ...}]}`. See `docs/integrator-guide.md`.
"""


def create_app(settings: Settings, access_log: bool = False) -> FastAPI:
    """The API for these settings (the configuration files are loaded now: an invalid one
    stops the start with its file, entry and field); ``access_log``: a line per request."""
    files = ConfigSet.read(settings.config_files())
    config = files.load()
    metrics = ApiMetrics(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = connect(settings.redis_url, REDIS_TIMEOUT_S)
        kafka = KafkaLink(settings)
        tokens = TokenStore(redis, settings.auth_prefix)
        app.state.settings = settings
        app.state.config = config
        # version 0 until the follower has read the topic (moments after Kafka answers)
        app.state.config_record = ConfigRecord(files, "(files)", 0, "files")
        app.state.redis = redis
        app.state.read_model = ReadModel(redis, settings.read_model_prefix)
        changes = ChangeHub(
            app.state.read_model,
            per_token=settings.api_streams_per_token,
            overall=settings.api_streams_max,
            retry_after_s=settings.api_retry_after_s,
        )
        app.state.changes = changes
        app.state.kafka = kafka
        app.state.tokens = tokens
        app.state.metrics = metrics
        kafka.start()
        changes.start()
        registering = asyncio.create_task(_keep_dev_tokens(tokens, settings))
        following = asyncio.create_task(configview.follow(app).run())
        reporting = asyncio.create_task(configview.keep_reporting(app))
        try:
            yield
        finally:
            for task in (registering, following, reporting):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await changes.stop()
            await kafka.stop()
            await redis.aclose()

    app = FastAPI(
        title="Redline API",
        summary="Electronic supervision monitor (电子监察系统)",
        description=DESCRIPTION,
        version=_version(),
        lifespan=lifespan,
    )
    app.add_middleware(
        BodyLimits, max_bytes=settings.api_max_body_bytes, timeout_s=settings.api_body_timeout_s
    )
    app.add_middleware(
        RequestMetrics, metrics=metrics, access_log=access_log
    )  # outermost: counts every answer
    app.add_exception_handler(RequestValidationError, _field_problems)
    app.add_exception_handler(RedisError, _redis_down(settings))
    app.include_router(ingest.router)
    app.include_router(health.router)
    app.include_router(routers.router)
    app.include_router(configview.router)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


async def _keep_dev_tokens(tokens: TokenStore, settings: Settings) -> None:
    """The tokens of ``make run`` (REDLINE_INGEST_TOKEN, REDLINE_SUPERVISOR_TOKEN): registered
    until Redis takes them, and again whenever they are gone (a Redis that lost its data)."""
    wanted = _dev_tokens(settings)
    if not wanted:
        return
    while True:
        async for attempt in attempts(DEV_TOKENS_BACKOFF):
            try:
                for token_id, name, kind, role, secret in wanted:
                    if await tokens.verify(secret) is None:
                        await tokens.create(name, kind, role, token_id=token_id, secret=secret)
                break
            except (RedisError, OSError) as exc:
                if attempt.number == 0:
                    log.warning("Redis: dev tokens not registered yet (%s)", type(exc).__name__)
        await asyncio.sleep(DEV_TOKENS_EVERY_S)


def _dev_tokens(settings: Settings) -> list[tuple[str, str, str, Role | None, str]]:
    wanted: list[tuple[str, str, str, Role | None, str]] = []
    if settings.ingest_token is not None:
        wanted.append(
            (
                DEV_INGEST_ID,
                "dev integrator (REDLINE_INGEST_TOKEN)",
                "integrator",
                None,
                settings.ingest_token.get_secret_value(),
            )
        )
    if settings.supervisor_token is not None:
        wanted.append(
            (
                DEV_SUPERVISOR_ID,
                "dev supervisor (REDLINE_SUPERVISOR_TOKEN)",
                "person",
                Role.SUPERVISOR,
                settings.supervisor_token.get_secret_value(),
            )
        )
    return wanted


async def _field_problems(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's validation errors as field + rule, like the event contract's."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":  # FastAPI's own parse: loc is the offset
            problems.append(
                {"field": "(body)", "rule": _clean(not_json(_decode_error(exc, error)))}
            )
            continue
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in ("query", "path", "body", "header", "cookie"):
            loc = loc[1:]
        message = str(error.get("msg", "is invalid"))
        rule = message[:1].lower() + message[1:]
        field = ".".join(loc) or "(request)"
        problems.append({"field": _clean(field), "rule": _clean(rule)})
    return JSONResponse({"detail": problems}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _decode_error(exc: RequestValidationError, error: dict[str, Any]) -> json.JSONDecodeError:
    """The decoder's error again from FastAPI's record of it (its message, the body, the offset),
    for the line and column a person can find."""
    loc = error.get("loc", ())
    offset = loc[-1] if loc and isinstance(loc[-1], int) else 0
    body = exc.body if isinstance(exc.body, str) else ""
    return json.JSONDecodeError(str(error.get("ctx", {}).get("error", "")), body, offset)


def _redis_down(settings: Settings) -> Callable[[Request, Exception], Any]:
    async def answer(_: Request, exc: Exception) -> JSONResponse:
        log.warning("Redis: %s: %s", type(exc).__name__, exc)
        return JSONResponse(
            {"detail": "Redis (the read model and the tokens) is not reachable: try again later"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(settings.api_retry_after_s)},
        )

    return answer


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's document, plus what it cannot see: the hand-read body of POST /v1/events,
    and validation errors in their field + rule shape."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            examples.document(schema)
            schemas = schema.get("components", {}).get("schemas", {})
            if "ValidationError" in schemas:
                schemas["ValidationError"] = {
                    "title": "ValidationError",
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "rule": {"type": "string"}},
                    "required": ["field", "rule"],
                }
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _clean(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode()


def _version() -> str:
    try:
        return version("redline")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"
