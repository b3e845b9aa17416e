"""Alerts (SPEC §4): the kinds, their severity and first escalation level, and one alert's life."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    """What went wrong, as supervisors and recipients see it."""

    DEADLINE_WARNING = "deadline_warning"  # 预警 (yellow light)
    DEADLINE_OVERDUE = "deadline_overdue"  # 超期 (red light)
    STATUTORY_OVERDUE = "statutory_overdue"  # 超法定时限
    INTAKE_OVERDUE = "intake_overdue"  # 逾期未受理 (视为受理)
    STEP_OVERDUE = "step_overdue"  # 环节超时
    MATERIALS_OVERDUE = "materials_overdue"  # 容缺材料逾期
    SUSPENSION_OVERDUE = "suspension_overdue"  # 暂停超期
    NON_STATUTORY_SUSPENSION = "non_statutory_suspension"  # 非法定事由暂停
    REPEATED_CORRECTION = "repeated_correction"  # 多次补正 (一次性告知 broken)
    REJECTION_WITHOUT_REASON = "rejection_without_reason"  # 不予受理未说明理由
    EXTENSION_EXCEEDS_STATUTORY = "extension_exceeds_statutory"  # 延期超过法定上限
    LATE_EXTENSION = "late_extension"  # 超期后延期
    PROCEDURE_VIOLATION = "procedure_violation"  # 程序违规


class Severity(StrEnum):
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True)
class KindRule:
    """Severity, first escalation level, and whether it is a violation (firing until handled)."""

    severity: Severity
    first_level: int
    violation: bool


KIND_RULES: dict[AlertKind, KindRule] = {
    AlertKind.DEADLINE_WARNING: KindRule(Severity.YELLOW, 1, False),
    AlertKind.DEADLINE_OVERDUE: KindRule(Severity.RED, 2, False),
    AlertKind.STATUTORY_OVERDUE: KindRule(Severity.RED, 3, False),
    AlertKind.INTAKE_OVERDUE: KindRule(Severity.RED, 2, False),
    AlertKind.STEP_OVERDUE: KindRule(Severity.YELLOW, 1, False),
    AlertKind.MATERIALS_OVERDUE: KindRule(Severity.YELLOW, 1, False),
    AlertKind.SUSPENSION_OVERDUE: KindRule(Severity.YELLOW, 2, False),
    AlertKind.NON_STATUTORY_SUSPENSION: KindRule(Severity.YELLOW, 2, True),
    AlertKind.REPEATED_CORRECTION: KindRule(Severity.YELLOW, 2, True),
    AlertKind.REJECTION_WITHOUT_REASON: KindRule(Severity.RED, 2, True),
    AlertKind.EXTENSION_EXCEEDS_STATUTORY: KindRule(Severity.RED, 3, True),
    AlertKind.LATE_EXTENSION: KindRule(Severity.RED, 2, True),
    AlertKind.PROCEDURE_VIOLATION: KindRule(Severity.YELLOW, 2, True),
}


class AlertStatus(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    """Why an alert stopped holding."""

    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ACCEPTED = "accepted"  # the intake clock's alert, on a (late) acceptance
    RESUMED = "resumed"
    EXTENDED = "extended"
    SUPERSEDED = "superseded"  # a warning, when its overdue alert fires
    CORRECTED = "corrected"  # a later-arriving event showed it should not have fired
    CANCELLED = "cancelled"  # by a supervisor, with a reason


def alert_id(case_id: str, kind: AlertKind, subject: str) -> str:
    """Deterministic id: the same history always names an alert the same way."""
    digest = hashlib.blake2b(f"{case_id}\x00{kind}\x00{subject}".encode(), digest_size=10)
    return digest.hexdigest()


class Alert:
    """One alert of one case: raised at ``fired_at`` (event time), resolved at ``resolved_at``."""

    __slots__ = (
        "acknowledged_at",
        "case_id",
        "detail",
        "fired_at",
        "id",
        "kind",
        "note",
        "resolution",
        "resolved_at",
        "status",
        "subject",
    )

    def __init__(
        self, case_id: str, kind: AlertKind, subject: str, fired_at: int, detail: str = ""
    ) -> None:
        self.id = alert_id(case_id, kind, subject)
        self.case_id = case_id
        self.kind = kind
        self.subject = subject  # what it is about: occurrence number, step, or event id
        self.detail = detail
        self.fired_at = fired_at
        self.status = AlertStatus.FIRING
        self.resolved_at: int | None = None
        self.resolution: Resolution | None = None
        self.acknowledged_at: int | None = None
        self.note = ""

    @property
    def rule(self) -> KindRule:
        return KIND_RULES[self.kind]

    @property
    def active(self) -> bool:
        """Firing or acknowledged: not yet resolved."""
        return self.status is not AlertStatus.RESOLVED

    def resolve(self, at: int, resolution: Resolution, note: str = "") -> None:
        self.status = AlertStatus.RESOLVED
        self.resolved_at = at
        self.resolution = resolution
        if note:
            self.note = note

    def state(self) -> tuple[object, ...]:
        """What a notifier or the read model needs to know changed."""
        return (self.status, self.fired_at, self.resolved_at, self.resolution, self.acknowledged_at)
