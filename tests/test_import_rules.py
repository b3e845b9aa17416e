"""The import rules of ARCHITECTURE.md hold, and `make lint` would catch one broken: each
contract is checked against a copy of the tree with one forbidden import added."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("monitor", "streams", "alerts", "dashboards", "bench", "tests")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_tree_keeps_every_contract() -> None:
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("monitor/clock.py", "import redis", "monitor.clock -> redis"),
        ("monitor/case.py", "import fastapi", "monitor.case -> fastapi"),
        ("alerts/policy.py", "import httpx", "alerts.policy -> httpx"),
        ("alerts/decide.py", "import redis", "alerts.decide -> redis"),
        ("monitor/api/health.py", "import streams.tracker", "monitor.api.health -> streams"),
        ("bench/run.py", "import tests.stack", "bench.run -> tests.stack"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    done = lint(tmp_path)
    assert done.returncode != 0 and broken in done.stdout, done.stdout + done.stderr
