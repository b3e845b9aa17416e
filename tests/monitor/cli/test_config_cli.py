"""What `redline config apply` prints: the changes a person checks, and the workers' progress."""

from __future__ import annotations

from pathlib import Path

from monitor.cli.config import changes, progress
from monitor.config import ConfigFiles
from monitor.configfile import Source
from monitor.configrecord import ConfigSet

DATA = Path(__file__).resolve().parents[3] / "monitor" / "data"
RUNNING = ConfigSet.read(ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml"))
YEAR_2027 = """\
calendar: cn
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知
holidays: ["2027-01-01"]
workdays: []
"""


def test_the_changes_name_each_year_made_official_or_provisional_and_codes_added() -> None:
    before = RUNNING.load()
    catalog = (DATA / "catalog.yaml").read_text("utf-8").replace("code: ID-CARD", "code: ID-CARD2")
    _, after = RUNNING.with_files(
        [Source("cn-2027.yaml", YEAR_2027), Source("catalog.yaml", catalog)]
    )
    assert changes(before, after, this_year=2026) == [
        "calendar cn 2027: provisional → official (国务院办公厅关于2027年部分节假日安排的通知)",
        "item ID-CARD2 added",
        "item ID-CARD removed",
    ]
    assert changes(after, before, this_year=2026)[0] == "calendar cn 2027: official → provisional"


def test_progress_is_complete_when_every_worker_runs_the_version_and_finished() -> None:
    def worker(version: int, recompute: dict[str, object] | None = None) -> dict[str, object]:
        return {
            "process": "worker",
            "id": f"h:{version}",
            "version": version,
            "recompute": recompute,
        }

    busy = {"version": 5, "cases": 10, "done": 4, "seconds": 0.5, "finished": False}
    done = {**busy, "done": 10, "finished": True}
    assert progress([worker(4), worker(5, busy)], 5) == (
        "workers running version 5: 1 of 2; open cases recomputed 4 of 10 (0.5 s)",
        False,
    )
    assert progress([worker(5, done), worker(5)], 5)[1] is True
    assert progress([worker(5, busy)], 5)[1] is False
    assert progress([], 5)[1] is True  # no worker: it runs the newest when it starts
