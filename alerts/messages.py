"""The notices' messages in Chinese, from templates per notice type (``alerts/templates``):
what went wrong and how badly (the kind, the level, ``超期 2天3小时``), which case (number,
item, department, centre, handler), and links to the case and, while the alert can still be
acknowledged, to acknowledge it in one tap. The chat robots and email take the markdown as it
is, SMS a flattened line; a generic webhook gets :func:`webhook_payload` (SPEC §5.2).

Values from the case are escaped for markdown: a case number or a handler's name is text, and
cannot turn into a link or a heading in a robot's message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from alerts.channels.base import Message
from monitor.alert import AlertKind, Resolution
from monitor.config import Config
from monitor.durations import remaining_text
from monitor.limits import LimitError, parse_limit
from monitor.records import AlertRecord

KIND_NAMES = {
    AlertKind.DEADLINE_WARNING: "临近超期预警",
    AlertKind.DEADLINE_OVERDUE: "办件超期",
    AlertKind.STATUTORY_OVERDUE: "超法定时限",
    AlertKind.INTAKE_OVERDUE: "逾期未受理",
    AlertKind.STEP_OVERDUE: "环节超时",
    AlertKind.MATERIALS_OVERDUE: "容缺材料逾期",
    AlertKind.SUSPENSION_OVERDUE: "暂停超期",
    AlertKind.NON_STATUTORY_SUSPENSION: "非法定事由暂停",
    AlertKind.REPEATED_CORRECTION: "多次补正",
    AlertKind.REJECTION_WITHOUT_REASON: "不予受理未说明理由",
    AlertKind.EXTENSION_EXCEEDS_STATUTORY: "延期超过法定上限",
    AlertKind.LATE_EXTENSION: "超期后延期",
    AlertKind.PROCEDURE_VIOLATION: "程序违规",
}
LEVEL_NAMES = {1: "承办人、窗口", 2: "科室负责人、首席代表", 3: "效能督查"}
RESOLUTION_NAMES = {
    Resolution.COMPLETED: "已办结",
    Resolution.REJECTED: "已作出不予受理决定",
    Resolution.WITHDRAWN: "申请人已撤回",
    Resolution.ACCEPTED: "已受理",
    Resolution.RESUMED: "已恢复办理",
    Resolution.EXTENDED: "已依法延期",
    Resolution.SUPERSEDED: "已转为超期告警",
    Resolution.CORRECTED: "迟到的事件表明不应告警",
}
SEVERITY_TAGS = {"red": "红色告警", "yellow": "黄色预警"}
NOTICE_TAGS = {"resolved": "已解除", "corrected": "更正"}

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=False,  # markdown, not HTML: values are escaped for markdown below
    undefined=jinja2.StrictUndefined,  # a field a template names and nobody gives: an error
    keep_trailing_newline=False,
)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def markdown_text(value: object) -> str:
    """``value`` as literal text in markdown."""
    return _MARKDOWN.sub(r"\\\1", str(value))


@dataclass(frozen=True, slots=True)
class Links:
    """Where a notice points: the case on the wall or API, and the one-tap acknowledgement
    (None once the alert cannot be acknowledged: resolved, corrected)."""

    case_url: str
    ack_url: str | None = None


def render(
    notice_id: str,
    notice_type: str,
    level: int,
    record: AlertRecord,
    case: Mapping[str, Any] | None,
    config: Config,
    links: Links,
    mobiles: Sequence[str] = (),
) -> Message:
    """The message of one notice about ``record`` (with its case's view, when the read model
    has it) at ``level``."""
    kind = KIND_NAMES.get(record.kind, record.kind.value)
    item = config.catalog.get(record.item_code or "")
    center = config.centers.get(record.center or "")
    fields = {
        "kind": kind,
        "level": level,
        "level_name": LEVEL_NAMES.get(level, str(level)),
        "case_id": markdown_text(record.case_id),
        "item": markdown_text(
            f"{item.name}（{item.code}）" if item else record.item_code or "未知事项"
        ),
        "department": markdown_text(record.department or "未知部门"),
        "center": markdown_text(center.name if center else record.center or "未知中心"),
        "handler": markdown_text(record.handler or "未指定"),
        "clock": markdown_text(_clock(case)),
        "fired_at": record.fired_at,
        "resolved_at": record.resolved_at or "",
        "resolution": RESOLUTION_NAMES.get(record.resolution, "") if record.resolution else "",
        "case_url": links.case_url,
        "ack_url": links.ack_url if notice_type in ("raised", "repeated", "escalated") else None,
    }
    text = _ENVIRONMENT.get_template(f"{notice_type}.md.j2").render(fields).strip()
    tag = NOTICE_TAGS.get(notice_type) or SEVERITY_TAGS.get(record.severity, "告警")
    title = f"【{tag}】{kind} {record.case_id}"
    return Message(notice_id, title, text, tuple(mobiles))


def _clock(case: Mapping[str, Any] | None) -> str:
    """``超期 2天3小时`` / ``剩余 1个工作日`` from the case's view (its promised clock)."""
    if not case or case.get("remaining_s") is None:
        return "时限信息暂缺"
    try:
        unit = parse_limit(case.get("promised")).unit
    except LimitError:
        return "时限信息暂缺"
    return remaining_text(int(case["remaining_s"]), unit)


def webhook_payload(
    notice_id: str,
    notice_type: str,
    level: int,
    receiver: str,
    sent_at: str,
    record: AlertRecord,
    case: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The body a generic webhook receives (SPEC §5.2)."""
    summary = {
        key: (case or {}).get(key)
        for key in ("case_id", "light", "deadline", "item_code", "center", "department", "handler")
    }
    summary["case_id"] = record.case_id
    return {
        "version": "1",
        "notice": {
            "id": notice_id,
            "type": notice_type,
            "level": level,
            "receiver": receiver,
            "sent_at": sent_at,
        },
        "alert": record.view(),
        "case": summary,
    }
