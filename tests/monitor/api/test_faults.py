"""Answers stay true while the broker goes away: Kafka stopped and started under a bounded load.

A worker and an API of this module's own take a steady load of opening events, one new case
each, from a few clients; Kafka is stopped for a while and started again. Every 503 is
followed at once by a resend of the same event id: corrected after a 503 that says nothing
was applied, as an integrator fixing an event would; the same after one whose outcome is not
known. At the end:

- every event answered 202 is in the read model, with the content that was accepted;
- nothing answered 503 "not applied" ever is (a canary on every partition proves that the
  worker has read past every transaction of the run);
- a corrected resend after such a 503 is accepted and applied, not refused or dead-lettered
  as a conflict; after a 503 "outcome unknown" the same content is sent again, as it says.

The broker is this session's own (``scripts/services/kafka.sh``): the test stops and starts it,
so it skips when Kafka was started elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from events import OPENING, event, now
from redis.asyncio import Redis
from stack import eventually, once_changed

from bench.processes import ApiProcess, WorkerProcess, dev_secret
from bench.runs import api_settings, isolated_settings
from monitor.readmodel import ReadModel
from monitor.settings import Settings
from streams.topics import ensure_topics

pytestmark = pytest.mark.integration

KAFKA = Path(__file__).resolve().parents[3] / "scripts" / "services" / "kafka.sh"
CLIENTS = 3
PAUSE_S = 0.05  # between one client's requests: about 50 requests/s in all
DOWN_S = 8.0  # the broker is away this long (after its stop returned)
CANARIES = 24  # case ids enough to cover the 4 partitions many times over
CORRECTED = 20  # events answered "not applied" that are sent again, corrected, at the end


def _kafka(action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(KAFKA), action], capture_output=True, text=True, timeout=300, check=False
    )


@dataclass
class Ledger:
    """What the clients were answered, by case id (one event id per case)."""

    accepted: dict[str, str] = field(default_factory=dict)  # case id -> handler accepted
    refused_503: set[str] = field(default_factory=set)  # answered "not applied" only
    unknown: set[str] = field(default_factory=set)  # answered "outcome unknown" at some point
    conflicts: list[str] = field(default_factory=list)  # a corrected resend refused
    answers: dict[int, int] = field(default_factory=dict)  # status code -> count


@dataclass
class Stack:
    settings: Settings
    api: ApiProcess
    worker: WorkerProcess
    token: str


@pytest.fixture(scope="module")
async def stack(
    kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    if _kafka("status").returncode != 0:
        pytest.skip("Kafka was started elsewhere: this test stops and starts its own broker")
    data = tmp_path_factory.mktemp("faults")
    settings = api_settings(
        isolated_settings(kafka_bootstrap, redis_url, data / "worker"),
        api_kafka_timeout_s=2.0,
        api_retry_after_s=1,
    )
    await ensure_topics(settings)
    worker = WorkerProcess(settings, data / "worker")
    token = dev_secret()
    api = ApiProcess(settings, data, token, dev_secret())
    try:
        await api.wait_until(200, "/readyz")
        yield Stack(settings, api, worker, token)
    finally:
        api.stop()
        worker.stop()
        redis = Redis.from_url(redis_url)
        await ReadModel(redis, settings.read_model_prefix).flush()
        await redis.aclose()


def _opening(case_id: str, handler: str, at: int | None = None) -> dict[str, Any]:
    return event(
        case_id, 1, "submitted", now() - 5 if at is None else at, **OPENING, handler=handler
    )


async def _post(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(
        "/v1/events",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


async def _client(
    number: int, stack: Stack, ledger: Ledger, stop: asyncio.Event, timeout_s: float
) -> None:
    async with httpx.AsyncClient(base_url=stack.api.base_url, timeout=timeout_s) as client:
        n = 0
        while not stop.is_set():
            n += 1
            case_id = f"FLT-{number}-{n:05d}"
            handler, at = "first", now() - 5
            for _ in range(2):  # the event, then once more after a 503
                response = await _post(client, stack.token, _opening(case_id, handler, at))
                code = response.status_code
                ledger.answers[code] = ledger.answers.get(code, 0) + 1
                if code == 202:
                    if response.json()["accepted"] == 1:
                        ledger.accepted[case_id] = handler
                    else:
                        ledger.conflicts.append(f"{case_id}: {response.text}")
                    break
                assert code == 503, response.text
                if "not known" in response.json()["detail"]:
                    ledger.unknown.add(case_id)  # resend the same content, as told
                else:
                    ledger.refused_503.add(case_id)
                    handler = "corrected"  # not applied: the integrator may correct it
            await asyncio.sleep(PAUSE_S)


async def _until_ready(stack: Stack) -> None:
    async def ready() -> bool | None:
        async with httpx.AsyncClient(base_url=stack.api.base_url, timeout=5) as client:
            try:
                return (await client.get("/readyz")).status_code == 200 or None
            except httpx.HTTPError:
                return None

    await eventually(ready, timeout=120)


async def test_kafka_stopped_and_started_no_503_is_applied_and_every_202_is(
    stack: Stack, redis_url: str
) -> None:
    ledger, stop = Ledger(), asyncio.Event()
    redis = Redis.from_url(redis_url)
    read_model = ReadModel(redis, stack.settings.read_model_prefix)
    timeout_s = stack.settings.api_kafka_timeout_s + 10
    clients = [
        asyncio.create_task(_client(n, stack, ledger, stop, timeout_s)) for n in range(CLIENTS)
    ]
    try:
        await eventually(_when(lambda: len(ledger.accepted) >= 20))
        # the worker is up and applying before the broker goes (a worker that is still
        # starting then dies: the operator guide's known rough edges)
        first = next(iter(ledger.accepted))
        await once_changed(read_model, lambda: read_model.case(first))
        stopped = await asyncio.to_thread(_kafka, "stop")
        assert stopped.returncode == 0, stopped.stderr
        down_at = time.monotonic()
        await eventually(_when(lambda: ledger.answers.get(503, 0) >= 5))
        await asyncio.sleep(max(0.0, DOWN_S - (time.monotonic() - down_at)))
        started = await asyncio.to_thread(_kafka, "start")
        assert started.returncode == 0, started.stdout + started.stderr
        await _until_ready(stack)
        accepted_before = len(ledger.accepted)
        await eventually(_when(lambda: len(ledger.accepted) >= accepted_before + 20))
    finally:
        stop.set()
        await asyncio.gather(*clients)

    # a canary on every partition: once all are in the read model, the worker has read past
    # every transaction of the run, committed or aborted
    canaries = [f"FLT-CANARY-{n:02d}" for n in range(CANARIES)]
    never = sorted(ledger.refused_503 - ledger.unknown - set(ledger.accepted))
    async with httpx.AsyncClient(base_url=stack.api.base_url, timeout=timeout_s) as client:
        # corrected resends of events answered "not applied": taken, and applied as corrected
        for case_id in never[:CORRECTED]:
            response = await _post(client, stack.token, _opening(case_id, "corrected later"))
            assert response.status_code == 202 and response.json()["accepted"] == 1, response.text
            ledger.accepted[case_id] = "corrected later"
        for case_id in canaries:
            response = await _post(client, stack.token, _opening(case_id, "canary"))
            assert response.status_code == 202, response.text
    try:

        async def all_canaries() -> bool | None:
            cases = [await read_model.case(case_id) for case_id in canaries]
            return all(case is not None for case in cases) or None

        try:
            await eventually(all_canaries, timeout=120)
        except AssertionError:
            raise AssertionError(
                f"the canaries did not reach the read model; the worker:\n"
                f"{stack.worker.log()[-4000:]}\nthe API:\n{stack.api.log()[-3000:]}"
            ) from None
        for case_id, handler in ledger.accepted.items():
            case = await read_model.case(case_id)
            assert case is not None, f"{case_id} was answered 202 and is not in the read model"
            assert case["handler"] == handler, case_id
        applied_after_503 = [c for c in never[CORRECTED:] if await read_model.case(c)]
    finally:
        await redis.aclose()
    print(
        f"answers {ledger.answers}, unknown {len(ledger.unknown)}, accepted {len(ledger.accepted)}"
    )
    assert ledger.answers.get(503, 0) >= 5, ledger.answers  # the fault did reach the API
    assert applied_after_503 == [], f"answered 503 (not applied), yet applied: {applied_after_503}"
    assert ledger.conflicts == []
    assert len(never) > CORRECTED, ledger.answers  # enough left to show nothing was applied


def _when(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool | None]]:
    async def probe() -> bool | None:
        return condition() or None

    return probe
