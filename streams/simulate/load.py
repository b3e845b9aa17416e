"""The load: which cases arrive when, at which window systems (窗口系统), and the odds of each
turn of their lives (:mod:`streams.simulate.lives`) and of the wire (:mod:`.wire`).

Each centre of the centres file is a window system of its own (``source`` ``win-<centre>``).
Cases arrive at random (a Poisson stream) and live lives measured against their real clocks: a
share go overdue.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.clock import Timelines
from monitor.config import Config, ConfigError
from monitor.timeutil import zone
from streams.simulate.lives import (
    DeadlineOdds,
    DeadlinePace,
    Pace,
    Shape,
    family_extension,
    step_limits,
    timed_history,
)

DEFAULT_RATE = 200.0
# an hour a second. A worker's timers run on the real clock, so for lights that change on
# their own, start in the past (make run starts a week ago)
DEFAULT_TIME_SCALE = 3600.0
DATA = Path(__file__).resolve().parents[2] / "monitor" / "data"  # as monitor/settings.py
DEMO_CATALOG = Path(str(DATA / "catalog.yaml"))
DEMO_CENTERS = Path(str(DATA / "centres.yaml"))
STEPS = (("审查", 0.5), ("决定", 0.3))  # review, decision: shares of the promised limit
# Drawn uniformly: 补正 (supplement) is the most common reason to stop the clocks.
SUSPEND_REASONS = ("supplement",) * 4 + (
    "inspection",
    "testing",
    "expert_review",
    "appraisal",
    "hearing",
    "quarantine",
    "other",
)
EXPECTED = {
    "supplement": "10wd",
    "inspection": "5wd",
    "testing": "10wd",
    "expert_review": "15wd",
    "appraisal": "10wd",
    "hearing": "5wd",
    "quarantine": "3wd",
}


@dataclass(frozen=True, slots=True)
class Shares:
    """How often each turn happens: the first three per accepted case, out-of-order per case,
    duplicate and malformed per event."""

    late: float = 0.1  # go overdue: completed after the promised deadline, or never
    suspend: float = 0.15  # 暂停计时 once, in the review step
    extend: float = 0.05  # 延期 once
    out_of_order: float = 0.02  # events sent shuffled within windows of 2–3
    duplicate: float = 0.01  # resent verbatim
    malformed: float = 0.001  # followed by a malformed line derived from it


DEFAULTS = Shares()


@dataclass(frozen=True, slots=True)
class Load:
    """What to generate. The same load gives the same lines; the rate and time scale also set
    when they go out (:class:`~streams.simulate.schedule.Schedule`)."""

    config: Config
    start: int  # the first simulated instant
    seed: int = 1
    cases: int | None = None  # None: no end
    shares: Shares = DEFAULTS
    time_scale: float = DEFAULT_TIME_SCALE
    rate: float = DEFAULT_RATE  # with the time scale, sets how often cases arrive


def world(config: Config, shares: Shares) -> Shape:
    """The demo population: every catalog item at every centre, lives measured on the clocks."""
    if not config.catalog or not config.centers:
        raise ConfigError("simulate needs at least one catalog item and one centre")
    timelines = {
        code: Timelines(zone(center.timezone), config.calendars.get(center.calendar))
        for code, center in config.centers.items()
    }
    odds = DeadlineOdds(late_share=shares.late)

    def pace(rng: random.Random, item: str, center: str) -> Pace:
        return DeadlinePace(rng, config.catalog[item], timelines[center], odds)

    return Shape(
        items=list(config.catalog),
        centers=list(config.centers),
        pace=pace,
        zone=lambda center: zone(config.centers[center].timezone),
        steps=lambda item: step_limits(config.catalog[item], STEPS),
        suspend_reasons=SUSPEND_REASONS,
        expected=EXPECTED.get,
        extension=lambda item: family_extension(config.catalog[item]),
        handlers=60,
        windows=8,
        departments={code: item.department for code, item in config.catalog.items()},
        suspend_share=shares.suspend,
        extend_share=shares.extend,
        correction_share=0.08,
        abandon_share=0.2,
        reject_share=0.03,
        tolerance_share=0.1,
        denied_share=0.05,
        deliver_share=0.6,
    )


def arrivals(load: Load, shape: Shape) -> Iterator[tuple[int, int]]:
    """(case number from 1, arrival instant): a Poisson stream whose steady state is about
    ``rate`` lines per real second at the time scale."""
    rng = random.Random(f"{load.seed}/arrivals")
    sample = random.Random(f"{load.seed}/sample")
    events = sum(len(timed_history(sample, "x", load.start, shape)) for _ in range(200)) / 200
    shares = load.shares
    lines = events * (1 + shares.duplicate + shares.malformed)
    spacing = load.time_scale * lines / (load.rate or DEFAULT_RATE)  # simulated s between cases
    elapsed = 0.0
    for number in itertools.count(1) if load.cases is None else range(1, load.cases + 1):
        yield number, load.start + int(elapsed)
        elapsed += rng.expovariate(1 / spacing)
