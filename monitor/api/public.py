"""``GET /v1/public/cases/{case_id}``: the applicant's view of a case's progress (办件进程及时显现),
without a token.

What it shows is chosen field by field (an allow-list, never the case object minus some
fields): status, light, the item, centre and department, the submitted / accepted / deadline
dates, and the timeline as step types and dates. Never the handler, the window, any applicant
data, event ids or sources.

Enumeration: case numbers are often sequential, so anyone can walk them. What a walk can learn
is limited to the fields above, which carry no personal data, and each client address gets
:data:`PUBLIC_RATE` lookups a minute (429 with Retry-After beyond): a token bucket in Redis
(``monitor.ratelimit``) that holds :data:`PUBLIC_RATE` lookups and refills at that many a
minute, shared by every API process. An unknown case and a malformed id both answer 404 with
the same body. The address is the connection's own: ``X-Forwarded-For`` is believed only from
the proxies in ``REDLINE_API_TRUSTED_PROXIES`` (none by default, loopback included, so that no
client can claim fresh addresses to lift its limit). Behind a reverse proxy, list it there, or
every applicant shares the proxy's budget.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from monitor.api.deps import ReadModelDep, RedisDep, SettingsDep
from monitor.api.directory import DirectoryDep
from monitor.api.params import not_found, text_or_none
from monitor.ratelimit import TokenBucket, retry_after
from monitor.readmodel import View, instant_of

router = APIRouter(prefix="/v1/public", tags=["public"])

PUBLIC_RATE: Final = 60  # lookups per client address per minute
_MAX_ID: Final = 64


class PublicStep(BaseModel):
    """One step of the case's life, as the applicant sees it."""

    type: str = Field(description="the event type, e.g. case.accepted (受理)")
    date: str = Field(description="its local date, YYYY-MM-DD")


class PublicCase(BaseModel):
    """A case's progress for the applicant: no personal data, no handler or window."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "GZ-2026-000123",
                    "status": "open",
                    "light": "green",
                    "item_code": "FOOD-LICENSE",
                    "item_name": "食品经营许可",
                    "center": "GZ-TIANHE",
                    "center_name": "天河区政务服务中心",
                    "department": "market",
                    "submitted_at": "2026-09-28T09:40:00+08:00",
                    "accepted_at": "2026-09-28T10:00:00+08:00",
                    "deadline": "2026-10-11T00:00:00+08:00",
                    "closed_at": None,
                    "timeline": [
                        {"type": "case.submitted", "date": "2026-09-28"},
                        {"type": "case.accepted", "date": "2026-09-28"},
                    ],
                }
            ]
        }
    )

    case_id: str
    status: str = Field(description="submitted, open, completed, rejected or withdrawn")
    light: str = Field(description="green, yellow, red, suspended, or closed")
    item_code: str | None
    item_name: str | None
    center: str | None
    center_name: str | None
    department: str | None
    submitted_at: str | None
    accepted_at: str | None
    deadline: str | None = Field(description="the promised deadline (承诺时限)")
    closed_at: str | None
    timeline: list[PublicStep]


@router.get(
    "/cases/{case_id:path}",  # a case number may hold "/"
    response_model=PublicCase,
    summary="A case's progress for the applicant (no token)",
    responses={
        404: {"description": "no such case"},
        429: {"description": f"more than {PUBLIC_RATE} lookups a minute from this address"},
    },
)
async def public_case(
    case_id: str,
    request: Request,
    read_model: ReadModelDep,
    redis: RedisDep,
    settings: SettingsDep,
    directory: DirectoryDep,
) -> PublicCase:
    """Status, dates and steps of one case; nothing personal."""
    await _limit(redis, settings.auth_prefix, request)
    if not 0 < len(case_id) <= _MAX_ID:
        raise not_found("case")  # the same answer as for an unknown id: nothing to tell apart
    view = await read_model.case(case_id)
    if view is None:
        raise not_found("case")
    return PublicCase(
        case_id=str(view["case_id"]),
        status=str(view.get("status")),
        light=str(view.get("light")),
        item_code=text_or_none(view.get("item_code")),
        item_name=directory.item(view.get("item_code")),
        center=text_or_none(view.get("center")),
        center_name=directory.center(view.get("center")),
        department=text_or_none(view.get("department")),
        submitted_at=text_or_none(view.get("submitted_at")),
        accepted_at=text_or_none(view.get("accepted_at")),
        deadline=text_or_none(view.get("deadline")),
        closed_at=text_or_none(view.get("closed_at")),
        timeline=_steps(view),
    )


def _steps(view: View) -> list[PublicStep]:
    steps = []
    for entry in view.get("timeline") or ():
        at, kind = entry.get("at"), entry.get("type")
        if isinstance(kind, str) and instant_of(at) is not None:
            steps.append(PublicStep(type=kind, date=str(at)[:10]))  # the date in centre time
    return steps


async def _limit(redis: RedisDep, prefix: str, request: Request) -> None:
    """:data:`PUBLIC_RATE` lookups per client address a minute, in a bucket beside the tokens'
    rate-limit buckets (never under the read model's prefix)."""
    address = request.client.host if request.client is not None else "unknown"
    buckets = TokenBucket(redis, f"{prefix}public:")
    wait = await buckets.take(address, rate=PUBLIC_RATE / 60, burst=PUBLIC_RATE)
    if wait > 0:
        retry = retry_after(wait)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"more than {PUBLIC_RATE} case lookups a minute from this address: "
            f"retry in {retry} s",
            headers={"Retry-After": str(retry)},
        )
