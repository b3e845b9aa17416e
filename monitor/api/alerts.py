"""``GET /v1/alerts`` and the supervisor's decisions on one alert (督办): ``ack`` and ``cancel``.

The API never changes a case itself. A decision becomes a :class:`SupervisorCommand` on the
commands topic, keyed by the case id, and the worker that owns the case applies it; the
alert's status in the read model follows (``acknowledged``, or ``resolved`` with resolution
``cancelled``), and the worker writes the audit log's entry (who, when, the note) as it applies
the decision. The answer is 202 once the broker has the command (committed, acks=all), with the
id the audit entry will have.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from monitor.alert import AlertKind, AlertStatus, Severity
from monitor.api.auth import Principal, Supervisor, Viewer
from monitor.api.bodies import JsonBody
from monitor.api.deps import (
    KafkaDep,
    ReadModelDep,
    SettingsDep,
    kafka_refusal,
)
from monitor.api.kafka import KafkaLink, KafkaUnavailable
from monitor.api.params import (
    DISPLAY_ZONE,
    CenterQuery,
    DepartmentQuery,
    LimitQuery,
    bad_request,
    code_path,
    code_query,
    example_config,
    not_found,
)
from monitor.casetypes import Command
from monitor.readmodel import CursorError, ReadModel
from monitor.readmodel.alertqueue import AlertFilter, Order, Visible
from monitor.records import SupervisorCommand, new_command_id
from monitor.settings import Settings

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

AlertId = Annotated[
    str,
    code_path(
        "the alert's id, as `GET /v1/alerts` or the case object lists it",
        "3c1e0b9a7d55e2f81a04",
        max_length=128,
    ),
]
_NOTE_MAX = 2000


class AckBody(BaseModel):
    """An acknowledgement (已阅督办): the note is optional."""

    model_config = example_config({"note": "已电话督办"}) | ConfigDict(extra="forbid")

    note: str = Field("", max_length=_NOTE_MAX, description="what the supervisor did")


class CancelBody(BaseModel):
    """A cancellation: the alert should not stand, and the note says why (required)."""

    model_config = example_config({"note": "申请人已当场撤回, 窗口系统漏报撤回事件"}) | ConfigDict(
        extra="forbid"
    )

    note: str = Field(max_length=_NOTE_MAX, description="the reason (required, not blank)")

    @field_validator("note")
    @classmethod
    def _not_blank(cls, note: str) -> str:
        if not note.strip():
            raise PydanticCustomError("reason", "a cancellation needs a reason: a non-blank note")
        return note


class CommandAccepted(BaseModel):
    """The decision is on the commands topic; the worker applies it and audits it."""

    model_config = example_config(
        {
            "alert_id": "3c1e0b9a7d55e2f81a04",
            "case_id": "GZ-2026-000123",
            "command": "ack",
            "by": "王主任",
            "at": "2026-09-28T10:05:00+08:00",
            "audit_id": "01790000000-01a0c1bd7c000f3e9a1b2c4d",
        }
    )

    alert_id: str
    case_id: str
    command: str
    by: str
    at: str
    audit_id: str = Field(
        description="the entry `GET /v1/audit` has once the worker applied the decision"
    )


class AlertList(BaseModel):
    """One page of the alert queue, each alert with its ``case_id``."""

    items: list[dict[str, Any]] = Field(description="alerts, in the order asked for")
    next_cursor: str | None = Field(
        description="pass as `cursor`, with the same filters and order, for the next page; "
        "null: no more. A page may be short, even empty, and still have one",
    )


AlertCursorQuery = Annotated[
    str | None,
    Query(
        max_length=400,
        description="opaque: the `next_cursor` of the previous page, with the same filters "
        "and order; absent for the first",
    ),
]
ItemQuery = Annotated[str | None, code_query("item code (事项编码), the alert's item_code", "FOOD")]


@router.get("", response_model=AlertList, summary="The alert queue: filtered, paged, ordered")
async def list_alerts(
    read_model: ReadModelDep,
    principal: Viewer,
    status_: Annotated[
        AlertStatus | None,
        Query(alias="status", description="firing, acknowledged or resolved"),
    ] = None,
    kind: Annotated[AlertKind | None, Query(description="an alert kind (SPEC §4)")] = None,
    severity: Annotated[Severity | None, Query(description="yellow or red")] = None,
    center: CenterQuery = None,
    department: DepartmentQuery = None,
    item: ItemQuery = None,
    level: Annotated[
        int | None,
        Query(ge=1, le=3, description="the alert's `level` field, 1–3 (today the kind's first)"),
    ] = None,
    order: Annotated[
        Order, Query(description="newest (the default) or oldest `fired_at` first")
    ] = Order.NEWEST,
    limit: LimitQuery = 100,
    cursor: AlertCursorQuery = None,
) -> AlertList:
    """Alerts matching every filter, by ``fired_at`` then id; resolved ones only while still
    recent. A token bound to centres sees its centres' alerts only."""
    wanted = AlertFilter(
        status=None if status_ is None else status_.value,
        kind=None if kind is None else kind.value,
        severity=None if severity is None else severity.value,
        center=center,
        department=department,
        item=item,
        level=level,
    )
    if center is not None and not principal.may_see(center):
        # a filter outside the principal's centres matches nothing
        return AlertList(items=[], next_cursor=None)
    visible = None if principal.centers is None else _visible_to(principal)
    try:
        page = await read_model.alert_page(wanted, order, limit, cursor, visible)
    except CursorError as exc:
        raise bad_request("cursor", str(exc)) from None
    return AlertList(items=page.items, next_cursor=page.cursor)


def _visible_to(principal: Principal) -> Visible:
    """Whether the principal may see an alert: one of its centres'."""
    return lambda alert: principal.may_see(alert.get("center"))


@dataclass(frozen=True, slots=True)
class Decider:
    """What a decision on an alert needs: who decides, the read model, the settings and the
    Kafka link that sends the command."""

    principal: Principal
    read_model: ReadModel
    settings: Settings
    kafka: KafkaLink

    async def decide(self, command: Command, alert_id: str, note: str) -> CommandAccepted:
        """Send ``command`` on the alert to the worker; 404, 409 or 503 if not."""
        principal, settings = self.principal, self.settings
        alert = await self.read_model.alert(alert_id)
        if alert is None or not principal.may_see(alert.get("center")):
            raise not_found(f"alert {alert_id!r}")
        case_id = str(alert["case_id"])
        if alert.get("status") == AlertStatus.RESOLVED.value:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"alert {alert_id!r} is already resolved "
                f"({alert.get('resolution')} at {alert.get('resolved_at')}): nothing to decide",
            )
        now_ms = time.time_ns() // 1_000_000
        at = now_ms // 1000
        record = SupervisorCommand(
            case_id,
            alert_id,
            command,
            at,
            principal.name,
            note,
            command_id=new_command_id(now_ms),
            token_id=principal.token_id,
        )
        try:
            await self.kafka.send_all(settings.commands_topic, [record.encode()])
        except KafkaUnavailable as failure:
            # not applied (or, for an unknown outcome, its audit entry shows when it was):
            # the same request again is the retry
            raise kafka_refusal(settings, failure) from None
        return CommandAccepted(
            alert_id=alert_id,
            case_id=case_id,
            command=command.value,
            by=principal.name,
            at=DISPLAY_ZONE.format(at),
            audit_id=record.audit_id,
        )


async def _decider(
    principal: Supervisor,
    read_model: ReadModelDep,
    settings: SettingsDep,
    kafka: KafkaDep,
) -> Decider:
    return Decider(principal, read_model, settings, kafka)


DeciderDep = Annotated[Decider, Depends(_decider)]  # role supervisor; 503 while Kafka is away


def _decision(command: Command, summary: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """The route of one decision: ``POST /v1/alerts/{alert_id}/{command}``, 202 when taken."""
    return router.post(
        f"/{{alert_id}}/{command.value}",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=CommandAccepted,
        summary=summary,
        responses={
            404: {"description": "no such alert, or one of a centre this token does not cover"},
            409: {"description": "the alert is already resolved"},
            503: {"description": "Kafka is unavailable: retry after Retry-After seconds"},
        },
    )


@_decision(Command.ACKNOWLEDGE, "Acknowledge an alert (role supervisor)")
async def acknowledge(
    alert_id: AlertId, decider: DeciderDep, _: JsonBody, body: AckBody | None = None
) -> CommandAccepted:
    """Acknowledge: the alert stops escalating for the acknowledgement timeout."""
    note = body.note if body is not None else ""
    return await decider.decide(Command.ACKNOWLEDGE, alert_id, note)


@_decision(Command.CANCEL, "Cancel an alert, with the reason (role supervisor)")
async def cancel(
    alert_id: AlertId, decider: DeciderDep, _: JsonBody, body: CancelBody | None = None
) -> CommandAccepted:
    """Cancel: the alert resolves as ``cancelled``, with the note as its reason."""
    if body is None:  # no body at all: say what is missing, not just "(request)"
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[{"field": "note", "rule": "required: a cancellation needs a reason"}],
        )
    return await decider.decide(Command.CANCEL, alert_id, body.note)
