"""The Redis read model against the real Redis: indexes, aggregates, idempotency, feed health.

Case views come from the real engine (the demo catalog, events through ``parse_event``), so the
read model is tested on the objects the workers will hand it. Each test writes under its own
prefix and flushes it at the end.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from monitor.casetypes import Outcome
from monitor.config import Config, ConfigFiles
from monitor.engine import Engine
from monitor.events import parse_event
from monitor.readmodel import (
    OUTCOMES,
    UNKNOWN_CODE,
    CaseOwner,
    CursorError,
    FeedRecord,
    KnownCodes,
    ReadModel,
    TopicRecord,
    Version,
    View,
    project_records,
)
from monitor.readmodel.cursors import decode_cursor, encode_cursor
from monitor.readmodel.feed import lag_bucket
from monitor.readmodel.footprints import footprint, limit_share_ppm
from monitor.readmodel.ranking import iso_week, iso_weeks
from monitor.records import AlertRecord, CaseRecord
from monitor.timeutil import DAY, HOUR, parse_instant, zone

integration = pytest.mark.integration

CATALOG = Path(__file__).resolve().parents[3] / "monitor" / "data" / "catalog.yaml"
SHANGHAI = zone("Asia/Shanghai")
Snapshot = tuple[Version, View]


def at(local: str) -> int:
    """Epoch seconds of a Beijing local time written ``2026-09-21 10:05``."""
    return parse_instant(local.replace(" ", "T") + ":00+08:00")


@cache
def config() -> Config:
    return ConfigFiles(CATALOG).load()


class Life:
    """One case told event by event through the real engine, with snapshots of its view and
    the version a worker would write it with: (events applied, engine time)."""

    def __init__(
        self,
        engine: Engine,
        case_id: str,
        item: str,
        center: str = "GZ-TIANHE",
        source: str = "gz-window",
    ) -> None:
        self.engine, self.case_id, self.item, self.center = engine, case_id, item, center
        self.source = source
        self.applied = 0

    def send(self, kind: str, when: int, data: dict[str, Any] | None = None) -> Life:
        event: dict[str, Any] = {
            "event_id": f"{self.case_id}-{self.applied + 1}",
            "type": f"case.{kind}",
            "case_id": self.case_id,
            "occurred_at": SHANGHAI.format(when),
            "source": self.source,
        }
        if kind in ("submitted", "accepted"):
            event.update(center=self.center, item_code=self.item)
        if data is not None:
            event["data"] = data
        result = self.engine.offer(parse_event(event))
        assert result.outcome is Outcome.APPLIED, result.errors
        self.applied += 1
        return self

    def snapshot(self, now: int) -> Snapshot:
        view = self.engine.view(self.case_id, now)
        return (self.applied, self.engine.cases[self.case_id].time), view


def deadline(view: View) -> int:
    assert view["deadline"] is not None
    return parse_instant(view["deadline"])


# -- a pool of realistic histories -------------------------------------------------------------


@cache
def histories() -> dict[str, list[Snapshot]]:
    """Seven cases whose snapshots cover every light, completion on time and late, a red
    taken back by a late-arriving extension, intake 补正, a 即办件, hours and a rejection."""
    engine = Engine(config())
    pool: dict[str, list[Snapshot]] = {}

    late = Life(engine, "LATE", "FOOD-LICENSE").send("accepted", at("2026-09-21 10:05"))
    due = deadline(late.snapshot(at("2026-09-21 11:00"))[1])
    pool["LATE"] = [
        late.snapshot(at("2026-09-21 11:00")),  # green
        late.snapshot(due - HOUR),  # yellow
        late.snapshot(due + HOUR),  # red
        late.send("completed", due + 2 * DAY, {"result": "approved"}).snapshot(due + 2 * DAY),
    ]

    ontime = Life(engine, "ONTIME", "BIZ-REG", center="GZ-YUEXIU")
    ontime.send("submitted", at("2026-09-21 09:00")).send("accepted", at("2026-09-21 09:30"))
    pool["ONTIME"] = [ontime.snapshot(at("2026-09-21 09:30"))]
    ontime.send("suspended", at("2026-09-21 15:00"), {"reason": "inspection"})
    pool["ONTIME"].append(ontime.snapshot(at("2026-09-22 09:00")))  # suspended
    ontime.send("resumed", at("2026-09-23 09:00"))
    pool["ONTIME"].append(ontime.snapshot(at("2026-09-23 09:00")))
    ontime.send("completed", at("2026-09-23 11:00"), {"result": "approved"})
    pool["ONTIME"].append(ontime.snapshot(at("2026-09-23 11:00")))

    fixed = Life(engine, "FIXED", "BUILD-PERMIT").send("accepted", at("2026-09-22 10:00"))
    due = deadline(fixed.snapshot(at("2026-09-22 10:00"))[1])
    pool["FIXED"] = [fixed.snapshot(due + HOUR)]  # red
    # an extension dated before the deadline arrives late: the red is corrected away
    fixed.send("extended", due - DAY, {"by": "5wd", "approved_by": "局长"})
    pool["FIXED"].append(fixed.snapshot(due + HOUR))
    fixed.send("completed", due + 2 * DAY, {"result": "approved"})
    pool["FIXED"].append(fixed.snapshot(due + 2 * DAY))

    intake = Life(engine, "INTAKE", "ID-CARD", center="LS-CHENGGUAN")
    intake.send("submitted", at("2026-09-24 09:00"))
    pool["INTAKE"] = [intake.snapshot(at("2026-09-24 10:00"))]
    intake.send("correction_requested", at("2026-09-24 11:00"), {"materials": ["照片"]})
    pool["INTAKE"].append(intake.snapshot(at("2026-09-25 10:00")))  # waiting for 补正
    intake.send("submitted", at("2026-09-28 09:00"))
    pool["INTAKE"].append(intake.snapshot(at("2026-09-28 10:00")))
    intake.send("withdrawn", at("2026-09-29 09:00"))
    pool["INTAKE"].append(intake.snapshot(at("2026-09-29 09:00")))

    instant = Life(engine, "INSTANT", "SOCIAL-CARD", center="XX-NEW")  # unknown centre
    instant.send("accepted", at("2026-09-25 14:00"))
    pool["INSTANT"] = [instant.snapshot(at("2026-09-25 14:00"))]
    instant.send("completed", at("2026-09-25 16:00"), {"result": "approved"})
    pool["INSTANT"].append(instant.snapshot(at("2026-09-25 16:00")))

    hours = Life(engine, "HOURS", "PRINT-SEAL").send("accepted", at("2026-09-28 09:00"))
    pool["HOURS"] = [hours.snapshot(at("2026-09-28 12:00")), hours.snapshot(at("2026-09-29 10:00"))]
    hours.send("completed", at("2026-09-29 12:00"), {"result": "approved"})
    pool["HOURS"].append(hours.snapshot(at("2026-09-29 12:00")))

    rejected = Life(engine, "REJECTED", "DRUG-RETAIL", center="GZ-YUEXIU")
    rejected.send("submitted", at("2026-09-28 09:00"))
    pool["REJECTED"] = [rejected.snapshot(at("2026-09-28 09:00"))]
    rejected.send("rejected", at("2026-09-28 15:00"), {"reason": ""})
    pool["REJECTED"].append(rejected.snapshot(at("2026-09-28 15:00")))
    return pool


def expected_aggregates(views: list[View]) -> dict[str, Any]:
    """Totals and the all-time ranking computed directly from views, not by the read model."""
    lights = Counter(view["light"] for view in views)
    centers = Counter((view["center"] or "", view["light"]) for view in views)
    completed = [view for view in views if view["status"] == "completed"]
    return {
        "lights": {light: n for light, n in lights.items() if n},
        "centres": dict(centers),
        "completed": dict(Counter(view["department"] for view in completed)),
        "on_time": dict(Counter(view["department"] for view in completed if view["on_time"])),
        "breached": dict(Counter(view["department"] for view in views if view["breached"])),
    }


async def actual_aggregates(model: ReadModel) -> dict[str, Any]:
    ranking = await model.department_ranking()
    return {
        "lights": {light: n for light, n in (await model.totals()).items() if n},
        "centres": {
            (center, light): n
            for center, row in (await model.center_totals()).items()
            for light, n in row.items()
            if n
        },
        "completed": {r.department: r.completed for r in ranking if r.completed},
        "on_time": {r.department: r.on_time for r in ranking if r.on_time},
        "breached": {r.department: r.breached for r in ranking if r.breached},
    }


async def dump(redis: Redis, prefix: str) -> dict[str, Any]:
    """Everything under ``prefix``, key names without it: two dumps compare whole states."""
    state: dict[str, Any] = {}
    literal = "".join("\\" + c if c in "*?[]\\" else c for c in prefix)
    async for raw in redis.scan_iter(match=literal + "*"):
        name = raw.decode()[len(prefix) :]
        kind = await redis.type(raw)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "hash":
            state[name] = await redis.hgetall(raw)
        elif kind == "zset":
            state[name] = await redis.zrange(raw, 0, -1, withscores=True)
        elif kind == "set":
            state[name] = sorted(await redis.smembers(raw))
        elif kind == "stream":  # the change feed: what changed, in order (ids are times)
            state[name] = [fields for _, fields in await redis.xrange(raw)]
        else:
            state[name] = (kind, await redis.get(raw))
    return state


# -- fixtures ----------------------------------------------------------------------------------


def unique_prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


# -- pure parts: no Redis ----------------------------------------------------------------------


def test_share_of_the_limit_is_computed_from_the_promised_limit_and_remaining_time() -> None:
    view = {"promised": "10wd", "extended": 2, "remaining_s": 3 * DAY}
    assert limit_share_ppm(view) == 750_000  # 9 of 12 working days used
    assert limit_share_ppm({"promised": "24h", "extended": 0, "remaining_s": -12 * HOUR}) == (
        1_500_000
    )
    assert limit_share_ppm({"promised_s": 100, "used_s": 25}) == 250_000  # given by the view
    assert limit_share_ppm({"promised": "0wd", "extended": 0, "remaining_s": 0}) is None


def test_weeks_are_iso_weeks_of_the_local_date() -> None:
    # Sunday 23:30 in Beijing is still week 39 although it is Monday in no zone that matters
    assert iso_week("2026-09-27T23:30:00+08:00") == "2026-W39"
    assert iso_week("2026-09-28T00:00:00+08:00") == "2026-W40"
    assert iso_weeks("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    for first, last in (("2026-W40", "2026-W39"), ("2026-39", "2026-W40"), ("2025-W53", "x")):
        with pytest.raises(ValueError):
            iso_weeks(first, last)


def test_lag_buckets_use_upper_bounds() -> None:
    assert [lag_bucket(s) for s in (-5, 1, 2, 3_600, 86_401)] == ["1", "1", "5", "3600", "+Inf"]


def test_a_cursor_is_opaque_and_checked() -> None:
    member = "01790000000:2026-0001"
    assert decode_cursor(encode_cursor(member)) == member
    for bad in ("!!!", encode_cursor("not-a-member"), "////"):
        with pytest.raises(CursorError):
            decode_cursor(bad)


def test_a_footprint_has_no_case_id_in_aggregates_and_no_zero_counts() -> None:
    for snapshots in histories().values():
        for _, view in snapshots:
            found = footprint(view)
            assert all(view["case_id"] not in key + name for key, name in found.counts)
            assert all(n != 0 for n in found.counts.values())


def test_codes_the_configuration_lacks_are_counted_as_unknown_in_the_aggregates() -> None:
    known = KnownCodes.of(config())  # the demo catalog's departments; no centres file
    assert "market" in known.departments and not known.centers
    _, view = histories()["LATE"][0]  # GZ-TIANHE, market, open
    invented = {**view, "department": "dept-0001"}
    found = footprint(invented, known)
    assert set(found.counts) >= {
        ("agg:center", f"{UNKNOWN_CODE}\tgreen"),  # not in the (absent) centres file
        ("agg:department", f"{UNKNOWN_CODE}\tgreen"),
    }
    # the filters still find the case under the code it was sent with
    assert ("open:department:dept-0001", found.members[0][1]) in found.members
    assert ("open:center:GZ-TIANHE", found.members[0][1]) in found.members
    assert ("agg:department", "market\tgreen") in footprint(view, known).counts
    assert footprint(view) == footprint(view, None)  # without codes, every code as it is


# -- cases -------------------------------------------------------------------------------------


@integration
async def test_a_case_view_round_trips(model: ReadModel) -> None:
    version, view = histories()["LATE"][0]
    assert await model.write_case(view, version) is True
    assert await model.case("LATE") == view
    assert await model.case_version("LATE") == Version(*version)  # configuration version 0
    assert await model.case("NOPE") is None


@integration
async def test_a_case_going_green_yellow_red_closed_moves_in_indexes_and_aggregates(
    model: ReadModel,
) -> None:
    lights = []
    for version, view in histories()["LATE"]:
        await model.write_case(view, version)
        lights.append(view["light"])
        totals = await model.totals()
        assert totals == {light: int(light == view["light"]) for light in totals}
        assert (await model.center_totals())["GZ-TIANHE"][view["light"]] == 1
        assert sum((await model.department_totals())["market"].values()) == 1
        for light in ("green", "yellow", "red", "suspended"):
            found = [v["case_id"] for v in (await model.cases(light=light)).items]
            assert found == (["LATE"] if light == view["light"] else [])
    assert lights == ["green", "yellow", "red", "closed"]
    assert (await model.cases()).items == []  # closed cases leave the open indexes

    (market,) = [r for r in await model.department_ranking() if r.department == "market"]
    assert (market.completed, market.measured, market.on_time, market.breached) == (1, 1, 0, 1)
    assert market.on_time_rate == 0.0
    assert market.average_share is not None and market.average_share > 1  # over its limit
    assert await model.case("LATE") == histories()["LATE"][-1][1]


@integration
async def test_a_case_owner_is_its_centre_and_opener(model: ReadModel, redis: Redis) -> None:
    version, view = histories()["LATE"][0]
    await model.write_case(view, version)
    owner = CaseOwner("GZ-TIANHE", "gz-window")
    assert await model.case_owners(["LATE", "NOPE"]) == {"LATE": owner}
    # a case hash written before the two fields existed: read from its view
    await redis.hdel(model.key("case", "LATE"), "center", "opened_by")
    assert await model.case_owners(["LATE"]) == {"LATE": owner}


@integration
async def test_invented_codes_leave_the_ranking_and_the_totals_bounded(redis: Redis) -> None:
    model = ReadModel(redis, unique_prefix(), known=KnownCodes.of(config()))
    try:
        for version, view in histories()["LATE"]:  # ends completed, late
            for n in range(30):
                invented = {
                    **view,
                    "case_id": f"INV-{n}",
                    "center": f"XX-{n}",
                    "department": f"dept-{n}",
                }
                await model.write_case(invented, version)
        ranking = await model.department_ranking()
        assert [(r.department, r.completed, r.breached) for r in ranking] == [
            (UNKNOWN_CODE, 30, 30)
        ]
        assert set(await model.department_totals()) == {UNKNOWN_CODE}
        assert set(await model.center_totals()) == {UNKNOWN_CODE}
    finally:
        await model.flush()


@integration
async def test_the_same_write_twice_or_an_older_one_later_changes_nothing(
    model: ReadModel, redis: Redis
) -> None:
    snapshots = histories()["LATE"]
    red_version, red = snapshots[2]
    assert await model.write_case(red, red_version)
    before = await dump(redis, model.prefix)
    assert await model.write_case(red, red_version) is False
    for version, view in snapshots[:2]:
        assert await model.write_case(view, version) is False
    assert await dump(redis, model.prefix) == before
    assert await model.totals() == {**dict.fromkeys(await model.totals(), 0), "red": 1}


@integration
async def test_a_case_recomputed_under_a_newer_configuration_replaces_its_view(
    model: ReadModel,
) -> None:
    (red_version, red), (_, fixed), _ = histories()["FIXED"]
    events, time = red_version[:2]
    assert await model.write_case(red, Version(events, time, 3))
    # the same events at the same time, counted under version 4: it wins, and its alerts too
    assert await model.write_case(fixed, Version(events, time, 4)) is True
    assert await model.case_version("FIXED") == Version(events, time, 4)
    await model.write_alerts(
        [
            {
                "id": "a1",
                "case_id": "FIXED",
                "kind": "deadline_overdue",
                "status": "resolved",
                "fired_at": red["deadline"],
            }
        ],
        Version(events, time, 4),
    )
    # a view counted under an older configuration, redelivered, changes nothing
    assert await model.write_case(red, Version(events, time, 3)) is False
    await model.write_alerts(
        [
            {
                "id": "a1",
                "case_id": "FIXED",
                "kind": "deadline_overdue",
                "status": "firing",
                "fired_at": red["deadline"],
            }
        ],
        Version(events, time, 3),
    )
    assert (await model.case("FIXED")) == fixed
    assert (await model.alert("a1") or {}).get("status") == "resolved"
    # a newer event wins whatever the configuration version
    assert await model.write_case(red, Version(events + 1, time, 0)) is True


@integration
async def test_a_red_taken_back_by_a_late_event_is_no_longer_counted_as_breached(
    model: ReadModel,
) -> None:
    (red_version, red), (fixed_version, fixed), _ = histories()["FIXED"]
    assert red["breached"] and not fixed["breached"] and fixed_version > red_version
    await model.write_case(red, red_version)
    assert [r.breached for r in await model.department_ranking()] == [1]
    await model.write_case(fixed, fixed_version)
    assert [r.breached for r in await model.department_ranking()] == [0]
    assert (await model.totals())["red"] == 0


CASES = ("LATE", "ONTIME", "FIXED", "INTAKE", "INSTANT", "HOURS", "REJECTED")
deliveries = st.lists(
    st.tuples(st.sampled_from(CASES), st.integers(min_value=0, max_value=5)),
    min_size=1,
    max_size=40,
)


@integration
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=deliveries)
async def test_writes_in_any_order_with_duplicates_end_as_the_newest_views(
    redis: Redis, plan: list[tuple[str, int]]
) -> None:
    pool = histories()
    incremental = ReadModel(redis, prefix=unique_prefix())
    rebuilt = ReadModel(redis, prefix=unique_prefix())
    newest: dict[str, Snapshot] = {}
    try:
        for case_id, pick in plan:
            version, view = pool[case_id][pick % len(pool[case_id])]
            await incremental.write_case(view, version)
            if case_id not in newest or version > newest[case_id][0]:
                newest[case_id] = (version, view)
        views = [view for _, view in newest.values()]
        assert await actual_aggregates(incremental) == expected_aggregates(views)
        for version, view in newest.values():  # what a rebuild writes: the newest views only
            await rebuilt.write_case(view, version)
        state, state_rebuilt = (
            await dump(redis, incremental.prefix),
            await dump(redis, rebuilt.prefix),
        )
        # the change feeds differ (one saw every write): the state they report on must not
        changes, last_changes = state.pop("changes"), state_rebuilt.pop("changes")
        assert state == state_rebuilt
        told = {f[b"id"].decode() for f in changes}
        assert told == {f[b"id"].decode() for f in last_changes} == newest.keys()
    finally:
        await incremental.flush()
        await rebuilt.flush()


async def write_many_cases(model: ReadModel) -> list[View]:
    """23 cases at two centres: ties on deadline, several lights, three suspended."""
    engine = Engine(config())
    views = []
    for n in range(23):
        item = ("FOOD-LICENSE", "BIZ-REG", "ID-CARD")[n % 3]
        center = ("GZ-TIANHE", "GZ-YUEXIU")[n % 2]
        life = Life(engine, f"C-{n:02d}", item, center=center)
        life.send("accepted", at("2026-09-21 10:00") + (n % 4) * DAY)
        if n % 8 == 0:
            life.send("suspended", at("2026-09-25 10:00"), {"reason": "hearing"})
        version, view = life.snapshot(at("2026-09-28 10:00"))
        await model.write_case(view, version)
        views.append(view)
    return views


def deadline_order(view: View) -> tuple[int, str]:
    return (parse_instant(view["deadline"]) if view["deadline"] else 10**11, view["case_id"])


async def every_page(
    model: ReadModel, limit: int, cursor: str | None = None, **filters: str
) -> list[str]:
    """Case ids of every page from ``cursor`` on, checking each page's size."""
    seen: list[str] = []
    while True:
        page = await model.cases(limit=limit, cursor=cursor, **filters)
        assert len(page.items) <= limit
        seen += [view["case_id"] for view in page.items]
        if page.cursor is None:
            return seen
        cursor = page.cursor


@integration
async def test_cursor_pagination_returns_every_open_case_once_in_deadline_order(
    model: ReadModel,
) -> None:
    views = await write_many_cases(model)
    assert len({view["light"] for view in views}) >= 3
    assert len({view["deadline"] for view in views}) < len(views)  # ties on deadline exist
    expected = [view["case_id"] for view in sorted(views, key=deadline_order)]
    for limit in (1, 4, 23, 50):
        assert await every_page(model, limit) == expected
    assert expected[-3:] == ["C-00", "C-08", "C-16"]  # suspended: no deadline, last

    def chosen(keep: Callable[[View], bool]) -> list[str]:
        return [view["case_id"] for view in sorted(views, key=deadline_order) if keep(view)]

    assert await every_page(model, 2, center="GZ-YUEXIU", light="red") == chosen(
        lambda v: v["center"] == "GZ-YUEXIU" and v["light"] == "red"
    )
    assert await every_page(model, 3, department="market") == chosen(
        lambda v: v["department"] == "market"
    )
    red = await model.red_cases(limit=100)
    assert [v["case_id"] for v in red] == chosen(lambda v: v["light"] == "red")
    assert deadline(red[0]) <= deadline(red[-1])  # the longest overdue first


@integration
async def test_a_page_cursor_survives_writes_between_pages(model: ReadModel) -> None:
    views = await write_many_cases(model)
    first = await model.cases(limit=5)
    assert first.cursor is not None
    # a case that ends meanwhile drops out; the rest still comes exactly once
    closing = Engine(config())
    gone = sorted(views, key=deadline_order)[10]
    life = Life(closing, gone["case_id"], gone["item_code"], center=gone["center"])
    life.send("accepted", parse_instant(gone["accepted_at"]))
    life.send("completed", at("2026-09-28 11:00"), {"result": "approved"})
    assert await model.write_case(life.snapshot(at("2026-09-28 11:00"))[1], (99, 0))
    rest = await every_page(model, 5, cursor=first.cursor)
    shown = [v["case_id"] for v in first.items] + rest
    assert len(shown) == len(set(shown)) == len(views) - 1
    assert gone["case_id"] not in shown


@integration
async def test_a_foreign_cursor_is_refused(model: ReadModel) -> None:
    with pytest.raises(CursorError):
        await model.cases(cursor="bm90LWEtY3Vyc29y")


# -- alerts ------------------------------------------------------------------------------------


def alerts_of(snapshot: Snapshot) -> list[View]:
    _, view = snapshot
    return [{**alert, "case_id": view["case_id"]} for alert in view["alerts"]]


@integration
async def test_alerts_are_filtered_by_status_and_kind_and_the_latest_state_wins(
    model: ReadModel,
) -> None:
    late = histories()["LATE"]
    await model.write_alerts(alerts_of(late[1]), late[1][0])  # yellow: warning firing
    assert [a["kind"] for a in await model.alerts(status="firing")] == ["deadline_warning"]
    await model.write_alerts(alerts_of(late[2]), late[2][0])  # red: warning superseded
    firing = await model.alerts(status="firing")
    assert [a["kind"] for a in firing] == ["deadline_overdue"]
    assert firing[0]["case_id"] == "LATE"
    (warning,) = await model.alerts(status="resolved", kind="deadline_warning")
    assert warning["resolution"] == "superseded"

    await model.write_alerts(alerts_of(late[1]), late[1][0])  # a replay of an older state
    assert [a["kind"] for a in await model.alerts(status="firing")] == ["deadline_overdue"]

    await model.write_alerts(alerts_of(late[3]), late[3][0])  # completed: all resolved
    assert await model.alerts(status="firing") == []
    everything = await model.alerts()
    assert [a["kind"] for a in everything] == ["deadline_overdue", "deadline_warning"]
    assert await model.alerts(kind="deadline_overdue", status="acknowledged") == []
    assert [a["status"] for a in await model.alerts(limit=1)] == ["resolved"]


@integration
async def test_alerts_without_a_version_are_last_write_wins(model: ReadModel) -> None:
    late = histories()["LATE"]
    await model.write_alerts(alerts_of(late[3]))
    await model.write_alerts(alerts_of(late[2]))
    assert [a["kind"] for a in await model.alerts(status="firing")] == ["deadline_overdue"]
    with pytest.raises(ValueError):
        await model.write_alerts(alerts_of(late[2]) + alerts_of(histories()["FIXED"][0]), (9, 9))


@integration
async def test_recent_alerts_are_capped_but_firing_ones_stay(redis: Redis) -> None:
    model = ReadModel(redis, prefix=unique_prefix(), recent_alerts=3)
    try:
        base = {"severity": "yellow", "level": 2, "resolved_at": None, "resolution": None}
        old_firing = {
            **base,
            "id": "old",
            "case_id": "X",
            "kind": "procedure_violation",
            "status": "firing",
            "fired_at": "2026-09-01T09:00:00+08:00",
        }
        resolved = [
            {
                **base,
                "id": f"r{n}",
                "case_id": "Y",
                "kind": "step_overdue",
                "status": "resolved",
                "fired_at": f"2026-09-1{n}T09:00:00+08:00",
            }
            for n in range(5)
        ]
        await model.write_alerts([old_firing])
        await model.write_alerts(resolved)
        assert [a["id"] for a in await model.alerts(status="resolved")] == ["r4", "r3", "r2"]
        assert [a["id"] for a in await model.alerts(status="firing")] == ["old"]
        assert await redis.zcard(model.key("alerts", "recent")) == 3
        assert await redis.hlen(model.key("alerts")) == 4
    finally:
        await model.flush()


# -- feed health -------------------------------------------------------------------------------


@integration
async def test_feed_health_counts_outcomes_lag_refusals_and_unknown_centers(
    model: ReadModel,
) -> None:
    t = at("2026-09-28 10:00")
    records = [
        FeedRecord("gz-window", t, t + 2, "accepted"),
        FeedRecord("gz-window", t + 10, t + 70, "accepted", unknown_center="XX-NEW"),
        FeedRecord("gz-window", t + 5, t + 75, "duplicate"),
        FeedRecord("gz-window", t + 20, t + 18, "accepted"),  # window clock ahead
        FeedRecord("gz-window", t, t + 30, "accepted"),  # arrived before the last one
        FeedRecord("gz-window", None, t + 80, "refused", reason="occurred_at: missing"),
        FeedRecord("gz-window", t, t + 60, "refused", reason="type: must be one of"),
        FeedRecord("ls-window", t, t + 4000, "accepted", unknown_center="XX-NEW"),
        FeedRecord("ls-window", t, t + 4000, "accepted", unknown_center="XX-NEW"),
    ]
    for record in records:  # each on its own (the property test below compares batches)
        await model.record_events([record])

    gz, ls = await model.sources()
    assert (gz.source, gz.accepted, gz.duplicate, gz.refused) == ("gz-window", 4, 1, 2)
    assert gz.last_event_at == t + 20 and gz.last_arrival_at == t + 80
    assert gz.lag_last_s == 60  # of the latest arrival (t + 70), not of the last call
    assert gz.lag_max_s == 60 and gz.lag_avg_s == (2 + 60 - 2 + 30) / 4
    assert gz.clock_ahead == 1
    assert gz.lag_buckets["1"] == 1 and gz.lag_buckets["5"] == 2 and gz.lag_buckets["60"] == 4
    assert gz.lag_buckets["+Inf"] == 4
    assert gz.last_refusal_reason == "occurred_at: missing" and gz.last_refusal_at == t + 80
    assert gz.unknown_centers == {"XX-NEW": 1}
    assert ls.unknown_centers == {"XX-NEW": 2} and ls.lag_max_s == 4000
    assert ls.lag_buckets["3600"] == 0 and ls.lag_buckets["21600"] == 2
    with pytest.raises(ValueError):
        await model.record_events([FeedRecord("gz-window", t, t, "lost")])


offers = st.lists(
    st.tuples(
        st.sampled_from(["gz-window", "ls-window"]),
        # occurred_at (None: a refused event without one), arrived_at: out of order, often equal
        st.one_of(st.none(), st.integers(0, 6), st.integers(0, 90_000)),
        st.one_of(st.integers(0, 3), st.integers(0, 90_000)),
        st.sampled_from(OUTCOMES),
        st.sampled_from(["type: unknown", "occurred_at: missing"]),
        st.sampled_from([None, None, "XX-NEW", "YY-NEW"]),
    ),
    min_size=1,
    max_size=30,
)


def offered(t: int, plan: list[tuple[Any, ...]]) -> list[FeedRecord]:
    return [
        FeedRecord(source, None if occurred is None else t + occurred, t + arrived, *rest)
        for source, occurred, arrived, *rest in plan
    ]


@integration
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=offers, cuts=st.sets(st.integers(1, 29)))
@example(  # ties: the last of equal arrivals wins, for the lag and for the refusal reason
    plan=[
        ("gz-window", 0, 2, "accepted", "", None),
        ("gz-window", 1, 2, "accepted", "", None),
        ("gz-window", None, 3, "refused", "type: unknown", None),
        ("gz-window", None, 3, "refused", "occurred_at: missing", None),
    ],
    cuts=set(),
)
async def test_feed_health_tallied_per_batch_equals_recorded_one_by_one(
    redis: Redis, plan: list[tuple[Any, ...]], cuts: set[int]
) -> None:
    """Events are summed per source (FeedTally): batches of any size must give the feed health
    that recording each event on its own, in its order, gives."""
    one_by_one = ReadModel(redis, prefix=unique_prefix())
    tallied = ReadModel(redis, prefix=unique_prefix())
    t = at("2026-09-28 10:00")
    try:
        for record in offered(t, plan):
            await one_by_one.record_events([record])
        bounds = [0, *sorted(cut for cut in cuts if cut < len(plan)), len(plan)]
        async with tallied.batch() as batched:  # as the worker does, in its batch's round trip
            for start, end in itertools.pairwise(bounds):
                await batched.record_events(offered(t, plan[start:end]))
        assert await tallied.sources() == await one_by_one.sources()
    finally:
        await one_by_one.flush()
        await tallied.flush()


# -- ranking -----------------------------------------------------------------------------------


@integration
async def test_the_ranking_sums_the_weeks_of_a_period(model: ReadModel) -> None:
    for snapshots in histories().values():
        version, view = snapshots[-1]
        await model.write_case(view, version)
    weeks = {
        name: iso_week(snapshots[-1][1]["closed_at"])
        for name, snapshots in histories().items()
        if snapshots[-1][1]["status"] == "completed"
    }
    assert weeks["ONTIME"] == "2026-W39" and weeks["LATE"] == "2026-W42"

    w39 = await model.department_ranking("2026-W39")
    assert {r.department: (r.completed, r.on_time) for r in w39 if r.completed} == {
        "market": (1, 1),  # ONTIME; LATE completed in W42
        "hrss": (1, 1),  # INSTANT
    }
    whole = await model.department_ranking("2026-W39", "2026-W44")
    assert whole == await model.department_ranking()  # everything happened in those weeks
    rates = [r.on_time_rate for r in whole if r.on_time_rate is not None]
    assert rates == sorted(rates, reverse=True) and rates[0] == 1.0 and rates[-1] == 0.0
    assert [r.on_time_rate for r in whole][-1] is None  # health: only a rejection, unmeasured
    (hrss,) = [r for r in whole if r.department == "hrss"]
    assert hrss.completed == 1 and hrss.share_n == 0 and hrss.average_share is None  # 即办件

    quiet = await model.department_ranking("2025-W01", "2025-W10")
    assert {r.department for r in quiet} == {r.department for r in whole}  # listed at zero
    assert all(r.completed == r.breached == 0 for r in quiet)


# -- housekeeping ------------------------------------------------------------------------------


@integration
async def test_flush_deletes_everything_under_the_prefix_and_nothing_else(redis: Redis) -> None:
    prefix = f"test:[{uuid.uuid4().hex}]*:"  # glob characters must be taken literally
    model = ReadModel(redis, prefix=prefix)
    neighbour = f"test:{uuid.uuid4().hex}:keep"
    await redis.set(neighbour, "1")
    try:
        for snapshots in histories().values():
            version, view = snapshots[-1]
            await model.write_case(view, version)
            await model.write_alerts(alerts_of(snapshots[-1]), version)
        await model.record_events([FeedRecord("gz-window", 1, 2, "accepted", unknown_center="XX")])
        assert await dump(redis, prefix)
        assert await model.flush() > 0
        assert await dump(redis, prefix) == {}
        assert await redis.get(neighbour) == b"1"
    finally:
        await redis.delete(neighbour)


@integration
async def test_readers_work_with_a_client_that_decodes_responses(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    model = ReadModel(client, prefix=unique_prefix())
    try:
        version, view = histories()["LATE"][2]
        await model.write_case(view, version)
        await model.write_alerts(alerts_of(histories()["LATE"][2]), version)
        await model.record_events([FeedRecord("gz-window", 1, 2, "accepted")])
        assert await model.case("LATE") == view
        assert [v["case_id"] for v in (await model.cases(light="red")).items] == ["LATE"]
        assert (await model.totals())["red"] == 1
        assert [a["kind"] for a in await model.alerts(status="firing")] == ["deadline_overdue"]
        assert [s.accepted for s in await model.sources()] == [1]
    finally:
        await model.flush()
        await client.aclose()


@integration
async def test_every_write_that_changes_something_is_told_on_the_change_feed(
    model: ReadModel, redis: Redis
) -> None:
    late = histories()["LATE"]
    feed = model.key("changes")
    await model.write_case(late[2][1], late[2][0])  # red
    await model.write_case(late[1][1], late[1][0])  # older: ignored, not told
    await model.write_alerts(alerts_of(late[2]), late[2][0])
    await model.write_alerts(alerts_of(late[1]), late[1][0])  # older: ignored, not told
    told = [fields for _, fields in await redis.xrange(feed)]
    assert told[0] == {b"kind": b"case", b"id": b"LATE", b"case_id": b"LATE", b"light": b"red"}
    alerts = {(f[b"kind"], f[b"status"], f[b"case_id"]) for f in told[1:]}
    assert alerts == {(b"alert", b"firing", b"LATE"), (b"alert", b"resolved", b"LATE")}
    assert len(told) == 1 + len(alerts_of(late[2]))


def record(snapshot: Snapshot, alert: View | None = None) -> bytes:
    version, view = snapshot
    return json.dumps({**(view if alert is None else alert), "version": list(version)}).encode()


@integration
async def test_a_projected_batch_in_any_order_ends_as_its_newest_records(
    model: ReadModel, redis: Redis
) -> None:
    late, ontime = histories()["LATE"], histories()["ONTIME"]
    cases = [record(late[2]), record(late[0]), record(ontime[1])]
    alerts = [record(s, a) for s in (late[2], late[1]) for a in alerts_of(s)]
    batch: list[TopicRecord] = [CaseRecord.decode(value) for value in cases]
    batch += [AlertRecord.decode(value) for value in alerts]
    await project_records(model, batch)
    assert await model.case("LATE") == late[2][1] and await model.case("ONTIME") == ontime[1][1]
    assert [a["kind"] for a in await model.alerts(status="firing")] == ["deadline_overdue"]
    # one write per case and per alert: the older records in the batch were never sent
    told = [f[b"kind"] for _, f in await redis.xrange(model.key("changes"))]
    assert told == [b"case", b"case"] + [b"alert"] * len(alerts_of(late[2]))
