"""The escalation policy: the SPEC §5.1 file parses; every rule refused naming file, entry and
field, all at once; an alert's route is the first in file order whose match holds."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.policy import (
    DEFAULT_TIMINGS,
    MATCH_KEYS,
    Channel,
    Days,
    Duration,
    EscalationPolicy,
    Match,
    RateLimit,
    Route,
    Window,
    check_policy,
    parse_policy,
)
from monitor.config import ConfigError, ConfigFiles
from monitor.configfile import Source
from monitor.configrecord import ConfigSet
from monitor.limits import WaitUnit, parse_wait

DATA = Path(__file__).resolve().parents[2] / "monitor" / "data"
RUNNING = ConfigSet.read(ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml"))
CONFIG = RUNNING.load()
SPEC = Path(__file__).resolve().parents[2] / "docs" / "SPEC.md"

POLICY = """\
yellow_at: {default: 0.8}
people:
  zhang.san: {name: 张三, mobile: "13800000000", email: zhangsan@example.gov.cn}
  li.si: {name: 李四}
receivers:
  market-robot:
    channel: dingtalk
    url: https://oapi.dingtalk.com/robot/send?access_token=TOKEN
    secret: SEC-SIGNING
    mention: [handler, zhang.san]
  head-robot: {channel: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"}
  handler-sms: {channel: sms, to: [handler], window: {from: "08:30", to: "18:00", days: working}}
  office-mail: {channel: email, to: [xiaoneng@example.gov.cn, zhang.san]}
  office-feishu:
    channel: feishu
    url: https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN
    rate: {per_minute: 50}
routes:
  - match: {department: market, center: [GZ-TIANHE, GZ-YUEXIU]}
    levels: {1: [market-robot, handler-sms], 2: [head-robot], 3: [office-mail]}
    escalate_after: 30m
  - match: {severity: red}
    levels: {2: head-robot, 3: [office-feishu]}
  - levels: {1: [handler-sms]}
escalation: {repeat_every: 2h}
"""


def parse(text: str, name: str = "policy.yaml") -> EscalationPolicy:
    return parse_policy(Source(name, text), CONFIG)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse(text)
    return error.value.problems


def edited(old: str, new: str) -> str:
    assert old in POLICY, old
    return POLICY.replace(old, new, 1)


def test_the_spec_example_parses() -> None:
    block = re.search(r"```yaml\n(people:.*?)```", SPEC.read_text("utf-8"), re.S)
    assert block is not None
    policy = parse(block.group(1))
    assert set(policy.receivers) == {
        "market-robot",
        "market-head-robot",
        "handler-sms",
        "office-mail",
        "office-hook",
    }
    assert policy.receivers["handler-sms"].window == Window(8 * 3600 + 1800, 18 * 3600)
    assert policy.receivers["market-head-robot"].rate == (RateLimit(10, 60),)
    route = policy.routes[0]
    assert route.levels == {
        1: ("market-robot", "handler-sms"),
        2: ("market-head-robot",),
        3: ("office-mail", "office-hook"),
    }
    assert [str(getattr(route.timings, key)) for key in ("escalate_after", "repeat_every")] == [
        "30m",
        "2h",
    ]
    assert route.timings.ack_timeout == Duration(1, WaitUnit.WORKING_DAYS)
    assert policy.receivers["market-robot"].rate == (RateLimit(20, 60),)  # DingTalk's own


def test_the_file_reads_into_typed_values_with_channel_defaults_and_overrides() -> None:
    policy = parse(POLICY)
    robot = policy.receivers["market-robot"]
    assert robot.channel is Channel.DINGTALK and robot.mention == ("handler", "zhang.san")
    assert "TOKEN" not in repr(robot) and "SEC-SIGNING" not in repr(robot)
    assert policy.receivers["handler-sms"].window == Window(8 * 3600 + 1800, 18 * 3600)
    assert policy.receivers["handler-sms"].window.days is Days.WORKING  # type: ignore[union-attr]
    assert policy.receivers["handler-sms"].rate == ()  # no limit of its own
    assert not policy.receivers["handler-sms"].window.hold_red_level_3  # type: ignore[union-attr]
    held = parse(POLICY.replace("days: working}", "days: working, hold_red_level_3: true}"))
    assert held.receivers["handler-sms"].window.hold_red_level_3  # type: ignore[union-attr]
    assert policy.receivers["office-feishu"].rate == (RateLimit(5, 1), RateLimit(50, 60))
    assert policy.defaults.repeat_every == Duration(2, WaitUnit.HOURS)
    assert policy.routes[1].levels == {2: ("head-robot",), 3: ("office-feishu",)}


def test_a_policy_of_yellow_thresholds_only_has_no_routes() -> None:
    policy = parse((DATA / "policy.yaml").read_text("utf-8"))
    assert policy.routes == () and policy.defaults == DEFAULT_TIMINGS
    assert policy.route_for("GZ-TIANHE", "market", "BIZ-REG", "deadline_overdue", "red") is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "channel: dingtalk",
            "channel: slack",
            "receivers.market-robot: channel: 'slack' is not a channel; one of dingtalk, email, "
            "feishu, sms, webhook, wecom",
        ),
        (
            '{channel: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"}',
            "{channel: wecom}",
            "receivers.head-robot: url: is required",
        ),
        (
            "{channel: email, to: [xiaoneng@example.gov.cn, zhang.san]}",
            "{channel: email}",
            "receivers.office-mail: to: is required",
        ),
        (
            "2: [head-robot]",
            "2: [head-robt]",
            "routes[0]: levels.2: 'head-robt' is not a receiver of this file",
        ),
        (
            "2: [head-robot]",
            "2: []",
            "routes[0]: levels.2: has no receivers: name one, or leave the level out",
        ),
        (
            "3: [office-mail]}",
            "4: [office-mail]}",
            "routes[0]: levels.4: a level is 1 (handler), 2 (department head) or 3 "
            "(supervision office)",
        ),
        (
            "escalate_after: 30m",
            "escalate_after: 30 min",
            'routes[0]: escalate_after: \'30 min\' is not a duration: write "<n>s", "<n>m", '
            '"<n>h" (all the time), "<n>d" (natural days) or "<n>wd" (working days) with a '
            "whole number n from 1",
        ),
        (
            "escalation: {repeat_every: 2h}",
            "escalation: {repeat_every: 0h}",
            "escalation: repeat_every: '0h' is not a duration",
        ),
        (
            "mention: [handler, zhang.san]",
            "mention: [handler, wang.wu]",
            "receivers.market-robot: mention: 'wang.wu' is not a person of this file (people:) "
            "nor handler",
        ),
        (
            "to: [handler]",
            "to: [zhangsan]",
            "receivers.handler-sms: to: 'zhangsan' is not a person of this file (people:) nor "
            "handler",
        ),
        (
            "to: [xiaoneng@example.gov.cn, zhang.san]",
            "to: [xiaoneng@example.gov.cn, li.si]",
            "receivers.office-mail: to: 'li.si' has no email (people.li.si)",
        ),
        (
            "center: [GZ-TIANHE, GZ-YUEXIU]",
            "center: [GZ-TIANHE, GZ-TIANH]",
            "routes[0]: match.center: 'GZ-TIANH' is not a centre of the centres file: it "
            "matches nothing",
        ),
        (
            "department: market,",
            "department: markets,",
            "routes[0]: match.department: 'markets' is not the department of any item of the "
            "catalog: it matches nothing",
        ),
        (
            "match: {severity: red}",
            "match: {item: FOOD-LICENCE}",
            "routes[1]: match.item: 'FOOD-LICENCE' is not an item of the catalog: it matches "
            "nothing",
        ),
        (
            "match: {severity: red}",
            "match: {kind: overdue}",
            "routes[1]: match.kind: 'overdue' is not an alert kind; one of deadline_overdue, "
            "deadline_warning, extension_exceeds_statutory, intake_overdue, late_extension, "
            "materials_overdue, non_statutory_suspension, procedure_violation, "
            "rejection_without_reason, repeated_correction, statutory_overdue, step_overdue, "
            "suspension_overdue: it matches nothing",
        ),
        (
            "match: {severity: red}",
            "match: {severity: orange}",
            "routes[1]: match.severity: 'orange' is not a severity; one of red, yellow: it "
            "matches nothing",
        ),
        (
            "match: {severity: red}",
            "match: {severity: red, kind: [deadline_warning, step_overdue]}",
            "routes[1]: match: kind deadline_warning, step_overdue is never red: it matches "
            "nothing",
        ),
        (
            "match: {severity: red}",
            "match: {severity: []}",
            "routes[1]: match.severity: must name a value or a list of them",
        ),
        (
            "match: {severity: red}",
            "match: {centre: GZ-TIANHE}",
            "routes[1]: match.centre: unknown field; expected one of center, department, item, "
            "kind, severity",
        ),
        (
            "    escalate_after: 30m\n",
            "    escalate_after: 30m\n    repeat: 1h\n",
            "routes[0]: repeat: unknown field; expected one of ack_timeout, escalate_after, "
            "levels, match, repeat_every",
        ),
        (
            '"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"}',
            '"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", secret: S}',
            "receivers.head-robot: secret: unknown field; expected one of channel, mention, "
            "rate, url, window",
        ),
        (
            'to: "18:00"',
            "to: 18:00",
            'receivers.handler-sms: window.to: must be a time "HH:MM" in quotes, but YAML '
            "read 1080",
        ),
        (
            'from: "08:30"',
            'from: "19:00"',
            "receivers.handler-sms: window: from 19:00 must be before to 18:00",
        ),
        (
            "days: working}",
            "days: weekdays}",
            "receivers.handler-sms: window.days: 'weekdays' is not days; one of all, working",
        ),
        (
            "days: working}",
            "days: working, hold_red_level_3: yes please}",
            "receivers.handler-sms: window.hold_red_level_3: must be true or false, not "
            "'yes please'",
        ),
        (
            "rate: {per_minute: 50}",
            "rate: {per_minute: 0, per_day: 9}",
            "receivers.office-feishu: rate.per_day: unknown field; expected one of per_hour, "
            "per_minute, per_second",
        ),
        (
            "  li.si: {name: 李四}",
            "  handler: {name: 李四}",
            "people.handler: 'handler' names the case's handler: choose another id",
        ),
        (
            'mobile: "13800000000"',
            "mobile: 13800000000",
            "people.zhang.san: mobile: must be a string, but YAML read 13800000000; write the "
            "number in quotes",
        ),
        (
            "escalation: {repeat_every: 2h}",
            "escalations: {repeat_every: 2h}",
            "policy: escalations: unknown field; expected one of escalation, people, receivers, "
            "routes, yellow_at",
        ),
    ],
)
def test_each_rule_is_refused_naming_file_entry_and_field(old: str, new: str, message: str) -> None:
    found = problems(edited(old, new))
    assert any(problem.startswith(f"policy.yaml: {message}") for problem in found), found


def test_a_route_after_one_without_match_keys_can_never_match() -> None:
    text = edited("  - match: {severity: red}\n", "  - match: {}\n").replace(
        "escalation:",
        "  - match: {kind: deadline_warning}\n    levels: {1: market-robot}\nescalation:",
    )
    assert problems(text) == [
        "policy.yaml: routes[2]: match: can never match: routes[1] before it has no match keys "
        "and takes every alert",
        "policy.yaml: routes[3]: match: can never match: routes[1] before it has no match keys "
        "and takes every alert",
    ]


def test_a_route_narrower_than_one_before_it_can_never_match() -> None:
    text = edited(
        "  - levels: {1: [handler-sms]}\n",
        "  - match: {severity: red, kind: [statutory_overdue], item: BIZ-REG}\n"
        "    levels: {3: [office-mail]}\n",
    )
    assert problems(text) == [
        "policy.yaml: routes[2]: match: can never match: routes[1] before it matches every "
        "alert it does"
    ]


def test_the_url_and_the_secret_never_appear_in_a_refusal() -> None:
    text = edited(
        "url: https://oapi.dingtalk.com/robot/send?access_token=TOKEN\n    secret: SEC-SIGNING",
        "url: oapi.dingtalk.com/robot/send?access_token=TOKEN\n    secret: 12345",
    )
    found = problems(text)
    assert found == [
        "policy.yaml: receivers.market-robot: url: must be an https:// (or http://) URL",
        "policy.yaml: receivers.market-robot: secret: must be a non-empty string (in quotes if "
        "it looks like a number)",
    ]


def test_every_problem_of_the_file_is_reported_at_once() -> None:
    text = (
        POLICY.replace("channel: dingtalk", "channel: dingding")
        .replace("2: [head-robot]", "2: [head-robt]")
        .replace("escalate_after: 30m", "escalate_after: half an hour")
        .replace("{repeat_every: 2h}", "{repeat_every: 2h, ack_timeout: 1 day}")
    )
    with pytest.raises(ConfigError) as error:
        parse(text)
    assert str(error.value).startswith("4 problems:\n- policy.yaml: receivers.market-robot")
    assert [problem.split(": ")[1:3] for problem in error.value.problems] == [
        ["receivers.market-robot", "channel"],
        ["escalation", "ack_timeout"],
        ["routes[0]", "levels.2"],
        ["routes[0]", "escalate_after"],
    ]


def test_a_receiver_with_problems_of_its_own_is_still_one_a_level_may_name() -> None:
    # one problem (the channel), not a second one for each route that names it
    assert problems(edited("channel: dingtalk", "channel: dingding")) == [
        "policy.yaml: receivers.market-robot: channel: 'dingding' is not a channel; one of "
        "dingtalk, email, feishu, sms, webhook, wecom"
    ]


def test_waits_are_durations_of_seconds_to_working_days() -> None:
    assert [str(parse_wait(text)) for text in ("45s", "30m", "2h", "3d", "1wd")] == [
        "45s",
        "30m",
        "2h",
        "3d",
        "1wd",
    ]
    assert parse_wait("30m").seconds == 1800
    assert parse_wait("1wd").seconds == 86_400  # of working time, on the centre's calendar
    for bad in ("0m", "1.5h", "1w", "10000s", 30, "m"):
        with pytest.raises(ValueError):
            parse_wait(bad)


# --- routes: the first whose match holds ---


def test_a_market_alert_at_tianhe_takes_the_market_route_with_its_own_timings() -> None:
    policy = parse(POLICY)
    route = policy.route_for("GZ-TIANHE", "market", "FOOD-LICENSE", "deadline_warning", "yellow")
    assert route is not None and route.entry == "routes[0]"
    assert route.levels[1] == ("market-robot", "handler-sms")
    assert route.timings.escalate_after == Duration(30, WaitUnit.MINUTES)  # its own
    assert route.timings.repeat_every == Duration(2, WaitUnit.HOURS)  # escalation:
    assert route.timings.ack_timeout == DEFAULT_TIMINGS.ack_timeout  # built in


def test_a_red_alert_elsewhere_takes_the_red_route_and_a_yellow_one_the_last() -> None:
    policy = parse(POLICY)
    red = policy.route_for("LS-CHENGGUAN", "market", "BIZ-REG", "deadline_overdue", "red")
    yellow = policy.route_for("GZ-TIANHE", "police", "ID-CARD", "step_overdue", "yellow")
    assert red is not None and red.entry == "routes[1]"
    assert red.timings.escalate_after == DEFAULT_TIMINGS.escalate_after
    assert yellow is not None and yellow.entry == "routes[2]"


CODES = {
    "center": ["GZ-TIANHE", "GZ-YUEXIU"],
    "department": ["market", "police"],
    "item": ["BIZ-REG", "ID-CARD"],
    "kind": ["deadline_warning", "deadline_overdue"],
    "severity": ["yellow", "red"],
}
matches = st.builds(
    Match,
    **{key: st.one_of(st.none(), st.frozensets(st.sampled_from(CODES[key]), min_size=1))
       for key in MATCH_KEYS},
)  # fmt: skip
alerts = st.fixed_dictionaries({key: st.sampled_from(CODES[key]) for key in MATCH_KEYS})


@given(st.lists(matches, max_size=6), alerts)
def test_route_for_is_the_first_route_whose_every_key_holds(
    found: list[Match], alert: dict[str, str]
) -> None:
    routes = tuple(Route(f"routes[{i}]", match, {1: ("r",)}) for i, match in enumerate(found))
    policy = EscalationPolicy(routes=routes)
    expected = next(
        (
            route
            for route in routes
            if all(
                getattr(route.match, key) is None or alert[key] in getattr(route.match, key)
                for key in MATCH_KEYS
            )
        ),
        None,
    )
    assert policy.route_for(**alert) is expected


@given(matches, matches, alerts)
def test_a_match_that_covers_another_matches_every_alert_it_does(
    before: Match, later: Match, alert: dict[str, str]
) -> None:
    if before.covers(later) and later.holds(**alert):
        assert before.holds(**alert)


# --- the policy as a check of a whole configuration set (config apply, replay, worker) ---


def test_the_check_names_the_files_and_reports_with_the_other_files_problems() -> None:
    catalog = (DATA / "catalog.yaml").read_text("utf-8").replace("promised: 10wd", "promised: ten")
    policy = edited("department: market,", "department: markets,")
    with pytest.raises(ConfigError) as error:
        RUNNING.with_files(
            [Source("catalog.yaml", catalog), Source("policy.yaml", policy)], (check_policy,)
        )
    found = error.value.problems
    assert any(p.startswith("catalog.yaml: items[0] (FOOD-LICENSE): promised:") for p in found)
    # the catalog does not load: its codes are not judged, the centres' still are
    assert not any("markets" in p for p in found)
    bad_centre = edited("center: [GZ-TIANHE, GZ-YUEXIU]", "center: GZ-TIANH")
    with pytest.raises(ConfigError) as error:
        RUNNING.with_files(
            [Source("catalog.yaml", catalog), Source("policy.yaml", bad_centre)], (check_policy,)
        )
    assert error.value.problems[-1] == (
        f"policy.yaml: routes[0]: match.center: 'GZ-TIANH' is not a centre of {DATA}/centres.yaml:"
        " it matches nothing"
    )


def test_a_policy_of_escalation_keys_only_is_a_policy_file() -> None:
    text = POLICY.replace("yellow_at: {default: 0.8}\n", "")
    wanted, config = RUNNING.with_files([Source("escalation.yaml", text)], (check_policy,))
    assert wanted.policy == Source("escalation.yaml", text)
    assert config.policy.default_yellow_at == Fraction(4, 5)  # the default: the file sets none
