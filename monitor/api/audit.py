"""The audit log of supervisors' decisions (督办留痕): who acknowledged or cancelled which alert,
when, and why. ``GET /v1/audit`` (role admin) reads it, newest first.

It is a Redis stream beside the API tokens it names, ``{auth_prefix}audit`` (by default
``redline:auth:audit``): outside the read-model prefix, since a rebuild of the read model
flushes that and the audit log must survive it, and under a prefix of the API's own, so a test
stack (its own ``REDLINE_AUTH_PREFIX``) never writes into the real log. Nothing trims it. The
commands topic holds the same decisions (with who and the note) for the worker, so the log can
be checked against it.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from monitor.api.auth import Admin, Principal
from monitor.api.deps import RedisDep, SettingsDep
from monitor.api.params import (
    DISPLAY_ZONE,
    LimitQuery,
    bad_request,
    example_config,
    is_entry_id,
)
from monitor.settings import Settings

router = APIRouter(prefix="/v1/audit", tags=["alerts"])


class AuditEntry(BaseModel):
    """One decision: who, when, on which alert of which case, and the note."""

    model_config = example_config(
        {
            "id": "1790000000000-0",
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

    id: str = Field(description="the stream entry id; pass as `before` to page back")
    at: str
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


def audit_stream(settings: Settings) -> str:
    """The Redis stream of the audit log."""
    return settings.auth_prefix + "audit"


async def append_audit(
    redis: Redis,
    stream: str,
    principal: Principal,
    at: int,
    command: str,
    alert_id: str,
    case_id: str,
    kind: str,
    note: str,
) -> str:
    """Record one decision; its entry id."""
    entry = {
        "at": DISPLAY_ZONE.format(at),
        "by": principal.name,
        "token_id": principal.token_id,
        "command": command,
        "alert_id": alert_id,
        "case_id": case_id,
        "kind": kind,
        "note": note,
    }
    entry_id = await redis.xadd(stream, entry)  # type: ignore[arg-type]
    return _text(entry_id)


@router.get("", response_model=AuditPage, summary="The audit log of acks and cancellations")
async def list_audit(
    redis: RedisDep,
    settings: SettingsDep,
    principal: Admin,
    limit: LimitQuery = 100,
    before: Annotated[
        str | None,
        Query(max_length=64, description="an entry id: list the entries older than it"),
    ] = None,
) -> AuditPage:
    """Audit entries, newest first, ``limit`` at a time."""
    if before is not None and not is_entry_id(before):
        raise bad_request(
            "before", "must be an audit entry id such as 1790000000000-0 (both numbers below 2^64)"
        )
    newest = "+" if before is None else "(" + before
    found = cast(
        list[tuple[bytes | str, dict[bytes | str, bytes | str]]],
        await redis.xrevrange(audit_stream(settings), max=newest, min="-", count=limit + 1),
    )
    entries = [_entry(entry_id, fields) for entry_id, fields in found[:limit]]
    more = len(found) > limit
    return AuditPage(items=entries, next_before=entries[-1].id if more and entries else None)


def _entry(entry_id: bytes | str, fields: dict[bytes | str, bytes | str]) -> AuditEntry:
    values = {_text(name): _text(value) for name, value in fields.items()}
    return AuditEntry(
        id=_text(entry_id),
        at=values.get("at", ""),
        by=values.get("by", ""),
        token_id=values.get("token_id", ""),
        command=values.get("command", ""),
        alert_id=values.get("alert_id", ""),
        case_id=values.get("case_id", ""),
        kind=values.get("kind", ""),
        note=values.get("note", ""),
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
