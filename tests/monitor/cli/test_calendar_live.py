"""`redline calendar check YEAR.yaml --live` on a running worker: a year file that adds a day
off on the last working day before today and a make-up day on a weekend day of the same year
moves one case later, one earlier and corrects a red one, as the engine counts them offline with
the same files; and nothing changes on the stack (same configuration version, same views).

The days are chosen relative to today, since the worker runs on the real clock (as in
tests/monitor/api/test_live_config.py, whose calendar helpers these are)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from bench.feeds import produce
from bench.processes import RedlineProcess, WorkerProcess
from bench.runs import forget_run, isolated_settings
from monitor import configlink
from monitor.calendar import load_calendars, provisional_holidays
from monitor.config import ConfigFiles
from monitor.readmodel import ReadModel, View
from monitor.settings import Settings
from streams.topics import ensure_topics
from tests.monitor.api.test_live_config import DATA, accepted, deadline, instant, today, workday
from tests.stack import once_changed

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Settings, ReadModel]]:
    """One worker of this test's own, running the first version."""
    settings = isolated_settings(kafka_bootstrap, redis_url, tmp_path / "w1")
    await ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "w1")
    redis = Redis.from_url(redis_url)
    try:
        yield settings, ReadModel(redis, settings.read_model_prefix)
    finally:
        worker.stop()
        await redis.aclose()
        await forget_run(settings)


def check_live(settings: Settings, path: Path, **env: str) -> tuple[int, str]:
    """`redline calendar check --live PATH` with the run's settings: exit code and output."""
    log = path.with_suffix(f".{len(env)}.log")
    process = RedlineProcess(
        ["calendar", "check", "--live", str(path)], settings, log, env=dict(env)
    )
    code = process.process.wait(timeout=120)
    process.stop()
    return code, log.read_text()


def last_before(day: date, files: ConfigFiles) -> date:
    """The last working day before ``day`` under ``files``."""
    day -= timedelta(days=1)
    while not workday(files, day):
        day -= timedelta(days=1)
    return day


def weekends_off(after: date, year: int, files: ConfigFiles) -> list[date]:
    """The weekend days off after ``after`` in ``year``, under ``files``."""
    days = (after + timedelta(days=n) for n in range(1, 366))
    return [d for d in days if d.year == year and d.weekday() >= 5 and not workday(files, d)]


def year_file(path: Path, year: int, off: date, on: date) -> Path:
    """The shipped schedule of ``year`` (or the provisional rule's) with ``off`` a day off and
    ``on`` a make-up day."""
    calendars = load_calendars()
    shipped = calendars.years("cn").get(year)
    holidays = (
        shipped.holidays if shipped else provisional_holidays(year, calendars.festival_dates(year))
    )
    body = {
        "calendar": "cn",
        "year": year,
        "source": f"测试通知 {year}（{off} 加休，{on} 调休上班）",
        "holidays": sorted(str(d) for d in holidays | {off}),
        "workdays": sorted(str(d) for d in (shipped.workdays if shipped else set()) | {on}),
    }
    path.write_text(yaml.safe_dump(body, allow_unicode=True), "utf-8")
    return path


Records = list[tuple[bytes, bytes]]


def first_moved(
    case_id: str, day: date, base: ConfigFiles, after: ConfigFiles, now: int, later: bool
) -> tuple[Records, tuple[str, str]] | None:
    """A case accepted on ``day`` whose deadline, still ahead, moves later (or earlier) under
    ``after``: its events and its deadline before and after, as the engine counts them."""
    for limit in range(1, 30):
        records = accepted(case_id, day, f"{limit}wd")
        old, new = deadline(base, records, now), deadline(after, records, now)
        assert old is not None and new is not None
        ahead = now < min(instant(old), instant(new))
        if ahead and old != new and (instant(new) > instant(old)) is later:
            return records, (old, new)
    return None


async def test_check_live_says_which_deadlines_move_and_changes_nothing(
    stack: tuple[Settings, ReadModel], tmp_path: Path
) -> None:
    settings, read_model = stack
    now = int(time.time())
    base = ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml", (), None)
    holiday = last_before(today(), base)  # the last working day before today goes off
    opened = last_before(holiday, base)
    red = accepted("LIVE-RED", opened, "1wd")  # due with the holiday, now after it
    # a weekend day after today at work: far enough that a case counting the holiday ends
    # before it (later), and one started on the holiday counts it (earlier)
    for makeup in weekends_off(today(), holiday.year, base):
        path = year_file(tmp_path / f"cn-{holiday.year}.yaml", holiday.year, holiday, makeup)
        after = ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml", (path,), None)
        later = first_moved("LIVE-LATER", opened, base, after, now, later=True)
        earlier = first_moved("LIVE-EARLIER", holiday, base, after, now, later=False)
        if later and earlier:
            break
    else:
        pytest.skip("no weekend day left this year to move a deadline earlier")
    old, new = deadline(base, red, now), deadline(after, red, now)
    assert old is not None and new is not None and instant(old) <= now < instant(new)
    expected = {"LIVE-RED": (old, new), "LIVE-LATER": later[1], "LIVE-EARLIER": earlier[1]}
    await produce(settings, *red, *later[0], *earlier[0])

    async def all_shown() -> dict[str, View] | None:
        views = {case_id: await read_model.case(case_id) for case_id in expected}
        shown = {case_id: view for case_id, view in views.items() if view is not None}
        if len(shown) < 3 or shown["LIVE-RED"]["light"] != "red":
            return None
        return shown

    before = await once_changed(read_model, all_shown)
    version = await configlink.newest(settings)
    assert version is not None

    code, out = check_live(settings, path)
    assert code == 0, out
    lines = out.splitlines()
    live = lines.index(next(line for line in lines if line.startswith("live stack")))
    assert lines[live].startswith(
        f"live stack (configuration version {version.version}, 3 open cases at "
    )
    moved = lines.index("  deadlines that move: 3 (2 later, 1 earlier)")
    for case_id, (old, new) in sorted(expected.items()):
        way = "earlier" if case_id == "LIVE-EARLIER" else "later"
        moved += 1
        assert lines[moved].startswith(f"    {case_id} deadline {old} → {new} ({way})"), out
    old, new = expected["LIVE-RED"]
    corrected = lines.index("  red lights corrected: 1")
    assert lines[corrected + 1].startswith(f"    LIVE-RED deadline {old} → {new} (later)")
    assert "  turn red at once: 0" in lines
    assert lines[-1] == "  not predicted here (the recompute decides): 0"

    # nothing changed: the same configuration version, the same views
    newest = await configlink.newest(settings)
    assert newest is not None and newest.version == version.version
    assert {case_id: await read_model.case(case_id) for case_id in expected} == before

    # a read model that cannot be reached is said, with exit 2
    code, out = check_live(settings, path, REDLINE_REDIS_URL="redis://127.0.0.1:1/0")
    assert code == 2
    assert "redline: Redis redis://127.0.0.1:1/0: the open cases cannot be read" in out
