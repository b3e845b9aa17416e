"""What the read-side API tests share: sending events through the API and waiting, over the
API, until the worker has made of them what a test expects."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from apistack import ApiStack

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
    http: httpx.AsyncClient, token: str, limit: int, **filters: Any
) -> list[list[Json]]:
    """Every page of ``GET /v1/cases`` with these filters, following ``next_cursor``."""
    pages: list[list[Json]] = []
    cursor: str | None = None
    while True:
        params = {**filters, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = await get_json(http, "/v1/cases", token, **params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 1000, "the cursor never ends"
