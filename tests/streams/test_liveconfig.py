"""The worker's configuration switch and recompute pass, on a faust memory table and the real
tracker, without Kafka: which partitions are recomputed, marked, left to their new owner."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faust
import pytest

from monitor.config import ConfigFiles
from monitor.configfile import Source
from monitor.configrecord import ConfigRecord, ConfigSet
from monitor.engine import Engine
from monitor.snapshot import next_change_of
from monitor.timeutil import parse_instant
from streams import liveconfig
from streams.kit.tablestore import TableStore
from streams.liveconfig import LiveConfig, marker_key
from streams.tracker import Outputs, Tracker
from tests.streams.test_tracker import NATIONAL_DAY_WORKED  # 10-05..10-07 worked

DATA = Path(__file__).resolve().parents[2] / "monitor" / "data"
FILES = ConfigSet.read(ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml"))
ARRIVED = parse_instant("2026-09-28T10:00:05+08:00")


def accepted(case_id: str, n: int = 1, at: str = "2026-09-28T10:00:00+08:00") -> bytes:
    body = {
        "event_id": f"{case_id}-{n}",
        "type": "case.accepted",
        "case_id": case_id,
        "occurred_at": at,
        "source": "win-1",
        "center": "GZ-TIANHE",
        "item_code": "FOOD-LICENSE",
        "data": {"promised": "5wd"},
    }
    return json.dumps(body).encode()


def completed(case_id: str) -> bytes:
    body = {
        "event_id": f"{case_id}-2",
        "type": "case.completed",
        "case_id": case_id,
        "occurred_at": "2026-09-29T10:00:00+08:00",
        "source": "win-1",
        "data": {"result": "approved"},
    }
    return json.dumps(body).encode()


class Reports:
    """What the read model is told: the worker's reports, and the codes it folds."""

    def __init__(self) -> None:
        self.known: Any = None
        self.entries: list[dict[str, Any]] = []

    async def report_config(self, process: str, entry: dict[str, Any]) -> None:
        self.entries.append(entry)


class Worker:
    """A tracker on a faust memory table, its cases on partitions 0-3, and a LiveConfig."""

    def __init__(self) -> None:
        app = faust.App("liveconfig-test", store="memory://", web_enabled=False)
        table = app.Table("state", partitions=4, key_type=bytes, value_type=bytes)
        self.store = TableStore(table, next_change_of)
        self.tracker = Tracker(Engine(FILES.load()), self.store)
        self.sent: list[tuple[int, Outputs]] = []
        self.owned = {0, 1, 2, 3}
        self.reports = Reports()
        record = ConfigRecord(FILES, "ops@test", 1, "seed", version=1)
        self.live = LiveConfig(
            record,
            self.tracker,
            self.store,
            self.reports,
            self.send,
            lambda: self.owned,  # type: ignore[arg-type]
        )

    async def send(self, outputs: Sequence[tuple[int, Outputs]]) -> None:
        self.sent += outputs
        self.store.take_changes()

    def open_case(
        self, case_id: str, partition: int, at: str = "2026-09-28T10:00:00+08:00"
    ) -> None:
        self.store.partition = partition
        self.tracker.on_event(case_id.encode(), accepted(case_id, at=at), ARRIVED)

    def close_case(self, case_id: str, partition: int) -> None:
        self.store.partition = partition
        self.tracker.on_event(case_id.encode(), completed(case_id), ARRIVED)

    def published(self) -> dict[str, dict[str, Any]]:
        return {key.decode(): json.loads(value) for _, out in self.sent for key, value in out.cases}

    def marker(self, partition: int) -> int:
        return self.live._marker(partition)


def a_year(version: int) -> tuple[ConfigRecord, Any]:
    files, config = FILES.with_files([Source("cn-2026.yaml", NATIONAL_DAY_WORKED)])
    return ConfigRecord(files, "ops@test", 2, "apply", version=version), config


def a_catalog_edit(over: ConfigRecord, version: int) -> tuple[ConfigRecord, Any]:
    text = (DATA / "catalog.yaml").read_text("utf-8").replace("食品经营许可", "食品经营许可证")
    files, config = over.files.with_files([Source("catalog.yaml", text)])
    return ConfigRecord(files, "ops@test", 2, "apply", version=version), config


async def finished(worker: Worker) -> None:
    assert worker.live._pass is not None
    await worker.live._pass


@pytest.fixture
def worker() -> Worker:
    return Worker()


async def test_a_new_calendar_recomputes_every_open_case_of_the_owned_partitions(
    worker: Worker,
) -> None:
    worker.open_case("A", 0)
    worker.open_case("B", 3)
    worker.open_case("C", 3)
    worker.close_case("C", 3)
    worker.tracker.forget_all()  # as after a restart: nothing held
    await worker.live.switch(*a_year(2))
    await finished(worker)
    published = worker.published()
    assert sorted(published) == ["A", "B"]  # the closed case is left alone
    for view in published.values():
        assert view["deadline"] == "2026-10-08T00:00:00+08:00" and view["version"][2] == 2
    assert [worker.marker(p) for p in range(4)] == [2, 2, 2, 2]
    progress = worker.reports.entries[-1]["recompute"]
    assert (progress["cases"], progress["done"], progress["left"], progress["finished"]) == (
        2,
        2,
        0,
        True,
    )
    # nothing left: a rebalance that brings no stale partition recomputes nothing
    worker.sent.clear()
    worker.live.start()
    await finished(worker)
    assert not worker.published()


async def test_the_cases_due_soonest_are_recomputed_first_whatever_their_partition(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(liveconfig, "CHUNK", 1)  # a turn per case: the order shows
    worker.open_case("LATEST", 0, at="2026-09-30T10:00:00+08:00")
    worker.open_case("SOONEST", 2, at="2026-09-28T10:00:00+08:00")
    worker.open_case("BETWEEN", 3, at="2026-09-29T10:00:00+08:00")
    worker.tracker.forget_all()
    await worker.live.switch(*a_year(2))
    await finished(worker)
    turns = [(partition, key.decode()) for partition, out in worker.sent for key, _ in out.cases]
    assert turns == [(2, "SOONEST"), (3, "BETWEEN"), (0, "LATEST")]
    assert [worker.marker(p) for p in range(4)] == [2, 2, 2, 2]


async def test_a_partition_moved_away_is_left_unmarked_for_its_new_owner(worker: Worker) -> None:
    worker.open_case("A", 0)
    worker.open_case("B", 2)
    worker.tracker.forget_all()
    worker.owned = {0, 1}  # partitions 2 and 3 went to another worker meanwhile
    await worker.live.switch(*a_year(2))
    await finished(worker)
    assert sorted(worker.published()) == ["A"]
    assert worker.marker(0) == 2 and worker.marker(2) == 1  # still version 1's: recomputed later
    worker.owned = {0, 1, 2, 3}  # it comes back: the rebalance's pass does it
    worker.live.start()
    await finished(worker)
    assert sorted(worker.published()) == ["A", "B"] and worker.marker(2) == 2


async def test_a_catalog_edit_recomputes_nothing_and_raises_only_up_to_date_markers(
    worker: Worker,
) -> None:
    worker.open_case("A", 0)
    worker.tracker.forget_all()
    worker.owned = {0}
    await worker.live.switch(*a_year(2))
    await finished(worker)
    worker.sent.clear()
    worker.owned = {0, 1}  # partition 1 arrived with version 1's marker
    await worker.live.switch(*a_catalog_edit(worker.live.record, 3))
    assert not worker.published() and worker.tracker.config_version == 3
    assert worker.marker(0) == 3  # counted under 2, and 3 changes no working time
    assert worker.marker(1) == 1  # not counted under 2: it waits for a pass, not a relabel
    assert marker_key(1) not in worker.tracker.engine.cases


async def test_a_calendar_change_recomputes_only_the_cases_whose_working_days_it_touches(
    worker: Worker,
) -> None:
    worker.open_case("OCTOBER", 0)  # 9-28 + 5wd: its count runs over the National Day days
    worker.open_case("NOVEMBER", 1, at="2026-11-02T10:00:00+08:00")  # from 11-03: untouched
    worker.tracker.forget_all()
    await worker.live.switch(*a_year(2))
    await finished(worker)
    assert sorted(worker.published()) == ["OCTOBER"]
    assert [worker.marker(p) for p in range(4)] == [2, 2, 2, 2]  # both partitions counted
    # a partition whose marker is not one this worker saw switch is recomputed whole (here
    # version 0: a partition from elsewhere, counted who knows under what)
    worker.sent.clear()
    worker.store.partition = 1
    worker.store[marker_key(1)] = worker.store[marker_key(3)].replace(b"2", b"0")
    worker.tracker.forget_all()
    await worker.live.switch(*a_catalog_edit(worker.live.record, 3))
    worker.live.start()
    await finished(worker)
    assert sorted(worker.published()) == ["NOVEMBER"]


async def test_a_switch_reports_its_pass_pending_until_the_pass_reports(worker: Worker) -> None:
    worker.open_case("A", 0)
    worker.tracker.forget_all()
    await worker.live.switch(*a_year(2))
    assert worker.reports.entries[-1]["version"] == 2
    assert worker.reports.entries[-1]["pending"] is True  # config apply waits on
    await finished(worker)
    await worker.live.report()
    last = worker.reports.entries[-1]
    assert last["pending"] is False and last["recompute"]["finished"] is True
