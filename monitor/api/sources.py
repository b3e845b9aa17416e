"""``GET /v1/sources``: the feed health of each integrator's window system (SPEC §2, §6).

How many events each source sent (accepted, duplicate, refused), when it last sent, how late
its events arrive, whether its clock runs ahead, its last refusal and the centre codes it used
that the centres file does not know.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from monitor.api.auth import Viewer
from monitor.api.deps import ReadModelDep
from monitor.api.params import DISPLAY_ZONE, example_config

router = APIRouter(prefix="/v1/sources", tags=["sources"])


def _display(instant: object) -> object:
    return DISPLAY_ZONE.format(instant) if isinstance(instant, int) else instant


DisplayInstant = Annotated[str | None, BeforeValidator(_display)]  # epoch seconds in, RFC 3339 out


class SourceLine(BaseModel):
    """Feed health of one source; instants in RFC 3339 (Asia/Shanghai)."""

    model_config = ConfigDict(from_attributes=True)  # from the read model's SourceHealth

    source: str
    accepted: int
    duplicate: int
    refused: int
    last_event_at: DisplayInstant = Field(description="the latest occurred_at seen")
    last_arrival_at: DisplayInstant = Field(description="when its latest event arrived")
    lag_last_s: int | None = Field(description="arrival − occurred_at of its latest event")
    lag_max_s: int | None
    lag_avg_s: float | None
    lag_buckets: dict[str, int] = Field(
        description="accepted events with a lag up to each bound in seconds (cumulative)"
    )
    clock_ahead: int = Field(description="events dated after their arrival: a fast clock")
    last_refusal_reason: str | None
    last_refusal_at: DisplayInstant
    unknown_centers: dict[str, int] = Field(
        description="centre codes missing from the centres file → events"
    )


class SourceList(BaseModel):
    """Every source that sent anything, by source id."""

    model_config = example_config(
        {
            "items": [
                {
                    "source": "win-tianhe",
                    "accepted": 1520,
                    "duplicate": 3,
                    "refused": 2,
                    "last_event_at": "2026-09-28T10:04:58+08:00",
                    "last_arrival_at": "2026-09-28T10:05:00+08:00",
                    "lag_last_s": 2,
                    "lag_max_s": 95,
                    "lag_avg_s": 1.7,
                    "lag_buckets": {"1": 800, "5": 1490, "+Inf": 1520},
                    "clock_ahead": 0,
                    "last_refusal_reason": "item_code: not in the catalog",
                    "last_refusal_at": "2026-09-28T09:12:00+08:00",
                    "unknown_centers": {},
                }
            ]
        }
    )

    items: list[SourceLine]


@router.get("", response_model=SourceList, summary="Feed health per source")
async def list_sources(read_model: ReadModelDep, principal: Viewer) -> SourceList:
    """Counts, freshness, lag and refusals of every source."""
    lines = [SourceLine.model_validate(health) for health in await read_model.sources()]
    return SourceList(items=lines)
