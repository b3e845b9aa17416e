"""Feed health (SPEC §2, §6): each integrator's events counted by outcome, their lag and the
window system's clock, summed per source and batch before they reach Redis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

OUTCOMES: Final = ("accepted", "duplicate", "refused")
LAG_BUCKETS: Final = (1, 5, 15, 60, 300, 900, 3_600, 21_600, 86_400)  # seconds, like `le`


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """Feed health of one integrator's window system (SPEC §2, §6)."""

    source: str
    accepted: int
    duplicate: int
    refused: int
    last_event_at: int | None  # latest occurred_at seen (epoch seconds)
    last_arrival_at: int | None  # latest arrival
    lag_last_s: int | None  # arrival - occurred_at of the latest accepted event
    lag_max_s: int | None
    lag_avg_s: float | None
    lag_buckets: dict[str, int]  # cumulative counts by upper bound ("1", "5", …, "+Inf")
    clock_ahead: int  # accepted events dated after their arrival: the window's clock is ahead
    last_refusal_reason: str | None
    last_refusal_at: int | None
    unknown_centers: dict[str, int]  # centre codes missing from the centres file -> events


def lag_bucket(lag: int) -> str:
    """The histogram bucket (upper bound, as Prometheus writes ``le``) of a feed lag."""
    return next((str(bound) for bound in LAG_BUCKETS if lag <= bound), "+Inf")


UNKNOWN_SOURCE: Final = "(unknown)"  # the feed health of refused events that name no source


@dataclass(slots=True)
class FeedRecord:
    """One event's arrival, for its source's feed health."""

    source: str | None  # None: a refused event that names none (counted as UNKNOWN_SOURCE)
    occurred_at: int | None  # None when a refused event had none
    arrived_at: int
    outcome: str  # accepted | duplicate | refused
    reason: str | None = None
    unknown_center: str | None = None


@dataclass(slots=True)
class FeedTally:
    """Events of one source, summed for its feed health: one script call per source instead
    of one per event, with the same result as recording the events one by one in their
    order."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    arrived: int | None = None  # the latest arrival
    occurred: int | None = None  # the latest occurred_at seen
    lag_at: int | None = None  # the latest arrival of an accepted event that has a lag…
    lag_last: int = 0  # …and its lag (the last of them in order, on equal arrivals)
    lag_max: int | None = None
    lag_sum: int = 0
    lag_count: int = 0
    clock_ahead: int = 0
    buckets: dict[str, int] = field(default_factory=dict)
    refusal_at: int | None = None
    refusal_reason: str = ""
    unknown_centers: dict[str, int] = field(default_factory=dict)

    def add(self, record: FeedRecord) -> None:
        """Count one event."""
        occurred_at, arrived_at, outcome = record.occurred_at, record.arrived_at, record.outcome
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        self.counts[outcome] += 1
        if self.arrived is None or arrived_at > self.arrived:
            self.arrived = arrived_at
        if occurred_at is not None:
            if self.occurred is None or occurred_at > self.occurred:
                self.occurred = occurred_at
            # lag only of accepted events: a duplicate resent hours later says nothing of it
            if outcome == "accepted":
                lag = arrived_at - occurred_at
                if self.lag_at is None or arrived_at >= self.lag_at:
                    self.lag_at, self.lag_last = arrived_at, lag
                if self.lag_max is None or lag > self.lag_max:
                    self.lag_max = lag
                self.lag_sum += lag
                self.lag_count += 1
                self.clock_ahead += lag < 0
                bucket = lag_bucket(lag)
                self.buckets[bucket] = self.buckets.get(bucket, 0) + 1
        if outcome == "refused" and (self.refusal_at is None or arrived_at >= self.refusal_at):
            self.refusal_at, self.refusal_reason = arrived_at, record.reason or ""
        if center := record.unknown_center:
            self.unknown_centers[center] = self.unknown_centers.get(center, 0) + 1

    def args(self) -> list[str | int]:
        """The script's arguments after the prefix and the source."""
        if self.arrived is None:
            raise ValueError("an empty tally has nothing to record")
        args: list[str | int] = [
            *(self.counts[outcome] for outcome in OUTCOMES),
            self.arrived,
            "" if self.occurred is None else self.occurred,
            "" if self.lag_at is None else self.lag_at,
            self.lag_last,
            0 if self.lag_max is None else self.lag_max,
            self.lag_sum,
            self.lag_count,
            self.clock_ahead,
            "" if self.refusal_at is None else self.refusal_at,
            self.refusal_reason,
            len(self.buckets),
        ]
        for pairs in (self.buckets, self.unknown_centers):
            for name, count in pairs.items():
                args += [name, count]
        return args


def source_health(
    source: str, fields: Mapping[str, str], unknown: Mapping[str, str]
) -> SourceHealth:
    """One source's feed health from its hash and its unknown-centre counts."""
    count = _int(fields.get("lag_count")) or 0
    running, buckets = 0, {}
    for bound in [*map(str, LAG_BUCKETS), "+Inf"]:
        running += _int(fields.get("lag_le:" + bound)) or 0
        buckets[bound] = running
    return SourceHealth(
        source=source,
        accepted=_int(fields.get("accepted")) or 0,
        duplicate=_int(fields.get("duplicate")) or 0,
        refused=_int(fields.get("refused")) or 0,
        last_event_at=_int(fields.get("last_event_at")),
        last_arrival_at=_int(fields.get("last_arrival_at")),
        lag_last_s=_int(fields.get("lag_last_s")),
        lag_max_s=_int(fields.get("lag_max_s")),
        lag_avg_s=(_int(fields.get("lag_sum_s")) or 0) / count if count else None,
        lag_buckets=buckets,
        clock_ahead=_int(fields.get("clock_ahead")) or 0,
        last_refusal_reason=fields.get("last_refusal_reason"),
        last_refusal_at=_int(fields.get("last_refusal_at")),
        unknown_centers={code: int(n) for code, n in sorted(unknown.items())},
    )


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)
