"""Who may do what, on the real stack: tokens (missing, wrong, revoked), kinds and roles,
source spoofing, centre-bound tokens, slow bodies, rate limits, odd input, and no secret in
the API's log."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx
import pytest
from apistack import ApiStack
from events import OPENING, event, now, produced
from redis.asyncio import Redis

from bench.feeds import produce
from monitor.api.auth import Principal, Role, TokenStore
from monitor.readmodel import ReadModel
from streams.tracker import REASON_HEADER
from tests.stack import eventually
from tests.streams.topicends import read_to_end

pytestmark = pytest.mark.integration


def _send(
    http: httpx.AsyncClient, token: str | None, body: Any, **headers: str
) -> Awaitable[httpx.Response]:
    auth = {} if token is None else {"Authorization": f"Bearer {token}"}
    return http.post(
        "/v1/events",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **auth, **headers},
    )


async def _token(stack: ApiStack, name: str, kind: str, **fields: Any) -> tuple[Principal, str]:
    redis = Redis.from_url(stack.settings.redis_url)
    try:
        return await TokenStore(redis, stack.settings.auth_prefix).create(name, kind, **fields)
    finally:
        await redis.aclose()


async def _revoke(stack: ApiStack, token_id: str) -> bool:
    redis = Redis.from_url(stack.settings.redis_url)
    try:
        return await TokenStore(redis, stack.settings.auth_prefix).revoke(token_id)
    finally:
        await redis.aclose()


# -- tokens ------------------------------------------------------------------------------------


async def test_a_missing_wrong_or_revoked_token_is_401(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    body = event("SEC-401", 1, "submitted", now(), **OPENING)
    principal, secret = await _token(api_stack, "to revoke", "integrator", source="win-api")
    assert (await _send(http, secret, body)).status_code == 202
    assert await _revoke(api_stack, principal.token_id)
    cases: dict[str, bytes | None] = {
        "missing": None,
        "wrong": b"Bearer rl_" + b"x" * 43,
        "revoked": f"Bearer {secret}".encode(),
        "not bearer": f"Basic {secret}".encode(),
        "empty": b"Bearer",
        "huge": b"Bearer " + b"x" * 6000,
        "odd bytes": b"Bearer \xc3\xa9\xff",
    }
    for name, authorization in cases.items():
        headers = [(b"Content-Type", b"application/json")]
        if authorization is not None:
            headers.append((b"Authorization", authorization))
        response = await http.post("/v1/events", content=json.dumps(body).encode(), headers=headers)
        assert response.status_code == 401, (name, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer", name
        assert "token" in response.json()["detail"], name
    # the person routes answer the same
    response = await http.get("/v1/cases", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


async def test_a_person_token_cannot_send_events_and_a_viewer_cannot_act(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    body = event("SEC-403", 1, "submitted", now(), **OPENING)
    for token in (api_stack.viewer_token, api_stack.supervisor_token):
        response = await _send(http, token, body)
        assert response.status_code == 403, response.text
        assert "integrator token" in response.json()["detail"]
    ack = await http.post(
        "/v1/alerts/any-alert/ack", json={}, headers=api_stack.auth(api_stack.viewer_token)
    )
    assert ack.status_code == 403 and "supervisor" in ack.json()["detail"]
    # and an integrator token reads nothing
    cases = await http.get("/v1/cases", headers=api_stack.auth(api_stack.ingest_token))
    assert cases.status_code == 403 and "person token" in cases.json()["detail"]


# -- what a token may send ---------------------------------------------------------------------


async def test_an_integrator_sends_only_its_own_source(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    _, secret = await _token(api_stack, "gz window", "integrator", source="win-gz")
    own = event("SEC-SRC1", 1, "submitted", now(), source="win-gz", **OPENING)
    spoofed = event("SEC-SRC2", 1, "submitted", now(), source="win-victim", **OPENING)
    response = await _send(http, secret, {"events": [own, spoofed]})
    assert response.status_code == 202, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "refused"]
    assert results[1]["errors"] == [
        {
            "field": "source",
            "rule": "must be 'win-gz': this token sends events of that source only",
        }
    ]
    only_spoofed = await _send(http, secret, spoofed)
    assert only_spoofed.status_code == 422
    [record] = await produced(api_stack.settings, {"SEC-SRC1-1"})
    assert record[1]["source"] == "win-gz"
    assert await produced(api_stack.settings, {"SEC-SRC2-1"}, timeout=3) == []

    async def counted() -> dict[str, int] | None:  # in the sender's feed, not the victim's
        health = {h.source: h for h in await read_model.sources()}
        mine = health.get("win-gz")
        if mine is None or mine.refused < 2:
            return None
        return {source: h.refused for source, h in health.items()}

    refused = await eventually(counted)
    assert refused["win-gz"] == 2 and "win-victim" not in refused


async def test_a_token_bound_to_centers_sends_only_for_them(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    # a case of another centre, already in the read model
    other = event("SEC-CTR-OTHER", 1, "accepted", now(), source="win-yx", **OPENING)
    other["center"] = "GZ-YUEXIU"
    assert (await _send(http, api_stack.ingest_token, other)).status_code == 202

    async def placed() -> dict[str, Any] | None:
        return await read_model.case("SEC-CTR-OTHER")

    await eventually(placed)
    _, secret = await _token(
        api_stack, "tianhe window", "integrator", source="win-yx", centers=["GZ-TIANHE"]
    )
    batch = [
        event("SEC-CTR1", 1, "accepted", now(), source="win-yx", **OPENING),  # its centre
        {
            **event("SEC-CTR2", 1, "accepted", now(), source="win-yx", **OPENING),
            "center": "GZ-YUEXIU",
        },
        event("SEC-CTR1", 2, "resumed", now(), source="win-yx"),  # no centre named
        event("SEC-CTR-OTHER", 2, "completed", now(), source="win-yx", center="GZ-TIANHE"),
    ]
    response = await _send(http, secret, {"events": batch})
    assert response.status_code == 202, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "refused", "refused", "refused"]
    assert results[1]["errors"][0]["field"] == "center"
    assert "'GZ-YUEXIU' is not a centre this token sends for" in results[1]["errors"][0]["rule"]
    assert results[2]["errors"] == [
        {"field": "center", "rule": "is required with a token bound to centres (GZ-TIANHE)"}
    ]
    assert results[3]["errors"][0]["field"] == "case_id"
    assert "belongs to centre 'GZ-YUEXIU'" in results[3]["errors"][0]["rule"]


# -- who may write to a case (monitor.writers) -------------------------------------------------


async def test_only_the_opener_and_its_centres_sources_write_to_a_case(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    _, desk = await _token(api_stack, "tianhe desk", "integrator", source="win-desk")
    _, intruder = await _token(api_stack, "unbound window", "integrator", source="win-intruder")
    # the demo centres file lists it under GZ-TIANHE (monitor/data/centres.yaml)
    _, approval = await _token(
        api_stack, "market approval", "integrator", source="tianhe-market-approval"
    )
    opened = event("SEC-WR1", 1, "accepted", now(), source="win-desk", **OPENING)
    assert (await _send(http, desk, opened)).status_code == 202

    async def placed() -> dict[str, Any] | None:
        return await read_model.case("SEC-WR1")

    assert (await eventually(placed))["opened_by"] == "win-desk"
    closing = event("SEC-WR1", 2, "completed", now(), source="win-intruder")
    response = await _send(http, intruder, closing)
    assert response.status_code == 422, response.text  # its only event refused
    assert response.json()["results"][0]["errors"] == [
        {
            "field": "source",
            "rule": "case 'SEC-WR1' was opened by source 'win-desk'; only that source and the "
            "sources the centres file lists for its centre 'GZ-TIANHE' may write to it",
        }
    ]
    assert await produced(api_stack.settings, {"SEC-WR1-2"}, timeout=3) == []
    completed = event("SEC-WR1", 3, "completed", now(), source="tianhe-market-approval")
    response = await _send(http, approval, completed)
    assert response.json()["results"][0]["status"] == "accepted", response.text

    async def closed() -> dict[str, Any] | None:
        case = await read_model.case("SEC-WR1")
        return case if case is not None and case["status"] == "completed" else None

    assert [entry["source"] for entry in (await eventually(closed))["timeline"]] == [
        "win-desk",
        "tianhe-market-approval",
    ]


async def test_the_worker_refuses_a_write_the_api_could_not_see(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    # straight on Kafka, and in the same request as the opening event (the read model does not
    # hold the case yet): the engine is the authority, and dead-letters it with its reason
    at = now()
    batch = [
        event("SEC-WR2", 1, "accepted", at, source="win-owner", **OPENING),
        event("SEC-WR2", 2, "withdrawn", at + 1, source="win-other"),
    ]
    response = await _send(http, api_stack.ingest_token, {"events": batch})  # any source
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "accepted"]
    straight = event("SEC-WR2", 3, "completed", at + 2, source="win-other")
    await produce(
        api_stack.settings, (b"SEC-WR2", json.dumps(straight, ensure_ascii=False).encode())
    )

    async def refused() -> dict[str, list[dict[str, str]]] | None:
        letters = {
            json.loads(record.value)["event_id"]: json.loads(dict(record.headers)[REASON_HEADER])
            for record in await read_to_end(
                api_stack.settings.kafka_bootstrap, api_stack.settings.dlq_topic
            )
            if json.loads(record.value).get("case_id") == "SEC-WR2"
        }
        return letters if len(letters) == 2 else None

    letters = await eventually(refused)
    rule = (
        "case 'SEC-WR2' was opened by source 'win-owner'; only that source and the sources "
        "the centres file lists for its centre 'GZ-TIANHE' may write to it"
    )
    assert letters == {
        "SEC-WR2-2": [{"field": "source", "rule": rule}],
        "SEC-WR2-3": [{"field": "source", "rule": rule}],
    }
    case = await read_model.case("SEC-WR2")
    assert case is not None and (case["status"], case["opened_by"]) == ("open", "win-owner")


# -- bodies and rates --------------------------------------------------------------------------


async def _trickle(writer: asyncio.StreamWriter, byte: bytes, seconds: float) -> None:
    """A byte a second, for that many seconds: a request that never ends."""
    for _ in range(int(seconds)):
        await asyncio.sleep(1)
        writer.write(byte)
        await writer.drain()


async def _answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The status line and the body of one answer, read by its Content-Length (not to the end:
    a reset may follow the close)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    length = next(
        int(f.split(":", 1)[1]) for f in fields if f.lower().startswith("content-length:")
    )
    return status_line.encode(), await reader.readexactly(length)


async def _slow_request(
    stack: ApiStack, start: bytes, byte: bytes | None, timeout: float
) -> tuple[bytes, bytes, float]:
    """Send ``start``, then ``byte`` once a second (None: nothing more); the answer's status
    line and body, and the seconds it took."""
    host, port = stack.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    started = time.monotonic()
    writer.write(start)
    dripping = None if byte is None else asyncio.create_task(_trickle(writer, byte, timeout + 10))
    try:
        status_line, body = await asyncio.wait_for(_answer(reader), timeout + 5)
        return status_line, body, time.monotonic() - started
    finally:
        if dripping is not None:
            dripping.cancel()
        writer.close()


async def test_a_slow_body_is_cut_with_408_within_the_timeout(api_stack: ApiStack) -> None:
    timeout = api_stack.settings.api_body_timeout_s
    head = (
        "POST /v1/events HTTP/1.1\r\n"
        "Host: redline\r\n"
        f"Authorization: Bearer {api_stack.ingest_token}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    # a trickle, a byte a second: never the whole body
    status_line, body, elapsed = await _slow_request(
        api_stack, head.encode() + b'{"event_id": ', b" ", timeout
    )
    assert status_line.startswith(b"HTTP/1.1 408"), status_line
    assert timeout - 0.5 <= elapsed <= timeout + 2, elapsed
    assert b"did not arrive within" in body


async def test_slow_headers_and_silent_connections_are_cut_with_408_within_the_timeout(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    timeout = api_stack.settings.api_header_timeout_s
    start = b"GET /healthz HTTP/1.1\r\nHost: redline\r\nX-Slow: "
    slow = [_slow_request(api_stack, start, b"a", timeout) for _ in range(16)]  # never finished
    silent = [_slow_request(api_stack, b"", None, timeout) for _ in range(4)]  # nothing at all
    clients = [asyncio.create_task(client) for client in slow + silent]
    await asyncio.sleep(1)
    assert (await http.get("/healthz")).status_code == 200  # the others are served meanwhile
    for status_line, body, elapsed in await asyncio.gather(*clients):
        assert status_line.startswith(b"HTTP/1.1 408"), status_line
        assert timeout - 0.5 <= elapsed <= timeout + 2, elapsed
        assert "headers did not arrive within" in json.loads(body)["detail"]
    # a connection that was answered is held to the same bound for its next request
    host, port = api_stack.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: redline\r\n\r\n")
        assert (await _answer(reader))[0].startswith(b"HTTP/1.1 200")
        writer.write(b"GET /healthz HTTP/1.1\r\n")  # and no more
        status_line, _ = await asyncio.wait_for(_answer(reader), timeout + 5)
        assert status_line.startswith(b"HTTP/1.1 408"), status_line
    finally:
        writer.close()


async def test_over_the_rate_is_429_then_the_token_recovers(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    _, secret = await _token(api_stack, "slow", "integrator", source="win-rate", rate_per_s=1.0)
    body = event("SEC-RATE", 1, "submitted", now(), source="win-rate", **OPENING)
    burst = int(api_stack.settings.api_rate_burst_s)  # 1 req/s holds that many at once
    answers = [await _send(http, secret, body) for _ in range(burst + 3)]
    codes = [a.status_code for a in answers]
    assert codes[:burst] == [202] * burst and codes[burst:] == [429] * 3, codes
    limited = answers[-1]
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    assert "rate limit" in limited.json()["detail"]
    # another token is not slowed by this one
    assert (await _send(http, api_stack.ingest_token, body)).status_code == 202
    await asyncio.sleep(retry_after)  # what the answer asked for
    again = await _send(http, secret, body)
    assert again.status_code == 202 and again.json()["results"][0]["status"] == "duplicate"


# -- odd input ---------------------------------------------------------------------------------

ODD_IDS = [
    "案件-2026/0001",
    "C*?[]{}\\^$",
    "'; DROP TABLE cases; --",
    "redis.call('FLUSHALL')",
    "../../etc/passwd",
    "%00%0d%0a",
    "‮RTL‬ 😀 ",
    "a" * 64,
]


async def test_odd_characters_are_kept_exactly_and_injections_are_plain_text(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    batch = [
        event(case_id, 1, "submitted", now(), source="win-odd*[?]", **OPENING, handler=case_id)
        for case_id in ODD_IDS
    ]
    response = await _send(http, api_stack.ingest_token, {"events": batch})
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == len(ODD_IDS)
    for case_id in ODD_IDS:

        async def seen(case_id: str = case_id) -> dict[str, Any] | None:
            return await read_model.case(case_id)

        case = await eventually(seen)
        assert case["case_id"] == case_id and case["handler"] == case_id
    assert await read_model.redis.dbsize() > 0  # nothing was flushed
    again = await _send(http, api_stack.ingest_token, {"events": batch})
    assert again.json()["duplicate"] == len(ODD_IDS)  # the keys hold these ids exactly


@pytest.mark.parametrize(
    ("raw", "field", "rule"),
    [
        ('"case_id": "C\\u0000-1"', "case_id", "must not contain control characters"),
        ('"case_id": "C-1\\n"', "case_id", "must not contain control characters"),
        ('"case_id": "\\ud800"', "case_id", "unicode string"),
        ('"case_id": ' + json.dumps("x" * 65), "case_id", "at most 64 characters"),
        ('"case_id": {"$ne": null}', "case_id", "valid string"),
        ('"case_id": ["C-1"]', "case_id", "valid string"),
        ('"case_id": 1e999', "case_id", "valid string"),
        ('"case_id": NaN', "case_id", "valid string"),
        ('"case_id": ' + "9" * 5000, "(body)", "is not valid JSON"),
    ],
)
async def test_broken_fields_are_refused_with_their_rule_never_500(
    api_stack: ApiStack, http: httpx.AsyncClient, raw: str, field: str, rule: str
) -> None:
    base = event("SEC-ODD", 1, "submitted", now(), **OPENING)
    del base["case_id"]
    text = json.dumps(base)[:-1] + ", " + raw + "}"
    response = await http.post(
        "/v1/events",
        content=text.encode(),
        headers={"Content-Type": "application/json", **api_stack.auth(api_stack.ingest_token)},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    errors = body["detail"] if "detail" in body else body["results"][0]["errors"]
    assert any(e["field"] == field and rule in e["rule"] for e in errors), errors


async def test_an_unpaired_surrogate_in_a_field_name_is_refused_not_500(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    text = json.dumps(event("SEC-SUR", 1, "submitted", now(), **OPENING))[:-1] + ', "\\udc80x": 1}'
    response = await http.post(
        "/v1/events",
        content=text.encode(),
        headers={"Content-Type": "application/json", **api_stack.auth(api_stack.ingest_token)},
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["results"][0]["errors"]
    assert error["field"] == "(event)" and "unicode string" in error["rule"]


# -- secrets -----------------------------------------------------------------------------------


async def test_no_secret_reaches_the_api_log(api_stack: ApiStack, http: httpx.AsyncClient) -> None:
    _, extra = await _token(api_stack, "logged?", "person", role=Role.ADMIN)
    wrong = "rl_this-one-is-wrong-" + "z" * 20
    secrets = [api_stack.ingest_token, api_stack.supervisor_token, api_stack.viewer_token, extra]
    body = event("SEC-LOG", 1, "submitted", now(), **OPENING)
    for token in [*secrets, wrong]:
        await _send(http, token, body)
        await http.get("/v1/cases", headers=api_stack.auth(token))
        await http.get("/v1/cases", params={"token": token})
        # the wall's stream takes its token in the query string (EventSource sends no header)
        async with http.stream("GET", "/v1/stream", params={"token": token}) as stream:
            async for _ in stream.aiter_lines():
                break
    assert api_stack.log_path is not None
    log = Path(api_stack.log_path).read_text(errors="replace")
    assert '"POST /v1/events" 202' in log  # the access log is there and was written
    for secret in [*secrets, wrong]:
        assert secret not in log
        assert hashlib.sha256(secret.encode()).hexdigest() not in log
