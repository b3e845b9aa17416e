"""The department ranking (红黑榜), the wall's overview and the feed health per source, on the
real stack, against figures worked out by hand from the events sent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from apistack import ApiStack
from events import SHANGHAI, event, now
from readkit import Json, case_when, get_json, post_events, refused_fields

from monitor.readmodel.ranking import iso_week
from monitor.timeutil import parse_instant

pytestmark = pytest.mark.integration

HOUR = 3600
SOURCE = "win-stats"


def _opening(item: str, promised: str, center: str = "GZ-TIANHE") -> dict[str, Any]:
    return {"center": center, "item_code": item, "data": {"promised": promised}}


@pytest.fixture(scope="module")
async def sent(api_stack: ApiStack) -> dict[str, Any]:
    """The module's events, settled; what the tests compare with.

    market  (FOOD-LICENSE): two completed on time, using 5h and 2h of 10h: rate 1, share 0.35
    housing (BUILD-PERMIT): one completed 3h late (4h of 1h used: share 4) and one open red:
                            rate 0, breached 2, overdue now 1
    police  (PRINT-SEAL, ID-CARD): one open green in GZ-YUEXIU, one submitted at a centre the
                            centres file does not know: nothing measured, ranked last
    """
    t = now()
    events = [
        event("ST-M1", 1, "accepted", t - 10 * HOUR, SOURCE, **_opening("FOOD-LICENSE", "10h")),
        event("ST-M1", 2, "completed", t - 5 * HOUR, SOURCE, data={"result": "approved"}),
        event("ST-M2", 1, "accepted", t - 8 * HOUR, SOURCE, **_opening("FOOD-LICENSE", "10h")),
        event("ST-M2", 2, "completed", t - 6 * HOUR, SOURCE, data={"result": "approved"}),
        event("ST-H1", 1, "accepted", t - 5 * HOUR, SOURCE, **_opening("BUILD-PERMIT", "1h")),
        event("ST-H1", 2, "completed", t - 1 * HOUR, SOURCE, data={"result": "denied"}),
        event("ST-H2", 1, "accepted", t - 3 * HOUR, SOURCE, **_opening("BUILD-PERMIT", "1h")),
        event(
            "ST-P1", 1, "accepted", t - HOUR, SOURCE, **_opening("PRINT-SEAL", "24h", "GZ-YUEXIU")
        ),
        event("ST-P2", 1, "submitted", t - 2 * HOUR, SOURCE, center="XX-NEW", item_code="ID-CARD"),
    ]
    async with httpx.AsyncClient(base_url=api_stack.base_url, timeout=30) as http:
        await post_events(http, api_stack, *events)
        refused = event("ST-BAD", 1, "approved", t, SOURCE)  # no such type: refused at the door
        response = await http.post(
            "/v1/events", json=refused, headers=api_stack.auth(api_stack.ingest_token)
        )
        assert response.json()["refused"] == 1, response.text
        settled = {"ST-M1": "closed", "ST-M2": "closed", "ST-H1": "closed", "ST-H2": "red"}
        settled |= {"ST-P1": "green", "ST-P2": "green"}
        for case_id, light in settled.items():
            await case_when(http, api_stack, case_id, lambda c, light=light: c["light"] == light)
    return {"t": t, "events": events}


async def test_the_ranking_of_the_period_worked_out_by_hand(
    api_stack: ApiStack, http: httpx.AsyncClient, sent: dict[str, Any]
) -> None:
    t = sent["t"]
    period = {"from": iso_week(SHANGHAI.format(t - 10 * HOUR)), "to": iso_week(SHANGHAI.format(t))}
    ranking = await get_json(http, "/v1/stats/departments", api_stack.viewer_token, **period)
    assert (ranking["from"], ranking["to"]) == (period["from"], period["to"])
    lines = {line["department"]: line for line in ranking["departments"]}
    assert [line["department"] for line in ranking["departments"]] == [
        "market",
        "housing",
        "police",
    ]
    assert [line["rank"] for line in ranking["departments"]] == [1, 2, 3]
    assert _measures(lines["market"]) == (2, 2, 2, 1.0, 0, 0)
    assert lines["market"]["average_share"] == pytest.approx(0.35)
    assert _measures(lines["housing"]) == (1, 1, 0, 0.0, 2, 1)
    assert lines["housing"]["average_share"] == pytest.approx(4.0)
    assert _measures(lines["police"]) == (0, 0, 0, None, 0, 0)
    assert lines["police"]["average_share"] is None


def _measures(line: Json) -> tuple[Any, ...]:
    names = ("completed", "measured", "on_time", "on_time_rate", "breached", "overdue_now")
    return tuple(line[name] for name in names)


async def test_a_period_without_events_lists_every_department_at_zero(
    api_stack: ApiStack, http: httpx.AsyncClient, sent: dict[str, Any]
) -> None:
    params = {"from": "2020-W01", "to": "2020-W02"}
    ranking = await get_json(http, "/v1/stats/departments", api_stack.viewer_token, **params)
    lines = {line["department"]: line for line in ranking["departments"]}
    assert set(lines) == {"market", "housing", "police"}
    assert all(line["completed"] == line["breached"] == 0 for line in lines.values())
    assert lines["housing"]["overdue_now"] == 1  # red now, whatever the period


async def test_the_default_period_is_the_current_week_in_shanghai(
    api_stack: ApiStack, http: httpx.AsyncClient, sent: dict[str, Any]
) -> None:
    ranking = await get_json(http, "/v1/stats/departments", api_stack.viewer_token)
    week = iso_week(SHANGHAI.format(now()))
    assert (ranking["from"], ranking["to"]) == (week, week)
    only_to = await get_json(http, "/v1/stats/departments", api_stack.viewer_token, to=week)
    assert only_to == ranking


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-W54"}, "from"),
        ({"from": "2026W39"}, "from"),
        ({"from": "2026-W00"}, "from"),
        ({"to": "'; DROP"}, "to"),
        ({"from": "2026-W40", "to": "2026-W39"}, "to"),
        ({"from": "2000-W01", "to": "2099-W01"}, "to"),
        ({"from": "*"}, "from"),
        ({"from": "2026-W3\x00"}, "from"),
    ],
)
async def test_a_bad_week_is_422_naming_the_parameter(
    api_stack: ApiStack, http: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    path = "/v1/stats/departments"
    assert await refused_fields(http, path, api_stack.viewer_token, params) == [field]


async def test_the_overview_is_what_the_wall_shows(
    api_stack: ApiStack, http: httpx.AsyncClient, sent: dict[str, Any], yuexiu: str
) -> None:
    view = await get_json(http, "/v1/stats/overview", api_stack.viewer_token)
    assert view["totals"] == {"green": 2, "yellow": 0, "red": 1, "suspended": 0}
    [red] = view["red"]
    assert (red["case_id"], red["department"], red["item_name"]) == (
        "ST-H2",
        "housing",
        "建筑工程施工许可",
    )
    assert red["center_name"] == "天河区政务服务中心"
    server = parse_instant(view["server_time"])
    assert abs(view["server_epoch_ms"] / 1000 - server) < 1
    assert red["overdue_s"] == server - parse_instant(red["deadline"])
    assert red["overdue_s"] >= 2 * HOUR - 5
    week = iso_week(view["server_time"])
    ranking = await get_json(http, "/v1/stats/departments", api_stack.viewer_token)
    assert view["week"] == week and view["ranking"] == ranking["departments"]

    theirs = await get_json(http, "/v1/stats/overview", yuexiu)
    assert theirs["totals"] == {"green": 1, "yellow": 0, "red": 0, "suspended": 0}
    assert theirs["red"] == []


async def test_feed_health_per_source(
    api_stack: ApiStack, http: httpx.AsyncClient, sent: dict[str, Any]
) -> None:
    page = await get_json(http, "/v1/sources", api_stack.viewer_token)
    health = {line["source"]: line for line in page["items"]}[SOURCE]
    events = sent["events"]
    assert (health["accepted"], health["duplicate"], health["refused"]) == (len(events), 0, 1)
    latest = max(parse_instant(e["occurred_at"]) for e in events)
    assert health["last_event_at"] == SHANGHAI.format(latest)  # RFC 3339, centre time
    assert health["last_refusal_reason"] and "type" in health["last_refusal_reason"]
    for name in ("last_arrival_at", "last_refusal_at"):
        assert health[name].endswith("+08:00") and parse_instant(health[name]) <= now()
    assert health["unknown_centers"] == {"XX-NEW": 1}
    assert health["lag_buckets"]["+Inf"] == len(events)
    assert health["lag_max_s"] >= 10 * HOUR  # the oldest event was sent ten hours late
    forbidden = await http.get("/v1/sources", headers=api_stack.auth(api_stack.ingest_token))
    assert forbidden.status_code == 403
