"""POST /v1/events on the real stack: events in over HTTP, through Kafka and the worker, into
the read model; batches, duplicates, conflicts, gzip, and every refusal of the request."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import pytest
from apistack import ApiStack
from events import OPENING, SPEC_ACCEPTED, event, now, produced
from redis.asyncio import Redis

from bench.processes import ApiProcess, free_port
from monitor.api.ledger import EventKey, IdempotencyLedger
from monitor.events import parse_event
from monitor.readmodel import ReadModel
from monitor.timeutil import format_utc, parse_instant
from tests.stack import eventually

pytestmark = pytest.mark.integration


def _post(
    http: httpx.AsyncClient, stack: ApiStack, body: Any, **headers: str
) -> Awaitable[httpx.Response]:
    return http.post(
        "/v1/events",
        content=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **stack.auth(stack.ingest_token),
            **headers,
        },
    )


async def _case(read_model: ReadModel, case_id: str, light: str | None = None) -> dict[str, Any]:
    async def seen() -> dict[str, Any] | None:
        case = await read_model.case(case_id)
        return case if case and (light is None or case["light"] == light) else None

    return await eventually(seen)


async def test_one_event_reaches_the_read_model_through_the_worker(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    accepted = event("API-SPEC", 1, "accepted", SPEC_ACCEPTED, **OPENING, data={"promised": "5wd"})
    response = await _post(http, api_stack, accepted)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "accepted": 1,
        "duplicate": 0,
        "refused": 0,
        "results": [{"index": 0, "event_id": "API-SPEC-1", "status": "accepted"}],
    }
    case = await _case(read_model, "API-SPEC", "red")
    assert case["deadline"] == "2026-10-11T00:00:00+08:00" and case["breached"] is True
    # keyed by case id, so the case's events share a partition; the value is the event as
    # validated (canonical JSON: occurred_at in UTC, nulls left out)
    [(key, value)] = await produced(api_stack.settings, {"API-SPEC-1"})
    assert key == b"API-SPEC" and value["occurred_at"] == "2026-09-28T02:00:00Z"
    assert parse_event(value) == parse_event(accepted)


async def test_a_batch_answers_each_event_in_order(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    at = now() - 3600
    batch = [
        event("API-B1", 1, "submitted", at, **OPENING),
        event("API-B2", 1, "accepted", at, center="GZ-TIANHE"),  # no item_code
        ["not", "an", "object"],
        event("API-B3", 1, "accepted", "2026-11-02T09:00:00", **OPENING),  # no offset
        event("API-B4", 1, "suspended", at, data={"reason": "lunch"}),
        event("API-B5", 1, "submitted", at, **OPENING, applicant_name="张三"),
        event("API-B6", 1, "accepted", at, **OPENING),
    ]
    response = await _post(http, api_stack, {"events": batch})
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["accepted"], answer["duplicate"], answer["refused"]) == (2, 0, 5)
    results = answer["results"]
    assert [r["index"] for r in results] == list(range(7))
    assert [r["status"] for r in results] == [
        "accepted",
        "refused",
        "refused",
        "refused",
        "refused",
        "refused",
        "accepted",
    ]
    assert results[1]["errors"] == [{"field": "item_code", "rule": "is required for case.accepted"}]
    assert results[2] == {
        "index": 2,
        "event_id": None,
        "status": "refused",
        "errors": [{"field": "(event)", "rule": "must be a JSON object"}],
    }
    assert results[3]["errors"][0]["field"] == "occurred_at"
    assert "offset" in results[3]["errors"][0]["rule"]
    assert results[4]["errors"][0]["field"] == "data.reason"
    assert results[5]["errors"] == [
        {"field": "applicant_name", "rule": "is not a field of the event contract"}
    ]
    assert "errors" not in results[0] and "errors" not in results[6]
    assert (await _case(read_model, "API-B6"))["status"] == "open"
    assert (await _case(read_model, "API-B1"))["status"] == "submitted"
    assert await read_model.case("API-B2") is None  # refused: never produced

    async def refusals_counted() -> int | None:  # the API counts them after answering
        health = {h.source: h for h in await read_model.sources()}
        line = health.get("win-api")
        return line.refused if line is not None and line.refused >= 4 else None

    assert await eventually(refusals_counted) >= 4  # [2] names no source: "(unknown)"


async def test_the_same_event_again_is_a_duplicate_and_is_not_produced_again(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    first = event("API-DUP", 1, "accepted", now() - 60, **OPENING, handler="li.na")
    assert (await _post(http, api_stack, first)).status_code == 202
    # the same content, written differently: key order, UTC instead of +08:00, a default
    same = dict(reversed(list(first.items())))
    same["occurred_at"] = format_utc(parse_instant(first["occurred_at"]))
    same["data"] = {"mode": "normal"}
    again = await _post(http, api_stack, {"events": [same, first]})
    assert again.status_code == 202, again.text
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    records = await produced(api_stack.settings, {"API-DUP-1"})
    assert len(records) == 1, records

    async def duplicates_counted() -> int | None:
        health = {h.source: h for h in await read_model.sources()}
        line = health.get("win-api")
        return line.duplicate if line is not None and line.duplicate >= 2 else None

    assert await eventually(duplicates_counted) >= 2


async def test_an_event_another_request_has_in_flight_is_503_never_a_false_duplicate(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    # a request that claimed the event and then died (or gave up on a frozen Redis whose claim
    # came through later): its claim stays in flight until it expires, and the event was
    # never produced
    body = event("API-INFLIGHT", 1, "accepted", now() - 60, **OPENING)
    redis = Redis.from_url(api_stack.settings.redis_url)
    ledger = IdempotencyLedger(redis, api_stack.settings.ingest_prefix, 60, 60)
    key = EventKey(body["source"], body["event_id"])
    try:
        assert (await ledger.claim([(key, "the content of the request that died")]))[0].held is None
        other = event("API-INFLIGHT-OTHER", 1, "accepted", now() - 60, **OPENING)
        answer = await _post(http, api_stack, {"events": [other, body]})
        assert answer.status_code == 503, answer.text  # not "duplicate": it was never applied
        assert "being written by another request" in answer.json()["detail"]
        assert int(answer.headers["Retry-After"]) >= 1
        # nothing of the request was applied, and its own claim was given back: once the
        # claim in flight is gone (that request failed), the same request is taken whole
        await ledger.release([(key, "the content of the request that died")])
        again = await _post(http, api_stack, {"events": [other, body]})
        assert again.status_code == 202, again.text
        assert [r["status"] for r in again.json()["results"]] == ["accepted", "accepted"]
        records = await produced(api_stack.settings, {"API-INFLIGHT-1", "API-INFLIGHT-OTHER-1"})
        assert sorted(v["event_id"] for _, v in records) == [
            "API-INFLIGHT-1",
            "API-INFLIGHT-OTHER-1",
        ]
    finally:
        await redis.aclose()


async def test_the_same_event_id_with_other_content_is_refused_as_a_conflict(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    first = event("API-CONF", 1, "accepted", now() - 60, **OPENING)
    assert (await _post(http, api_stack, first)).status_code == 202
    changed = {**first, "handler": "wang.wei"}
    response = await _post(http, api_stack, changed)
    assert response.status_code == 422  # the only event, refused
    [result] = response.json()["results"]
    assert result["status"] == "refused"
    [error] = result["errors"]
    assert error["field"] == "event_id"
    assert "already received with different content" in error["rule"]
    # within one request too: the first one counts
    pair = [event("API-CONF2", 1, "submitted", now(), **OPENING)] * 2
    pair[1] = {**pair[1], "window": "W09"}
    response = await _post(http, api_stack, {"events": pair})
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "refused"]
    assert "event 0 of this request" in response.json()["results"][1]["errors"][0]["rule"]


async def test_a_gzip_body_is_accepted(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    batch = {"events": [event(f"API-GZ{n}", 1, "submitted", now(), **OPENING) for n in range(50)]}
    body = gzip.compress(json.dumps(batch).encode())
    response = await _post(http, api_stack, body, **{"Content-Encoding": "gzip"})
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 50
    assert (await _case(read_model, "API-GZ49"))["status"] == "submitted"


async def test_every_event_refused_is_422_with_the_same_answer(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    response = await _post(http, api_stack, {"events": [{"type": "case.nope"}, 42]})
    assert response.status_code == 422
    answer = response.json()
    assert (answer["accepted"], answer["duplicate"], answer["refused"]) == (0, 0, 2)
    assert answer["results"][0]["errors"][0]["field"] == "type"


@pytest.mark.parametrize("offset", ["+24:00", "-25:30", "+08:60"])
async def test_an_offset_out_of_range_is_refused_with_a_readable_rule(
    api_stack: ApiStack, http: httpx.AsyncClient, offset: str
) -> None:
    body = event("ING-OFFSET", 1, "submitted", now(), **OPENING)
    body["occurred_at"] = "2026-09-28T10:00:00" + offset
    response = await _post(http, api_stack, body)
    assert response.status_code == 422, response.text
    assert response.json()["results"][0]["errors"] == [
        {
            "field": "occurred_at",
            "rule": f"is not a valid date and time (the offset {offset} is out of range: "
            "±hh:mm with hh 00–23 and mm 00–59, e.g. +08:00)",
        }
    ]


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (b"{not json", "(body)", "is not valid JSON"),
        (b"\xff\xfe{}", "(body)", "is not UTF-8"),
        (b"[]", "(body)", "must be one event (a JSON object)"),
        (b'"case.accepted"', "(body)", "must be one event"),
        (b'{"events": {}}', "events", "must be a JSON array of events"),
        (b'{"events": []}', "events", "must hold 1 to 1000 events"),
        (b'{"events": [], "source": "x"}', "source", "is not a field of the batch envelope"),
        (b"[" * 100_000 + b"]" * 100_000, "(body)", "nested too deeply"),
    ],
)
async def test_a_body_that_is_not_an_event_nor_a_batch_is_422(
    api_stack: ApiStack, http: httpx.AsyncClient, body: bytes, field: str, rule: str
) -> None:
    response = await _post(http, api_stack, body)
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["field"] == field and rule in problem["rule"]


async def test_broken_gzip_is_422(api_stack: ApiStack, http: httpx.AsyncClient) -> None:
    whole = gzip.compress(json.dumps(event("API-GZX", 1, "submitted", now(), **OPENING)).encode())
    for body in (b"not gzip at all", whole[: len(whole) // 2]):
        response = await _post(http, api_stack, body, **{"Content-Encoding": "gzip"})
        assert response.status_code == 422, response.text
        assert "gzip" in response.json()["detail"][0]["rule"]


async def test_too_large_too_many_and_gzip_bombs_are_413(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    one = event("API-BIG", 1, "submitted", now(), **OPENING)
    too_many = {"events": [{**one, "event_id": f"API-BIG-{n}"} for n in range(1001)]}
    response = await _post(http, api_stack, too_many)
    assert response.status_code == 413, response.text
    assert "at most 1000" in response.json()["detail"]
    padded = {**one, "data": {}, "window": "W" * 60}
    large = json.dumps({"events": [padded] * 1000}).encode() + b" " * 1_048_576
    response = await _post(http, api_stack, large)
    assert response.status_code == 413 and "split the batch" in response.json()["detail"]
    # 64 MiB of spaces compress to 64 KiB: refused once the first MiB is out, not after
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    body = bomb.compress(b"{" + b" " * 64 * 1_048_576) + bomb.flush()
    assert len(body) < 100_000
    response = await _post(http, api_stack, body, **{"Content-Encoding": "gzip"})
    assert response.status_code == 413 and "gzip-decompressed" in response.json()["detail"]

    # a body without Content-Length (chunked) is counted as it arrives
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65_536

    response = await http.post(
        "/v1/events",
        content=chunks(),
        headers={"Content-Type": "application/json", **api_stack.auth(api_stack.ingest_token)},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("headers", "rule"),
    [
        ({"Content-Type": "text/plain"}, "is not JSON"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "is not JSON"),
        ({"Content-Type": "application/json; charset=gbk"}, "encode the JSON as UTF-8"),
        ({"Content-Type": "application/json", "Content-Encoding": "br"}, "send gzip"),
        ({"Content-Type": "application/json", "Content-Encoding": "deflate"}, "send gzip"),
    ],
)
async def test_other_media_types_and_encodings_are_415(
    api_stack: ApiStack, http: httpx.AsyncClient, headers: dict[str, str], rule: str
) -> None:
    body = json.dumps(event("API-415", 1, "submitted", now(), **OPENING)).encode()
    response = await http.post(
        "/v1/events", content=body, headers={**api_stack.auth(api_stack.ingest_token), **headers}
    )
    assert response.status_code == 415, response.text
    assert rule in response.json()["detail"]


async def test_json_with_a_charset_or_a_suffix_is_json(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    for n, media in enumerate(("application/json; charset=UTF-8", "application/event+json")):
        body = json.dumps(event(f"API-MT{n}", 1, "submitted", now(), **OPENING)).encode()
        response = await _post(http, api_stack, body, **{"Content-Type": media})
        assert response.status_code == 202, (media, response.text)


async def test_kafka_down_is_503_with_retry_after_and_nothing_half_accepted(
    api_stack: ApiStack,
    http: httpx.AsyncClient,
    read_model: ReadModel,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    closed = free_port()  # nothing listens there: a broker that is down
    settings = api_stack.settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{closed}"})
    # the same token store and the same dev secrets (another secret would replace the stack's)
    down = ApiProcess(
        settings,
        tmp_path_factory.mktemp("api-down"),
        api_stack.ingest_token,
        api_stack.supervisor_token,
    )
    try:
        await down.wait_until(503, "/readyz")
        batch = {"events": [event("API-503", n, "submitted", now(), **OPENING) for n in (1, 2)]}
        async with httpx.AsyncClient(base_url=down.base_url, timeout=30) as client:
            response = await _post(client, api_stack, batch)
            assert (await client.get("/healthz")).status_code == 200
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) == settings.api_retry_after_s
        assert "nothing of this request was or will be applied" in response.json()["detail"]
    finally:
        down.stop()
    redis = Redis.from_url(settings.redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=settings.ingest_prefix + "*API-503*")]
    finally:
        await redis.aclose()
    assert keys == []  # no idempotency key: the retry below is taken as new
    retry = await _post(http, api_stack, batch)
    assert retry.status_code == 202 and retry.json()["accepted"] == 2
    assert (await _case(read_model, "API-503"))["status"] == "submitted"
