"""``GET /v1/stats/departments``: the weekly department ranking (以周为单位通报, 系统自动生成排名),
and ``GET /v1/stats/overview``: what the wall shows (totals by light, red cases, this week's
ranking), also sent as the ``snapshot`` of ``/v1/stream``.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from typing import Annotated, Final

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from monitor.api.auth import Principal, Viewer
from monitor.api.deps import ReadModelDep
from monitor.api.directory import Directory, DirectoryDep
from monitor.api.params import DISPLAY_ZONE, example_config, open_cases, text_or_none
from monitor.casetypes import Light
from monitor.readmodel import OPEN_LIGHTS, DepartmentRank, ReadModel, instant_of
from monitor.readmodel.ranking import iso_week, iso_weeks

router = APIRouter(prefix="/v1/stats", tags=["stats"])

WEEK_PATTERN: Final = r"^\d{4}-W\d{2}$"
RED_LIST: Final = 50  # red cases in the overview: more than a wall can show
_WEEK = re.compile(WEEK_PATTERN)


class DepartmentLine(BaseModel):
    """One department in the ranking (红黑榜), best on-time rate first."""

    rank: int = Field(description="1 = best; departments with nothing measured come last")
    department: str
    completed: int = Field(description="cases completed in the period (办结)")
    measured: int = Field(description="completed cases that had a promised deadline")
    on_time: int = Field(description="measured cases never red (按时办结)")
    on_time_rate: float | None = Field(description="on_time / measured; null if none measured")
    breached: int = Field(description="cases that went red (超期) during the period")
    overdue_now: int = Field(description="open cases red now")
    average_share: float | None = Field(
        description="mean share of the promised limit used at completion (0.5 = half the time)"
    )


class Ranking(BaseModel):
    """The ranking over ISO weeks ``from``..``to`` (Asia/Shanghai)."""

    model_config = example_config(
        {
            "from": "2026-W39",
            "to": "2026-W39",
            "departments": [
                {
                    "rank": 1,
                    "department": "market",
                    "completed": 42,
                    "measured": 40,
                    "on_time": 39,
                    "on_time_rate": 0.975,
                    "breached": 1,
                    "overdue_now": 0,
                    "average_share": 0.61,
                }
            ],
        }
    ) | ConfigDict(populate_by_name=True)

    week_from: str = Field(alias="from")
    week_to: str = Field(alias="to")
    departments: list[DepartmentLine]


class RedCase(BaseModel):
    """An open red case on the wall: how long it is overdue, and whose it is."""

    case_id: str
    center: str | None
    center_name: str | None
    department: str | None
    item_code: str | None
    item_name: str | None
    deadline: str | None
    overdue_s: int = Field(description="server time minus the promised deadline, in seconds")


class Overview(BaseModel):
    """The wall's figures at one instant."""

    server_time: str
    server_epoch_ms: int = Field(description="the same instant, for a client's clock offset")
    week: str = Field(description="the ISO week of the ranking (Asia/Shanghai)")
    last_change_at: str | None = Field(description="when the read model last changed")
    totals: dict[str, int] = Field(description="open cases by light")
    red: list[RedCase] = Field(description=f"red cases, longest overdue first (up to {RED_LIST})")
    ranking: list[DepartmentLine]


def _week_query(name: str, description: str) -> object:
    return Query(
        alias=name, max_length=8, description=description + " (YYYY-Www)", examples=["2026-W39"]
    )


WeekFrom = Annotated[
    str | None, _week_query("from", "first ISO week, Asia/Shanghai; default: the current week")
]
WeekTo = Annotated[str | None, _week_query("to", "last ISO week; default: the `from` week")]


@router.get(
    "/departments",
    response_model=Ranking,
    response_model_by_alias=True,
    summary="Department ranking over ISO weeks (红黑榜)",
)
async def department_ranking(
    read_model: ReadModelDep,
    principal: Viewer,
    week_from: WeekFrom = None,
    week_to: WeekTo = None,
) -> Ranking:
    """Per department: on-time rate, completed, overdue and share of the limit used."""
    for name, given in (("from", week_from), ("to", week_to)):
        if given is not None:
            _check_week(name, given)
    first = week_from or week_to or iso_week(DISPLAY_ZONE.format(int(time.time())))
    last = week_to or first
    try:
        ranks = await read_model.department_ranking(first, last)
    except ValueError as exc:  # the order or the span of the period
        raise _week_error("to", str(exc)) from None
    return Ranking.model_validate({"from": first, "to": last, "departments": _lines(ranks)})


def _check_week(name: str, label: str) -> None:
    if not _WEEK.match(label):
        raise _week_error(name, "must be an ISO week such as 2026-W39")
    try:
        iso_weeks(label, label)
    except ValueError as exc:  # e.g. 2026-W54
        raise _week_error(name, str(exc)) from None


@router.get("/overview", response_model=Overview, summary="What the wall shows, now")
async def get_overview(
    read_model: ReadModelDep, principal: Viewer, directory: DirectoryDep
) -> Overview:
    """Open cases by light, the red ones longest overdue first, this week's ranking."""
    return await overview(read_model, principal, directory, time.time())


async def overview(
    read_model: ReadModel, principal: Principal, directory: Directory, now: float
) -> Overview:
    """The wall's figures for ``principal`` at ``now`` (a centre-bound token: its centres)."""
    instant = int(now)
    week = iso_week(DISPLAY_ZONE.format(instant))
    red = (await open_cases(read_model, principal, Light.RED.value, limit=RED_LIST)).items
    changed_ms = await read_model.last_change_ms()
    return Overview(
        server_time=DISPLAY_ZONE.format(instant),
        server_epoch_ms=int(now * 1000),
        week=week,
        last_change_at=None if changed_ms is None else DISPLAY_ZONE.format(changed_ms // 1000),
        totals=await _totals(read_model, principal),
        red=[_red_case(view, directory, instant) for view in red],
        ranking=_lines(await read_model.department_ranking(week)),
    )


async def _totals(read_model: ReadModel, principal: Principal) -> dict[str, int]:
    if principal.centers is None:
        everything = await read_model.totals()
    else:
        everything = dict.fromkeys(OPEN_LIGHTS, 0)
        for center, lights in (await read_model.center_totals()).items():
            if center in principal.centers:
                for light in OPEN_LIGHTS:
                    everything[light] += lights.get(light, 0)
    return {light: everything.get(light, 0) for light in OPEN_LIGHTS}


def _red_case(view: dict[str, object], directory: Directory, now: int) -> RedCase:
    deadline = instant_of(view.get("deadline"))
    return RedCase(
        case_id=str(view["case_id"]),
        center=text_or_none(view.get("center")),
        center_name=directory.center(view.get("center")),
        department=text_or_none(view.get("department")),
        item_code=text_or_none(view.get("item_code")),
        item_name=directory.item(view.get("item_code")),
        deadline=text_or_none(view.get("deadline")),
        overdue_s=0 if deadline is None else max(now - deadline, 0),
    )


def _lines(ranks: list[DepartmentRank]) -> list[DepartmentLine]:
    # the line's fields are the rank's (less share_n, which only the sums need) and its place
    return [
        DepartmentLine(rank=position, **asdict(rank))
        for position, rank in enumerate(ranks, start=1)
    ]


def _week_error(name: str, rule: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, detail=[{"field": name, "rule": rule}]
    )
