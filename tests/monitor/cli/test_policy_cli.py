"""``redline policy test``: who is told about an alert, at each level and when."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from alerts.policy import parse_policy
from monitor.alert import AlertKind
from monitor.cli import app
from monitor.cli.policy import route_text
from monitor.config import ConfigFiles
from monitor.configfile import Source
from monitor.timeutil import parse_instant

DATA = Path(__file__).resolve().parents[3] / "monitor" / "data"
CONFIG = ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml").load()
POLICY = """\
yellow_at: {default: 0.8}
people:
  zhang.san: {name: 张三, mobile: "13800000000", email: zhangsan@example.gov.cn}
receivers:
  market-robot:
    channel: dingtalk
    url: "https://oapi.dingtalk.com/robot/send?access_token=T"
    mention: [handler]
  head-robot: {channel: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"}
  handler-sms: {channel: sms, to: [handler], window: {from: "08:30", to: "18:00"}}
  office-mail: {channel: email, to: [zhang.san]}
routes:
  - match: {department: market}
    levels: {1: [market-robot, handler-sms], 2: [head-robot], 3: [office-mail]}
    escalate_after: 30m
escalation: {repeat_every: 2h, ack_timeout: 1wd}
"""
FRIDAY_EVENING = parse_instant("2026-12-04T17:50:00+08:00")


def text(kind: AlertKind, department: str = "market", at: int = FRIDAY_EVENING) -> str:
    policy = parse_policy(Source("policy.yaml", POLICY), CONFIG)
    return route_text(policy, CONFIG, "GZ-TIANHE", department, "FOOD-LICENSE", kind, at)


def test_a_red_alert_moves_up_a_level_every_half_hour_unacknowledged() -> None:
    lines = text(AlertKind.STATUTORY_OVERDUE).splitlines()
    assert lines[1] == (
        "  route routes[0]: escalate after 30m, repeat every 2h, acknowledgement timeout 1wd"
    )
    # a statutory overdue starts at level 3 (SPEC §4): the office at once
    assert lines[2] == (
        "  level 3 at 2026-12-04T17:50:00+08:00: office-mail (email to 张三 (zhang.san))"
    )


def test_an_overdue_alert_starts_at_its_kinds_level_and_names_who_is_told() -> None:
    shown = text(AlertKind.DEADLINE_OVERDUE)
    assert "level 2 at 2026-12-04T17:50:00+08:00: head-robot (wecom)" in shown
    assert "level 3 at 2026-12-04T18:20:00+08:00, if not acknowledged by then: office-mail" in shown


def test_a_yellow_alert_stays_at_level_1_and_windows_are_said() -> None:
    shown = text(AlertKind.DEADLINE_WARNING)
    assert "market-robot (dingtalk to the case's handler)" in shown
    assert "handler-sms (sms to the case's handler, 08:30–18:00 working days only)" in shown
    assert "a yellow alert stays at its first level" in shown and "level 2" not in shown


def test_an_alert_no_route_matches_tells_nobody() -> None:
    assert "no route matches: nobody is told" in text(AlertKind.DEADLINE_OVERDUE, "police")


def test_the_command_reads_the_files_and_refuses_a_bad_policy(tmp_path: Path) -> None:
    good = tmp_path / "policy.yaml"
    good.write_text(POLICY, "utf-8")
    runner = CliRunner()
    args = ["policy", "test", "--center", "GZ-TIANHE", "--department", "market"]
    args += ["--item", "FOOD-LICENSE", "--kind", "deadline_warning", "--policy", str(good)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "route routes[0]" in done.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.replace("[head-robot]", "[nobody-robot]"), "utf-8")
    refused = runner.invoke(app, [*args[:-1], str(bad)])
    assert refused.exit_code == 2
    assert "nobody-robot" in refused.output
