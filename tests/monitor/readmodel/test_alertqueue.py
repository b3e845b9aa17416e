"""The alert queue: its filters and cursors (pure), and the walk over the alert indexes on the
real Redis (every page, both orders, every filter, writes between pages, a property)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from monitor.alert import KIND_RULES, AlertKind, AlertStatus
from monitor.readmodel import CursorError, ReadModel, View
from monitor.readmodel.alertqueue import (
    AlertFilter,
    Order,
    Position,
    decode_alert_cursor,
    encode_alert_cursor,
)
from monitor.timeutil import parse_instant, zone

integration = pytest.mark.integration

SHANGHAI = zone("Asia/Shanghai")
T0 = parse_instant("2026-11-02T09:00:00+08:00")
CENTERS = ("GZ-TIANHE", "LS-CHENGGUAN")
DEPARTMENTS = ("market", "health")
ITEMS = ("FOOD", "DRUG")


def alert(alert_id: str, fired_at: int, **fields: Any) -> View:
    """An alert view as the worker writes it (the fields the queue reads, others left out)."""
    kind = AlertKind(fields.pop("kind", AlertKind.DEADLINE_OVERDUE.value))
    rule = KIND_RULES[kind]
    return {
        "id": alert_id,
        "case_id": fields.pop("case_id", f"C-{alert_id}"),
        "kind": kind.value,
        "severity": rule.severity.value,
        "level": rule.first_level,
        "fired_at": SHANGHAI.format(fired_at),
        "status": AlertStatus.FIRING.value,
        "resolved_at": None,
        "resolution": None,
        "center": CENTERS[0],
        "department": DEPARTMENTS[0],
        "item_code": ITEMS[0],
        **fields,
    }


def queue_order(alerts: list[View], order: Order) -> list[str]:
    """The ids in the queue's order, computed here from the views."""
    ranked = sorted(alerts, key=lambda a: (parse_instant(a["fired_at"]), a["id"].encode()))
    ids = [a["id"] for a in ranked]
    return ids if order is Order.OLDEST else ids[::-1]


def flat(pages: list[list[str]]) -> list[str]:
    return [alert_id for page in pages for alert_id in page]


async def walk(
    model: ReadModel,
    wanted: AlertFilter,
    order: Order,
    limit: int,
    max_pages: int = 1_000,
) -> list[list[str]]:
    """Every page's ids, following the cursors to the end."""
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = await model.alert_page(wanted, order, limit, cursor)
        assert len(page.items) <= limit
        pages.append([a["id"] for a in page.items])
        if page.cursor is None:
            return pages
        cursor = page.cursor
    raise AssertionError("the walk did not end")


# -- pure ---------------------------------------------------------------------------------------


def test_severity_chooses_the_kinds_of_that_severity() -> None:
    red = {kind for _, kind in AlertFilter(severity="red").sets()}
    assert red == {k.value for k, rule in KIND_RULES.items() if rule.severity.value == "red"}
    assert AlertFilter(kind="deadline_warning", severity="red").sets() == []
    assert AlertFilter(status="firing", kind="deadline_overdue").sets() == [
        ("firing", "deadline_overdue")
    ]
    assert len(AlertFilter().sets()) == len(AlertStatus) * len(AlertKind)


def test_the_record_filters_are_checked_on_the_view() -> None:
    view = alert("a", T0, center="LS-CHENGGUAN", department="health", item_code="DRUG")
    assert AlertFilter(center="LS-CHENGGUAN", department="health", item="DRUG").matches(view)
    assert AlertFilter(level=2, severity="red", status="firing").matches(view)
    for wrong in (
        AlertFilter(center="GZ-TIANHE"),
        AlertFilter(item="FOOD"),
        AlertFilter(level=3),
        AlertFilter(status="resolved"),
    ):
        assert not wrong.matches(view)
    assert not AlertFilter().reads_records() and AlertFilter(level=1).reads_records()


def test_a_cursor_carries_its_position_and_is_refused_with_other_filters_or_order() -> None:
    wanted = AlertFilter(status="firing", center="GZ-TIANHE")
    position = Position(T0, "3c1e0b9a7d55e2f81a04")
    cursor = encode_alert_cursor(position, wanted, Order.OLDEST)
    assert decode_alert_cursor(cursor, wanted, Order.OLDEST) == position
    for other, order in (
        (AlertFilter(status="firing"), Order.OLDEST),
        (AlertFilter(status="firing", center="GZ-TIANHE", level=2), Order.OLDEST),
        (wanted, Order.NEWEST),
    ):
        with pytest.raises(CursorError, match="other filters or another order"):
            decode_alert_cursor(cursor, other, order)
    for bad in ("!!!", "////", "bnVsbA", "WzEsMl0"):  # not base64, null, [1,2]
        with pytest.raises(CursorError, match="not one this API handed out"):
            decode_alert_cursor(bad, wanted, Order.OLDEST)


# -- on the real Redis ---------------------------------------------------------------------------


@pytest.fixture
async def small_scan(redis: Redis) -> AsyncIterator[ReadModel]:
    """A read model whose walk reads at most 7 index entries per page: short pages."""
    read_model = ReadModel(redis, prefix=f"test:{uuid.uuid4().hex}:", alert_scan=7)
    yield read_model
    await read_model.flush()


def mixed(n: int) -> list[View]:
    """``n`` alerts over centres, departments, items, kinds and statuses, many fired in the
    same second (ties broken by id)."""
    kinds = [AlertKind.DEADLINE_OVERDUE, AlertKind.DEADLINE_WARNING, AlertKind.STATUTORY_OVERDUE]
    statuses = list(AlertStatus)
    return [
        alert(
            f"a{(i * 37) % n:04d}",
            T0 + (i // 3) * 60,
            kind=kinds[i % 3].value,
            status=statuses[(i // 2) % 3].value,
            center=CENTERS[i % 2],
            department=DEPARTMENTS[(i // 5) % 2],
            item_code=ITEMS[(i // 7) % 2],
        )
        for i in range(n)
    ]


@integration
@pytest.mark.parametrize("order", list(Order))
async def test_the_pages_hold_every_alert_once_in_order(model: ReadModel, order: Order) -> None:
    alerts = mixed(250)
    await model.write_alerts(alerts)
    pages = await walk(model, AlertFilter(), order, limit=40)
    assert [len(page) for page in pages] == [40] * 6 + [10]
    assert flat(pages) == queue_order(alerts, order)


@integration
async def test_the_default_is_newest_first_and_the_old_list_is_its_first_page(
    model: ReadModel,
) -> None:
    alerts = mixed(30)
    await model.write_alerts(alerts)
    first = await model.alert_page(AlertFilter(status="firing"), limit=5)
    assert [a["id"] for a in first.items] == [
        a["id"] for a in await model.alerts(status="firing", limit=5)
    ]
    assert [a["id"] for a in first.items] == queue_order(
        [a for a in alerts if a["status"] == "firing"], Order.NEWEST
    )[:5]


FILTERS = [
    AlertFilter(status="firing"),
    AlertFilter(kind="deadline_warning"),
    AlertFilter(severity="red"),
    AlertFilter(center="LS-CHENGGUAN"),
    AlertFilter(department="health"),
    AlertFilter(item="DRUG"),
    AlertFilter(level=3),
    AlertFilter(status="acknowledged", severity="red", center="GZ-TIANHE", item="FOOD"),
    AlertFilter(kind="deadline_warning", severity="red"),  # nothing can match
]


@integration
@pytest.mark.parametrize("wanted", FILTERS, ids=repr)
@pytest.mark.parametrize("order", list(Order))
async def test_every_filter_pages_through_exactly_its_alerts(
    small_scan: ReadModel, wanted: AlertFilter, order: Order
) -> None:
    alerts = mixed(120)
    await small_scan.write_alerts(alerts)
    pages = await walk(small_scan, wanted, order, limit=4)
    assert flat(pages) == queue_order([a for a in alerts if wanted.matches(a)], order)


@integration
async def test_a_page_comes_back_short_with_a_cursor_when_the_walk_reads_its_bound(
    small_scan: ReadModel,
) -> None:
    alerts = [alert(f"g{i:02d}", T0 + i) for i in range(20)] + [
        alert("l00", T0 + 100, center="LS-CHENGGUAN")
    ]
    await small_scan.write_alerts(alerts)
    pages = await walk(small_scan, AlertFilter(center="LS-CHENGGUAN"), Order.OLDEST, limit=10)
    assert pages == [[], [], ["l00"]]  # 7 + 7 entries read, then the rest to the end


@integration
async def test_a_cursor_is_refused_with_other_filters(model: ReadModel) -> None:
    await model.write_alerts(mixed(20))
    page = await model.alert_page(AlertFilter(status="firing"), Order.OLDEST, 2)
    assert page.cursor is not None
    with pytest.raises(CursorError, match="other filters"):
        await model.alert_page(AlertFilter(status="resolved"), Order.OLDEST, 2, page.cursor)
    with pytest.raises(CursorError):
        await model.alert_page(AlertFilter(status="firing"), Order.NEWEST, 2, page.cursor)


@integration
async def test_writes_between_pages_skip_nothing_and_repeat_nothing(model: ReadModel) -> None:
    """Oldest first, the queue a supervisor works through while alerts keep firing and being
    acknowledged: an alert that was there all along is seen once; one that fires ahead of the
    cursor is seen on a later page; one that fired behind it is left to the next walk."""
    alerts = [alert(f"a{i:02d}", T0 + (i // 2) * 60) for i in range(20)]  # pairs of equal instants
    await model.write_alerts(alerts)
    seen: list[str] = []
    page = await model.alert_page(AlertFilter(), Order.OLDEST, 5)
    seen += [a["id"] for a in page.items]
    assert seen == ["a00", "a01", "a02", "a03", "a04"]
    # on the boundary: fired in the same second as the last one shown, ordered after it by id
    await model.write_alerts(
        [
            alert("a04x", T0 + 2 * 60),
            alert("a00x", T0),  # behind the cursor: not on this walk
            alert("new", T0 + 3_600),  # fired now, at the end of the queue
            {**alerts[7], "status": "acknowledged", "acknowledged_at": alerts[7]["fired_at"]},
            {**alerts[2], "status": "acknowledged", "acknowledged_at": alerts[2]["fired_at"]},
        ]
    )
    while page.cursor is not None:
        page = await model.alert_page(AlertFilter(), Order.OLDEST, 5, page.cursor)
        seen += [a["id"] for a in page.items]
        if len(seen) == 10:  # rewritten, its fired_at unchanged: it keeps its place
            await model.write_alerts([{**alerts[15], "detail": "rewritten"}])
    expected = [a["id"] for a in alerts[:5]] + ["a04x"] + [a["id"] for a in alerts[5:]] + ["new"]
    assert seen == expected
    assert len(seen) == len(set(seen))


@integration
async def test_an_alert_that_changes_status_keeps_its_place_in_an_unfiltered_queue(
    model: ReadModel,
) -> None:
    alerts = [alert(f"a{i:02d}", T0 + i) for i in range(10)]
    await model.write_alerts(alerts)
    page = await model.alert_page(AlertFilter(), Order.NEWEST, 4)
    await model.write_alerts([{**a, "status": "resolved"} for a in alerts])
    rest = await walk_from(model, AlertFilter(), Order.NEWEST, 4, page.cursor)
    assert [a["id"] for a in page.items] + rest == [f"a{i:02d}" for i in range(9, -1, -1)]


async def walk_from(
    model: ReadModel, wanted: AlertFilter, order: Order, limit: int, cursor: str | None
) -> list[str]:
    ids: list[str] = []
    while cursor is not None:
        page = await model.alert_page(wanted, order, limit, cursor)
        ids += [a["id"] for a in page.items]
        cursor = page.cursor
    return ids


generated_alerts = st.lists(
    st.builds(
        lambda n, second, kind, status, center, item: alert(
            f"g{n}",
            T0 + second,
            kind=kind.value,
            status=status.value,
            center=center,
            item_code=item,
        ),
        st.integers(0, 10_000),
        st.integers(0, 5),  # few instants: many ties
        st.sampled_from(list(AlertKind)),
        st.sampled_from(list(AlertStatus)),
        st.sampled_from(CENTERS),
        st.sampled_from(ITEMS),
    ),
    max_size=40,
    unique_by=lambda a: a["id"],
)
generated_filters = st.builds(
    AlertFilter,
    status=st.none() | st.sampled_from([s.value for s in AlertStatus]),
    kind=st.none() | st.sampled_from([k.value for k in AlertKind]),
    severity=st.none() | st.sampled_from(["yellow", "red"]),
    center=st.none() | st.sampled_from(CENTERS),
    item=st.none() | st.sampled_from(ITEMS),
    level=st.none() | st.integers(1, 3),
)


@integration
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    alerts=generated_alerts,
    wanted=generated_filters,
    order=st.sampled_from(list(Order)),
    limit=st.integers(1, 12),
    scan=st.integers(1, 30),
)
async def test_the_pages_concatenated_are_the_filtered_sorted_list(
    redis: Redis,
    alerts: list[View],
    wanted: AlertFilter,
    order: Order,
    limit: int,
    scan: int,
) -> None:
    model = ReadModel(redis, prefix=f"test:{uuid.uuid4().hex}:", alert_scan=scan)
    try:
        await model.write_alerts(alerts)
        pages = await walk(model, wanted, order, limit)
        assert flat(pages) == queue_order([a for a in alerts if wanted.matches(a)], order)
    finally:
        await model.flush()
