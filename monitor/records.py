"""The records of Redline's own topics, typed, each encoded and decoded in one place.

- :class:`CaseRecord` on ``redline-cases`` (key: the case id): the newest view of one case, with
  its version. Compacted: the topic's last record per case is the case as it stands.
- :class:`AlertRecord` on ``redline-alerts`` (key: the alert id): one alert's latest state, with
  what routing needs of its case (centre, department, item, handler) and the case's version.
- :class:`SupervisorCommand` on ``redline-commands`` (key: the case id): a supervisor's ack or
  cancel. The API does not change a case: it produces a command to the commands topic,
  co-partitioned with the events, and the worker that owns the case applies it
  (:meth:`streams.tracker.Tracker.on_command`). The command is kept in the case (a replay keeps
  it), so the record carries everything the engine needs; who decided is for the audit log.
- :class:`AuditRecord` on ``redline-audit`` (key: the entry id): one decision *as applied* by the
  worker (督办留痕). Written only for a command the worker applied, never for a refused one, so
  the audit log is what happened. Compacted on a key unique per command: compaction keeps every
  decision and drops only a redelivered copy.

The worker encodes them, the API and ``rebuild-readmodel`` decode them, and the notifier reads
the alerts topic through :meth:`AlertRecord.decode`. Case and alert records are JSON objects with
``"version": [events, time]`` as their last member (docs/read-model.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from monitor import jsontext
from monitor.alert import AlertKind, AlertStatus, Resolution
from monitor.casetypes import Command, SupervisorAction


class Version(NamedTuple):
    """(events applied, engine time, configuration version) of a case: compared as a tuple,
    newer wins. The configuration's version breaks the tie when a configuration change
    recomputed the case (the same events at the same time, counted anew)."""

    events: int
    time: int
    config: int = 0


class RecordError(ValueError):
    """A record of a Redline topic that does not decode; the message names the field."""


def _with_version(body: bytes, version: Version) -> bytes:
    return body[:-1] + b',"version":[%d,%d,%d]}' % version


def _without_version(value: bytes, topic: str) -> tuple[dict[str, Any], Version]:
    try:
        record = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        raise RecordError(f"{topic} (json): not a JSON object") from None
    if not isinstance(record, dict):
        raise RecordError(f"{topic} (json): not a JSON object")
    version = record.pop("version", None)
    if (
        not isinstance(version, list)
        or len(version) not in (2, 3)  # two: written before configuration versions
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in version)
    ):
        raise RecordError(
            f"{topic} version: must be [events, time, configuration version], integers"
        )
    return record, Version(*version)


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """One record of ``redline-cases``: a case view (``caseview.case_view`` with its timeline and
    clocks) and its version. The view stays a mapping: the API serves it as it is."""

    view: dict[str, Any]
    version: Version
    body: bytes | None = None  # the view as JSON, when the writer has it (serialised once)

    @property
    def case_id(self) -> str:
        return str(self.view["case_id"])

    def json(self) -> bytes:
        """The view as JSON, without the version."""
        return jsontext.dumps(self.view) if self.body is None else self.body

    def encode(self) -> tuple[bytes, bytes]:
        """The Kafka key (the case id) and value (the view with its version last)."""
        return self.case_id.encode(), _with_version(self.json(), self.version)

    @classmethod
    def decode(cls, value: bytes) -> CaseRecord:
        """The record a ``redline-cases`` value holds; :class:`RecordError` if it is none."""
        view, version = _without_version(value, "redline-cases")
        if not isinstance(view.get("case_id"), str):
            raise RecordError("redline-cases case_id: must be a string")
        return cls(view, version)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One record of ``redline-alerts``: an alert's latest state (it carries both its firing
    and its resolution), with what routing needs of its case."""

    id: str
    kind: AlertKind
    severity: str  # yellow | red (KIND_RULES)
    level: int  # the first escalation level (KIND_RULES)
    fired_at: str  # RFC 3339 in the centre's zone
    status: AlertStatus
    resolved_at: str | None
    resolution: Resolution | None
    acknowledged_at: str | None
    subject: str
    detail: str
    case_id: str
    center: str | None  # 中心
    department: str | None  # 科室
    item_code: str | None  # 事项编码
    handler: str | None  # 承办人
    version: Version

    @classmethod
    def of(cls, alert: Mapping[str, Any], case: Mapping[str, Any], version: Version) -> AlertRecord:
        """The record of an alert view (``alert_view``) of the case whose view is ``case``."""
        return cls(
            id=alert["id"],
            kind=AlertKind(alert["kind"]),
            severity=alert["severity"],
            level=alert["level"],
            fired_at=alert["fired_at"],
            status=AlertStatus(alert["status"]),
            resolved_at=alert["resolved_at"],
            resolution=None if alert["resolution"] is None else Resolution(alert["resolution"]),
            acknowledged_at=alert["acknowledged_at"],
            subject=alert["subject"],
            detail=alert["detail"],
            case_id=case["case_id"],
            center=case.get("center"),
            department=case.get("department"),
            item_code=case.get("item_code"),
            handler=case.get("handler"),
            version=version,
        )

    def view(self) -> dict[str, Any]:
        """The alert as the read model stores it and the API serves it (without the version)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "severity": self.severity,
            "level": self.level,
            "fired_at": self.fired_at,
            "status": self.status.value,
            "resolved_at": self.resolved_at,
            "resolution": None if self.resolution is None else self.resolution.value,
            "acknowledged_at": self.acknowledged_at,
            "subject": self.subject,
            "detail": self.detail,
            "case_id": self.case_id,
            "center": self.center,
            "department": self.department,
            "item_code": self.item_code,
            "handler": self.handler,
        }

    def encode(self) -> tuple[bytes, bytes]:
        """The Kafka key (the alert id) and value (the view with its version last)."""
        return self.id.encode(), _with_version(jsontext.dumps(self.view()), self.version)

    @classmethod
    def decode(cls, value: bytes) -> AlertRecord:
        """The record a ``redline-alerts`` value holds; :class:`RecordError` names what is
        wrong. Records written before ``item_code`` and ``handler`` were added decode with
        None for both."""
        raw, version = _without_version(value, "redline-alerts")
        try:
            return cls.of(raw, raw, version)
        except KeyError as missing:
            raise RecordError(f"redline-alerts {missing.args[0]}: required") from None
        except ValueError as wrong:
            raise RecordError(f"redline-alerts: {wrong}") from None


class CommandRefused(ValueError):
    """A commands record the worker cannot apply."""


@dataclass(frozen=True, slots=True)
class SupervisorCommand:
    """One decision on one alert of one case."""

    case_id: str
    alert_id: str
    command: Command
    at: int  # epoch seconds, when the supervisor decided
    by: str  # who: the person token's name
    note: str = ""
    # unique per decision (the API draws it); a record written before it existed gets one
    # derived from its content, so every command has an audit entry id
    command_id: str = ""
    token_id: str = ""  # the deciding person's token

    def encode(self) -> tuple[bytes, bytes]:
        """The Kafka key (the case id: the case's own partition) and value."""
        value = {
            "case_id": self.case_id,
            "alert_id": self.alert_id,
            "command": self.command.value,
            "at": self.at,
            "by": self.by,
            "note": self.note,
            "command_id": self.command_id,
            "token_id": self.token_id,
        }
        return self.case_id.encode(), json.dumps(value, ensure_ascii=False).encode()

    @property
    def audit_id(self) -> str:
        """The id of this decision's entry in the audit log, once applied: the decision's
        instant first, so that the ids sort as the decisions were made."""
        return audit_id(self.at, self.command_id)

    @classmethod
    def decode(cls, value: bytes) -> SupervisorCommand:
        """The command a record holds; :class:`CommandRefused` names what is wrong."""
        try:
            raw = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            raise CommandRefused("(json): not a JSON object") from None
        if not isinstance(raw, dict):
            raise CommandRefused("(json): not a JSON object")
        for name in ("case_id", "alert_id", "by", "note", "command_id", "token_id"):
            if not isinstance(raw.get(name, ""), str):
                raise CommandRefused(f"{name}: must be a string")
        try:
            command = Command(raw.get("command"))
        except ValueError:
            raise CommandRefused("command: must be 'ack' or 'cancel'") from None
        at = raw.get("at")
        if not isinstance(at, int) or isinstance(at, bool):
            raise CommandRefused("at: must be epoch seconds (an integer)")
        if not raw.get("case_id") or not raw.get("alert_id"):
            raise CommandRefused("case_id, alert_id: required")
        command_id = raw.get("command_id") or hashlib.sha256(value).hexdigest()[:COMMAND_ID_LEN]
        if not _COMMAND_ID.match(command_id):
            raise CommandRefused(f"command_id: must be {COMMAND_ID_LEN} lowercase hex digits")
        return cls(
            raw["case_id"],
            raw["alert_id"],
            command,
            at,
            raw.get("by", ""),
            raw.get("note", ""),
            command_id,
            raw.get("token_id", ""),
        )

    def action(self) -> SupervisorAction:
        """What the case keeps."""
        return SupervisorAction(self.at, self.alert_id, self.command, self.note)


COMMAND_ID_LEN = 24  # hex digits: 12 of the epoch milliseconds, 12 random


def new_command_id(now_ms: int) -> str:
    """A fresh command id: its instant to the millisecond first (so that audit ids sort within a
    second too), then 48 random bits (so that two API replicas deciding in the same
    millisecond do not collide)."""
    return f"{now_ms:012x}{secrets.token_hex(6)}"


_COMMAND_ID = re.compile(rf"^[0-9a-f]{{{COMMAND_ID_LEN}}}$")
AUDIT_ID = re.compile(rf"^\d{{11}}-[0-9a-f]{{{COMMAND_ID_LEN}}}$")


def audit_id(at: int, command_id: str) -> str:
    """An audit entry's id: the decision's epoch seconds (11 digits) and the command's id."""
    return f"{at:011d}-{command_id}"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One applied decision: who, when, on which alert (and its kind) of which case, and why."""

    id: str  # audit_id(at, command_id)
    at: int  # epoch seconds, when the supervisor decided
    by: str
    token_id: str
    command: Command
    alert_id: str
    case_id: str
    kind: str  # the alert's kind
    note: str

    @classmethod
    def of(cls, command: SupervisorCommand, kind: str) -> AuditRecord:
        """The entry for ``command``, applied to an alert of ``kind``."""
        return cls(
            command.audit_id,
            command.at,
            command.by,
            command.token_id,
            command.command,
            command.alert_id,
            command.case_id,
            kind,
            command.note,
        )

    def fields(self) -> dict[str, Any]:
        """The entry as a JSON object (the read model stores it so)."""
        return {
            "id": self.id,
            "at": self.at,
            "by": self.by,
            "token_id": self.token_id,
            "command": self.command.value,
            "alert_id": self.alert_id,
            "case_id": self.case_id,
            "kind": self.kind,
            "note": self.note,
        }

    def encode(self) -> tuple[bytes, bytes]:
        """The Kafka key (the entry id) and value."""
        return self.id.encode(), json.dumps(self.fields(), ensure_ascii=False).encode()

    @classmethod
    def decode(cls, value: bytes) -> AuditRecord:
        """The record a ``redline-audit`` value holds; :class:`RecordError` names the field."""
        try:
            raw = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            raise RecordError("redline-audit (json): not a JSON object") from None
        if not isinstance(raw, dict):
            raise RecordError("redline-audit (json): not a JSON object")
        for name in ("id", "by", "token_id", "alert_id", "case_id", "kind", "note"):
            if not isinstance(raw.get(name), str):
                raise RecordError(f"redline-audit {name}: must be a string")
        if not AUDIT_ID.match(raw["id"]):
            raise RecordError("redline-audit id: must be <11 digits>-<24 hex digits>")
        at = raw.get("at")
        if not isinstance(at, int) or isinstance(at, bool):
            raise RecordError("redline-audit at: must be epoch seconds (an integer)")
        try:
            command = Command(raw.get("command"))
        except ValueError:
            raise RecordError("redline-audit command: must be 'ack' or 'cancel'") from None
        return cls(
            raw["id"],
            at,
            raw["by"],
            raw["token_id"],
            command,
            raw["alert_id"],
            raw["case_id"],
            raw["kind"],
            raw["note"],
        )
