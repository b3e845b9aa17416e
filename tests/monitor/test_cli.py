"""The ``redline`` command as integrators and operators use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from timeline import SPEC_CASE_FIELDS
from typer.testing import CliRunner

from monitor.cli import app
from monitor.events import dumps_schema

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "monitor" / "data" / "catalog.yaml"
SAMPLE = ROOT / "monitor" / "data" / "sample-events.jsonl"
runner = CliRunner()


def replay(path: Path, now: str = "2026-10-12T09:00:00+08:00", *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app, ["replay", str(path), "--now", now, "--catalog", str(CATALOG), *extra]
    )


BAD_LINE = (
    '{"event_id":"bad-1","type":"case.accepted","case_id":"2026-0010",'
    '"occurred_at":"2026-10-09 09:00","source":"gz-window"}'
)


def with_bad_line(tmp_path: Path) -> Path:
    """The sample feed with a malformed 25th line."""
    feed = tmp_path / "feed.jsonl"
    feed.write_text(SAMPLE.read_text("utf-8") + BAD_LINE + "\n", "utf-8")
    return feed


def test_make_run_feed_is_clean() -> None:
    result = replay(SAMPLE)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "line 6: duplicate of an earlier event (ignored)\n"


def test_replay_prints_one_sorted_line_per_case_and_reports_bad_lines(tmp_path: Path) -> None:
    result = replay(with_bad_line(tmp_path))
    assert result.exit_code == 2
    cases = [json.loads(line) for line in result.stdout.splitlines()]
    ids = [case["case_id"] for case in cases]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 9
    required = SPEC_CASE_FIELDS
    assert all(required <= case.keys() for case in cases)
    assert "line 25: occurred_at: must be an RFC 3339 timestamp" in result.stderr
    assert "line 6: duplicate" in result.stderr


def test_replay_of_the_spec_example() -> None:
    # SPEC §3: accepted 2026-09-28 with 5wd -> 9-29, 9-30, 10-8, 10-9, 10-10 (make-up Saturday)
    cases = {c["case_id"]: c for c in map(json.loads, replay(SAMPLE).stdout.splitlines())}
    case = cases["2026-0002"]
    assert case["deadline"] == "2026-10-11T00:00:00+08:00"
    assert case["status"] == "open" and case["light"] == "red" and case["breached"] is True
    assert case["remaining_s"] == -9 * 3600  # 10-12 is a working day: 09:00 is 9 h over
    overdue = [a for a in case["alerts"] if a["kind"] == "deadline_overdue"]
    assert overdue == [
        {
            **overdue[0],
            "severity": "red",
            "fired_at": "2026-10-11T00:00:00+08:00",
            "status": "firing",
            "resolved_at": None,
            "resolution": None,
        }
    ]


def test_replay_reports_a_catalog_miss_with_its_line(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps(
            {
                "event_id": "1",
                "type": "case.accepted",
                "case_id": "X",
                "source": "s",
                "occurred_at": "2026-10-09T09:00:00+08:00",
                "center": "GZ",
                "item_code": "NOPE",
            }
        )
        + "\n"
    )
    result = replay(feed)
    assert result.exit_code == 2
    assert "line 1: item_code: 'NOPE' is not in the catalog" in result.stderr


def test_replay_names_the_file_entry_and_field_of_a_bad_catalog(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "items:\n  - code: A\n    name: a\n    department: d\n"
        "    promised: ten\n    statutory: 20wd\n",
        "utf-8",
    )
    result = runner.invoke(
        app,
        ["replay", str(SAMPLE), "--now", "2026-10-12T09:00:00+08:00", "--catalog", str(catalog)],
    )
    assert result.exit_code == 2
    assert f"{catalog}: items[0] (A): promised: 'ten' is not a limit" in result.stderr


def test_validate_lists_every_invalid_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(with_bad_line(tmp_path))])
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith("line 25: occurred_at:")
    assert lines[-1] == "24 valid, 1 invalid"


def test_deadline_prints_one_instant() -> None:
    result = runner.invoke(
        app, ["deadline", "--start", "2026-09-28T10:00:00+08:00", "--limit", "5wd"]
    )
    assert result.exit_code == 0
    assert result.stdout.strip() == "2026-10-11T00:00:00+08:00"


def test_deadline_refuses_a_bad_limit_naming_the_option() -> None:
    result = runner.invoke(
        app, ["deadline", "--start", "2026-09-28T10:00:00+08:00", "--limit", "5 days"]
    )
    assert result.exit_code == 2
    assert "--limit: '5 days' is not a limit" in result.stderr


def test_deadline_in_a_year_without_official_schedule_is_marked_provisional() -> None:
    # 2027 follows the provisional rule: 10-1..10-3 off (Fri–Sun), so 9-29, 9-30, 10-4, 10-5, 10-6
    result = runner.invoke(
        app, ["deadline", "--start", "2027-09-28T10:00:00+08:00", "--limit", "5wd"]
    )
    assert result.stdout.strip() == "2027-10-07T00:00:00+08:00"
    assert "provisional" in result.stderr


def test_committed_schema_matches_the_models() -> None:
    committed = (ROOT / "monitor" / "schema" / "event.schema.json").read_text("utf-8")
    assert committed == dumps_schema(), "run: redline schema > monitor/schema/event.schema.json"


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "redline"
    done = subprocess.run(
        [str(script), "deadline", "--start", "2026-02-13T18:00:00+08:00", "--limit", "1wd"],
        capture_output=True,
        text=True,
        check=True,
    )
    # 2-14 is a make-up Saturday (调休上班): the one working day after Friday 2-13
    assert done.stdout.strip() == "2026-02-15T00:00:00+08:00"
