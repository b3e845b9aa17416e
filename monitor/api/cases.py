"""``GET /v1/cases`` and ``GET /v1/cases/{case_id}``: open cases by deadline, one case in full.

Both read the Redis read model; nothing here computes a light or a deadline (the worker did).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from monitor.api.auth import Viewer
from monitor.api.deps import ReadModelDep
from monitor.api.params import (
    CenterQuery,
    CursorQuery,
    DepartmentQuery,
    LimitQuery,
    OpenLight,
    check_cursor,
    code_path,
    example_config,
    not_found,
    open_cases,
)
from monitor.readmodel import View
from monitor.timeutil import HOUR

router = APIRouter(prefix="/v1/cases", tags=["cases"])

CaseId = Annotated[str, code_path("the case number (办件编号)", "GZ-2026-000123")]

_CASE_EXAMPLE: dict[str, Any] = {
    "case_id": "GZ-2026-000123",
    "status": "open",
    "light": "red",
    "deadline": "2026-10-11T00:00:00+08:00",
    "statutory_deadline": "2026-10-27T00:00:00+08:00",
    "remaining_s": -HOUR,
    "breached": True,
    "on_time": None,
    "calendar_provisional": False,
    "center": "GZ-TIANHE",
    "department": "market",
    "item_code": "FOOD-LICENSE",
    "handler": "h-0042",
    "window": "W-07",
    "opened_by": "win-tianhe",
    "submitted_at": "2026-09-28T09:40:00+08:00",
    "accepted_at": "2026-09-28T10:00:00+08:00",
    "deemed_accepted": False,
    "closed_at": None,
    "promised": "5wd",
    "statutory": "20wd",
    "extended": 0,
    "alerts": [],
    "as_of": "2026-10-11T01:00:00+08:00",
}


class CasePage(BaseModel):
    """One page of open cases, soonest deadline first (suspended cases, undated, last)."""

    model_config = example_config(
        {"items": [_CASE_EXAMPLE], "next_cursor": "MDE3OTE2MDMyMDA6R1otMjAy"}
    )

    items: list[dict[str, Any]] = Field(description="case objects, without their timeline")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: done")


@router.get("", response_model=CasePage, summary="Open cases by deadline")
async def list_cases(
    read_model: ReadModelDep,
    principal: Viewer,
    light: OpenLight | None = None,
    center: CenterQuery = None,
    department: DepartmentQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> CasePage:
    """Open cases matching every filter given (light, centre, department), by deadline."""
    check_cursor(cursor)
    page = await open_cases(
        read_model,
        principal,
        light.value if light is not None else None,
        center,
        department,
        limit,
        cursor,
    )
    return CasePage(items=[_summary(view) for view in page.items], next_cursor=page.cursor)


@router.get(
    "/{case_id:path}",  # a case number may hold "/" (GZ/2026/0001)
    summary="One case with its timeline and clocks",
    responses={
        200: {
            "description": "the case object, as `redline replay` prints it, with `timeline` "
            "(its events in event-time order) and `clocks`",
            "content": {"application/json": {"example": _CASE_EXAMPLE}},
        },
        404: {"description": "no such case, or one of a centre this token does not cover"},
    },
)
async def get_case(case_id: CaseId, read_model: ReadModelDep, principal: Viewer) -> View:
    """The case object with its ``timeline`` and ``clocks``; 404 when unknown."""
    view = await read_model.case(case_id)
    if view is None or not principal.may_see(view.get("center")):
        raise not_found(f"case {case_id!r}")
    return view


def _summary(view: View) -> View:
    # a list stays light: the timeline is for the one-case view
    return {name: value for name, value in view.items() if name != "timeline"}
