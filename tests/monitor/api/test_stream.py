"""GET /v1/stream on the real stack: the snapshot, the change an event posted through the API
makes, heartbeats, resuming with Last-Event-ID, tokens, centre-bound viewers, and letting go
of a client that left."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from apistack import ApiStack
from events import event, now
from readkit import case_when, post_events, token_store
from redis.asyncio import Redis

from bench.streams_bench import RawStream
from monitor.api.auth import Role
from monitor.api.fanout import change_frame
from monitor.api.stream import HEARTBEAT_S
from monitor.readmodel import Change
from tests.stack import eventually

pytestmark = pytest.mark.integration

Event = dict[str, Any]


def _opening(center: str = "GZ-TIANHE") -> dict[str, Any]:
    return {"center": center, "item_code": "FOOD-LICENSE", "data": {"promised": "100h"}}


class Stream:
    """An open /v1/stream: its events, parsed as a browser's EventSource would."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 30) -> Event:
        """The next event (``event``, ``id``, ``data`` parsed as JSON)."""
        found: Event = {}
        async with asyncio.timeout(timeout):
            async for line in self._lines:
                if line == "":
                    if found:
                        if "data" in found:
                            found["data"] = json.loads(found["data"])
                        return found
                    continue
                if line.startswith(":"):
                    continue  # a keep-alive comment
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                found[name] = found[name] + "\n" + value if name in found else value
        raise AssertionError("the stream ended")

    async def until(
        self, wanted: Callable[[Event], bool], timeout: float = 30
    ) -> tuple[Event, list[Event]]:
        """The first event for which ``wanted`` holds, and every event before it."""
        before: list[Event] = []
        async with asyncio.timeout(timeout):
            while True:
                found = await self.next(timeout)
                if wanted(found):
                    return found, before
                before.append(found)


@asynccontextmanager
async def stream(
    stack: ApiStack, token: str | None = None, **headers: str
) -> AsyncIterator[Stream]:
    """/v1/stream with the token in the query, as the wall's EventSource sends it."""
    params = {"token": token} if token else {}
    async with (
        httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client,
        client.stream("GET", "/v1/stream", params=params, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def _change_of(case_id: str) -> Callable[[Event], bool]:
    return lambda e: e.get("event") == "change" and e["data"]["case_id"] == case_id


async def test_a_snapshot_then_the_change_of_an_event_posted_through_the_api(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    async with stream(api_stack, api_stack.viewer_token) as events:
        snapshot = await events.next()
        assert snapshot["event"] == "snapshot" and snapshot["retry"].isdigit()
        assert set(snapshot["data"]["totals"]) == {"green", "yellow", "red", "suspended"}
        assert {"red", "ranking", "server_time", "week"} <= set(snapshot["data"])

        opened = event("SSE-1", 1, "accepted", now() - 60, **_opening())
        await post_events(http, api_stack, opened)
        change, _ = await events.until(_change_of("SSE-1"))
        assert change["data"]["kind"] == "case" and change["data"]["light"] == "green"
        millis, _, sequence = change["id"].partition("-")
        assert millis.isdigit() and sequence.isdigit()

        beat, _ = await events.until(lambda e: e["event"] == "heartbeat", 3 * HEARTBEAT_S)
        assert beat["data"]["last_change_at"] is not None
        assert beat["data"]["last_change_epoch_ms"] >= int(millis)
        assert "id" not in beat  # a heartbeat does not move the resume position


async def test_a_reconnect_with_last_event_id_resumes_after_it(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    async with stream(api_stack, api_stack.viewer_token) as events:
        await events.next()  # snapshot
        await post_events(http, api_stack, event("SSE-R1", 1, "accepted", now(), **_opening()))
        first, _ = await events.until(_change_of("SSE-R1"))
    # while nobody listens, another case changes
    await post_events(http, api_stack, event("SSE-R2", 1, "accepted", now(), **_opening()))
    await case_when(http, api_stack, "SSE-R2")

    async with stream(api_stack, api_stack.viewer_token, **{"Last-Event-ID": first["id"]}) as again:
        snapshot = await again.next()
        assert snapshot["event"] == "snapshot" and snapshot["id"] == first["id"]
        missed, before = await again.until(_change_of("SSE-R2"))
    replayed = [e for e in before if e["event"] == "change"]
    assert all(_entry(e["id"]) > _entry(first["id"]) for e in [*replayed, missed])
    assert first["id"] not in {e["id"] for e in replayed}  # after it, not from it


def _entry(entry_id: str) -> tuple[int, int]:
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence)


async def test_tokens_and_a_bad_last_event_id(api_stack: ApiStack, http: httpx.AsyncClient) -> None:
    viewer = api_stack.auth(api_stack.viewer_token)
    # the header works as well as ?token= (a client that can send headers should)
    async with http.stream("GET", "/v1/stream", headers=viewer) as response:
        assert response.status_code == 200
    checks: list[tuple[dict[str, str], dict[str, str], int]] = [
        ({}, {}, 401),
        ({"token": "rl_not-a-token"}, {}, 401),
        ({"token": api_stack.ingest_token}, {}, 403),
        ({"token": api_stack.viewer_token}, {"Last-Event-ID": "zz"}, 400),
        ({"token": api_stack.viewer_token}, {"Last-Event-ID": "1-2-3"}, 400),
        ({"token": api_stack.viewer_token}, {"Last-Event-ID": "$"}, 400),
    ]
    for params, headers, status in checks:
        response = await http.get("/v1/stream", params=params, headers=headers)
        assert response.status_code == status, (params, headers, response.text)


@pytest.mark.parametrize(
    "last_event_id",
    [
        "1" * 5000 + "-0",  # oversized: a browser would send it back on every reconnect
        "18446744073709551616-0",  # past Redis's 64-bit ids
        "1-18446744073709551616",
        f"{(now() + 86_400) * 1000}-0",  # after the newest change: never sent
    ],
)
async def test_a_last_event_id_this_stream_never_sent_is_400_naming_it(
    api_stack: ApiStack, http: httpx.AsyncClient, last_event_id: str
) -> None:
    headers = {"Last-Event-ID": last_event_id, **api_stack.auth(api_stack.viewer_token)}
    async with http.stream("GET", "/v1/stream", headers=headers) as response:
        assert response.status_code == 400  # not a stream that says nothing, nor a 500 in it
        [problem] = json.loads(await response.aread())["detail"]
    assert problem["field"] == "Last-Event-ID"
    assert "the id of a change this stream sent" in problem["rule"], problem


async def test_a_last_event_id_older_than_the_feed_resumes_from_its_start(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    await post_events(http, api_stack, event("SSE-OLD", 1, "accepted", now(), **_opening()))
    await case_when(http, api_stack, "SSE-OLD")
    async with stream(api_stack, api_stack.viewer_token, **{"Last-Event-ID": "1-0"}) as events:
        snapshot = await events.next()
        assert snapshot["event"] == "snapshot" and snapshot["id"] == "1-0"
        await events.until(_change_of("SSE-OLD"))  # caught up from what the feed holds


async def test_a_center_bound_viewer_gets_only_its_centers_changes(
    api_stack: ApiStack, http: httpx.AsyncClient, yuexiu: str
) -> None:
    async with stream(api_stack, yuexiu) as events:
        snapshot = await events.next()
        assert snapshot["event"] == "snapshot"
        theirs = event("SSE-TH", 1, "accepted", now(), **_opening("GZ-TIANHE"))
        await post_events(http, api_stack, theirs)
        await case_when(http, api_stack, "SSE-TH")  # its change is in the feed before ours
        ours = event("SSE-YX", 1, "accepted", now(), **_opening("GZ-YUEXIU"))
        await post_events(http, api_stack, ours)
        _, before = await events.until(_change_of("SSE-YX"))
    seen = {e["data"]["case_id"] for e in before if e["event"] == "change"}
    assert "SSE-TH" not in seen


async def test_streams_share_one_reader_of_the_change_feed(api_stack: ApiStack) -> None:
    """However many streams are open, the API blocks in Redis once (its change-feed reader), so
    streams cannot use up the connection pool that ingestion and reads need."""
    redis = Redis.from_url(api_stack.settings.redis_url)

    async def blocked() -> int:
        return int((await redis.info("clients"))["blocked_clients"])

    try:
        async with contextlib.AsyncExitStack() as streams:
            opened = [
                await streams.enter_async_context(stream(api_stack, api_stack.viewer_token))
                for _ in range(12)
            ]
            for events in opened:
                await events.next()
            await opened[0].next(timeout=3 * HEARTBEAT_S)  # a heartbeat: all of them waiting
            assert await blocked() <= 1  # the hub's reader; one XREAD a stream made it 12
    finally:
        await redis.aclose()


async def test_a_token_has_its_most_streams_and_a_client_that_goes_away_is_let_go(
    api_stack: ApiStack,
) -> None:
    per_token = api_stack.settings.api_streams_per_token
    async with httpx.AsyncClient(base_url=api_stack.base_url, timeout=30) as client:

        async def one_more() -> httpx.Response:
            return await client.get("/v1/stream", params={"token": api_stack.viewer_token})

        async with contextlib.AsyncExitStack() as streams:
            opened = []  # held: a response whose line iterator is collected closes
            for _ in range(per_token):
                opened.append(
                    await streams.enter_async_context(stream(api_stack, api_stack.viewer_token))
                )
                await opened[-1].next()
            refused = await one_more()
            assert refused.status_code == 429, refused.text
            assert "streams open" in refused.json()["detail"]
            assert int(refused.headers["Retry-After"]) >= 1

        async def let_go() -> bool | None:  # the places come back as the clients leave
            async with client.stream(
                "GET", "/v1/stream", params={"token": api_stack.viewer_token}
            ) as response:
                return True if response.status_code == 200 else None

        await eventually(let_go, timeout=3 * HEARTBEAT_S)


def test_a_change_is_one_frame_in_the_event_stream_format() -> None:
    entry = Change("1790000000123-4", {"kind": "case", "case_id": "案件-1", "light": "red"})
    frame = change_frame(entry)
    assert frame.endswith(b"\n\n") and frame.count(b"\n") == 4  # event, id, data, blank line
    lines = dict(line.split(": ", 1) for line in frame.decode().strip().split("\n"))
    assert lines["event"] == "change" and lines["id"] == "1790000000123-4"
    data = json.loads(lines["data"])
    assert data == {**entry.fields, "at": "2026-09-21T22:13:20+08:00"}


async def test_two_hundred_walls_while_ingesting_and_reading(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    """Hundreds of open streams starve nothing: every POST and every read is answered as it
    would be without them, and every stream gets the changes (how fast: streams_bench)."""
    async with token_store(api_stack) as store:
        tokens = [(await store.create(f"wall {n}", "person", Role.VIEWER))[1] for n in range(10)]
    per_token = api_stack.settings.api_streams_per_token
    host, port = api_stack.base_url.removeprefix("http://").split(":")
    walls = [RawStream() for _ in range(10 * per_token)]
    opened = [asyncio.Event() for _ in walls]
    for n, (wall, ready) in enumerate(zip(walls, opened, strict=True)):
        wall.task = asyncio.create_task(wall.follow(host, int(port), tokens[n % 10], ready))
    try:
        await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), 120)
        before = [wall.changes for wall in walls]
        answers = await asyncio.gather(
            *(
                post_events(
                    http, api_stack, event(f"WALLS-{n:03d}", 1, "accepted", now(), **_opening())
                )
                for n in range(20)
            ),
            *(
                http.get(
                    "/v1/cases",
                    params={"limit": 50},
                    headers=api_stack.auth(api_stack.viewer_token),
                )
                for _ in range(20)
            ),
        )
        reads = answers[20:]  # the posts assert their own 202
        assert all(a.status_code == 200 for a in reads), [a.status_code for a in reads]

        async def all_got_one() -> bool | None:
            got = [wall.changes > seen for wall, seen in zip(walls, before, strict=True)]
            return all(got) or None

        await eventually(all_got_one)
        assert not [w for w in walls if w.task is not None and w.task.done()]  # none ended
    finally:
        for wall in walls:
            if wall.task is not None:
                wall.task.cancel()
        await asyncio.gather(*(w.task for w in walls if w.task), return_exceptions=True)
