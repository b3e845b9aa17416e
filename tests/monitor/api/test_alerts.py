"""Alerts on the real stack: the list and its filters, a supervisor's ack and cancel going
through Kafka and the worker back into the read model, and the audit log of who did it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from apistack import ApiStack
from events import event, now
from readkit import (
    Json,
    all_pages,
    api_with,
    case_when,
    get_json,
    post_events,
    refused_fields,
    token_store,
)

from bench.processes import free_port
from monitor.api.auth import Principal, Role
from monitor.casetypes import Command
from monitor.records import SupervisorCommand, new_command_id
from monitor.timeutil import parse_instant
from tests.stack import eventually

pytestmark = pytest.mark.integration

OVERDUE = "deadline_overdue"


def _red(
    case_id: str, center: str = "GZ-TIANHE", item: str = "FOOD-LICENSE", ago_s: int = 3 * 3600
) -> Json:
    """A case accepted ``ago_s`` (three hours) ago with a one-hour promise: red, its overdue
    alert firing."""
    opening = {"center": center, "item_code": item, "data": {"promised": "1h"}}
    return event(case_id, 1, "accepted", now() - ago_s, **opening)


@pytest.fixture(scope="module")
async def overdue(api_stack: ApiStack) -> dict[str, str]:
    """Case id -> the id of its firing deadline_overdue alert, for five red cases."""
    cases = {"AL-ACK": "GZ-TIANHE", "AL-CANCEL": "GZ-TIANHE", "AL-BOTH": "GZ-TIANHE"}
    cases |= {"AL-YX": "GZ-YUEXIU", "AL-DOWN": "GZ-TIANHE"}
    async with httpx.AsyncClient(base_url=api_stack.base_url, timeout=30) as http:
        await post_events(http, api_stack, *(_red(case, center) for case, center in cases.items()))
        found = {}
        for case_id in cases:
            view = await case_when(http, api_stack, case_id, lambda c: _firing(c) is not None)
            found[case_id] = str(_firing(view))
    return found


def _firing(case: Json) -> str | None:
    return next(
        (a["id"] for a in case["alerts"] if a["kind"] == OVERDUE and a["status"] == "firing"), None
    )


@dataclass(frozen=True)
class People:
    """Who decides and who reads the audit log, besides the stack's own tokens."""

    admin: str  # a token of role admin: reads the audit log
    yuexiu: str  # a supervisor token bound to GZ-YUEXIU
    supervisor: Principal  # the dev supervisor token's principal


@pytest.fixture(scope="module")
async def people(api_stack: ApiStack) -> People:
    """An admin token, a supervisor bound to GZ-YUEXIU, and the dev supervisor's principal."""
    async with token_store(api_stack) as store:
        _, admin = await store.create("audit reader", "person", Role.ADMIN)
        _, yuexiu = await store.create(
            "越秀 supervisor", "person", Role.SUPERVISOR, centers=["GZ-YUEXIU"]
        )
        supervisor = await store.verify(api_stack.supervisor_token)
    assert supervisor is not None
    return People(admin, yuexiu, supervisor)


async def _decide(
    http: httpx.AsyncClient, token: str, alert_id: str, command: str, body: Any = None
) -> httpx.Response:
    return await http.post(
        f"/v1/alerts/{alert_id}/{command}", json=body, headers=ApiStack.auth(token)
    )


@dataclass(frozen=True)
class Desk:
    """A supervisor's desk over the module's stack: the red cases' firing alerts, the people,
    deciding, and reading back what the worker and the audit log made of a decision."""

    stack: ApiStack
    http: httpx.AsyncClient
    overdue: dict[str, str]  # case id -> its firing deadline_overdue alert
    people: People

    async def decide(
        self, alert_id: str, command: str, body: Any = None, token: str | None = None
    ) -> httpx.Response:
        """``POST /v1/alerts/{alert_id}/{command}``, by the dev supervisor unless told."""
        who = self.stack.supervisor_token if token is None else token
        return await _decide(self.http, who, alert_id, command, body)

    async def alert_when(self, alert_id: str, status: str) -> Json:
        """The alert, once ``GET /v1/alerts?status=…`` lists it (the worker applied the command)."""

        async def listed() -> Json | None:
            page = await get_json(
                self.http, "/v1/alerts", self.stack.viewer_token, status=status, limit=500
            )
            return next((a for a in page["items"] if a["id"] == alert_id), None)

        return await eventually(listed)

    async def audit(self) -> list[Json]:
        """The audit log's newest 500 entries, newest first."""
        page = await get_json(self.http, "/v1/audit", self.people.admin, limit=500)
        entries: list[Json] = page["items"]
        return entries

    async def audited(self, audit_id: str) -> Json:
        """The audit log's entry ``audit_id``, once the worker applied its decision."""

        async def entry() -> Json | None:
            return next((e for e in await self.audit() if e["id"] == audit_id), None)

        return await eventually(entry)


@pytest.fixture
def desk(
    api_stack: ApiStack, http: httpx.AsyncClient, overdue: dict[str, str], people: People
) -> Desk:
    """The supervisor's desk on the module's stack."""
    return Desk(api_stack, http, overdue, people)


async def test_an_ack_turns_the_alert_acknowledged_and_the_audit_says_who_and_when(
    desk: Desk,
) -> None:
    alert_id = desk.overdue["AL-ACK"]
    before = int(time.time())
    response = await desk.decide(alert_id, "ack", {"note": "已电话督办"})
    after = int(time.time())
    assert response.status_code == 202, response.text
    answer = response.json()
    supervisor = desk.people.supervisor
    assert answer["case_id"] == "AL-ACK" and answer["command"] == "ack"
    assert answer["by"] == supervisor.name

    alert = await desk.alert_when(alert_id, "acknowledged")
    assert alert["case_id"] == "AL-ACK" and alert["resolved_at"] is None
    assert before <= parse_instant(alert["acknowledged_at"]) <= after + 1
    case = await case_when(desk.http, desk.stack, "AL-ACK")
    assert case["light"] == "red"  # acknowledging does not turn a late case green
    assert [a["status"] for a in case["alerts"] if a["id"] == alert_id] == ["acknowledged"]

    entry = await desk.audited(answer["audit_id"])
    assert entry["by"] == supervisor.name and entry["token_id"] == supervisor.token_id
    assert before <= parse_instant(entry["at"]) <= after
    assert (entry["command"], entry["alert_id"], entry["case_id"]) == ("ack", alert_id, "AL-ACK")
    assert (entry["kind"], entry["note"]) == (OVERDUE, "已电话督办")


async def test_a_cancel_needs_a_reason_and_resolves_the_alert_cancelled(desk: Desk) -> None:
    alert_id = desk.overdue["AL-CANCEL"]
    for body in (None, {}, {"note": ""}, {"note": " \t\n"}, {"note": "x" * 2001}):
        response = await desk.decide(alert_id, "cancel", body)
        assert response.status_code == 422, (body, response.text)
        assert [problem["field"] for problem in response.json()["detail"]] == ["note"]
    reason = "申请人当场撤回, 窗口系统漏报撤回事件"
    response = await desk.decide(alert_id, "cancel", {"note": reason})
    assert response.status_code == 202, response.text

    alert = await desk.alert_when(alert_id, "resolved")
    assert alert["resolution"] == "cancelled" and alert["resolved_at"] is not None
    entry = await desk.audited(response.json()["audit_id"])
    assert (entry["command"], entry["note"]) == ("cancel", reason)

    for command in ("cancel", "ack"):  # nothing left to decide
        again = await desk.decide(alert_id, command, {"note": "again"})
        assert again.status_code == 409, again.text
        assert "already resolved" in again.json()["detail"]


async def test_a_decision_the_worker_refuses_has_no_audit_entry(desk: Desk) -> None:
    # straight onto the commands topic, as only the API should write it: a command for an alert
    # the case does not have, then a good one for the same case (so on the same partition,
    # applied after the first was handled)
    stack = desk.stack
    alert_id = desk.overdue["AL-BOTH"]
    at = time.time_ns() // 1_000_000
    wrong, right = (
        SupervisorCommand(
            "AL-BOTH", target, Command.ACKNOWLEDGE, at // 1000, "tester", "", new_command_id(at)
        )
        for target in ("0123456789abcdef0123", alert_id)
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for command in (wrong, right):
            key, value = command.encode()
            await producer.send_and_wait(stack.settings.commands_topic, value, key=key)
    finally:
        await producer.stop()
    await desk.audited(right.audit_id)
    assert wrong.audit_id not in {entry["id"] for entry in await desk.audit()}


async def test_an_alert_acknowledged_then_cancelled(desk: Desk) -> None:
    alert_id = desk.overdue["AL-BOTH"]
    assert (await desk.decide(alert_id, "ack")).status_code == 202  # no body: fine
    await desk.alert_when(alert_id, "acknowledged")
    cancelled = await desk.decide(alert_id, "cancel", {"note": "duplicate of AL-ACK"})
    assert cancelled.status_code == 202, cancelled.text
    alert = await desk.alert_when(alert_id, "resolved")
    assert alert["resolution"] == "cancelled" and alert["acknowledged_at"] is not None


@pytest.mark.parametrize(
    ("alert_id", "status"),
    [("0123456789abcdef0123", 404), ("..%2F..%2Fetc", 404), ("%2A", 404), ("%00", 422)],
)
async def test_an_unknown_or_malformed_alert(
    api_stack: ApiStack, http: httpx.AsyncClient, alert_id: str, status: int
) -> None:
    response = await _decide(http, api_stack.supervisor_token, alert_id, "ack", {"note": "x"})
    assert response.status_code == status, response.text


@pytest.mark.parametrize("command", ["ack", "cancel"])
async def test_a_decision_body_that_is_not_json_is_refused_naming_the_body(
    api_stack: ApiStack, http: httpx.AsyncClient, command: str
) -> None:
    path, auth = f"/v1/alerts/any-alert/{command}", api_stack.auth(api_stack.supervisor_token)
    broken = await http.post(
        path, content=b'{"note": "x",}', headers={"Content-Type": "application/json", **auth}
    )
    assert broken.status_code == 422, broken.text
    assert broken.json()["detail"] == [
        {
            "field": "(body)",
            "rule": "is not valid JSON (Expecting property name enclosed in double quotes: "
            "line 1 column 14 (char 13))",  # as POST /v1/events says it
        }
    ]
    plain = await http.post(
        path, content=b'{"note": "x"}', headers={"Content-Type": "text/plain", **auth}
    )
    assert plain.status_code == 415, plain.text
    assert plain.json()["detail"] == (
        "Content-Type 'text/plain' is not JSON: send Content-Type: application/json (UTF-8)"
    )


async def test_who_may_decide_and_read_the_audit(desk: Desk) -> None:
    stack, http = desk.stack, desk.http
    alert_id = desk.overdue["AL-ACK"]
    assert (await http.post(f"/v1/alerts/{alert_id}/ack")).status_code == 401
    for token in (stack.viewer_token, stack.ingest_token):
        assert (await desk.decide(alert_id, "ack", token=token)).status_code == 403
    for token in (stack.viewer_token, stack.supervisor_token):
        response = await http.get("/v1/audit", headers=ApiStack.auth(token))
        assert response.status_code == 403
    assert (await http.get("/v1/alerts", headers=ApiStack.auth(stack.viewer_token))).is_success


async def test_a_center_bound_supervisor_acts_on_its_center_only(desk: Desk) -> None:
    token = desk.people.yuexiu
    other = await desk.decide(desk.overdue["AL-DOWN"], "ack", {"note": "not ours"}, token)
    assert other.status_code == 404  # another centre's alert: unknown, not forbidden
    ours = await desk.decide(desk.overdue["AL-YX"], "ack", {"note": "越秀已督办"}, token)
    assert ours.status_code == 202, ours.text
    await desk.alert_when(desk.overdue["AL-YX"], "acknowledged")


async def test_the_list_filters_and_rejects_unknown_values(
    api_stack: ApiStack, http: httpx.AsyncClient, overdue: dict[str, str]
) -> None:
    token = api_stack.viewer_token
    firing = await get_json(http, "/v1/alerts", token, status="firing", kind=OVERDUE, limit=500)
    assert firing["items"]
    assert {(a["status"], a["kind"]) for a in firing["items"]} == {("firing", OVERDUE)}
    fired = [parse_instant(a["fired_at"]) for a in firing["items"]]
    assert fired == sorted(fired, reverse=True)  # newest first
    assert len((await get_json(http, "/v1/alerts", token, limit=1))["items"]) == 1
    for params, field in (
        ({"status": "open"}, "status"),
        ({"kind": "deadline_overdue'--"}, "kind"),
        ({"kind": "*"}, "kind"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"order": "oldest-first"}, "order"),
        ({"severity": "green"}, "severity"),
        ({"level": "0"}, "level"),
        ({"level": "4"}, "level"),
        ({"level": "two"}, "level"),
        ({"center": ""}, "center"),
        ({"department": "a\x01b"}, "department"),
        ({"item": "x" * 65}, "item"),
        ({"cursor": "c" * 401}, "cursor"),
    ):
        assert await refused_fields(http, "/v1/alerts", token, params) == [field], params


async def test_the_audit_log_pages_back_newest_first(desk: Desk) -> None:
    for note in ("1", "2"):
        answer = await desk.decide(desk.overdue["AL-ACK"], "ack", {"note": note})
        await desk.audited(answer.json()["audit_id"])
    admin = desk.people.admin
    ids, before = [], None
    for _ in range(3):
        params = {"limit": 1, **({"before": before} if before else {})}
        page = await get_json(desk.http, "/v1/audit", admin, **params)
        [entry] = page["items"]
        ids.append(entry["id"])
        before = page["next_before"]
    assert len(set(ids)) == 3
    assert ids == sorted(ids, reverse=True)
    for before in ("'; DROP", "1790000000000-0", "01790000000-" + "0" * 23):  # the old shape too
        refused = await refused_fields(desk.http, "/v1/audit", admin, {"before": before}, 400)
        assert refused[0] == "before"


async def test_with_kafka_away_a_decision_is_503_and_not_audited(
    desk: Desk, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # a second API on the same Redis and read model, whose Kafka is a port nobody listens on
    away = f"127.0.0.1:{free_port()}"
    alert_id = desk.overdue["AL-DOWN"]
    async with api_with(desk.stack, tmp_path_factory, kafka_bootstrap=away) as cut_off:
        response = await _decide(
            cut_off, desk.stack.supervisor_token, alert_id, "ack", {"note": "kafka away"}
        )
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) >= 1
        assert all(entry["alert_id"] != alert_id for entry in await desk.audit())
        still = await get_json(desk.http, "/v1/alerts", desk.stack.viewer_token, status="firing")
        assert alert_id in {alert["id"] for alert in still["items"]}


QUEUE = {  # the red lights of one centre's health department, as a supervisor works through them
    "status": "firing",
    "severity": "red",
    "center": "LS-CHENGGUAN",
    "department": "health",
    "item": "DRUG-RETAIL",
    "level": 2,
}


@pytest.fixture(scope="module")
async def queue(api_stack: ApiStack) -> list[str]:
    """Five red cases of LS-CHENGGUAN (DRUG-RETAIL, health), accepted a minute apart: their
    firing overdue alerts' ids, oldest first."""
    cases = [f"AQ-{n}" for n in range(5)]
    async with httpx.AsyncClient(base_url=api_stack.base_url, timeout=30) as http:
        await post_events(
            http,
            api_stack,
            *(
                _red(case, "LS-CHENGGUAN", "DRUG-RETAIL", 4 * 3600 - 60 * n)
                for n, case in enumerate(cases)
            ),
        )
        views = [
            await case_when(http, api_stack, case, lambda c: _firing(c) is not None)
            for case in cases
        ]
    return [str(_firing(view)) for view in views]


async def test_the_queue_pages_through_one_departments_red_lights_oldest_first(
    api_stack: ApiStack, http: httpx.AsyncClient, queue: list[str]
) -> None:
    token = api_stack.viewer_token
    pages = await all_pages(http, token, 2, "/v1/alerts", order="oldest", **QUEUE)
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [a["id"] for page in pages for a in page] == queue
    newest = await all_pages(http, token, 3, "/v1/alerts", **QUEUE)  # the default order
    assert [a["id"] for page in newest for a in page] == queue[::-1]
    every = await get_json(http, "/v1/alerts", token, limit=500, **QUEUE)
    assert {
        (a["center"], a["department"], a["item_code"], a["severity"]) for a in every["items"]
    } == {("LS-CHENGGUAN", "health", "DRUG-RETAIL", "red")}
    assert every["next_cursor"] is None


async def test_a_queue_cursor_is_taken_back_with_its_own_query_only(
    api_stack: ApiStack, http: httpx.AsyncClient, queue: list[str]
) -> None:
    token = api_stack.viewer_token
    first = await get_json(http, "/v1/alerts", token, limit=2, order="oldest", **QUEUE)
    cursor = first["next_cursor"]
    again = await get_json(
        http, "/v1/alerts", token, limit=3, order="oldest", cursor=cursor, **QUEUE
    )
    assert [a["id"] for a in again["items"]] == queue[2:]  # another page size is the same query
    for params in (
        {**QUEUE, "order": "oldest", "status": "acknowledged"},
        {**QUEUE, "order": "newest"},
        {**QUEUE},
        {"order": "oldest"},
    ):
        response = await http.get(
            "/v1/alerts", params={**params, "cursor": cursor}, headers=ApiStack.auth(token)
        )
        assert response.status_code == 400, params
        [problem] = response.json()["detail"]
        assert problem["field"] == "cursor"
        assert "other filters or another order" in problem["rule"]
    for bad in ("!!!", "bm90IG91cnM"):
        refused = await refused_fields(http, "/v1/alerts", token, {"cursor": bad}, 400)
        assert refused == ["cursor"]


async def test_a_center_bound_token_pages_through_its_centres_alerts_only(
    api_stack: ApiStack, http: httpx.AsyncClient, yuexiu: str, queue: list[str]
) -> None:
    other = await get_json(http, "/v1/alerts", yuexiu, **QUEUE)
    assert other == {"items": [], "next_cursor": None}
    pages = await all_pages(http, yuexiu, 1, "/v1/alerts", order="oldest")
    assert {a["center"] for page in pages for a in page} <= {"GZ-YUEXIU"}
