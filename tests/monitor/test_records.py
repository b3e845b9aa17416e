"""The records of Redline's own topics: one encoder and one decoder each, the bytes stable."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor import jsontext
from monitor.alert import AlertKind, AlertStatus, Resolution
from monitor.casetypes import Command
from monitor.config import ConfigFiles
from monitor.engine import Engine
from monitor.records import (
    AUDIT_ID,
    AlertRecord,
    AuditRecord,
    CaseRecord,
    CommandRefused,
    RecordError,
    SupervisorCommand,
    Version,
)
from monitor.timeutil import parse_instant
from streams.tracker import Tracker

DATA = Path(__file__).resolve().parents[2] / "monitor" / "data"

# an alert record as the worker published it before item_code and handler were added
BEFORE_ROUTING = (
    b'{"id":"a1","kind":"deadline_overdue","severity":"red","level":1,'
    b'"fired_at":"2026-10-11T00:00:00+08:00","status":"firing","resolved_at":null,'
    b'"resolution":null,"acknowledged_at":null,"subject":"1","detail":"",'
    b'"case_id":"C-1","center":"GZ-TIANHE","department":"MKT","version":[3,1760112000]}'
)

texts = st.text(max_size=12)
maybe = st.none() | texts
alert_records = st.builds(
    AlertRecord,
    id=texts,
    kind=st.sampled_from(AlertKind),
    severity=st.sampled_from(["yellow", "red"]),
    level=st.integers(1, 3),
    fired_at=texts,
    status=st.sampled_from(AlertStatus),
    resolved_at=maybe,
    resolution=st.none() | st.sampled_from(Resolution),
    acknowledged_at=maybe,
    subject=texts,
    detail=texts,
    case_id=texts,
    center=maybe,
    department=maybe,
    item_code=maybe,
    handler=maybe,
    version=st.builds(Version, st.integers(0, 10**6), st.integers(0, 2**40), st.integers(0, 99)),
)


@given(alert_records)
def test_an_alert_record_decodes_to_itself(record: AlertRecord) -> None:
    key, value = record.encode()
    assert key == record.id.encode() and AlertRecord.decode(value) == record
    assert value.endswith(b',"version":[%d,%d,%d]}' % record.version)


def test_an_alert_record_from_before_item_code_and_handler_decodes_with_none() -> None:
    record = AlertRecord.decode(BEFORE_ROUTING)
    assert (record.kind, record.status, record.version) == (
        AlertKind.DEADLINE_OVERDUE,
        AlertStatus.FIRING,
        (3, 1760112000, 0),  # written before configuration versions: version 0
    )
    assert (record.center, record.department, record.item_code, record.handler) == (
        "GZ-TIANHE",
        "MKT",
        None,
        None,
    )
    # re-encoded, it carries the two new fields, between department and version, and the
    # version's third part
    assert record.encode()[1] == BEFORE_ROUTING.replace(
        b'"MKT",', b'"MKT","item_code":null,"handler":null,'
    ).replace(b"1760112000]", b"1760112000,0]")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (b"not json", "redline-alerts (json): not a JSON object"),
        (b"[1]", "redline-alerts (json): not a JSON object"),
        (
            b'{"id":"a1"}',
            "redline-alerts version: must be [events, time, configuration version], integers",
        ),
        (
            b'{"id":"a1","version":[1,true]}',
            "version: must be [events, time, configuration version]",
        ),
        (b'{"id":"a1","version":[1,2]}', "redline-alerts kind: required"),
        (BEFORE_ROUTING.replace(b"deadline_overdue", b"late"), "redline-alerts: 'late'"),
    ],
)
def test_a_bad_alert_record_is_refused_naming_the_field(value: bytes, says: str) -> None:
    with pytest.raises(RecordError, match=re.escape(says)):
        AlertRecord.decode(value)


@given(st.dictionaries(texts, st.none() | st.integers() | texts, max_size=5), st.integers(0, 99))
def test_a_case_record_keeps_its_view_and_version(extra: dict[str, Any], events: int) -> None:
    view = {"case_id": "C-1", **{k: v for k, v in extra.items() if k != "case_id"}}
    record = CaseRecord(view, Version(events, 1_760_000_000))
    key, value = record.encode()
    assert key == b"C-1" and value == jsontext.dumps(
        {**view, "version": [events, 1_760_000_000, 0]}
    )
    assert CaseRecord.decode(value) == record


def test_a_case_record_needs_a_case_id() -> None:
    with pytest.raises(RecordError, match="redline-cases case_id: must be a string"):
        CaseRecord.decode(b'{"version":[1,2]}')


def test_the_worker_publishes_routing_fields_with_each_alert() -> None:
    tracker = Tracker(Engine(ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml").load()), {})
    accepted = {
        "event_id": "e1",
        "type": "case.accepted",
        "case_id": "C-1",
        "occurred_at": "2026-09-28T10:00:00+08:00",
        "source": "win-1",
        "center": "GZ-TIANHE",
        "item_code": "FOOD-LICENSE",
        "handler": "张三",
        "data": {"promised": "5wd"},
    }
    tracker.on_event(b"C-1", json.dumps(accepted).encode(), parse_instant(accepted["occurred_at"]))
    out = tracker.on_tick("C-1", parse_instant("2026-10-10T00:00:00+08:00"))
    ((_, case),) = out.cases
    ((_, value),) = out.alerts
    view, alert = CaseRecord.decode(case).view, AlertRecord.decode(value)
    assert alert.kind is AlertKind.DEADLINE_WARNING and alert.version == tuple(
        json.loads(case)["version"]
    )
    assert (alert.case_id, alert.center, alert.department, alert.item_code, alert.handler) == (
        "C-1",
        "GZ-TIANHE",
        view["department"],
        "FOOD-LICENSE",
        "张三",
    )


def test_a_supervisor_command_decodes_to_itself() -> None:
    command = SupervisorCommand(
        "C-1",
        "a1",
        Command.CANCEL,
        1_760_000_000,
        "王五",
        "撤回",
        "0123456789abcdef01234567",
        "tok_1",
    )
    key, value = command.encode()
    assert key == b"C-1" and SupervisorCommand.decode(value) == command
    assert command.audit_id == "01760000000-0123456789abcdef01234567"


# a command as the API sent it before commands had ids
BEFORE_IDS = (
    b'{"case_id":"C-1","alert_id":"a1","command":"ack","at":1760000000,"by":"\xe7\x8e\x8b",'
    b'"note":""}'
)


def test_a_command_from_before_ids_gets_one_of_its_content() -> None:
    first, again = SupervisorCommand.decode(BEFORE_IDS), SupervisorCommand.decode(BEFORE_IDS)
    other = SupervisorCommand.decode(BEFORE_IDS.replace(b'"note":""', b'"note":"x"'))
    assert first.command_id == again.command_id != other.command_id
    assert AUDIT_ID.match(first.audit_id) and first.token_id == ""


def test_a_malformed_command_id_is_refused_by_name() -> None:
    bad = BEFORE_IDS.replace(b'"note":""', b'"note":"","command_id":"NOT-HEX"')
    with pytest.raises(CommandRefused, match="command_id: must be 24 lowercase hex digits"):
        SupervisorCommand.decode(bad)


@given(
    st.integers(0, 99_999_999_999),
    st.text(max_size=20),
    st.text(max_size=200),
    st.sampled_from(Command),
)
def test_an_audit_record_decodes_to_itself(at: int, by: str, note: str, command: Command) -> None:
    decided = SupervisorCommand(
        "C-1", "a1", command, at, by, note, "00ff00ff00ff00ff00ff00ff", "tok_x"
    )
    record = AuditRecord.of(decided, "deadline_overdue")
    key, value = record.encode()
    assert key == decided.audit_id.encode() and AuditRecord.decode(value) == record


def test_audit_ids_sort_as_the_decisions_were_made() -> None:
    ids = [
        SupervisorCommand("C", "a", Command.ACKNOWLEDGE, at, "", "", cid).audit_id
        for at, cid in [(9, "f" * 24), (1_000_000_000, "0" * 24), (10, "0" * 24)]
    ]
    assert sorted(ids) == [ids[0], ids[2], ids[1]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "1-2"}, "redline-audit id: must be"),
        ({"at": "noon"}, "redline-audit at: must be epoch seconds"),
        ({"command": "close"}, "redline-audit command: must be 'ack' or 'cancel'"),
        ({"note": None}, "redline-audit note: must be a string"),
    ],
)
def test_a_bad_audit_record_names_its_field(change: dict[str, Any], message: str) -> None:
    decided = SupervisorCommand("C-1", "a1", Command.ACKNOWLEDGE, 5, "王", "", "0" * 24)
    fields = AuditRecord.of(decided, "deadline_overdue").fields() | change
    with pytest.raises(RecordError, match=re.escape(message)):
        AuditRecord.decode(json.dumps(fields).encode())
