"""The integration contract (SPEC §1): every refusal names the field and the rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.events import EventRefused, EventType, FieldError, parse_event

BASE: dict[str, Any] = {
    "event_id": "WIN-2026-000001",
    "case_id": "CASE-1",
    "occurred_at": "2026-09-28T10:00:00+08:00",
    "source": "window-sys",
}
OPENING = {"center": "C1", "item_code": "T5"}
# The smallest valid event of each type.
MINIMAL: dict[str, dict[str, Any]] = {
    "case.submitted": {**OPENING},
    "case.correction_requested": {},
    "case.accepted": {**OPENING},
    "case.rejected": {"data": {"reason": "不属于本机关职权范围"}},
    "case.step_started": {"data": {"step": "review"}},
    "case.step_completed": {"data": {"step": "review"}},
    "case.suspended": {"data": {"reason": "hearing"}},
    "case.resumed": {},
    "case.extended": {"data": {"by": "5wd", "approved_by": "局长"}},
    "case.materials_completed": {},
    "case.completed": {"data": {"result": "approved"}},
    "case.withdrawn": {},
    "case.delivered": {},
}


def event(type_: str, **changes: Any) -> dict[str, Any]:
    """A valid event of a type with some fields changed (``None`` removes a field)."""
    raw = {**BASE, "type": type_, **MINIMAL[type_]}
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def refusal(raw: Any) -> list[FieldError]:
    with pytest.raises(EventRefused) as caught:
        parse_event(raw)
    return caught.value.errors


def only(raw: Any) -> FieldError:
    """The single error of a refused event."""
    errors = refusal(raw)
    assert len(errors) == 1, errors
    return errors[0]


# -- valid events ---------------------------------------------------------------------------------


def test_minimal_events_cover_every_type() -> None:
    assert set(MINIMAL) == {t.value for t in EventType}


@pytest.mark.parametrize("type_", sorted(MINIMAL))
def test_minimal_event_of_each_type_is_valid(type_: str) -> None:
    parsed = parse_event(event(type_))
    assert parsed.type.value == type_


def test_full_accepted_event_as_json_bytes() -> None:
    raw = event(
        "case.accepted",
        department="market",
        window="W-07",
        handler="H-0042",
        data={"promised": "10wd", "statutory": "20wd", "mode": "tolerance", "materials_due": "5wd"},
    )
    parsed = parse_event(json.dumps(raw, ensure_ascii=False).encode())
    assert parsed.occurred_at == 1_790_560_800  # 2026-09-28T02:00:00Z
    assert str(parsed.data.materials_due) == "5wd"


def test_rejection_without_reason_is_valid() -> None:
    # A missing reason raises the rejection_without_reason alert (SPEC §4), not a refusal.
    parse_event(event("case.rejected", data=None))


@pytest.mark.parametrize("limit", ["0wd", "0d", "0h", "1wd", "30d", "48h", "9999wd"])
def test_valid_limits(limit: str) -> None:
    parse_event(event("case.accepted", data={"promised": limit}))


def test_length_limits_are_inclusive() -> None:
    parse_event(event("case.accepted", event_id="e" * 128, case_id="c" * 64))


# -- required fields ------------------------------------------------------------------------------


@pytest.mark.parametrize("type_", sorted(MINIMAL))
@pytest.mark.parametrize("field", ["event_id", "case_id", "occurred_at", "source"])
def test_common_required_fields(type_: str, field: str) -> None:
    error = only(event(type_, **{field: None}))
    assert error.field == field
    assert "is required" in error.rule


@pytest.mark.parametrize("type_", ["case.submitted", "case.accepted"])
@pytest.mark.parametrize("field", ["center", "item_code"])
def test_opening_events_need_center_and_item_code(type_: str, field: str) -> None:
    error = only(event(type_, **{field: None}))
    assert error.field == field
    assert "is required" in error.rule
    assert type_ in error.rule


@pytest.mark.parametrize(
    "type_", ["case.step_started", "case.step_completed", "case.suspended", "case.extended"]
)
def test_types_with_required_data_need_data(type_: str) -> None:
    error = only(event(type_, data=None))
    assert (error.field, error.rule) == ("data", f"is required for {type_}")


@pytest.mark.parametrize(
    ("type_", "field"),
    [
        ("case.step_started", "step"),
        ("case.step_completed", "step"),
        ("case.suspended", "reason"),
        ("case.extended", "by"),
    ],
)
def test_required_data_fields(type_: str, field: str) -> None:
    raw = event(type_)
    raw["data"] = {k: v for k, v in raw["data"].items() if k != field}
    error = only(raw)
    assert error.field == f"data.{field}"
    assert "is required" in error.rule


def test_every_missing_field_is_reported_at_once() -> None:
    errors = refusal({"type": "case.accepted"})
    assert {e.field for e in errors} == {
        "event_id",
        "case_id",
        "occurred_at",
        "source",
        "center",
        "item_code",
    }


def test_missing_type() -> None:
    error = only(event("case.resumed", type=None))
    assert error.field == "type"
    assert error.rule.startswith("is required: one of case.submitted")


def test_a_byte_order_mark_is_not_part_of_the_json() -> None:
    raw = json.dumps(event("case.resumed")).encode()
    assert parse_event("\ufeff".encode() + raw) == parse_event(raw)


def test_unknown_type() -> None:
    raw = {**BASE, "type": "case.approved"}
    error = only(raw)
    assert error.field == "type"
    assert "must be one of" in error.rule
    assert "case.completed" in error.rule  # the rule lists the valid types


# -- timestamps -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-09-28T10:00:00",
        "2026-09-28 10:00",
        "2026-09-28",
        "2026-09-28T10:00:00+0800",
        "28/09/2026 10:00 +08:00",
    ],
)
def test_occurred_at_needs_rfc3339_with_offset(text: str) -> None:
    error = only(event("case.resumed", occurred_at=text))
    assert error.field == "occurred_at"
    assert "RFC 3339" in error.rule
    assert "offset" in error.rule


@pytest.mark.parametrize("text", ["2026-09-28T02:00:00Z", "2026-09-28T02:00:00.999+00:00"])
def test_occurred_at_in_utc(text: str) -> None:
    assert parse_event(event("case.resumed", occurred_at=text)).occurred_at == 1_790_560_800


def test_occurred_at_impossible_date() -> None:
    error = only(event("case.resumed", occurred_at="2026-02-30T10:00:00+08:00"))
    assert error.field == "occurred_at"
    assert "not a valid date" in error.rule


@pytest.mark.parametrize("offset", ["+24:00", "-24:00", "+99:99", "+08:60"])
def test_occurred_at_with_an_offset_out_of_range_says_so_plainly(offset: str) -> None:
    error = only(event("case.resumed", occurred_at="2026-09-28T10:00:00" + offset))
    assert error.field == "occurred_at"
    assert f"the offset {offset} is out of range: ±hh:mm with hh 00–23" in error.rule
    assert "timedelta" not in error.rule


def test_occurred_at_as_a_number_is_refused() -> None:
    error = only(json.dumps(event("case.resumed", occurred_at=1_790_560_800)))
    assert error.field == "occurred_at"


# -- limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["5x", "-1wd", "1.5wd", "wd", "5", "5 wd", "5WD", ""])
@pytest.mark.parametrize(
    ("type_", "where"),
    [
        ("case.accepted", "promised"),
        ("case.accepted", "statutory"),
        ("case.step_started", "limit"),
        ("case.suspended", "expected"),
        ("case.extended", "by"),
    ],
)
def test_malformed_limits(type_: str, where: str, limit: str) -> None:
    raw = event(type_)
    raw["data"] = {**raw.get("data", {}), where: limit}
    error = only(raw)
    assert error.field == f"data.{where}"
    assert "is not a limit" in error.rule
    assert "non-negative whole number" in error.rule


def test_limit_must_be_a_string() -> None:
    error = only(event("case.accepted", data={"promised": 5}))
    assert error.field == "data.promised"
    assert "string" in error.rule


def test_tolerance_needs_materials_due() -> None:
    error = only(event("case.accepted", data={"mode": "tolerance"}))
    assert error.field == "data.materials_due"
    assert "required when data.mode is tolerance" in error.rule


def test_unknown_mode() -> None:
    error = only(event("case.accepted", data={"mode": "express"}))
    assert error.field == "data.mode"
    assert "normal" in error.rule and "tolerance" in error.rule


def test_unknown_suspension_reason() -> None:
    error = only(event("case.suspended", data={"reason": "holiday"}))
    assert error.field == "data.reason"
    assert "supplement" in error.rule and "other" in error.rule


# -- sizes, unknown fields, shapes ----------------------------------------------------------------


def test_event_id_longer_than_128() -> None:
    error = only(event("case.resumed", event_id="e" * 129))
    assert (error.field, error.rule) == ("event_id", "must be at most 128 characters")


def test_case_id_longer_than_64() -> None:
    error = only(event("case.resumed", case_id="c" * 65))
    assert (error.field, error.rule) == ("case_id", "must be at most 64 characters")


def test_empty_event_id() -> None:
    error = only(event("case.resumed", event_id=""))
    assert (error.field, error.rule) == ("event_id", "must not be empty")


def test_control_characters_in_a_code() -> None:
    error = only(event("case.resumed", case_id="CASE\n1"))
    assert error.field == "case_id"
    assert "control characters" in error.rule


def test_unknown_top_level_field() -> None:
    error = only(event("case.resumed", priority="high"))
    assert error.field == "priority"
    assert "not a field of the event contract" in error.rule


def test_unknown_data_field() -> None:
    error = only(event("case.step_started", data={"step": "review", "deadline": "3wd"}))
    assert error.field == "data.deadline"
    assert "not a field of the event contract" in error.rule


def test_data_must_be_an_object() -> None:
    error = only(event("case.step_started", data=["review"]))
    assert (error.field, error.rule) == ("data", "must be a JSON object")


@pytest.mark.parametrize("text", ["[1, 2]", '"case.accepted"', "42", "null", "true"])
def test_not_a_json_object(text: str) -> None:
    error = only(text)
    assert error.field == "(event)"
    assert "must be a JSON object" in error.rule


@pytest.mark.parametrize("text", ["{bad", '{"event_id": "e1",}', "", "{'event_id': 'e1'}"])
def test_invalid_json(text: str) -> None:
    error = only(text)
    assert error.field == "(body)"
    assert "is not valid JSON" in error.rule


def test_field_error_reads_field_colon_rule() -> None:
    error = only(event("case.resumed", case_id="c" * 65))
    assert str(error) == "case_id: must be at most 64 characters"
