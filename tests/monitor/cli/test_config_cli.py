"""What `redline config apply` prints: the changes a person checks, and the workers' progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.cli.config import changes, progress
from monitor.config import ConfigFiles
from monitor.configfile import Source
from monitor.configrecord import ConfigRecord, ConfigSet

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
    # switched, its pass started but not yet reporting: not done
    assert progress([{**worker(5), "pending": True}, worker(5, done)], 5)[1] is False


def test_apply_refuses_a_bad_escalation_policy_with_the_other_files_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor import configlink

    async def running(settings: object) -> ConfigRecord:  # the running set, without Kafka
        return ConfigRecord(RUNNING, "test", 0, "seed", version=3)

    async def publish(settings: object, record: ConfigRecord) -> ConfigRecord:
        raise AssertionError("a refused set is never published")

    monkeypatch.setattr(configlink, "running", running)
    monkeypatch.setattr(configlink, "publish", publish)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "yellow_at: {default: 0.8}\n"
        "receivers:\n"
        "  market-robot: {channel: dingtalk, url: https://oapi.dingtalk.com/robot/send}\n"
        "routes:\n"
        "  - match: {department: market}\n"
        "    levels: {1: [market-robt]}\n"
        "    escalate_after: soon\n",
        "utf-8",
    )
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        (DATA / "catalog.yaml").read_text("utf-8").replace("promised: 10wd", "promised: ten"),
        "utf-8",
    )
    done = CliRunner().invoke(app, ["config", "apply", str(policy), str(catalog), "--wait", "0"])
    assert done.exit_code == 2, done.output
    lines = done.stderr.splitlines()
    assert lines[0] == "redline: nothing applied: 3 problems"
    assert lines[1].startswith(f"redline:   {catalog}: items[0] (FOOD-LICENSE): promised: 'ten'")
    assert lines[2:] == [
        f"redline:   {policy}: routes[0]: levels.1: 'market-robt' is not a receiver of this file",
        f"redline:   {policy}: routes[0]: escalate_after: 'soon' is not a duration: write "
        '"<n>s", "<n>m", "<n>h" (all the time), "<n>d" (natural days) or "<n>wd" (working '
        "days) with a whole number n from 1",
    ]
