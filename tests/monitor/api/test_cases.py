"""GET /v1/cases and /v1/cases/{id} on the real stack: filters, deadline order, cursor pages,
bad and hostile filters, and what a centre-bound viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from apistack import ApiStack
from events import event, now
from readkit import Json, all_pages, case_when, get_json, post_events, refused_fields, token_store

from monitor.api.auth import Role
from monitor.timeutil import parse_instant
from tests.stack import eventually

pytestmark = pytest.mark.integration

CENTERS = ("GZ-TIANHE", "GZ-YUEXIU")
ITEMS = {"FOOD-LICENSE": "market", "BUILD-PERMIT": "housing"}
HOUR = 3600


@dataclass(frozen=True)
class Planned:
    """One case of the module's data set, with what the worker must make of it."""

    case_id: str
    light: str
    center: str
    department: str
    deadline: int | None  # None: suspended, no deadline


def _plan(t0: int) -> tuple[list[Planned], list[Json]]:
    """26 open cases over two centres and two departments: red, yellow and green ones with
    distinct deadlines (hours-limits, so the deadlines are exact), and two suspended ones."""
    planned, events = [], []
    for i in range(24):
        case_id = f"Q{i:02d}"
        center = CENTERS[i % 2]
        item = list(ITEMS)[(i // 6) % 2]
        light = ("red", "yellow", "green")[i % 3]
        # red: deadline hours ago; yellow: 85% or more of 20h used; green: 1% of 100h used
        promised, used = {"red": (2, 10), "yellow": (20, 17), "green": (100, 1)}[light]
        accepted = t0 - used * HOUR - i * 60
        opening = {"center": center, "item_code": item, "data": {"promised": f"{promised}h"}}
        events.append(event(case_id, 1, "accepted", accepted, **opening))
        deadline = accepted + promised * HOUR
        planned.append(Planned(case_id, light, center, ITEMS[item], deadline))
    for j, center in enumerate(CENTERS):
        case_id = f"QS{j}"
        opening = {"center": center, "item_code": "FOOD-LICENSE", "data": {"promised": "100h"}}
        events.append(event(case_id, 1, "accepted", t0 - 2 * HOUR, **opening))
        events.append(event(case_id, 2, "suspended", t0 - HOUR, data={"reason": "testing"}))
        planned.append(Planned(case_id, "suspended", center, "market", None))
    return planned, events


def _order(cases: list[Planned]) -> list[str]:
    """Deadline order, ties by case id, undated (suspended) last: what the API must answer."""
    undated = 99_999_999_999
    ordered = sorted(
        cases, key=lambda c: (undated if c.deadline is None else c.deadline, c.case_id)
    )
    return [case.case_id for case in ordered]


@pytest.fixture(scope="module")
async def planned(api_stack: ApiStack) -> list[Planned]:
    """The data set, sent through the API and settled in the read model (every light right)."""
    cases, events = _plan(now())
    async with httpx.AsyncClient(base_url=api_stack.base_url, timeout=30) as http:
        await post_events(http, api_stack, *events)
        wanted = {case.case_id: case.light for case in cases}

        async def settled() -> bool | None:
            page = await get_json(http, "/v1/cases", api_stack.viewer_token, limit=500)
            seen = {item["case_id"]: item["light"] for item in page["items"]}
            return True if seen == wanted else None

        await eventually(settled, timeout=90)
    return cases


@pytest.fixture(scope="module")
async def both(api_stack: ApiStack) -> str:
    """A viewer token bound to both demo centres."""
    async with token_store(api_stack) as store:
        _, token = await store.create("two centres", "person", Role.VIEWER, centers=CENTERS)
    return token


async def test_every_page_in_deadline_order_without_duplicates(
    api_stack: ApiStack, http: httpx.AsyncClient, planned: list[Planned]
) -> None:
    pages = await all_pages(http, api_stack.viewer_token, limit=5)
    assert len(pages) >= 6 and all(len(page) <= 5 for page in pages)
    ids = [item["case_id"] for page in pages for item in page]
    assert ids == _order(planned)  # all of them, once each, soonest deadline first
    deadlines = [item["deadline"] for page in pages for item in page]
    dated = [parse_instant(text) for text in deadlines if text is not None]
    assert dated == sorted(dated) and deadlines[len(dated) :] == [None, None]  # suspended last
    assert all("timeline" not in item for page in pages for item in page)  # lists stay light


@pytest.mark.parametrize(
    "filters",
    [
        {"light": "red"},
        {"light": "suspended"},
        {"center": "GZ-YUEXIU"},
        {"department": "housing"},
        {"light": "yellow", "center": "GZ-TIANHE", "department": "market"},
        {"light": "green", "department": "housing"},
    ],
)
async def test_filters_select_exactly_their_cases_in_order(
    api_stack: ApiStack, http: httpx.AsyncClient, planned: list[Planned], filters: dict[str, str]
) -> None:
    wanted = [case for case in planned if all(getattr(case, k) == v for k, v in filters.items())]
    assert wanted, "the data set covers every filter"
    pages = await all_pages(http, api_stack.viewer_token, limit=3, **filters)
    items = [item for page in pages for item in page]
    assert [item["case_id"] for item in items] == _order(wanted)
    assert all(item[name] == value for item in items for name, value in filters.items())


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"light": "purple"}, "light"),
        ({"light": "RED"}, "light"),
        ({"light": "closed"}, "light"),  # closed cases are in no list
        ({"center": ""}, "center"),
        ({"center": "\x00"}, "center"),
        ({"department": "market\nX-Injected: 1"}, "department"),
        ({"center": "x" * 65}, "center"),
        ({"department": "d" * 10_000}, "department"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1e3"}, "limit"),
    ],
)
async def test_a_bad_filter_is_422_naming_the_parameter(
    api_stack: ApiStack, http: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    assert await refused_fields(http, "/v1/cases", api_stack.viewer_token, params) == [field]


@pytest.mark.parametrize(
    "cursor",
    ["abc", "../../etc/passwd", "*", "' OR 1=1 --", "MDAwMDAwMDAwMDA", "%00", "é"],
)
async def test_a_cursor_this_api_did_not_hand_out_is_400_naming_it(
    api_stack: ApiStack, http: httpx.AsyncClient, cursor: str
) -> None:
    refused = await refused_fields(
        http, "/v1/cases", api_stack.viewer_token, {"cursor": cursor}, status=400
    )
    assert refused == ["cursor"]


@pytest.mark.parametrize(
    "code",
    ["*", "GZ-*", "[a-z]*", "' OR '1'='1", "'; FLUSHALL; --", "../../etc/passwd", "%2A", "中心"],
)
async def test_glob_and_injection_lookalikes_match_nothing(
    api_stack: ApiStack, http: httpx.AsyncClient, planned: list[Planned], code: str
) -> None:
    # valid codes under the contract's rule: taken literally, never as a pattern
    for name in ("center", "department"):
        page = await get_json(http, "/v1/cases", api_stack.viewer_token, **{name: code})
        assert page == {"items": [], "next_cursor": None}
    still = await get_json(http, "/v1/cases", api_stack.viewer_token, limit=500)
    assert len(still["items"]) == len(planned)  # and nothing was flushed or changed


async def test_one_case_has_its_timeline_and_clocks(
    api_stack: ApiStack, http: httpx.AsyncClient, planned: list[Planned]
) -> None:
    red = next(case for case in planned if case.light == "red")
    view = await case_when(http, api_stack, red.case_id)
    assert view["light"] == "red" and view["center"] == red.center
    [accepted] = view["timeline"]
    assert accepted["type"] == "case.accepted" and accepted["event_id"] == f"{red.case_id}-1"
    assert view["clocks"]["promised"]["deadline"] == view["deadline"]
    assert parse_instant(view["deadline"]) == red.deadline
    assert {a["kind"] for a in view["alerts"]} >= {"deadline_overdue"}

    suspended = await case_when(http, api_stack, "QS0")
    types = [step["type"] for step in suspended["timeline"]]
    assert types == ["case.accepted", "case.suspended"]  # event-time order
    assert suspended["deadline"] is None and suspended["clocks"]["promised"]["running"] is False


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/cases/NO-SUCH-CASE", 404),
        ("/v1/cases/..%2F..%2Fetc%2Fpasswd", 404),
        ("/v1/cases/%2A", 404),
        ("/v1/cases/%00", 422),
        ("/v1/cases/" + "x" * 65, 422),
    ],
)
async def test_an_unknown_or_malformed_case_id(
    api_stack: ApiStack, http: httpx.AsyncClient, path: str, status: int
) -> None:
    response = await http.get(path, headers=api_stack.auth(api_stack.viewer_token))
    assert response.status_code == status, response.text


async def test_reading_needs_a_person_token(
    api_stack: ApiStack, http: httpx.AsyncClient, planned: list[Planned]
) -> None:
    assert (await http.get("/v1/cases")).status_code == 401
    as_integrator = api_stack.auth(api_stack.ingest_token)
    assert (await http.get("/v1/cases", headers=as_integrator)).status_code == 403
    assert (await http.get("/v1/cases/Q00", headers=as_integrator)).status_code == 403


async def test_a_center_bound_viewer_sees_only_its_center(
    api_stack: ApiStack,
    http: httpx.AsyncClient,
    planned: list[Planned],
    yuexiu: str,
) -> None:
    pages = await all_pages(http, yuexiu, limit=4)
    ours = [case for case in planned if case.center == "GZ-YUEXIU"]
    assert [item["case_id"] for page in pages for item in page] == _order(ours)
    # another centre's filter matches nothing; its cases are unknown, not forbidden
    assert (await get_json(http, "/v1/cases", yuexiu, center="GZ-TIANHE"))["items"] == []
    theirs = next(case for case in planned if case.center == "GZ-TIANHE")
    response = await http.get(f"/v1/cases/{theirs.case_id}", headers=api_stack.auth(yuexiu))
    assert response.status_code == 404
    alerts = await get_json(http, "/v1/alerts", yuexiu, limit=500)
    assert alerts["items"] and {alert["center"] for alert in alerts["items"]} == {"GZ-YUEXIU"}
    everyone = await get_json(http, "/v1/alerts", api_stack.viewer_token, limit=500)
    assert len(alerts["items"]) == sum(a["center"] == "GZ-YUEXIU" for a in everyone["items"])


async def test_a_token_bound_to_several_centers_pages_like_one_index(
    api_stack: ApiStack,
    http: httpx.AsyncClient,
    planned: list[Planned],
    both: str,
) -> None:
    # both demo centres hold every case: the merged pages must equal the unbound ones
    for filters in ({}, {"light": "red"}, {"department": "market"}):
        merged = await all_pages(http, both, limit=4, **filters)
        unbound = await all_pages(http, api_stack.viewer_token, limit=4, **filters)
        assert _ids(merged) == _ids(unbound)
        assert [len(page) for page in merged[:-1]] == [4] * (len(merged) - 1)


def _ids(pages: list[list[Any]]) -> list[str]:
    return [item["case_id"] for page in pages for item in page]
