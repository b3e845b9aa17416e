"""The escalation decisions as timelines: at each hand-counted instant, what is sent, to whom,
and why. Centre GZ-TIANHE (Asia/Shanghai, calendar cn); 2026-03-02 is a Monday, 03-06 a Friday,
with no holiday near. The route: level 1 a robot and the handler's SMS (08:30–18:00 on working
days), level 2 the department head, level 3 the supervision office; escalate after 30m, repeat
every 2h, acknowledgement timeout 1wd."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.decide import (
    Action,
    EscalationState,
    Hold,
    NoticeType,
    Notify,
    Reason,
    Skip,
    decide,
    on_ack,
    on_cancel,
    on_record,
    start,
)
from alerts.policy import (
    Channel,
    Days,
    EscalationPolicy,
    Match,
    Receiver,
    Route,
    Timings,
    Window,
)
from monitor.alert import AlertKind, AlertStatus, Resolution
from monitor.config import ConfigFiles
from monitor.limits import parse_wait
from monitor.records import AlertRecord, Version
from monitor.timeutil import HOUR, MINUTE

DATA = Path(__file__).resolve().parents[2] / "monitor" / "data"
CONFIG = ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml").load()
SHANGHAI = ZoneInfo("Asia/Shanghai")

OFFICE_HOURS = Window(8 * HOUR + 30 * MINUTE, 18 * HOUR, Days.WORKING)
RECEIVERS = {
    "robot": Receiver("robot", Channel.DINGTALK, url="https://oapi.dingtalk.com/robot/send"),
    "sms": Receiver("sms", Channel.SMS, to=("handler",), window=OFFICE_HOURS),
    "head": Receiver("head", Channel.WECOM, url="https://qyapi.weixin.qq.com/send"),
    "office": Receiver("office", Channel.EMAIL, to=("xiaoneng@example.gov.cn",)),
}
TIMINGS = Timings(parse_wait("30m"), parse_wait("2h"), parse_wait("1wd"))
LEVELS = {1: ("robot", "sms"), 2: ("head",), 3: ("office",)}
ROUTE = Route("routes[0]", Match(center=frozenset({"GZ-TIANHE"})), LEVELS, TIMINGS)
POLICY = EscalationPolicy(receivers=RECEIVERS, routes=(ROUTE,))


def at(text: str) -> int:
    """An instant in Shanghai: "03-02 10:00" is 2026-03-02T10:00+08:00."""
    return int(
        datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI).timestamp()
    )


def rfc(instant: int) -> str:
    return datetime.fromtimestamp(instant, SHANGHAI).isoformat()


def alert(
    fired: str,
    severity: str = "red",
    level: int = 1,
    center: str = "GZ-TIANHE",
    **changes: object,
) -> AlertRecord:
    """An alert record of case c1; the level given is its first (the record carries it)."""
    kind = AlertKind.DEADLINE_OVERDUE if severity == "red" else AlertKind.DEADLINE_WARNING
    record = AlertRecord(
        id="a1",
        kind=kind,
        severity=severity,
        level=level,
        fired_at=rfc(at(fired)),
        status=AlertStatus.FIRING,
        resolved_at=None,
        resolution=None,
        acknowledged_at=None,
        subject="1",
        detail="",
        case_id="c1",
        center=center,
        department="market",
        item_code=None,
        handler="wang.wu",
        version=Version(1, 0),
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def resolved(record: AlertRecord, when: str, resolution: Resolution) -> AlertRecord:
    return replace(
        record, status=AlertStatus.RESOLVED, resolved_at=rfc(at(when)), resolution=resolution
    )


def notices(actions: list[Action]) -> list[tuple[tuple[str, ...], int, NoticeType, Reason]]:
    return [(a.receivers, a.level, a.type, a.reason) for a in actions if isinstance(a, Notify)]


def opened(fired: str, now: str | None = None, **record: object) -> EscalationState:
    state, _ = start(alert(fired, **record), POLICY, CONFIG, at(now or fired))
    return state


def test_at_10_00_red_to_level_1_at_10_30_want_level_2() -> None:
    state, actions = start(alert("03-02 10:00"), POLICY, CONFIG, at("03-02 10:00"))
    assert actions == [
        Notify(("robot", "sms"), 1, NoticeType.RAISED, "a1.1.raised.0", Reason.FIRST_NOTICE)
    ]
    assert state.next_due == at("03-02 10:30")
    state, actions = decide(state, at("03-02 10:29"), CONFIG)
    assert actions == []
    state, actions = decide(state, at("03-02 10:30"), CONFIG)
    assert actions == [
        Notify(("head",), 2, NoticeType.ESCALATED, "a1.2.escalated.0", Reason.ESCALATE_AFTER)
    ]
    assert state.level == 2 and state.next_due == at("03-02 11:00")
    state, actions = decide(state, at("03-02 11:00"), CONFIG)
    assert notices(actions) == [(("office",), 3, NoticeType.ESCALATED, Reason.ESCALATE_AFTER)]
    # at the top: only repeats, every 2 h from the last notice there
    assert state.next_due == at("03-02 13:00")
    state, actions = decide(state, at("03-02 13:00"), CONFIG)
    assert actions == [
        Notify(("office",), 3, NoticeType.REPEATED, "a1.3.repeated.0", Reason.REPEAT_INTERVAL)
    ]


def test_acked_at_10_40_no_repeat_at_12_00_escalated_when_the_1wd_ack_timeout_ends() -> None:
    state, _ = decide(opened("03-02 10:00"), at("03-02 10:30"), CONFIG)  # at level 2
    state, actions = on_ack(state, "li.si", at("03-02 10:40"), CONFIG)
    assert actions == [] and state.acked_by == "li.si"
    assert state.next_due == at("03-03 10:40")  # the next working day's 10:40
    for now in ("03-02 11:00", "03-02 12:00", "03-02 12:30", "03-03 10:39"):
        state, actions = decide(state, at(now), CONFIG)
        assert actions == [], now
    state, actions = decide(state, at("03-03 10:40"), CONFIG)
    assert actions == [
        Notify(("office",), 3, NoticeType.ESCALATED, "a1.3.escalated.0", Reason.ACK_TIMEOUT)
    ]
    # the acknowledgement has lapsed: repeats run again at level 3
    assert state.ack_lapsed and state.next_due == at("03-03 12:40")


def test_the_same_acknowledgement_again_is_not_a_new_one() -> None:
    state, _ = on_ack(opened("03-02 10:00"), "li.si", at("03-02 10:10"), CONFIG)
    state, _ = decide(state, at("03-03 10:10"), CONFIG)  # lapsed: escalated to 2
    record = alert("03-02 10:00", acknowledged_at=rfc(at("03-02 10:10")))
    again, actions = on_record(state, record, at("03-03 10:11"), CONFIG)
    assert actions == [] and again == state


def test_yellow_stays_at_level_1_and_repeats_while_unacknowledged() -> None:
    state = opened("03-02 09:00", severity="yellow")
    assert state.next_due == at("03-02 11:00")  # no escalation timer, only the repeat
    sent = []
    for hour in range(9, 18):
        state, actions = decide(state, at(f"03-02 {hour:02d}:00"), CONFIG)
        sent += notices(actions)
    assert (
        sent
        == [
            (("robot", "sms"), 1, NoticeType.REPEATED, Reason.REPEAT_INTERVAL),
        ]
        * 4
    )  # 11:00, 13:00, 15:00, 17:00
    assert state.level == 1


def test_an_acknowledged_yellow_alert_is_told_again_at_its_level_when_the_ack_times_out() -> None:
    state, _ = on_ack(opened("03-02 09:00", severity="yellow"), "", at("03-02 09:30"), CONFIG)
    state, actions = decide(state, at("03-03 09:30"), CONFIG)
    assert notices(actions) == [(("robot", "sms"), 1, NoticeType.REPEATED, Reason.ACK_TIMEOUT)]
    assert state.level == 1


def test_resolved_while_at_level_2_tells_level_1_and_level_2_receivers() -> None:
    record = alert("03-02 10:00")
    state, _ = decide(opened("03-02 10:00"), at("03-02 10:30"), CONFIG)
    state, actions = on_record(
        state, resolved(record, "03-02 10:50", Resolution.COMPLETED), at("03-02 10:50"), CONFIG
    )
    assert actions == [
        Notify(("robot", "sms"), 1, NoticeType.RESOLVED, "a1.1.resolved.0", Reason.RESOLVED),
        Notify(("head",), 2, NoticeType.RESOLVED, "a1.2.resolved.0", Reason.RESOLVED),
    ]
    assert state.closed is Resolution.COMPLETED and state.next_due is None
    assert decide(state, at("03-02 23:00"), CONFIG) == (state, [])


def test_corrected_tells_everyone_notified_that_it_should_not_have_fired() -> None:
    record = alert("03-02 10:00")
    state, actions = on_record(
        opened("03-02 10:00"),
        resolved(record, "03-02 10:05", Resolution.CORRECTED),
        at("03-02 10:05"),
        CONFIG,
    )
    assert actions == [
        Notify(("robot", "sms"), 1, NoticeType.CORRECTED, "a1.1.corrected.0", Reason.CORRECTED)
    ]
    assert state.closed is Resolution.CORRECTED


def test_a_cancel_stops_everything_and_tells_everyone_notified() -> None:
    state, actions = on_cancel(opened("03-02 10:00"), "zhao.liu", at("03-02 10:10"))
    assert notices(actions) == [(("robot", "sms"), 1, NoticeType.RESOLVED, Reason.CANCELLED)]
    assert state.cancelled and state.cancelled_by == "zhao.liu" and state.next_due is None
    assert decide(state, at("03-02 12:00"), CONFIG)[1] == []


def test_fired_3_h_ago_with_30m_escalation_starts_at_level_3_with_one_notice() -> None:
    state, actions = start(alert("03-02 07:00"), POLICY, CONFIG, at("03-02 10:00"))
    assert actions == [
        Notify(("office",), 3, NoticeType.RAISED, "a1.3.raised.0", Reason.FIRST_NOTICE_BY_AGE)
    ]
    assert state.level == 3 and state.level_since == at("03-02 08:00")


def test_fired_45_min_ago_starts_at_level_2_and_moves_up_on_its_own_timeline() -> None:
    state, actions = start(alert("03-02 10:00"), POLICY, CONFIG, at("03-02 10:45"))
    assert notices(actions) == [(("head",), 2, NoticeType.RAISED, Reason.FIRST_NOTICE_BY_AGE)]
    assert state.next_due == at("03-02 11:00")  # 10:30 + 30m, not 10:45 + 30m


def test_already_resolved_when_first_seen_sends_nothing_and_says_why() -> None:
    record = resolved(alert("03-02 10:00"), "03-02 10:20", Resolution.COMPLETED)
    state, actions = start(record, POLICY, CONFIG, at("03-02 11:00"))
    assert actions == [Skip(Reason.ALREADY_RESOLVED)]
    assert state.closed is Resolution.COMPLETED and state.next_due is None
    assert Reason.ALREADY_RESOLVED.text.startswith("already resolved when first seen")


def test_an_alert_no_route_matches_is_skipped_with_its_reason() -> None:
    state, actions = start(
        alert("03-02 10:00", center="GZ-YUEXIU"), POLICY, CONFIG, at("03-02 10:00")
    )
    assert actions == [Skip(Reason.NO_ROUTE)] and state.next_due is None
    assert decide(state, at("03-02 12:00"), CONFIG)[1] == []


def test_delivery_window_held_until_08_30_next_working_day() -> None:
    state, actions = start(
        alert("03-02 19:00", severity="yellow"), POLICY, CONFIG, at("03-02 19:00")
    )
    assert actions == [
        Notify(("robot",), 1, NoticeType.RAISED, "a1.1.raised.0", Reason.FIRST_NOTICE),
        Hold("sms", at("03-03 08:30"), "a1.1.raised.0", 1, NoticeType.RAISED),
    ]
    # the robot's repeat at 21:00 does not pile a second notice up for the SMS
    state, actions = decide(state, at("03-02 21:00"), CONFIG)
    assert notices(actions) == [(("robot",), 1, NoticeType.REPEATED, Reason.REPEAT_INTERVAL)]
    assert not any(isinstance(a, Hold) for a in actions)
    state, actions = decide(state, at("03-03 08:30"), CONFIG)
    assert Notify(("sms",), 1, NoticeType.RAISED, "a1.1.raised.0", Reason.WINDOW_OPENED) in actions


def test_a_friday_evening_notice_is_held_over_the_weekend() -> None:
    _, actions = start(alert("03-06 18:00", severity="yellow"), POLICY, CONFIG, at("03-06 18:00"))
    assert Hold("sms", at("03-09 08:30"), "a1.1.raised.0", 1, NoticeType.RAISED) in actions


def test_a_red_alert_at_level_3_is_never_held_unless_the_window_says_so() -> None:
    night = {3: ("sms",)}
    route = replace(ROUTE, levels=night)
    policy = replace(POLICY, routes=(route,))
    _, actions = start(alert("03-02 22:00", level=3), policy, CONFIG, at("03-02 22:00"))
    assert notices(actions) == [(("sms",), 3, NoticeType.RAISED, Reason.FIRST_NOTICE)]
    holding = replace(RECEIVERS["sms"], window=replace(OFFICE_HOURS, hold_red_level_3=True))
    policy = replace(policy, receivers={**RECEIVERS, "sms": holding})
    _, actions = start(alert("03-02 22:00", level=3), policy, CONFIG, at("03-02 22:00"))
    assert actions == [Hold("sms", at("03-03 08:30"), "a1.3.raised.0", 3, NoticeType.RAISED)]


def test_weekend_between_wd_waits_skip_it() -> None:
    state, _ = on_ack(opened("03-06 10:00"), "li.si", at("03-06 10:40"), CONFIG)
    assert state.next_due == at("03-09 10:40")  # Friday 10:40 + 1wd: Monday 10:40
    state, actions = decide(state, at("03-08 23:59"), CONFIG)
    assert actions == []


def test_a_late_call_sends_one_repeat_not_one_per_interval_missed() -> None:
    state = opened("03-02 09:00", severity="yellow")
    state, actions = decide(state, at("03-02 17:30"), CONFIG)  # four intervals missed
    assert notices(actions) == [(("robot", "sms"), 1, NoticeType.REPEATED, Reason.REPEAT_INTERVAL)]
    assert state.next_due == at("03-02 19:30")


def test_a_red_alert_passes_over_a_level_with_nobody() -> None:
    policy = replace(POLICY, routes=(replace(ROUTE, levels={1: ("robot",), 3: ("office",)}),))
    state, _ = start(alert("03-02 10:00"), policy, CONFIG, at("03-02 10:00"))
    _, actions = decide(state, at("03-02 10:30"), CONFIG)
    assert actions == [
        Skip(Reason.LEVEL_EMPTY, 2),
        Notify(("office",), 3, NoticeType.ESCALATED, "a1.3.escalated.0", Reason.ESCALATE_AFTER),
    ]


def test_the_state_survives_json() -> None:
    state, _ = start(alert("03-02 19:00"), POLICY, CONFIG, at("03-02 19:00"))
    state, _ = on_ack(state, "li.si", at("03-02 19:10"), CONFIG)
    assert EscalationState.from_json(state.to_json()) == state
    held, _ = start(alert("03-02 19:00", severity="yellow"), POLICY, CONFIG, at("03-02 19:00"))
    assert held.held and EscalationState.from_json(held.to_json()) == held


# the rules composed: any story of timers, acknowledgements and an end

STEP = st.integers(min_value=1, max_value=6 * HOUR)
EVENT = st.tuples(
    STEP, st.sampled_from(["decide", "decide", "decide", "ack", "resolve", "correct"])
)


@settings(max_examples=150, deadline=None)
@given(
    severity=st.sampled_from(["red", "yellow"]),
    first=st.integers(min_value=1, max_value=3),
    age=st.integers(min_value=0, max_value=3 * 24 * HOUR),
    events=st.lists(EVENT, max_size=25),
)
def test_any_story_keeps_the_rules(
    severity: str, first: int, age: int, events: list[tuple[int, str]]
) -> None:
    record = alert("03-06 16:00", severity=severity, level=first)
    now = at("03-06 16:00") + age
    state, actions = start(record, POLICY, CONFIG, now)
    sent: set[tuple[str, str]] = set()
    acked_until: int | None = None
    history = [actions]
    for step, event in events:
        now += step
        before = state
        if event == "ack":
            state, actions = on_ack(state, "li.si", now, CONFIG)
            if before.closed is None:
                acked_until = state.next_due
        elif event in ("resolve", "correct"):
            resolution = Resolution.COMPLETED if event == "resolve" else Resolution.CORRECTED
            state, actions = on_record(
                state, resolved(record, "03-06 16:00", resolution), now, CONFIG
            )
        else:
            state, actions = decide(state, now, CONFIG)
        history.append(actions)
        assert state.level >= before.level and state.level <= 3
        if severity == "yellow":
            assert state.level == first
        if before.closed is not None:
            assert actions == [] and state == before
        firing = [
            a
            for a in actions
            if isinstance(a, Notify)
            and a.type in (NoticeType.REPEATED, NoticeType.ESCALATED)
            and a.reason is not Reason.WINDOW_OPENED
        ]
        if acked_until is not None and now < acked_until and state.acked is not None:
            assert firing == [], "an acknowledged alert was paged again before its timeout"
        if state.acked is None:
            acked_until = None
        assert state.next_due is None or state.next_due > now
    for actions in history:
        for action in actions:
            if isinstance(action, Notify):
                for receiver in action.receivers:
                    assert (action.notice_id, receiver) not in sent
                    sent.add((action.notice_id, receiver))


def test_an_acknowledgement_drops_the_notices_held_for_a_window() -> None:
    state = opened("03-02 19:00", severity="yellow")
    assert [held.receiver for held in state.held] == ["sms"]
    state, _ = on_ack(state, "wang.wu", at("03-02 19:10"), CONFIG)
    state, actions = decide(state, at("03-03 08:30"), CONFIG)
    assert actions == [] and state.held == ()
