"""The notices' messages: what a department head reads on a phone, per notice type and kind."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from alerts.messages import KIND_NAMES, Links, render, webhook_payload
from monitor.alert import AlertKind, AlertStatus, Resolution
from monitor.config import ConfigFiles
from monitor.records import AlertRecord, Version

DATA = Path(__file__).resolve().parents[2] / "monitor" / "data"
CONFIG = ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml").load()
RED = AlertRecord(
    id="SZ-2026-000123:deadline_overdue:promised",
    kind=AlertKind.DEADLINE_OVERDUE,
    severity="red",
    level=1,
    fired_at="2026-12-02T00:00:00+08:00",
    status=AlertStatus.FIRING,
    resolved_at=None,
    resolution=None,
    acknowledged_at=None,
    subject="promised",
    detail="",
    case_id="SZ-2026-000123",
    center="GZ-TIANHE",
    department="market",
    item_code="FOOD-LICENSE",
    handler="张三",
    version=Version(3, 1_764_604_800, 1),
)
CASE = {"remaining_s": -(2 * 86_400 + 3 * 3_600), "promised": "5wd", "light": "red"}
LINKS = Links("https://wall.example.gov.cn/cases/SZ-2026-000123", "https://redline/ack/t0k")


def test_a_red_alert_tells_what_which_case_how_late_and_where_to_acknowledge() -> None:
    message = render("a.2.escalated.0", "escalated", 2, RED, CASE, CONFIG, LINKS, ["13800000000"])
    item = CONFIG.catalog["FOOD-LICENSE"]
    assert message.title == "【红色告警】办件超期 SZ-2026-000123"
    for shown in (
        "已升级至第2级：科室负责人、首席代表",
        r"SZ\-2026\-000123",
        f"{item.name}（FOOD\\-LICENSE）",
        CONFIG.centers["GZ-TIANHE"].name,
        "承办人：张三",
        "超期 2个工作日3小时",
        "[一键确认](https://redline/ack/t0k)",
    ):
        assert shown in message.text, shown
    assert message.mobiles == ("13800000000",)


def test_a_resolution_says_why_and_offers_no_acknowledgement() -> None:
    done = replace(
        RED,
        status=AlertStatus.RESOLVED,
        resolved_at="2026-12-03T10:00:00+08:00",
        resolution=Resolution.COMPLETED,
    )
    message = render("a.2.resolved.0", "resolved", 2, done, CASE, CONFIG, LINKS)
    assert message.title.startswith("【已解除】")
    assert "已办结" in message.text and "2026-12-03T10:00:00+08:00" in message.text
    assert "一键确认" not in message.text


def test_a_value_from_a_window_system_cannot_become_a_link() -> None:
    forged = replace(RED, handler="[点此](http://evil.example)", case_id="X-1](http://evil)")
    message = render("a.1.raised.0", "raised", 1, forged, CASE, CONFIG, LINKS)
    assert "](http://evil" not in message.text.replace(r"\]\(", "")
    assert r"\[点此\]\(http://evil\.example\)" in message.text


TYPES = ["raised", "repeated", "escalated", "resolved", "corrected"]


@pytest.mark.parametrize("notice_type", TYPES)
@pytest.mark.parametrize("kind", list(AlertKind))
def test_every_kind_renders_in_every_notice_type(notice_type: str, kind: AlertKind) -> None:
    record = replace(RED, kind=kind, resolution=Resolution.CORRECTED, item_code=None, center=None)
    message = render("n", notice_type, 1, record, None, CONFIG, LINKS)
    assert KIND_NAMES[kind] in message.title and "未知事项" in message.text
    if notice_type in ("resolved", "corrected"):
        assert "一键确认" not in message.text
    else:
        assert "时限信息暂缺" in message.text and "一键确认" in message.text


def test_a_webhook_gets_the_notice_the_alert_and_the_case_summary() -> None:
    body = webhook_payload(
        "a.1.raised.0", "raised", 1, "office-hook", "2026-12-02T00:00:01+08:00", RED, CASE
    )
    assert body["version"] == "1"
    assert body["notice"] == {
        "id": "a.1.raised.0",
        "type": "raised",
        "level": 1,
        "receiver": "office-hook",
        "sent_at": "2026-12-02T00:00:01+08:00",
    }
    assert body["alert"]["case_id"] == "SZ-2026-000123" and body["case"]["light"] == "red"
