"""`make bench`: run every benchmark and write the figures to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
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


def main() -> None:
    scale = float(os.environ.get("REDLINE_BENCH_SCALE", "1"))
    figures = engine_bench.run(scale)
    started = _services_up()
    sections: list[tuple[str, list[engine_bench.Figure]]] = []
    try:
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

        sections.append(
            (
                "Pipeline (real Kafka and Redis on this machine)",
                pipeline_bench.run(max(2_000, int(20_000 * scale)))
                + latency_bench.run(max(500, int(10_000 * scale))),
            )
        )
        scale_figures: list[engine_bench.Figure] = []
        for cases in (100_000, 1_000_000):
            scale_figures += scale_bench.run(max(1_000, int(cases * scale)))
        sections.append(
            ("Open cases at scale (state seeded into the worker's changelog)", scale_figures)
        )
        recompute_figures: list[engine_bench.Figure] = []
        for cases, floor in ((100_000, 5_000), (1_000_000, 10_000)):
            recompute_figures += recompute_bench.run(max(floor, int(cases * scale)))
        sections.append(
            (
                "Recompute after a calendar change (two workers, a configuration applied live)",
                recompute_figures,
            )
        )
        sections.append(
            (
                "HTTP API (one `redline api` process, one worker)",
                ingest_bench.run(max(2_000, int(200_000 * scale)))
                + wall_bench.run(max(50, int(400 * scale)))
                + streams_bench.run(),
            )
        )
        sections.append(
            (
                "Redis back without its data (the workers rebuild the read model)",
                rebuild_bench.run(max(5_000, int(100_000 * scale))),
            )
        )
    finally:
        for name in reversed(started):
            subprocess.run(["bash", str(SERVICES / f"{name}.sh"), "stop"], check=False)
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); targets are the issues' and are never "
        "asserted in tests.",
        "",
        f"- command: `make bench`{'' if scale == 1 else f' with REDLINE_BENCH_SCALE={scale}'}",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- commit: {commit()}",
        f"- machine: {machine()}",
        "",
        "## Engine (one core, pure Python, no I/O)",
        "",
        "| figure | value | target | workload |",
        "|---|---:|---|---|",
    ]
    for figure in figures:
        lines.append(
            f"| {figure.name} | {figure.value:,.0f} {figure.unit} | {figure.target} "
            f"| {figure.note} |"
        )
    for title, section in sections:
        lines += [
            "",
            f"## {title}",
            "",
            "| figure | value | target | workload |",
            "|---|---:|---|---|",
        ]
        for figure in section:
            lines.append(
                f"| {figure.name} | {figure.value:,.2f} {figure.unit} | {figure.target} "
                f"| {figure.note} |"
            )
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text("utf-8").strip()]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
