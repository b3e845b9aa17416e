"""The terminal wall's text from read-model data, without Redis (`redline watch`)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

import pytest

from monitor.cli.terminal_wall import span, wall_text
from monitor.readmodel import DepartmentRank, SourceHealth
from monitor.timeutil import DAY, HOUR, parse_instant

NOW = parse_instant("2026-10-12T09:00:00+08:00")
WHERE = "redis://127.0.0.1:6379/0 (prefix redline:rm:)"
R = TypeVar("R", SourceHealth, DepartmentRank)
NO_CASE = {"green": 0, "yellow": 0, "red": 0, "suspended": 0, "closed": 0}


def record(kind: type[R], **given: Any) -> R:
    """A read-model record with the fields the wall shows; the others are left empty."""
    empty: dict[str, Any] = {field.name: None for field in fields(kind)}
    return kind(**{**empty, **given})


def source(name: str, lag_last_s: int | None) -> SourceHealth:
    return record(
        SourceHealth, source=name, accepted=12, duplicate=3, refused=1, lag_last_s=lag_last_s
    )


def rank(department: str, on_time_rate: float | None) -> DepartmentRank:
    return record(
        DepartmentRank,
        department=department,
        completed=4,
        breached=1,
        overdue_now=2,
        on_time_rate=on_time_rate,
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (40, "40s"),
        (12 * 60 + 30, "12m 30s"),
        (5 * HOUR + 7 * 60, "5h 07m"),
        (2 * DAY + 3 * HOUR + 59 * 60, "2d 03h"),
        (-5, "0s"),
    ],
)
def test_a_span_shows_its_two_largest_units(seconds: int, text: str) -> None:
    assert span(seconds) == text


def test_an_empty_read_model_says_that_nothing_came_yet() -> None:
    lines = wall_text(NOW, WHERE, NO_CASE, [], [], []).splitlines()[
        :-1
    ]  # the configuration line: below
    assert lines == [
        f"redline watch  2026-10-12T09:00:00+08:00  {WHERE}",
        "cases    green 0  yellow 0  red 0  suspended 0  closed 0",
        "         no case in the read model yet (is a worker running?)",
        "red      0 open",
        "sources  source                    accepted  duplicate  refused  last lag",
        "         no event received yet",
    ]


def test_red_cases_are_overdue_up_to_now_or_to_their_own_later_time() -> None:
    reds: list[dict[str, object]] = [
        {  # as of an hour ago: overdue until now, 1 day 2 hours
            "case_id": "2026-0005",
            "center": "GZ-TIANHE",
            "department": "market",
            "deadline": "2026-10-11T07:00:00+08:00",
            "as_of": "2026-10-12T08:00:00+08:00",
        },
        {  # a simulated feed two hours ahead of the clock: overdue until its own time
            "case_id": "2026-0006",
            "center": None,
            "deadline": "2026-10-12T08:30:00+08:00",
            "as_of": "2026-10-12T11:00:00+08:00",
        },
        {"case_id": "2026-0007", "center": "GZ-YUEXIU", "department": "housing"},
    ]
    totals = {**NO_CASE, "red": 3}
    lines = wall_text(NOW, WHERE, totals, reds, [], []).splitlines()
    assert "no case in the read model yet (is a worker running?)" not in "\n".join(lines)
    assert lines[2:6] == [
        "red      3 open, most overdue:",
        "         2026-0005                    GZ-TIANHE      market       超期 1天2小时",
        "         2026-0006                    -              -            超期 2小时30分",
        "         2026-0007                    GZ-YUEXIU      housing      超期 -",
    ]


def test_feed_health_shows_the_last_lag_and_a_clock_that_runs_ahead() -> None:
    feeds = [source("win-gz", 90), source("win-ls", -95), source("win-yx", None)]
    lines = wall_text(NOW, WHERE, NO_CASE, [], feeds, []).splitlines()[:-1]
    assert lines[-4:] == [
        "sources  source                    accepted  duplicate  refused  last lag",
        "         win-gz                          12          3        1  1m 30s",
        "         win-ls                          12          3        1  -1m 35s (clock ahead)",
        "         win-yx                          12          3        1  -",
    ]


def test_the_ranking_shows_each_department_and_no_rate_without_a_measured_completion() -> None:
    ranks = [rank("market", 0.5), rank("", None)]
    lines = wall_text(NOW, WHERE, NO_CASE, [], [], ranks).splitlines()[:-1]
    assert lines[-3:] == [
        "ranking  department     completed  on time  breached  red now",
        "         market                 4      50%         1        2",
        "         -                      4        -         1        2",
    ]


def test_the_configuration_line_names_the_versions_and_a_recompute_under_way() -> None:
    def worker(version: int, **recompute: object) -> dict[str, object]:
        return {
            "process": "worker",
            "id": f"h:{version}",
            "version": version,
            "recompute": recompute or None,
        }

    def line(*reports: dict[str, object]) -> str:
        return wall_text(NOW, WHERE, NO_CASE, [], [], [], reports).splitlines()[-1]

    assert line() == "config   no worker reports its configuration version"
    assert line(worker(3), worker(3)) == "config   version 3 on 2 workers"
    busy = worker(4, done=120, cases=500, finished=False)
    assert line(worker(3), busy) == (
        "config   version 3, version 4 on 2 workers; recomputing open cases: 120 of 500 done"
    )
    assert line(worker(4, done=5, cases=5, finished=True)) == "config   version 4 on 1 worker"
