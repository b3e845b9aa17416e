"""The audit log of supervisors' decisions (督办留痕): who acknowledged or cancelled which alert,
when, and why. ``GET /v1/audit`` (role admin) reads it, newest first.

The log is what was *applied*: the worker that applies an ack or a cancel to its case writes the
entry (``monitor.records.AuditRecord``) to the read model and to the compacted ``redline-audit``
topic, so an applied decision has exactly one entry, a refused one (dead-lettered) none, and a
Redis that lost its data gets the log back with the rest of the read model. The API only reads
it. An entry's id is the decision's instant and its command id: ids sort as the decisions were
made, and the answer to an ack or cancel names its entry before the worker has applied it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from monitor.api.auth import Admin
from monitor.api.deps import ReadModelDep
from monitor.api.params import DISPLAY_ZONE, LimitQuery, bad_request, example_config
from monitor.records import AUDIT_ID

router = APIRouter(prefix="/v1/audit", tags=["alerts"])

EXAMPLE_ID = "01790000000-01a0c1bd7c000f3e9a1b2c4d"


class AuditEntry(BaseModel):
    """One decision: who, when, on which alert of which case, and the note."""

    model_config = example_config(
        {
            "id": EXAMPLE_ID,
            "at": "2026-09-28T10:05:00+08:00",
            "by": "王主任",
            "token_id": "tok_4f2a9c",
            "command": "cancel",
            "alert_id": "3c1e0b9a7d55e2f81a04",
            "case_id": "GZ-2026-000123",
            "kind": "deadline_overdue",
            "note": "applicant withdrew in person; event missing from the window system",
        }
    )

    id: str = Field(description="the entry's id; pass as `before` to page back")
    at: str = Field(description="when the supervisor decided")
    by: str = Field(description="the person token's name")
    token_id: str
    command: str = Field(description="`ack` or `cancel`")
    alert_id: str
    case_id: str
    kind: str
    note: str


class AuditPage(BaseModel):
    """Audit entries, newest first."""

    items: list[AuditEntry]
    next_before: str | None = Field(description="pass as `before` for older entries; null: done")


@router.get("", response_model=AuditPage, summary="The audit log of acks and cancellations")
async def list_audit(
    read_model: ReadModelDep,
    principal: Admin,
    limit: LimitQuery = 100,
    before: Annotated[
        str | None,
        Query(max_length=64, description="an entry id: list the entries older than it"),
    ] = None,
) -> AuditPage:
    """Audit entries, newest first, ``limit`` at a time."""
    if before is not None and not AUDIT_ID.match(before):
        raise bad_request("before", f"must be an audit entry id such as {EXAMPLE_ID}")
    found, more = await read_model.audit_entries(before, limit)
    entries = [_entry(fields) for fields in found]
    return AuditPage(items=entries, next_before=entries[-1].id if more and entries else None)


def _entry(fields: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=fields["id"],
        at=DISPLAY_ZONE.format(fields["at"]),
        by=fields["by"],
        token_id=fields["token_id"],
        command=fields["command"],
        alert_id=fields["alert_id"],
        case_id=fields["case_id"],
        kind=fields["kind"],
        note=fields["note"],
    )
