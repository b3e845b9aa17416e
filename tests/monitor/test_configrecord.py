"""The running configuration as a record: files laid over the running set, validated at once,
hashed, encoded; and which changes make open cases be recomputed."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import ConfigError, ConfigFiles
from monitor.configfile import Source
from monitor.configrecord import (
    ConfigRecord,
    ConfigSet,
    RecordDecodeError,
    affects_open_cases,
    calendar_change,
    calendar_years,
)
from monitor.timeutil import parse_instant

DATA = Path(__file__).resolve().parents[2] / "monitor" / "data"
RUNNING = ConfigSet.read(ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml"))

YEAR_2027 = """\
calendar: cn
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知
holidays: ["2027-01-01", "2027-01-02", "2027-01-03"]
workdays: []
"""
CATALOG = """\
items:
  - {code: A, name: 甲, department: MKT, promised: 5wd, statutory: 20wd}
"""


def test_files_are_laid_over_the_running_set_by_their_role() -> None:
    year = Source("cn-2027.yaml", YEAR_2027)
    wanted, config = RUNNING.with_files([year, Source("catalog.yaml", CATALOG)])
    assert wanted.centres == RUNNING.centres and wanted.catalog.text == CATALOG
    assert set(config.catalog) == {"A"} and wanted.calendars == (year,)
    assert calendar_years(config, 2026)["cn"]["provisional"] == []
    # a year file for the same year replaces the one before it
    again = Source("cn-2027-v2.yaml", YEAR_2027.replace('"2027-01-03"', '"2027-01-04"'))
    replaced, _ = wanted.with_files([again])
    assert replaced.calendars == (again,) and replaced.catalog == wanted.catalog


def test_every_problem_of_the_set_is_reported_at_once() -> None:
    files = [
        Source("notes.yaml", "hello: world\n"),
        Source("a.yaml", CATALOG),
        Source("b.yaml", CATALOG.replace("5wd", "30wd")),
        Source("bad-2027.yaml", YEAR_2027.replace('"2027-01-01"', '"2026-12-31"')),
    ]
    with pytest.raises(ConfigError) as refused:
        RUNNING.with_files(files)
    problems = refused.value.problems
    assert len(problems) == 3, problems
    assert re.search(r"notes\.yaml: not a Redline configuration file", problems[0])
    assert "b.yaml: a catalog file too, besides a.yaml" in problems[1]
    assert "bad-2027.yaml: holidays[0]: 2026-12-31 is not in 2027" in problems[2]
    # the files that could be placed are validated with the rest of the set
    with pytest.raises(ConfigError) as refused:
        RUNNING.with_files([Source("b.yaml", CATALOG.replace("5wd", "ten"))])
    assert "b.yaml: items[0] (A): promised: 'ten'" in str(refused.value)


texts = st.text(max_size=30)


@given(texts, texts, st.integers(0, 2**40), st.integers(1, 10**6))
def test_a_record_decodes_to_itself_with_its_version(
    text: str, by: str, at: int, version: int
) -> None:
    record = ConfigRecord(replace(RUNNING, policy=Source("p.yaml", text)), by, at, "apply")
    decoded = ConfigRecord.decode(record.encode(), version)
    assert decoded == record.numbered(version) and decoded.digest == record.digest


def test_a_record_whose_files_do_not_match_its_digest_is_refused() -> None:
    value = ConfigRecord(RUNNING, "ops@host", 1, "seed").encode()
    tampered = value.replace(b"FOOD-LICENSE", b"FOOD-LICENCE", 1)
    with pytest.raises(RecordDecodeError, match="digest"):
        ConfigRecord.decode(tampered, 1)
    with pytest.raises(RecordDecodeError, match="a newer Redline"):
        ConfigRecord.decode(value.replace(b'"v": 1', b'"v": 2'), 1)


def test_a_digest_is_of_the_files_alone() -> None:
    one = ConfigRecord(RUNNING, "a@x", 1, "seed")
    two = ConfigRecord(RUNNING, "b@y", 2, "apply")
    assert one.digest == two.digest
    other, _ = RUNNING.with_files([Source("cn-2027.yaml", YEAR_2027)])
    assert ConfigRecord(other, "a@x", 1).digest != one.digest


def test_working_time_and_thresholds_recompute_open_cases_a_catalog_edit_does_not() -> None:
    before = RUNNING.load()
    catalog, _ = RUNNING.with_files([Source("catalog.yaml", CATALOG)])
    year, _ = RUNNING.with_files([Source("cn-2027.yaml", YEAR_2027)])
    policy, _ = RUNNING.with_files([Source("policy.yaml", "yellow_at: {default: 0.5}\n")])
    assert not affects_open_cases(before, catalog.load())
    assert affects_open_cases(before, year.load())
    assert affects_open_cases(before, policy.load())
    assert not affects_open_cases(before, RUNNING.load())


def test_a_calendar_change_touches_the_spans_that_hold_a_changed_day() -> None:
    before = RUNNING.load()
    _, after = RUNNING.with_files([Source("cn-2027.yaml", YEAR_2027)])
    change = calendar_change(before, after)
    assert change is not None  # 2027 made official: every day of it counts as changed

    def span(first: str, until: str) -> list[object]:
        return [parse_instant(first), parse_instant(until), "GZ-TIANHE"]

    assert change.touches(span("2026-12-20T10:00:00+08:00", "2027-01-05T00:00:00+08:00"))
    assert not change.touches(span("2026-11-02T10:00:00+08:00", "2026-11-10T00:00:00+08:00"))
    assert change.touches(None)  # unbounded (a clock paused): always
    # the thresholds or a centre's zone changed: every case, whatever its days
    _, policy = RUNNING.with_files([Source("policy.yaml", "yellow_at: {default: 0.5}\n")])
    assert calendar_change(before, policy) is None
    # two changes in a row: the days of both
    again = YEAR_2027.replace('"2027-01-01"', '"2027-01-01", "2027-03-01"')
    _, later = RUNNING.with_files([Source("cn-2027.yaml", again)])
    both = change.then(calendar_change(after, later))
    assert both is not None and both.touches(
        span("2027-02-26T10:00:00+08:00", "2027-03-02T00:00:00+08:00")
    )
