"""`make bench`: run every benchmark and write the figures to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import engine_bench  # noqa: E402


def machine() -> str:
    """CPU model, cores, memory, OS and Python, as read on this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        memory = "unknown memory"
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


SERVICES = ROOT / "scripts" / "services"


def _services_up() -> list[str]:
    """Start Kafka and Redis unless something answers on their ports; the ones started."""
    started = []
    for name in ("kafka", "redis"):
        script = str(SERVICES / f"{name}.sh")
        if subprocess.run(["bash", script, "answering"], capture_output=True).returncode != 0:
            subprocess.run(["bash", script, "install"], check=True)
            subprocess.run(["bash", script, "start"], check=True)
            started.append(name)
    return started


Figures = list[engine_bench.Figure]


def _sections(scale: float) -> list[tuple[str, str, Callable[[], Figures]]]:
    """(name for REDLINE_BENCH_ONLY, title in BENCHMARKS.md, the run) of every section after
    the engine's, in their order."""
    from bench import (
        ingest_bench,
        latency_bench,
        pipeline_bench,
        rebuild_bench,
        recompute_bench,
        scale_bench,
        streams_bench,
        wall_bench,
    )

    def at_scale(run: Callable[[int], Figures], *counts: tuple[int, int]) -> Figures:
        return [f for cases, floor in counts for f in run(max(floor, int(cases * scale)))]

    return [
        (
            "pipeline",
            "Pipeline (real Kafka and Redis on this machine)",
            lambda: (
                pipeline_bench.run(max(2_000, int(20_000 * scale)))
                + latency_bench.run(max(500, int(10_000 * scale)))
            ),
        ),
        (
            "scale",
            "Open cases at scale (state seeded into the worker's changelog)",
            lambda: at_scale(scale_bench.run, (100_000, 1_000), (1_000_000, 1_000)),
        ),
        (
            "recompute",
            "Recompute after a calendar change (two workers, a configuration applied live)",
            lambda: at_scale(recompute_bench.run, (100_000, 5_000), (1_000_000, 10_000)),
        ),
        (
            "api",
            "HTTP API (one `redline api` process, one worker)",
            lambda: (
                ingest_bench.run(max(2_000, int(200_000 * scale)))
                + wall_bench.run(max(50, int(400 * scale)))
                + streams_bench.run()
            ),
        ),
        (
            "rebuild",
            "Redis back without its data (the workers rebuild the read model)",
            lambda: rebuild_bench.run(max(5_000, int(100_000 * scale))),
        ),
    ]


def _table(figures: Figures, digits: int) -> list[str]:
    lines = ["| figure | value | target | workload |", "|---|---:|---|---|"]
    for figure in figures:
        lines.append(
            f"| {figure.name} | {figure.value:,.{digits}f} {figure.unit} | {figure.target} "
            f"| {figure.note} |"
        )
    return lines


def _splice(text: str, title: str, body: list[str], before: list[str]) -> str:
    """``text`` (BENCHMARKS.md) with the section ``title`` replaced by ``body``; a section not
    there yet goes before the first of the headings ``before`` that is, or before the notes."""
    lines = text.splitlines()
    heading = f"## {title}"
    if heading in lines:
        start = lines.index(heading)
        end = next(
            (n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")), len(lines)
        )
    else:
        wanted = {f"## {other}" for other in before}
        start = end = next(
            (n for n, line in enumerate(lines) if line in wanted or line.startswith("## Reading")),
            len(lines),
        )
    return "\n".join([*lines[:start], heading, "", *body, "", *lines[end:]])


def _with_notes(text: str, notes: str) -> str:
    """``text`` with everything from the notes' first heading on replaced by ``notes``."""
    first = notes.splitlines()[0]
    lines = text.splitlines()
    cut = lines.index(first) if first in lines else len(lines)
    return "\n".join([*lines[:cut]]).rstrip() + "\n\n" + notes.strip() + "\n"


def main() -> None:
    """Every benchmark, or with REDLINE_BENCH_ONLY=name[,name] only those sections, written
    into the BENCHMARKS.md there is (each with the date, commit and command it was run at)."""
    scale = float(os.environ.get("REDLINE_BENCH_SCALE", "1"))
    only = [name for name in os.environ.get("REDLINE_BENCH_ONLY", "").split(",") if name]
    sections = _sections(scale)
    unknown = set(only) - {name for name, _, _ in sections}
    if unknown:
        raise SystemExit(
            f"REDLINE_BENCH_ONLY: no section {', '.join(sorted(unknown))}; "
            f"the sections are {', '.join(name for name, _, _ in sections)}"
        )
    command = "make bench" + ("" if scale == 1 else f" with REDLINE_BENCH_SCALE={scale}")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    measured_at = commit()  # the code measured: HEAD when the run starts
    figures = engine_bench.run(scale) if not only else []
    started = _services_up()
    measured: list[tuple[str, Figures]] = []
    try:
        for name, title, run in sections:
            if not only or name in only:
                measured.append((title, run()))
    finally:
        for service in reversed(started):
            subprocess.run(["bash", str(SERVICES / f"{service}.sh"), "stop"], check=False)
    target = ROOT / "BENCHMARKS.md"
    if only and target.exists():
        text = target.read_text("utf-8")
        titles = [title for _, title, _ in sections]
        for title, section in measured:
            stamp = (
                f"Measured on its own: `{command}` with REDLINE_BENCH_ONLY={','.join(only)}, "
                f"{when}, commit {measured_at}, on the machine above."
            )
            later = titles[titles.index(title) + 1 :]
            text = _splice(text, title, [stamp, "", *_table(section, 2)], later)
        notes = ROOT / "bench" / "NOTES.md"
        if notes.exists():
            text = _with_notes(text, notes.read_text("utf-8"))
        target.write_text(text, "utf-8")
        print(text)
        return
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); targets are the issues' and are never "
        "asserted in tests.",
        "",
        f"- command: `{command}`",
        f"- date: {when}",
        f"- commit: {measured_at}",
        f"- machine: {machine()}",
        "",
        "## Engine (one core, pure Python, no I/O)",
        "",
        *_table(figures, 0),
    ]
    for title, section in measured:
        lines += ["", f"## {title}", "", *_table(section, 2)]
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text("utf-8").strip()]
    target.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
