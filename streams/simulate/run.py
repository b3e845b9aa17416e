"""A run: the load's lines, each when its schedule says, into a sink, until the load is done, the
duration is over or a signal comes; then the summary of what went out."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from monitor.config import DEFAULT_TIMEZONE
from monitor.timeutil import zone
from streams.simulate.load import Load
from streams.simulate.schedule import Schedule, feed
from streams.simulate.sinks import Sink
from streams.simulate.wire import Line, Role


@dataclass
class Tally:
    """What went out."""

    by_type: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    malformed: Counter[str] = field(default_factory=Counter)
    cases: int = 0
    out_of_order_cases: int = 0
    first_at: int | None = None
    last_at: int | None = None

    def add(self, line: Line) -> None:
        if line.role is Role.EVENT:
            self.by_type[line.type] += 1
            if line.first:
                self.cases += 1
                self.out_of_order_cases += line.shuffled
        elif line.role is Role.DUPLICATE:
            self.duplicates += 1
        else:
            assert line.fault is not None
            self.malformed[line.fault.kind.value] += 1
        if self.first_at is None:
            self.first_at = line.send_at
        self.last_at = line.send_at

    @property
    def lines(self) -> int:
        return sum(self.by_type.values()) + self.duplicates + sum(self.malformed.values())


async def simulate(
    load: Load, sink: Sink, duration: float | None = None, handle_signals: bool = False
) -> dict[str, Any]:
    """Send the load to ``sink`` until it is done, ``duration`` seconds have passed, or (with
    ``handle_signals``) SIGINT/SIGTERM arrives; the summary of what went out."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    await sink.start()
    started = loop.time()
    schedule = Schedule(load.start, load.time_scale, load.rate, duration, loop.time)
    pump = asyncio.ensure_future(_pump(feed(load), schedule, sink, tally))
    signalled: list[str] = []

    def stop(signum: signal.Signals) -> None:
        signalled.append(signum.name)
        pump.cancel()

    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    for signum in signals:
        loop.add_signal_handler(signum, stop, signum)
    try:
        stopped = await pump
    except asyncio.CancelledError:
        if not signalled:
            raise
        stopped = signalled[0]
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
        await sink.close()
    return summary(load, sink, tally, stopped, loop.time() - started)


async def _pump(lines: Iterator[Line], schedule: Schedule, sink: Sink, tally: Tally) -> str:
    for line in lines:
        if not await schedule.wait(line.send_at):
            return "duration"
        await sink.send(line)
        tally.add(line)
    return "done"


def summary(load: Load, sink: Sink, tally: Tally, stopped: str, elapsed: float) -> dict[str, Any]:
    """The run in one JSON object: what went out, by kind, and how fast."""
    fmt = zone(DEFAULT_TIMEZONE).format
    return {
        "sink": sink.where,
        "stopped": stopped,  # done | duration | SIGINT | SIGTERM
        "seed": load.seed,
        "cases": tally.cases,
        "events": sum(tally.by_type.values()),
        "by_type": dict(sorted(tally.by_type.items())),
        "duplicates": tally.duplicates,
        "malformed": sum(tally.malformed.values()),
        "malformed_by_kind": dict(sorted(tally.malformed.items())),
        "out_of_order_cases": tally.out_of_order_cases,
        "lines": tally.lines,
        "failed": sink.failed,
        "elapsed_s": round(elapsed, 3),
        "rate": round(tally.lines / elapsed, 1) if elapsed > 0 else None,
        "simulated_from": None if tally.first_at is None else fmt(tally.first_at),
        "simulated_to": None if tally.last_at is None else fmt(tally.last_at),
    }
