"""Restarts heal by themselves: Redis frozen, restarted with its append-only file, and restarted
empty, then the API restarted, under a bounded load, with no operator.

A worker and an API of this module's own take a steady load of opening events, one new case
each, from a few clients that resend after a 503 (as the answer says); supervisors acknowledge
red alerts between the faults. Redis is then, in turn, frozen (SIGSTOP) for a few seconds,
stopped and started (it comes back from its append-only file), and killed with its files
deleted (it comes back empty); last, the API is stopped and started again on its port (the
clients resend what got no answer). At the end:

- every event answered 202 is in the read model exactly once (the open count is theirs), with
  the content accepted, and none of those never answered 202 is;
- every ack answered 202 has exactly one audit entry, and there is no other: the audit log is
  whole again after the empty restart, rebuilt with the read model from Kafka;
- the dev tokens work (put back after the empty restart); a token issued by hand survives the
  restart with the append-only file and not the empty one (operator guide: what a Redis loss
  takes);
- the worker never died, and ``/readyz`` says ready with the read model whole.

Redis is this session's own (``scripts/services/redis.sh``): the test stops, freezes and empties
it, so it skips when Redis was started elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from events import OPENING, SPEC_ACCEPTED, event, now
from readkit import read_model_whole
from redis.asyncio import Redis
from stack import eventually

from bench.processes import ApiProcess, WorkerProcess, dev_secret
from bench.runs import api_settings, forget_run, isolated_settings
from monitor.api.auth import Role, TokenStore
from monitor.readmodel import ReadModel
from monitor.settings import Settings
from streams.topics import ensure_topics

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).resolve().parents[3] / "scripts" / "services"
REDIS_RUN = Path(__file__).resolve().parents[3] / ".run" / "redis"
CLIENTS = 3
PAUSE_S = 0.05  # between one client's requests
RESENDS = 3  # a client resends an event after a 503 this many times, then gives up on it
FROZEN_S = 6.0  # SIGSTOP for this long: past the API's Redis timeout (5 s)
RED_CASES = 6  # cases with a firing overdue alert, for the supervisors to acknowledge
STEP = 15  # events accepted between one fault and the next


def _redis(action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SERVICES / "redis.sh"), action],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Ledger:
    """What the clients were answered, by case id (one event id per case)."""

    accepted: dict[str, str] = field(default_factory=dict)  # case id -> handler accepted
    never: set[str] = field(default_factory=set)  # given up on after 503s only
    answers: dict[int, int] = field(default_factory=dict)  # status code -> count


@dataclass
class Stack:
    settings: Settings
    api: ApiProcess
    worker: WorkerProcess
    ingest: str
    supervisor: str
    data: Path

    async def restart_api(self) -> None:
        """The API stopped (SIGTERM) and started again on its port, with the same tokens."""
        port = self.api.port
        self.api.stop()
        self.api = ApiProcess(self.settings, self.data, self.ingest, self.supervisor, port=port)
        await self.api.wait_until(200, "/readyz")


@pytest.fixture(scope="module")
async def stack(
    kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    if _redis("status").returncode != 0:
        pytest.skip("Redis was started elsewhere: this test freezes, stops and empties its own")
    data = tmp_path_factory.mktemp("redis-faults")
    settings = api_settings(
        isolated_settings(kafka_bootstrap, redis_url, data / "worker"), api_retry_after_s=1
    )
    await ensure_topics(settings)
    worker = WorkerProcess(settings, data / "worker")
    ingest, supervisor = dev_secret(), dev_secret()
    api = ApiProcess(settings, data, ingest, supervisor)
    stack = Stack(settings, api, worker, ingest, supervisor, data)
    try:
        await api.wait_until(200, "/readyz")
        await read_model_whole(api.base_url)
        yield stack
    finally:
        stack.api.stop()  # the one running: the test restarts it
        worker.stop()
        if _redis("answering").returncode != 0:  # a failure left it stopped or frozen
            _resume_redis()
            _redis("start")
        await forget_run(settings)


def _redis_pid() -> int:
    return int((REDIS_RUN / "redis.pid").read_text())


def _resume_redis() -> None:
    with contextlib.suppress(OSError, ValueError):
        os.kill(_redis_pid(), signal.SIGCONT)


def _opening(case_id: str, handler: str) -> dict[str, Any]:
    return event(case_id, 1, "submitted", now() - 5, **OPENING, handler=handler)


async def _post(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(
        "/v1/events",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


async def _client(number: int, stack: Stack, ledger: Ledger, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=stack.api.base_url, timeout=30) as client:
        n = 0
        while not stop.is_set():
            n += 1
            case_id = f"RDS-{number}-{n:05d}"
            body = _opening(case_id, f"handler {number}")
            for _ in range(1 + RESENDS):
                try:
                    response = await _post(client, stack.ingest, body)
                except httpx.TransportError:
                    code = 0  # the API held the request past our patience: resend
                else:
                    code = response.status_code
                ledger.answers[code] = ledger.answers.get(code, 0) + 1
                if code == 202:
                    assert response.json()["results"][0]["status"] in ("accepted", "duplicate")
                    ledger.accepted[case_id] = body["handler"]
                    break
                assert code in (0, 401, 503), response.text  # 401: tokens not back yet
                await asyncio.sleep(1.0)
            else:
                ledger.never.add(case_id)
            await asyncio.sleep(PAUSE_S)


async def _ack(stack: Stack, alert_id: str) -> str | None:
    """An ack of ``alert_id`` by the dev supervisor: its audit id if answered 202."""
    async with httpx.AsyncClient(base_url=stack.api.base_url, timeout=30) as client:
        response = await client.post(
            f"/v1/alerts/{alert_id}/ack",
            json={"note": "督办 during a fault"},
            headers={"Authorization": f"Bearer {stack.supervisor}"},
        )
    if response.status_code == 202:
        audit_id: str = response.json()["audit_id"]
        return audit_id
    assert response.status_code in (401, 503), response.text
    return None


async def _status(stack: Stack, path: str, token: str | None = None) -> int:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=stack.api.base_url, timeout=10) as client:
        try:
            return (await client.get(path, headers=headers)).status_code
        except httpx.TransportError:
            return 0


def _ready(stack: Stack) -> Callable[[], Awaitable[dict[str, Any] | None]]:
    async def probe() -> dict[str, Any] | None:
        async with httpx.AsyncClient(base_url=stack.api.base_url, timeout=10) as client:
            response = await client.get("/readyz")
        return response.json() if response.status_code == 200 else None

    return probe


def _when(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool | None]]:
    async def probe() -> bool | None:
        return condition() or None

    return probe


async def test_redis_frozen_restarted_and_emptied_heals_without_an_operator(
    stack: Stack, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    read_model = ReadModel(redis, stack.settings.read_model_prefix)
    _, by_hand = await TokenStore(redis, stack.settings.auth_prefix).create(
        "issued by hand", "person", Role.VIEWER
    )
    # red cases, each with a firing overdue alert to acknowledge
    red = [f"RDS-RED-{n}" for n in range(RED_CASES)]
    async with httpx.AsyncClient(base_url=stack.api.base_url, timeout=30) as client:
        bodies = [
            event(c, 1, "accepted", SPEC_ACCEPTED, **OPENING, data={"promised": "5wd"}) for c in red
        ]
        response = await client.post(
            "/v1/events",
            json={"events": bodies},
            headers={"Authorization": f"Bearer {stack.ingest}"},
        )
        assert response.status_code == 202, response.text

    async def alerts() -> list[str] | None:
        views = [await read_model.case(c) for c in red]
        found = [
            a["id"]
            for v in views
            if v
            for a in v["alerts"]
            if a["kind"] == "deadline_overdue" and a["status"] == "firing"
        ]
        return found if len(found) == RED_CASES else None

    to_ack = await eventually(alerts)
    acked: list[str] = []  # the audit ids answered 202

    async def ack_two() -> None:
        for alert_id in (to_ack.pop(), to_ack.pop()):
            audit_id = await _ack(stack, alert_id)
            if audit_id is not None:
                acked.append(audit_id)

    ledger, stop = Ledger(), asyncio.Event()
    clients = [asyncio.create_task(_client(n, stack, ledger, stop)) for n in range(CLIENTS)]

    async def accepted_more() -> None:
        before = len(ledger.accepted)
        await eventually(_when(lambda: len(ledger.accepted) >= before + STEP), timeout=120)

    try:
        await accepted_more()
        await ack_two()
        # 1. frozen: requests wait, then 503; the worker holds its batch
        os.kill(_redis_pid(), signal.SIGSTOP)
        try:
            await asyncio.sleep(FROZEN_S)
        finally:
            _resume_redis()
        await accepted_more()
        await ack_two()
        # 2. stopped and started: back from its append-only file
        assert (await asyncio.to_thread(_redis, "stop")).returncode == 0
        started = await asyncio.to_thread(_redis, "start")
        assert started.returncode == 0, started.stdout + started.stderr
        await accepted_more()
        assert await _status(stack, "/v1/cases", by_hand) == 200  # kept with the file
        await ack_two()
        # 3. killed, its files gone: back empty
        os.kill(_redis_pid(), signal.SIGKILL)
        await eventually(_when(lambda: _redis("answering").returncode != 0))
        shutil.rmtree(REDIS_RUN / "appendonlydir", ignore_errors=True)
        started = await asyncio.to_thread(_redis, "start")
        assert started.returncode == 0, started.stdout + started.stderr
        await read_model_whole(stack.api.base_url)  # rebuilt by the worker
        await accepted_more()
        # 4. the API restarted under the load: its clients resend what got no answer
        await stack.restart_api()
        await accepted_more()
    finally:
        stop.set()
        await asyncio.gather(*clients, return_exceptions=True)

    await redis.aclose()  # its connections went with the Redis they were made to
    redis = Redis.from_url(redis_url)
    read_model = ReadModel(redis, stack.settings.read_model_prefix)
    try:
        assert stack.worker.process.poll() is None, stack.worker.log()[-4000:]
        ready = await eventually(_ready(stack), timeout=30)  # the dev tokens back too
        assert ready["read_model"] == "whole", ready

        async def all_applied() -> bool | None:  # the last ones may still be on their way
            cases = [await read_model.case(case_id) for case_id in ledger.accepted]
            return all(case is not None for case in cases) or None

        with contextlib.suppress(AssertionError):  # the loop below names what is missing
            await eventually(all_applied)
        for case_id, handler in ledger.accepted.items():
            case = await read_model.case(case_id)
            assert case is not None, f"{case_id} was answered 202 and is not in the read model"
            assert case["handler"] == handler, case_id
        applied = [case_id for case_id in ledger.never if await read_model.case(case_id)]
        totals = await read_model.totals()
        open_cases = sum(n for light, n in totals.items() if light != "closed")
        entries, _ = await read_model.audit_entries(None, 100)
        dev_token = await _status(stack, "/v1/cases", stack.supervisor)
        lost_token = await _status(stack, "/v1/cases", by_hand)
    finally:
        await redis.aclose()
    print(f"answers {ledger.answers}, accepted {len(ledger.accepted)}, never {len(ledger.never)}")
    assert ledger.answers.get(503, 0) + ledger.answers.get(0, 0) >= 1, ledger.answers
    assert applied == [], f"never answered 202, yet applied: {applied}"
    assert open_cases == len(ledger.accepted) + RED_CASES, totals  # each exactly once
    assert acked, "no ack was answered 202"
    assert sorted(entry["id"] for entry in entries) == sorted(acked)
    assert dev_token == 200
    assert lost_token == 401  # a token issued by hand is lost with Redis's files
