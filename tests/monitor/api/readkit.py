"""What the read-side API tests share: sending events through the API and waiting, over the
API, until the worker has made of them what a test expects; the fields a refusal names; person
tokens; a second API beside the stack's with some settings changed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from apistack import ApiStack
from redis.asyncio import Redis

from bench.processes import ApiProcess
from monitor.api.auth import TokenStore
from tests.stack import eventually

Json = dict[str, Any]


async def post_events(http: httpx.AsyncClient, stack: ApiStack, *events: Json) -> None:
    """POST the events with the dev integrator token; each must be accepted."""
    for start in range(0, len(events), 1000):
        batch = list(events[start : start + 1000])
        response = await http.post(
            "/v1/events",
            content=json.dumps({"events": batch}).encode(),
            headers={"Content-Type": "application/json", **stack.auth(stack.ingest_token)},
        )
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(batch), response.text


async def get_json(http: httpx.AsyncClient, path: str, token: str | None, **params: Any) -> Any:
    """GET ``path`` (200 expected) with ``token``'s header; the JSON answer."""
    headers = {} if token is None else ApiStack.auth(token)
    response = await http.get(path, params=params, headers=headers)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    return response.json()


async def case_when(
    http: httpx.AsyncClient,
    stack: ApiStack,
    case_id: str,
    holds: Callable[[Json], bool] = lambda _: True,
    timeout: float = 60,
) -> Json:
    """``GET /v1/cases/{case_id}`` once the case exists and ``holds`` for it."""

    async def probe() -> Json | None:
        response = await http.get(f"/v1/cases/{case_id}", headers=stack.auth(stack.viewer_token))
        if response.status_code != 200:
            return None
        case: Json = response.json()
        return case if holds(case) else None

    return await eventually(probe, timeout)


async def all_pages(
    http: httpx.AsyncClient, token: str, limit: int, path: str = "/v1/cases", **filters: Any
) -> list[list[Json]]:
    """Every page of ``GET path`` (the cases unless told) with these filters, following
    ``next_cursor``."""
    pages: list[list[Json]] = []
    cursor: str | None = None
    while True:
        params = {**filters, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = await get_json(http, path, token, **params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 1000, "the cursor never ends"


async def refused_fields(
    http: httpx.AsyncClient, path: str, token: str, params: Json, status: int = 422
) -> list[str]:
    """``GET path`` with ``params``, answered ``status`` (422 unless told); the fields that its
    ``detail`` names, in order."""
    response = await http.get(path, params=params, headers=ApiStack.auth(token))
    assert response.status_code == status, response.text
    return [problem["field"] for problem in response.json()["detail"]]


@asynccontextmanager
async def token_store(stack: ApiStack) -> AsyncIterator[TokenStore]:
    """The stack's token store, on a Redis connection of its own for the block."""
    redis = Redis.from_url(stack.settings.redis_url)
    try:
        yield TokenStore(redis, stack.settings.auth_prefix)
    finally:
        await redis.aclose()


@asynccontextmanager
async def api_with(
    stack: ApiStack, tmp: pytest.TempPathFactory, **changes: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A second `redline api` on the stack's tokens, with some settings changed."""
    settings = stack.settings.model_copy(update=changes)
    api = ApiProcess(settings, tmp.mktemp("api-other"), stack.ingest_token, stack.supervisor_token)
    try:
        await api.wait_until(200, "/healthz")
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
            yield client
    finally:
        api.stop()


async def read_model_whole(base_url: str) -> Json:
    """``/readyz``, once it says the read model is whole (a worker rebuilt it from Kafka)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:

        async def whole() -> Json | None:
            ready: Json = (await client.get("/readyz")).json()
            return ready if ready.get("read_model") == "whole" else None

        return await eventually(whole)
