"""/healthz, /readyz and /metrics on the real stack, and with Kafka or Redis away."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from apistack import ApiStack
from events import OPENING, SPEC_ACCEPTED, event, now
from prometheus_client.parser import text_string_to_metric_families
from readkit import Json, api_with, get_json, post_events

from bench.processes import free_port
from monitor.alert import AlertKind
from monitor.readmodel import OPEN_LIGHTS, UNKNOWN_CODE, KnownCodes, ReadModel
from tests.stack import eventually

pytestmark = pytest.mark.integration

CENTERS = ("GZ-TIANHE", "GZ-YUEXIU", "LS-CHENGGUAN")  # monitor/data/centres.yaml


def _samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Metric samples by name, then by their sorted labels."""
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def _metrics(http: httpx.AsyncClient) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


def _value(
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str, **labels: str
) -> float:
    return samples[name][tuple(sorted(labels.items()))]


async def _unready(client: httpx.AsyncClient, down: str) -> str:
    """``/readyz`` with one of Kafka and Redis away: 503, the other one ok; the check of the
    one that is down, which starts ``down:``."""
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    [up] = {"kafka", "redis"} - {down}
    assert checks[up] == "ok" and checks[down].startswith("down:")
    return str(checks[down])


async def test_the_gauges_exist_at_zero_before_the_first_case(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    samples = await _metrics(http)
    for light in OPEN_LIGHTS:
        assert _value(samples, "redline_open_cases", light=light) == 0
        for center in CENTERS:
            assert _value(samples, "redline_open_cases_by_center", center=center, light=light) == 0
        assert (
            _value(samples, "redline_open_cases_by_department", department="market", light=light)
            == 0
        )
    for kind in AlertKind:
        for status in ("firing", "acknowledged"):
            assert _value(samples, "redline_alerts", kind=kind.value, status=status) == 0


async def test_probes_answer_on_a_healthy_stack(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    config = body.pop("config")
    assert body == {
        "status": "ready",
        "checks": {"kafka": "ok", "redis": "ok", "auth": "ok"},
        "read_model": "whole",
    }
    # the version this API runs: 0 until it has read the configuration topic
    assert config["version"] >= 0 and config["digest"].startswith("sha256:")


async def test_the_gauges_follow_the_read_model(
    api_stack: ApiStack, http: httpx.AsyncClient, read_model: ReadModel
) -> None:
    red = event("MET-RED", 1, "accepted", SPEC_ACCEPTED, **OPENING, data={"promised": "5wd"})
    green = event("MET-GREEN", 1, "accepted", now(), **{**OPENING, "center": "GZ-YUEXIU"})
    response = await http.post(
        "/v1/events", json={"events": [red, green]}, headers=api_stack.auth(api_stack.ingest_token)
    )
    assert response.status_code == 202, response.text

    async def settled() -> dict[str, Any] | None:
        samples = await _metrics(http)
        firing = _value(samples, "redline_alerts", kind="deadline_overdue", status="firing")
        accepted = samples.get("redline_source_events_total", {}).get(
            (("outcome", "accepted"), ("source", "win-api"))
        )
        return samples if firing >= 1 and accepted == 2 else None

    samples = await eventually(settled)
    assert _value(samples, "redline_open_cases", light="red") == 1
    assert _value(samples, "redline_open_cases", light="green") == 1
    assert _value(samples, "redline_open_cases_by_center", center="GZ-TIANHE", light="red") == 1
    assert _value(samples, "redline_open_cases_by_center", center="GZ-YUEXIU", light="green") == 1
    assert _value(samples, "redline_open_cases_by_center", center="GZ-YUEXIU", light="red") == 0
    market = _value(samples, "redline_open_cases_by_department", department="market", light="red")
    assert market == 1  # FOOD-LICENSE's department in the demo catalog
    assert _value(samples, "redline_source_lag_seconds", source="win-api") >= 0
    case = await http.get("/v1/cases/MET-RED", headers=api_stack.auth(api_stack.viewer_token))
    assert case.status_code == 200
    assert (await http.get("/no/such/route/MET-RED")).status_code == 404
    samples = await _metrics(http)
    requests = samples["redline_api_requests_total"]
    assert requests[(("method", "POST"), ("route", "/v1/events"), ("status", "202"))] >= 1
    assert requests[(("method", "GET"), ("route", "/v1/cases/{case_id}"), ("status", "200"))] >= 1
    assert requests[(("method", "GET"), ("route", "(unmatched)"), ("status", "404"))] >= 1
    assert "redline_api_request_duration_seconds_bucket" in samples
    labels = {value for series in samples.values() for key in series for _, value in key}
    assert not any("MET-" in value for value in labels), "a case id is never a label"


async def test_with_kafka_down_the_api_serves_but_is_not_ready(
    api_stack: ApiStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    closed = f"127.0.0.1:{free_port()}"
    async with api_with(api_stack, tmp_path_factory, kafka_bootstrap=closed) as client:
        kafka = await _unready(client, "kafka")
        assert kafka.startswith("down: cannot reach") and closed in kafka
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200  # Redis is enough for it
        cases = await client.get("/v1/cases", headers=api_stack.auth(api_stack.viewer_token))
        assert cases.status_code == 200  # reads do not need Kafka


async def test_with_redis_down_requests_are_503_not_500(
    api_stack: ApiStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    async with api_with(api_stack, tmp_path_factory, redis_url=closed) as client:
        await _unready(client, "redis")
        body = event("MET-NOREDIS", 1, "submitted", now(), **OPENING)
        response = await client.post(
            "/v1/events", json=body, headers=api_stack.auth(api_stack.ingest_token)
        )
        assert response.status_code == 503, response.text
        assert "Redis" in response.json()["detail"] and response.headers["Retry-After"]
        assert (await client.get("/metrics")).status_code == 503


async def test_invented_codes_are_counted_under_one_unknown_value(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    # the probe: 200 events inventing 100 centres and departments once grew the
    # ranking by 100 lines and /metrics by some 800; now they count as (unknown) there, and
    # feed health still names every unknown centre
    lines_before = _read_model_lines((await http.get("/metrics")).text)
    t = now()
    events = []
    for n in range(100):
        opening = {"center": f"XX-{n}", "item_code": "FOOD-LICENSE", "department": f"dept-{n}"}
        events.append(event(f"MET-INV-{n}", 1, "accepted", t, "win-inv", **opening))
        events.append(event(f"MET-INV-{n}", 2, "completed", t + 1, "win-inv"))
    await post_events(http, api_stack, *events)

    async def applied() -> Json | None:
        sources = await get_json(http, "/v1/sources", api_stack.viewer_token)
        mine = [line for line in sources["items"] if line["source"] == "win-inv"]
        return mine[0] if mine and mine[0]["accepted"] == len(events) else None

    health = await eventually(applied)
    assert health["unknown_centers"] == {f"XX-{n}": 1 for n in range(100)}  # the openings
    ranking = await get_json(http, "/v1/stats/departments", api_stack.viewer_token)
    lines = {line["department"]: line for line in ranking["departments"]}
    assert lines[UNKNOWN_CODE]["completed"] == 100
    known = KnownCodes.of(api_stack.settings.config_files().load())
    assert set(lines) <= known.departments | {UNKNOWN_CODE}
    text = (await http.get("/metrics")).text
    assert _read_model_lines(text) - lines_before == 5  # the new source's series, no more
    samples = _samples(text)
    for name, label in (("by_center", "center"), ("by_department", "department")):
        values = {dict(key)[label] for key in samples[f"redline_open_cases_{name}"]}
        assert UNKNOWN_CODE in values and not any(v.startswith(("XX-", "dept-")) for v in values)


def _read_model_lines(text: str) -> int:
    """Lines of /metrics from the read model's collector (not the API's request metrics)."""
    return sum(1 for line in text.splitlines() if "redline_api_" not in line)
