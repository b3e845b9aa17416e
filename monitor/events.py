"""The integration contract (SPEC §1): one JSON object per event, validated with reasons.

Every refusal names the field and the rule, e.g. ``data.materials_due: is required when
data.mode is tolerance``. The models are a tagged union on ``type``, so each event type states
its own required fields and ``data``, and the JSON Schema integrators read is generated from the
same code (``redline schema``, committed as ``monitor/schema/event.schema.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitor.limits import Limit, LimitError, parse_limit
from monitor.timeutil import InstantError, format_utc, parse_instant

MIN_INSTANT = 946_684_800  # 2000-01-01T00:00:00Z: the calendars start here
MAX_INSTANT = 4_102_444_800  # 2100-01-01T00:00:00Z


class EventType(StrEnum):
    """What happened to a case at the window."""

    SUBMITTED = "case.submitted"  # 收件/申请
    CORRECTION_REQUESTED = "case.correction_requested"  # 补正告知
    ACCEPTED = "case.accepted"  # 受理
    REJECTED = "case.rejected"  # 不予受理
    STEP_STARTED = "case.step_started"  # 环节开始
    STEP_COMPLETED = "case.step_completed"  # 环节结束
    SUSPENDED = "case.suspended"  # 暂停计时
    RESUMED = "case.resumed"  # 恢复计时
    EXTENDED = "case.extended"  # 延期
    MATERIALS_COMPLETED = "case.materials_completed"  # 容缺材料补齐
    COMPLETED = "case.completed"  # 办结
    WITHDRAWN = "case.withdrawn"  # 撤回
    DELIVERED = "case.delivered"  # 送达/领取


class SuspendReason(StrEnum):
    """Why the clocks stop (法定不计时情形), ``other`` being outside the statute."""

    SUPPLEMENT = "supplement"  # 补正
    HEARING = "hearing"  # 听证
    TENDERING = "tendering"  # 招标
    AUCTION = "auction"  # 拍卖
    INSPECTION = "inspection"  # 检验
    TESTING = "testing"  # 检测
    QUARANTINE = "quarantine"  # 检疫
    APPRAISAL = "appraisal"  # 鉴定
    EXPERT_REVIEW = "expert_review"  # 专家评审
    OTHER = "other"


def _limit(value: object) -> Limit:
    if isinstance(value, Limit):
        return value
    try:
        return parse_limit(value)
    except LimitError as exc:
        raise PydanticCustomError("limit", str(exc)) from None


def _instant(value: object) -> int:
    if not isinstance(value, str):
        raise PydanticCustomError(
            "timestamp",
            "must be an RFC 3339 timestamp string with an offset, e.g. 2026-09-28T10:00:00+08:00",
        )
    try:
        instant = parse_instant(value)
    except InstantError as exc:
        raise PydanticCustomError("timestamp", str(exc)) from None
    if not MIN_INSTANT <= instant < MAX_INSTANT:
        raise PydanticCustomError(
            "timestamp", "must lie between 2000-01-01T00:00:00Z and 2099-12-31T23:59:59Z"
        )
    return instant


LimitText = Annotated[
    Limit,
    BeforeValidator(_limit),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^(0|[1-9][0-9]*)(wd|d|h)$",
            "examples": ["10wd", "30d", "48h"],
        }
    ),
]
Instant = Annotated[
    int,
    BeforeValidator(_instant),
    PlainSerializer(format_utc, return_type=str),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2026-09-28T10:00:00+08:00"]}
    ),
]
Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Text = Annotated[str, StringConstraints(max_length=2000)]


def is_code(value: str) -> bool:
    """The contract's rule for codes and ids (:data:`Code`), for values that arrive elsewhere
    (tokens, the centres file): 1-64 characters, no control characters."""
    return 1 <= len(value) <= 64 and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)


_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class NoData(BaseModel):
    """Types whose ``data`` carries nothing."""

    model_config = _STRICT


class CorrectionData(BaseModel):
    model_config = _STRICT
    materials: list[Text] | None = None


class AcceptedData(BaseModel):
    model_config = _STRICT
    promised: LimitText | None = None  # 承诺时限; else the catalog's
    statutory: LimitText | None = None  # 法定时限; else the catalog's
    mode: Literal["normal", "tolerance"] = "normal"  # tolerance = 容缺受理
    materials_due: LimitText | None = None  # 容缺材料补齐时限

    @model_validator(mode="after")
    def _tolerance_needs_due(self) -> AcceptedData:
        if self.mode == "tolerance" and self.materials_due is None:
            raise PydanticCustomError(
                "tolerance", "data.materials_due is required when data.mode is tolerance"
            )
        return self


class RejectedData(BaseModel):
    model_config = _STRICT
    reason: Text | None = None  # missing or empty raises rejection_without_reason, not a refusal


class StepStartedData(BaseModel):
    model_config = _STRICT
    step: Code
    limit: LimitText | None = None


class StepCompletedData(BaseModel):
    model_config = _STRICT
    step: Code


class SuspendedData(BaseModel):
    model_config = _STRICT
    reason: SuspendReason
    expected: LimitText | None = None


class ExtendedData(BaseModel):
    model_config = _STRICT
    by: LimitText
    approved_by: Text | None = None


class CompletedData(BaseModel):
    model_config = _STRICT
    result: Text | None = None


class WithdrawnData(BaseModel):
    model_config = _STRICT
    reason: Text | None = None


class _Event(BaseModel):
    """Fields every event carries."""

    model_config = _STRICT
    event_id: Annotated[
        str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
    ]
    case_id: Code
    occurred_at: Instant
    source: Code
    center: Code | None = None
    department: Code | None = None
    item_code: Code | None = None
    window: Code | None = None
    handler: Code | None = None


class _Opening(_Event):
    center: Code
    item_code: Code


class Submitted(_Opening):
    type: Literal[EventType.SUBMITTED]
    data: NoData = NoData()


class CorrectionRequested(_Event):
    type: Literal[EventType.CORRECTION_REQUESTED]
    data: CorrectionData = CorrectionData()


class Accepted(_Opening):
    type: Literal[EventType.ACCEPTED]
    data: AcceptedData = AcceptedData()


class Rejected(_Event):
    type: Literal[EventType.REJECTED]
    data: RejectedData = RejectedData()


class StepStarted(_Event):
    type: Literal[EventType.STEP_STARTED]
    data: StepStartedData


class StepCompleted(_Event):
    type: Literal[EventType.STEP_COMPLETED]
    data: StepCompletedData


class Suspended(_Event):
    type: Literal[EventType.SUSPENDED]
    data: SuspendedData


class Resumed(_Event):
    type: Literal[EventType.RESUMED]
    data: NoData = NoData()


class Extended(_Event):
    type: Literal[EventType.EXTENDED]
    data: ExtendedData


class MaterialsCompleted(_Event):
    type: Literal[EventType.MATERIALS_COMPLETED]
    data: NoData = NoData()


class Completed(_Event):
    type: Literal[EventType.COMPLETED]
    data: CompletedData = CompletedData()


class Withdrawn(_Event):
    type: Literal[EventType.WITHDRAWN]
    data: WithdrawnData = WithdrawnData()


class Delivered(_Event):
    type: Literal[EventType.DELIVERED]
    data: NoData = NoData()


AnyEvent = (
    Submitted
    | CorrectionRequested
    | Accepted
    | Rejected
    | StepStarted
    | StepCompleted
    | Suspended
    | Resumed
    | Extended
    | MaterialsCompleted
    | Completed
    | Withdrawn
    | Delivered
)
Event = Annotated[AnyEvent, Field(discriminator="type")]
_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)
_TYPES = ", ".join(t.value for t in EventType)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule: the field's dotted path and what the rule is."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class EventRefused(ValueError):
    """An event that breaks the contract, with every reason."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(map(str, errors)))


def parse_event(raw: bytes | str | dict[str, Any]) -> AnyEvent:
    """Validate one event (JSON text or a decoded object), or raise :class:`EventRefused`."""
    if isinstance(raw, bytes) and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]  # some Windows tools write one; it is not part of the JSON
    try:
        if isinstance(raw, dict):
            return _ADAPTER.validate_python(raw)
        return _ADAPTER.validate_json(raw)
    except ValidationError as exc:
        raise EventRefused(describe(exc)) from None


def describe(exc: ValidationError) -> list[FieldError]:
    """Turn pydantic's errors into field + rule pairs an integrator can act on."""
    errors: list[FieldError] = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        if loc and loc[0] in _TYPE_VALUES:
            event_type, loc = loc[0], loc[1:]
        else:
            event_type = None
        field = ".".join(loc) or "(event)"
        kind = error["type"]
        if kind == "missing":
            rule = f"is required for {event_type}" if event_type else "is required"
        elif kind == "extra_forbidden":
            rule = "is not a field of the event contract"
        elif kind == "union_tag_not_found":
            field, rule = "type", f"is required: one of {_TYPES}"
        elif kind == "union_tag_invalid":
            field, rule = "type", f"must be one of: {_TYPES}"
        elif kind == "json_invalid":
            field, rule = "(body)", f"is not valid JSON ({error['ctx'].get('error', '')})"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            rule = "must be a JSON object"
        elif kind == "string_too_long":
            rule = f"must be at most {error['ctx']['max_length']} characters"
        elif kind == "string_too_short":
            rule = "must not be empty"
        elif kind == "string_pattern_mismatch" and field in _CODE_FIELDS:
            rule = "must not contain control characters"
        elif kind == "tolerance":
            field, rule = "data.materials_due", "is required when data.mode is tolerance"
        else:
            rule = error["msg"][0].lower() + error["msg"][1:]
        errors.append(FieldError(field, rule))
    return errors


_TYPE_VALUES = {t.value for t in EventType}
_BOM = "\ufeff".encode()
_CODE_FIELDS = {
    "event_id",
    "case_id",
    "source",
    "center",
    "department",
    "item_code",
    "window",
    "handler",
    "data.step",
}


def event_schema() -> dict[str, Any]:
    """The JSON Schema of one event, for integrators."""
    schema = _ADAPTER.json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Redline approval event (SPEC §1)"
    return schema


def dumps_schema() -> str:
    """The committed schema file's text."""
    return json.dumps(event_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
