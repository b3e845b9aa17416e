"""Configuration applied to a live system (`redline config apply`): two workers and the API
switch, open cases are recomputed, the wall and the API show the new deadlines, red lights that
no longer hold are corrected and new ones fire at their own instants.

The calendar changes are made relative to today (the workers run on the real clock): a holiday
added on the last working day before today moves a red case's deadline later; a make-up working
day added on a past weekend moves a deadline earlier. Every expected deadline is what the engine
computes offline with the same files, and the cases are chosen so that the change crosses now.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from redis.asyncio import Redis

from bench.feeds import OPENING, SHANGHAI, event, produce
from bench.processes import REDLINE, ApiProcess, RedlineProcess, WorkerProcess, dev_secret
from bench.runs import api_settings, forget_run, isolated_settings, viewer_token
from monitor import configlink
from monitor.calendar import load_calendars, provisional_holidays
from monitor.config import ConfigFiles
from monitor.engine import Engine
from monitor.events import parse_event
from monitor.readmodel import ReadModel
from monitor.settings import Settings
from streams.topics import ensure_topics
from tests.stack import eventually, once_changed

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[3] / "monitor" / "data"
EPOCH = date(1970, 1, 1)


@dataclass
class Live:
    settings: Settings
    api: ApiProcess
    workers: list[WorkerProcess]
    viewer: str
    data: Path
    read_model: ReadModel
    # the operators' year files applied so far, cumulative: year -> (holidays, workdays) added
    added: dict[int, tuple[set[date], set[date]]] = field(default_factory=dict)

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.viewer}"}


@pytest.fixture(scope="module")
async def live(
    kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Live]:
    """Two workers and an API of this module's own, running the first version."""
    data = tmp_path_factory.mktemp("live-config")
    settings = api_settings(isolated_settings(kafka_bootstrap, redis_url, data / "w1"))
    await ensure_topics(settings)
    workers = [WorkerProcess(settings, data / "w1"), WorkerProcess(settings, data / "w2")]
    api = ApiProcess(settings, data, dev_secret(), dev_secret(), access_log=False)
    redis = Redis.from_url(redis_url)
    try:
        await api.wait_until(200, "/readyz")
        viewer = await viewer_token(settings)
        await _started(api.base_url, viewer)
        yield Live(
            settings, api, workers, viewer, data, ReadModel(redis, settings.read_model_prefix)
        )
    finally:
        api.stop()
        for worker in workers:
            worker.stop()
        await redis.aclose()
        await forget_run(settings)


async def _started(base_url: str, viewer: str) -> None:
    """Until the API runs the first version (the files on disk, published by a worker)."""

    async def seeded() -> int | None:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            answer = await client.get("/v1/config", headers={"Authorization": f"Bearer {viewer}"})
        version = answer.json()["version"]
        return version if version >= 1 else None

    await eventually(seeded, timeout=60)


# -- the calendar, as of today -------------------------------------------------------------------


def day_of(day: date) -> int:
    return (day - EPOCH).days


def date_of(day: int) -> date:
    return EPOCH + timedelta(days=day)


def workday(files: ConfigFiles, day: date) -> bool:
    return files.load().calendars.get("cn").is_workday(day_of(day))


def today() -> date:
    return date_of(SHANGHAI.local_day(int(time.time())))


def year_files(live: Live, where: Path) -> list[Path]:
    """A year file per year changed so far: the shipped schedule (or the provisional rule's
    days off) with the days added."""
    calendars = load_calendars()
    where.mkdir(parents=True, exist_ok=True)
    paths = []
    for year, (holidays, workdays) in sorted(live.added.items()):
        shipped = calendars.years("cn").get(year)
        base_off = (
            shipped.holidays
            if shipped
            else provisional_holidays(year, calendars.festival_dates(year))
        )
        base_on = shipped.workdays if shipped else frozenset()
        body = {
            "calendar": "cn",
            "year": year,
            "source": f"测试通知 {year}（{len(holidays)} 天加休，{len(workdays)} 天调休上班）",
            "holidays": sorted(str(d) for d in (set(base_off) | holidays) - workdays),
            "workdays": sorted(str(d) for d in set(base_on) | workdays),
        }
        path = where / f"cn-{year}.yaml"
        path.write_text(yaml.safe_dump(body, allow_unicode=True), "utf-8")
        paths.append(path)
    return paths


def a_makeup_day_added(live: Live, files: ConfigFiles) -> date:
    """The last weekend day before today that is a day off under ``files`` becomes a make-up
    working day (in ``live.added``); returns the last working day before it."""
    makeup = today() - timedelta(days=1)
    while workday(files, makeup) or makeup.weekday() < 5:
        makeup -= timedelta(days=1)
    opened = makeup - timedelta(days=1)
    while not workday(files, opened):
        opened -= timedelta(days=1)
    live.added.setdefault(makeup.year, (set(), set()))[1].add(makeup)
    return opened


def config_with(live: Live, where: Path) -> ConfigFiles:
    return ConfigFiles(
        DATA / "catalog.yaml", DATA / "centres.yaml", tuple(year_files(live, where)), None
    )


def deadline(files: ConfigFiles, records: list[tuple[bytes, bytes]], now: int) -> str | None:
    """The case's promised deadline as the engine counts it offline under ``files``."""
    engine = Engine(files.load())
    for _, value in records:
        assert not engine.offer(parse_event(value), value).refused
    (case_id,) = engine.cases
    engine.advance(case_id, now)
    return engine.view(case_id, now)["deadline"]  # type: ignore[no-any-return]


def accepted(case_id: str, day: date, limit: str, **limits: str) -> list[tuple[bytes, bytes]]:
    at = SHANGHAI.day_start(day_of(day)) + 10 * 3600
    return [event(case_id, 1, "accepted", at, **OPENING, data={"promised": limit, **limits})]


def instant(text: str) -> int:
    from monitor.timeutil import parse_instant

    return parse_instant(text)


# -- the processes -------------------------------------------------------------------------------


def apply(live: Live, *paths: Path) -> subprocess.CompletedProcess[str]:
    """`redline config apply PATHS…` with the run's settings, as an operator runs it."""
    log = live.data / f"apply-{len(list(live.data.glob('apply-*.log')))}.log"
    process = RedlineProcess(
        ["config", "apply", "--wait", "60", *map(str, paths)], live.settings, log
    )
    code = process.process.wait(timeout=120)
    process.stop()
    return subprocess.CompletedProcess([REDLINE], code, log.read_text(), "")


async def case(live: Live, case_id: str) -> dict[str, Any] | None:
    async with httpx.AsyncClient(base_url=live.api.base_url, timeout=10) as client:
        answer = await client.get(f"/v1/cases/{case_id}", headers=live.auth())
    return answer.json() if answer.status_code == 200 else None


async def seen(live: Live, case_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        return await live.read_model.case(case_id)

    return await once_changed(live.read_model, probe)


async def wall_reds(live: Live) -> set[str]:
    """The red cases the wall lists (``GET /v1/stats/overview``)."""
    async with httpx.AsyncClient(base_url=live.api.base_url, timeout=10) as client:
        answer = await client.get("/v1/stats/overview", headers=live.auth())
    assert answer.status_code == 200, answer.text
    return {red["case_id"] for red in answer.json()["red"]}


async def api_config(live: Live) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live.api.base_url, timeout=10) as client:
        answer = await client.get("/v1/config", headers=live.auth())
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def versions(live: Live) -> dict[str, int]:
    """Each reporting worker's configuration version, by process id."""
    return {
        report["id"]: report["version"]
        for report in await live.read_model.config_reports()
        if report["process"] == "worker"
    }


# -- the tests -----------------------------------------------------------------------------------


async def test_a_later_deadline_is_shown_the_red_corrected_and_the_year_made_official(
    live: Live,
) -> None:
    start = await api_config(live)
    assert start["version"] >= 1 and start["how"] == "seed"
    assert 2027 in start["calendars"]["cn"]["provisional"] or today().year != 2026
    now = int(time.time())
    base = config_with(live, live.data / "base")
    # the last working day before today becomes a day off
    holiday = today() - timedelta(days=1)
    while not workday(base, holiday):
        holiday -= timedelta(days=1)
    opened = holiday - timedelta(days=1)
    while not workday(base, opened):
        opened -= timedelta(days=1)
    red = accepted("LIVE-LATER", opened, "1wd")
    # a case whose count runs into next year, on its provisional rule until the file comes
    next_year = today().year + 1
    spanning = accepted("LIVE-SPAN", today() - timedelta(days=1), "25wd", statutory="30wd")
    await produce(live.settings, *red, *spanning)
    before = await seen(live, "LIVE-LATER")

    async def red_now() -> dict[str, Any] | None:
        view = await live.read_model.case("LIVE-LATER")
        return view if view and view["light"] == "red" else None

    before = await once_changed(live.read_model, red_now)
    assert before["deadline"] == deadline(base, red, now)
    assert "LIVE-LATER" in await wall_reds(live)
    assert (await seen(live, "LIVE-SPAN"))["calendar_provisional"] is True

    live.added.setdefault(holiday.year, (set(), set()))[0].add(holiday)
    live.added.setdefault(next_year, (set(), set()))
    after_files = config_with(live, live.data / "later")
    moved = deadline(after_files, red, now)
    assert moved is not None and instant(moved) > now > instant(before["deadline"])
    done = apply(live, *after_files.calendars)
    assert done.returncode == 0, done.stdout
    assert "provisional → official" in done.stdout and "running version" in done.stdout

    async def corrected() -> dict[str, Any] | None:
        view = await case(live, "LIVE-LATER")
        return view if view and view["deadline"] == moved else None

    view = await eventually(corrected, timeout=30)
    assert view["light"] != "red"
    assert "LIVE-LATER" not in await wall_reds(live)  # the wall's red list, from the API
    (overdue,) = [a for a in view["alerts"] if a["kind"] == "deadline_overdue"]
    assert overdue["status"] == "resolved" and overdue["resolution"] == "corrected"
    spanning_view = await case(live, "LIVE-SPAN")
    assert spanning_view is not None and spanning_view["calendar_provisional"] is False
    config = await api_config(live)
    assert (
        config["version"] > start["version"]
        and str(next_year) in config["calendars"]["cn"]["official"]
    )
    assert next_year not in config["calendars"]["cn"]["provisional"]


async def test_an_earlier_deadline_already_passed_turns_red_at_once_at_the_new_instant(
    live: Live,
) -> None:
    now = int(time.time())
    old_files = config_with(live, live.data / "earlier-before")
    opened = a_makeup_day_added(live, old_files)
    new_files = config_with(live, live.data / "earlier")
    for days in range(1, 30):
        records = accepted("LIVE-EARLIER", opened, f"{days}wd")
        old, new = deadline(old_files, records, now), deadline(new_files, records, now)
        assert old is not None and new is not None
        if instant(new) <= now < instant(old):
            break
    else:
        pytest.fail("no limit moves a deadline across now")
    await produce(live.settings, *records)
    view = await seen(live, "LIVE-EARLIER")
    assert view["light"] != "red" and view["deadline"] == old
    done = apply(live, *new_files.calendars)
    assert done.returncode == 0, done.stdout

    async def red() -> dict[str, Any] | None:
        view = await case(live, "LIVE-EARLIER")
        return view if view and view["light"] == "red" else None

    view = await eventually(red, timeout=30)
    assert view["deadline"] == new
    (overdue,) = [a for a in view["alerts"] if a["kind"] == "deadline_overdue"]
    assert overdue["fired_at"] == new  # at the new deadline (event time), not when applied


async def test_a_deadline_moved_to_seconds_ahead_turns_red_at_that_instant(live: Live) -> None:
    now = int(time.time())
    target = now + 20
    old_files = config_with(live, live.data / "ahead-before")
    opened = a_makeup_day_added(live, old_files)
    if not workday(old_files, today()):
        # a deadline falls in working time only: on a weekend, today becomes a make-up day too
        if today().weekday() < 5:
            pytest.skip("today is a weekday holiday: no deadline can fall seconds ahead")
        live.added.setdefault(today().year, (set(), set()))[1].add(today())
    first = opened + timedelta(days=1)  # the first day counted: a suspension there removes
    while not workday(old_files, first):  # exactly the seconds it lasts
        first += timedelta(days=1)
    new_files = config_with(live, live.data / "ahead")
    # the longest limit whose deadline comes before the target, then a suspension on the
    # first day counted that pushes it to the target exactly (found by bisection: the deadline
    # grows with the suspension, a second for a second once it lands on a working day)
    for days in range(30, 0, -1):
        plain = accepted("LIVE-AHEAD", opened, f"{days}wd", statutory="60wd")
        new = deadline(new_files, plain, now)
        assert new is not None
        if instant(new) <= target - 60:
            break
    pause = SHANGHAI.day_start(day_of(first)) + 60

    def paused(seconds: int) -> list[tuple[bytes, bytes]]:
        return [
            *plain,
            event("LIVE-AHEAD", 2, "suspended", pause, data={"reason": "hearing"}),
            event("LIVE-AHEAD", 3, "resumed", pause + seconds),
        ]

    low, high = 0, now - pause - 1
    while low < high:
        middle = (low + high) // 2
        reached = deadline(new_files, paused(middle), now)
        if reached is not None and instant(reached) >= target:
            high = middle
        else:
            low = middle + 1
    records = paused(low)
    old = deadline(old_files, records, now)
    assert deadline(new_files, records, now) == SHANGHAI.format(target)
    assert old is not None and instant(old) > target + 3600
    await produce(live.settings, *records)

    async def resumed() -> dict[str, Any] | None:
        view = await live.read_model.case("LIVE-AHEAD")
        return view if view and view["deadline"] == old else None

    await once_changed(live.read_model, resumed)
    done = apply(live, *new_files.calendars)
    assert done.returncode == 0, done.stdout
    assert time.time() < target, "the apply took too long for this test's margin"

    async def moved() -> dict[str, Any] | None:
        view = await live.read_model.case("LIVE-AHEAD")
        return view if view and view["deadline"] == SHANGHAI.format(target) else None

    view = await once_changed(live.read_model, moved, timeout=20)
    assert view["light"] != "red"

    async def red() -> dict[str, Any] | None:
        view = await live.read_model.case("LIVE-AHEAD")
        return view if view and view["light"] == "red" else None

    view = await once_changed(live.read_model, red, timeout=30)
    assert time.time() >= target, "red only once the new deadline has passed"
    (overdue,) = [a for a in view["alerts"] if a["kind"] == "deadline_overdue"]
    assert overdue["fired_at"] == SHANGHAI.format(target)


async def test_every_worker_switches_a_later_one_starts_on_it_and_a_restart_keeps_it(
    live: Live,
) -> None:
    newest = await configlink.newest(live.settings)
    assert newest is not None

    async def all_on_newest() -> dict[str, int] | None:
        found = await versions(live)
        return found if len(found) >= 2 and set(found.values()) == {newest.version} else None

    await eventually(all_on_newest, timeout=30)
    ready = httpx.get(f"{live.api.base_url}/readyz", timeout=10).json()
    assert ready["config"]["version"] == newest.version
    apis = [r for r in await live.read_model.config_reports() if r["process"] == "api"]
    assert [api["version"] for api in apis] == [newest.version]
    # a worker started after the change, and one restarted, run the newest version
    live.workers[1].stop()
    live.workers[1] = WorkerProcess(live.settings, live.data / "w2")
    live.workers.append(WorkerProcess(live.settings, live.data / "w3"))

    async def three_on_newest() -> dict[str, int] | None:
        found = await versions(live)
        alive = {pid for pid in found if int(pid.rsplit(":", 1)[1]) in pids()}
        on = {pid for pid in alive if found[pid] == newest.version}
        return found if len(on) == 3 else None

    def pids() -> set[int]:
        return {worker.process.pid for worker in live.workers if worker.process.poll() is None}

    await eventually(three_on_newest, timeout=90)
    for worker in live.workers[1:]:
        assert f"configuration version {newest.version}" in worker.log()


async def test_a_bad_set_is_refused_with_every_problem_and_nothing_changes(live: Live) -> None:
    before = await configlink.newest(live.settings)
    assert before is not None
    catalog = live.data / "bad-catalog.yaml"
    catalog.write_text(
        "items:\n"
        "  - {code: A, name: 甲, department: MKT, promised: ten, statutory: 20wd}\n"
        "  - {code: B, name: 乙, department: MKT, promised: 30wd, statutory: 20wd}\n",
        "utf-8",
    )
    year = live.data / "bad-2027.yaml"
    year.write_text(
        "calendar: cn\nyear: 2027\nsource: 测试\nholidays: ['2026-12-31']\n"
        "workdays: ['2027-01-05']\n",
        "utf-8",
    )
    done = apply(live, catalog, year)
    assert done.returncode == 2, done.stdout
    assert "nothing applied: 4 problems" in done.stdout
    for says in (
        "items[0] (A): promised: 'ten'",
        "items[1] (B): promised: 30wd is longer than statutory 20wd",
        "holidays[0]: 2026-12-31 is not in 2027",
        "2027-01-05 is a Tuesday",
    ):
        assert says in done.stdout
    after = await configlink.newest(live.settings)
    assert after is not None and after.version == before.version
    assert (await api_config(live))["version"] == before.version
    assert set((await versions(live)).values()) == {before.version}
