"""The Redis read model: what the API, the wall page and the metrics read (docs/read-model.md).

Writers hand it the newest case view (``Case.view()``), alert views and per-event feed facts;
readers get open cases by light, centre, department and deadline, alert lists, counts by light,
the weekly department ranking (以周为单位通报) and each source's feed health.

Idempotency: every case write carries a version that grows with the case (events applied,
engine time). The Lua script compares it with the stored one and, only if it is newer, undoes
what the stored view contributed (its *footprint*: index memberships and counter increments)
and applies the new footprint, in one atomic step. The content under the prefix is therefore a
function of the newest view of each case, whatever the order, repetition or restarts of the
writes: a replay never double counts.

Keys that the scripts touch are derived from the stored footprint, so they are not all declared
in KEYS: the read model runs on a single Redis (or a primary with replicas), not on Redis
Cluster.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from monitor import jsontext
from monitor.alert import AlertKind, AlertStatus
from monitor.case import Light
from monitor.limits import LimitError, Unit, parse_limit
from monitor.timeutil import DAY, HOUR, InstantError, parse_instant

View = dict[str, Any]
Version = tuple[int, int]
"""(events applied, engine time) of a case: compared as a tuple, newer wins."""

LIGHTS: Final = tuple(light.value for light in Light)
OPEN_LIGHTS: Final = tuple(light for light in LIGHTS if light != Light.CLOSED.value)  # gauge labels
OUTCOMES: Final = ("accepted", "duplicate", "refused")
LAG_BUCKETS: Final = (1, 5, 15, 60, 300, 900, 3_600, 21_600, 86_400)  # seconds, like `le`
PPM: Final = 1_000_000  # shares are summed in millionths: integers add and subtract exactly
UNDATED: Final = 99_999_999_999  # the sort key of an open case without a deadline (suspended)
SEP: Final = "\t"  # between a code and a measure in a hash field: codes hold no control chars

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MEMBER = re.compile(r"^\d{11}:.+$", re.DOTALL)
_MAX_WEEKS = 1_000  # a period query sums weeks one hash each: about 20 years is plenty


class CursorError(ValueError):
    """A pagination cursor this read model did not hand out."""


# -- footprints: what one case view contributes ------------------------------------------------


@dataclass(slots=True)
class Footprint:
    """The index memberships and counter increments of one case view, with keys relative to
    the prefix. A newer view's footprint replaces the older one's exactly."""

    members: list[tuple[str, str]] = field(default_factory=list)  # (sorted set, member)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (hash, field) -> n

    def add(self, key: str, hash_field: str, amount: int = 1) -> None:
        if amount:  # a zero would leave a field that a rebuild does not write
            self.counts[(key, hash_field)] = self.counts.get((key, hash_field), 0) + amount

    def to_json(self) -> bytes:
        counts = [[key, name, n] for (key, name), n in self.counts.items()]
        return jsontext.dumps({"z": [list(member) for member in self.members], "c": counts})


def footprint(view: View) -> Footprint:
    """What ``view`` contributes to the indexes and aggregates (pure: no Redis)."""
    found = Footprint()
    light = str(view["light"])
    center, department = _code(view.get("center")), _code(view.get("department"))
    found.add("agg:light", light)
    found.add("agg:center", center + SEP + light)
    found.add("agg:department", department + SEP + light)
    if light != Light.CLOSED.value:
        member = deadline_member(instant_of(view.get("deadline")), str(view["case_id"]))
        indexes = ("all", f"light:{light}", f"center:{center}", f"department:{department}")
        found.members += [(f"open:{index}", member) for index in indexes]
    _completion(found, view, department)
    _breach(found, view, department)
    return found


def _completion(found: Footprint, view: View, department: str) -> None:
    """Count a completed case (办结) in the ranking of the ISO week it closed in."""
    closed_at = view.get("closed_at")
    if view.get("status") != "completed" or not isinstance(closed_at, str):
        return
    on_time = view.get("on_time")
    share = limit_share_ppm(view) if on_time is not None else None
    for bucket in ("rank:all", f"rank:week:{iso_week(closed_at)}"):
        found.add(bucket, department + SEP + "completed")
        if on_time is None:
            continue  # no promised deadline (completed before acceptance): not measured
        found.add(bucket, department + SEP + "measured")
        found.add(bucket, department + SEP + "on_time", int(bool(on_time)))
        if share is not None:
            found.add(bucket, department + SEP + "share_ppm", share)
            found.add(bucket, department + SEP + "share_n")


def _breach(found: Footprint, view: View, department: str) -> None:
    """Count a case that went red (超期) in the week its promised deadline passed."""
    if not view.get("breached"):
        return
    buckets = ["rank:all"]
    fired = _first_overdue(view)
    if fired is not None:
        buckets.append(f"rank:week:{iso_week(fired)}")
    for bucket in buckets:
        found.add(bucket, department + SEP + "breached")


def _first_overdue(view: View) -> str | None:
    """When the case first went red: its earliest deadline_overdue not taken back."""
    fired = [
        alert["fired_at"]
        for alert in view.get("alerts") or ()
        if alert.get("kind") == AlertKind.DEADLINE_OVERDUE.value
        and alert.get("resolution") != "corrected"
        and isinstance(alert.get("fired_at"), str)
    ]
    return min(fired, key=parse_instant) if fired else None


def limit_share_ppm(view: View) -> int | None:
    """Share of the promised budget (承诺时限) used, in millionths; None for a zero budget."""
    budget = _budget_s(view)
    if budget is None or budget <= 0:
        return None  # 即办件: nothing of a zero budget is used, a share means nothing
    used = view.get("used_s")
    if not isinstance(used, int):
        remaining = view.get("remaining_s")
        if not isinstance(remaining, int):
            return None
        used = budget - remaining
    return (max(used, 0) * PPM + budget // 2) // budget


def _budget_s(view: View) -> int | None:
    """The promised budget with its extensions, in seconds of running time."""
    given = view.get("promised_s")
    if isinstance(given, int):
        return given
    try:
        limit = parse_limit(view.get("promised"))
    except LimitError:
        return None
    unit = HOUR if limit.unit is Unit.HOURS else DAY  # the view counts extensions in its unit
    return limit.seconds + int(view.get("extended") or 0) * unit


def deadline_member(deadline: int | None, case_id: str) -> str:
    """The member of an open-case index: fixed-width deadline then id, so that the byte order
    of a lexicographic sorted set is deadline order with ties broken by case id."""
    return f"{UNDATED if deadline is None else deadline:011d}:{case_id}"


def iso_week(timestamp: str) -> str:
    """The ISO week (``2026-W39``) of an RFC 3339 timestamp's local date (centre time)."""
    year, week, _ = datetime.fromisoformat(timestamp).isocalendar()
    return f"{year:04d}-W{week:02d}"


def iso_weeks(first: str, last: str) -> list[str]:
    """Every ISO week label from ``first`` to ``last``, both included."""
    start, end = _monday(first), _monday(last)
    if end < start:
        raise ValueError(f"week range {first}..{last} ends before it starts")
    count = (end - start).days // 7 + 1
    if count > _MAX_WEEKS:
        raise ValueError(f"week range {first}..{last} spans more than {_MAX_WEEKS} weeks")
    return [iso_week((start + timedelta(weeks=n)).isoformat()) for n in range(count)]


def _monday(label: str) -> date:
    match = _WEEK.match(label)
    if match is None:
        raise ValueError(f"{label!r} is not an ISO week: write it like 2026-W39")
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ValueError(f"{label!r} is not a week of its year") from None


def lag_bucket(lag: int) -> str:
    """The histogram bucket (upper bound, as Prometheus writes ``le``) of a feed lag."""
    return next((str(bound) for bound in LAG_BUCKETS if lag <= bound), "+Inf")


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One page of open cases in deadline order; ``cursor`` fetches the next, None at the end."""

    items: list[View]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class DepartmentRank:
    """One department's line in the ranking (科室排名) over a period."""

    department: str
    completed: int  # 办结
    measured: int  # completed with a promised deadline: the on-time rate's denominator
    on_time: int  # 按时办结
    breached: int  # went red (超期) during the period
    overdue_now: int  # open and red now
    on_time_rate: float | None
    average_share: float | None  # mean share of the promised limit used at completion
    share_n: int  # completions in that mean (zero budgets have no share)


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


# -- Lua: each script is one atomic step -------------------------------------------------------

CHANGES_CAP = 10_000  # entries kept in the change feed (approximately: MAXLEN ~)

_APPLY = """
local function apply(prefix, footprint, sign)
  for _, member in ipairs(footprint.z) do
    if sign > 0 then
      redis.call('ZADD', prefix .. member[1], 0, member[2])
    else
      redis.call('ZREM', prefix .. member[1], member[2])
    end
  end
  for _, count in ipairs(footprint.c) do
    local key = prefix .. count[1]
    -- a zero is deleted, so the content equals what a rebuild from the newest views writes
    if redis.call('HINCRBY', key, count[2], sign * count[3]) == 0 then
      redis.call('HDEL', key, count[2])
    end
  end
end
local function changed(prefix, ...)
  -- the change feed the API's /v1/stream follows (a bounded Redis stream)
  redis.call('XADD', prefix .. 'changes', 'MAXLEN', '~', CHANGES_CAP, '*', ...)
end
""".replace("CHANGES_CAP", str(CHANGES_CAP))

# KEYS[1]: the case hash. ARGV: prefix, events, time, view JSON, footprint JSON, case id, light.
_WRITE_CASE = (
    _APPLY
    + """
local events, time = tonumber(ARGV[2]), tonumber(ARGV[3])
local stored = redis.call('HMGET', KEYS[1], 'events', 'time', 'footprint')
if stored[1] then
  local old_events, old_time = tonumber(stored[1]), tonumber(stored[2])
  if events < old_events or (events == old_events and time <= old_time) then
    return 0
  end
  apply(ARGV[1], cjson.decode(stored[3]), -1)
end
apply(ARGV[1], cjson.decode(ARGV[5]), 1)
redis.call('HSET', KEYS[1], 'events', ARGV[2], 'time', ARGV[3], 'view', ARGV[4],
  'footprint', ARGV[5])
changed(ARGV[1], 'kind', 'case', 'id', ARGV[6], 'case_id', ARGV[6], 'light', ARGV[7])
return 1
"""
)

# ARGV: prefix, cap, then per alert: id, record JSON, fired_at (epoch). A record holds kind,
# status and, when the writer gave one, the version ("v") of the alert's case.
_WRITE_ALERTS = (
    _APPLY
    + """
local prefix, cap = ARGV[1], tonumber(ARGV[2])
local records, recent = prefix .. 'alerts', prefix .. 'alerts:recent'
local function by_status(record)
  return prefix .. 'alerts:' .. record.status .. ':' .. record.kind
end
local function older(new, old)
  return new[1] < old[1] or (new[1] == old[1] and new[2] < old[2])
end
for i = 3, #ARGV, 3 do
  local id, record = ARGV[i], cjson.decode(ARGV[i + 1])
  local stored = redis.call('HGET', records, id)
  local write = true
  if stored then
    local old = cjson.decode(stored)
    if record.v and old.v and older(record.v, old.v) then
      write = false
    else
      redis.call('ZREM', by_status(old), id)
    end
  end
  if write then
    redis.call('HSET', records, id, ARGV[i + 1])
    redis.call('ZADD', by_status(record), ARGV[i + 2], id)
    redis.call('ZADD', recent, ARGV[i + 2], id)
    changed(prefix, 'kind', 'alert', 'id', id, 'case_id', record.alert.case_id,
      'status', record.status)
  end
end
local excess = redis.call('ZCARD', recent) - cap
if excess > 0 then
  -- out of the window: resolved alerts go; firing and acknowledged ones stay listed
  for _, id in ipairs(redis.call('ZRANGE', recent, 0, excess - 1)) do
    local stored = redis.call('HGET', records, id)
    if stored then
      local old = cjson.decode(stored)
      if old.status == 'resolved' then
        redis.call('HDEL', records, id)
        redis.call('ZREM', by_status(old), id)
      end
    end
  end
  redis.call('ZREMRANGEBYRANK', recent, 0, excess - 1)
end
return 1
"""
)

# KEYS: none (derived from the source). ARGV: prefix, source, then a FeedTally's fields: the
# counts accepted, duplicate, refused; the latest arrival; the latest occurred_at or ''; the
# lag of the latest accepted arrival (its arrival or '', then the lag); lag max, sum, count;
# clock-ahead count; the latest refusal (its arrival or '', its reason); the number of lag
# buckets, then (bucket, count) pairs; then (unknown centre, count) pairs to the end.
_RECORD_EVENTS = """
local prefix, source = ARGV[1], ARGV[2]
local key = prefix .. 'source:' .. source
local function raise(name, value)
  local current = tonumber(redis.call('HGET', key, name))
  if current == nil or value > current then redis.call('HSET', key, name, value) end
end
local function latest(at_field, at, pairs_to_set)
  local current = tonumber(redis.call('HGET', key, at_field))
  if current == nil or at >= current then
    redis.call('HSET', key, at_field, at, unpack(pairs_to_set))
  end
end
redis.call('SADD', prefix .. 'sources', source)
for i, outcome in ipairs({'accepted', 'duplicate', 'refused'}) do
  if ARGV[2 + i] ~= '0' then redis.call('HINCRBY', key, outcome, ARGV[2 + i]) end
end
raise('last_arrival_at', tonumber(ARGV[6]))
if ARGV[7] ~= '' then raise('last_event_at', tonumber(ARGV[7])) end
if ARGV[8] ~= '' then
  latest('lag_at', tonumber(ARGV[8]), {'lag_last_s', ARGV[9]})
  raise('lag_max_s', tonumber(ARGV[10]))
  redis.call('HINCRBY', key, 'lag_sum_s', ARGV[11])
  redis.call('HINCRBY', key, 'lag_count', ARGV[12])
  if ARGV[13] ~= '0' then redis.call('HINCRBY', key, 'clock_ahead', ARGV[13]) end
end
if ARGV[14] ~= '' then
  latest('last_refusal_at', tonumber(ARGV[14]), {'last_refusal_reason', ARGV[15]})
end
local buckets_end = 17 + 2 * tonumber(ARGV[16])
for i = 17, buckets_end - 1, 2 do
  redis.call('HINCRBY', key, 'lag_le:' .. ARGV[i], ARGV[i + 1])
end
for i = buckets_end, #ARGV, 2 do
  redis.call('HINCRBY', key .. ':unknown_centers', ARGV[i], ARGV[i + 1])
end
return 1
"""


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


# -- the read model ----------------------------------------------------------------------------


class ReadModel:
    """Cases, alerts, aggregates and feed health under one key prefix in Redis.

    The prefix belongs to the read model: :meth:`flush` deletes everything under it."""

    def __init__(
        self, redis: Redis, prefix: str = "redline:rm:", recent_alerts: int = 1_000
    ) -> None:
        if recent_alerts < 1:
            raise ValueError("recent_alerts must be at least 1")
        self.redis = redis
        self.prefix = prefix
        self.recent_alerts = recent_alerts
        self._write_case = redis.register_script(_WRITE_CASE)
        self._write_alerts = redis.register_script(_WRITE_ALERTS)
        self._record_events = redis.register_script(_RECORD_EVENTS)
        self._client: Pipeline | None = None  # set on the copies batch() hands out

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[ReadModel]:
        """This read model with its writes queued, sent in one round trip when the block
        ends (each write still one atomic script). Inside, ``write_case`` returns True."""
        pipe = self.redis.pipeline(transaction=False)
        batched = copy.copy(self)
        batched._client = pipe
        yield batched
        await pipe.execute()

    def key(self, *parts: str) -> str:
        """A full key name: the prefix, then the parts joined by ``:``."""
        return self.prefix + ":".join(parts)

    # -- writers --------------------------------------------------------------------------

    async def write_case(self, view: View, version: Version, body: bytes | None = None) -> bool:
        """Store a case view and move it in the indexes and aggregates; False (and nothing
        changes) when the stored version is the same or newer. ``body`` is ``view`` as JSON,
        when the caller already has it."""
        events, time = version
        written = await self._write_case(
            client=self._client,
            keys=[self.key("case", str(view["case_id"]))],
            args=[
                self.prefix,
                events,
                time,
                jsontext.dumps(view) if body is None else body,
                footprint(view).to_json(),
                str(view["case_id"]),
                str(view.get("light") or ""),
            ],
        )
        return bool(written)

    async def write_alerts(self, alerts: Sequence[View], version: Version | None = None) -> None:
        """Store alert views (each with ``case_id``): the latest state wins.

        ``version`` is the version of the one case these alerts belong to: with it, a write
        older than the stored one is ignored, so a replay cannot bring back an old state.
        Without it, the last write wins."""
        if not alerts:
            return
        if version is not None and len({alert["case_id"] for alert in alerts}) > 1:
            raise ValueError("a version belongs to one case: write each case's alerts apart")
        args: list[str | bytes | int] = [self.prefix, self.recent_alerts]
        for alert in alerts:
            record: dict[str, Any] = {
                "kind": alert["kind"],
                "status": alert["status"],
                "alert": alert,
            }
            if version is not None:
                record["v"] = list(version)
            args += [str(alert["id"]), jsontext.dumps(record), parse_instant(alert["fired_at"])]
        await self._write_alerts(keys=[], args=args, client=self._client)

    async def record_events(self, records: Iterable[FeedRecord]) -> None:
        """Count events in their sources' feed health (at least once: a retried delivery
        counts again), summed per source: one script call per source."""
        tallies: dict[str, FeedTally] = {}
        for record in records:
            tallies.setdefault(record.source or UNKNOWN_SOURCE, FeedTally()).add(record)
        for source, tally in tallies.items():
            args = [self.prefix, source, *tally.args()]
            await self._record_events(client=self._client, keys=[], args=args)

    async def flush(self) -> int:
        """Delete every key under the prefix (before a rebuild); the number deleted."""
        deleted, batch = 0, []
        async for name in self.redis.scan_iter(match=_glob_escape(self.prefix) + "*", count=1000):
            batch.append(name)
            if len(batch) >= 500:
                deleted += await self.redis.unlink(*batch)
                batch = []
        if batch:
            deleted += await self.redis.unlink(*batch)
        return deleted

    # -- cases ----------------------------------------------------------------------------

    async def case(self, case_id: str) -> View | None:
        """The newest view of one case, open or closed."""
        raw = await self.redis.hget(self.key("case", case_id), "view")
        return None if raw is None else _loads(raw)

    async def case_version(self, case_id: str) -> Version | None:
        """The version of the stored view of one case."""
        events, time = await self.redis.hmget(self.key("case", case_id), ["events", "time"])
        if events is None or time is None:
            return None
        return (int(events), int(time))

    async def cases(
        self,
        light: str | None = None,
        center: str | None = None,
        department: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Open cases matching every filter given, by deadline (soonest first; suspended cases,
        without a deadline, last), ``limit`` at a time."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        indexes = self._indexes(light, center, department)
        after = None if cursor is None else decode_cursor(cursor)
        members = await self._intersection(indexes, after, limit + 1)
        more = len(members) > limit
        members = members[:limit]
        views = await self._views([member[12:] for member in members])
        wanted = {"light": light, "center": center, "department": department}
        items = [view for view in views if _matches(view, wanted)]
        return Page(items, encode_cursor(members[-1]) if more else None)

    async def red_cases(self, limit: int = 50) -> list[View]:
        """Open red cases, the longest overdue first (the wall's list of 红灯)."""
        return (await self.cases(light=Light.RED.value, limit=limit)).items

    def _indexes(self, light: str | None, center: str | None, department: str | None) -> list[str]:
        indexes = [
            self.key("open", name, value)
            for name, value in (("light", light), ("center", center), ("department", department))
            if value is not None
        ]
        return indexes or [self.key("open", "all")]

    async def _intersection(self, indexes: list[str], after: str | None, limit: int) -> list[str]:
        """Up to ``limit`` members present in every index, in order, after the member
        ``after``: walks the smallest index and checks the others (ZMSCORE)."""
        sizes = [await self.redis.zcard(index) for index in indexes]
        lead, *others = [index for _, index in sorted(zip(sizes, indexes, strict=True))]
        batch = limit if not others else max(4 * limit, 200)
        start = "-" if after is None else "(" + after
        found: list[str] = []
        while len(found) < limit:
            chunk = await self._lex_range(lead, start, batch)
            if not chunk:
                break
            present = [await self.redis.zmscore(other, chunk) for other in others]
            found += [
                member
                for i, member in enumerate(chunk)
                if all(scores[i] is not None for scores in present)
            ]
            if len(chunk) < batch:
                break
            start = "(" + chunk[-1]
        return found[:limit]

    async def _lex_range(self, index: str, start: str, count: int) -> list[str]:
        result = await self.redis.zrange(index, start, "+", bylex=True, offset=0, num=count)
        return [_text(member) for member in result]  # type: ignore[arg-type]  # no scores

    async def _views(self, case_ids: list[str]) -> list[View]:
        if not case_ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for case_id in case_ids:
                pipe.hget(self.key("case", case_id), "view")
            raws = await pipe.execute()
        return [_loads(raw) for raw in raws if raw is not None]

    # -- aggregates -----------------------------------------------------------------------

    async def totals(self) -> dict[str, int]:
        """Cases by light (open lights, and ``closed`` for every case that ended)."""
        counts = await self._hash(self.key("agg", "light"))
        return {light: int(counts.get(light, 0)) for light in LIGHTS}

    async def centre_totals(self) -> dict[str, dict[str, int]]:
        """Cases by centre and light; a case without a centre counts under ``""``."""
        return await self._light_table(self.key("agg", "center"))

    async def department_totals(self) -> dict[str, dict[str, int]]:
        """Cases by department and light; a case without a department counts under ``""``."""
        return await self._light_table(self.key("agg", "department"))

    async def _light_table(self, key: str) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for name, count in (await self._hash(key)).items():
            code, _, light = name.rpartition(SEP)
            table.setdefault(code, dict.fromkeys(LIGHTS, 0))[light] = int(count)
        return table

    async def department_ranking(
        self, week_from: str | None = None, week_to: str | None = None
    ) -> list[DepartmentRank]:
        """The ranking over ISO weeks ``week_from``..``week_to`` (``2026-W39``; one week when
        ``week_to`` is None; all time when both are None), best on-time rate first."""
        if week_from is None:
            if week_to is not None:
                raise ValueError("week_to needs week_from")
            buckets = [self.key("rank", "all")]
        else:
            weeks = iso_weeks(week_from, week_to or week_from)
            buckets = [self.key("rank", "week", week) for week in weeks]
        sums: dict[str, dict[str, int]] = {}
        for bucket in buckets:
            for name, count in (await self._hash(bucket)).items():
                department, _, measure = name.rpartition(SEP)
                row = sums.setdefault(department, {})
                row[measure] = row.get(measure, 0) + int(count)
        current = await self.department_totals()
        ranks = [
            _rank(department, sums.get(department, {}), current.get(department, {}))
            for department in sums.keys() | current.keys()
        ]
        return sorted(ranks, key=_rank_order)

    async def _hash(self, key: str) -> dict[str, str]:
        raw = await self.redis.hgetall(key)
        return {_text(name): _text(value) for name, value in raw.items()}

    # -- alerts ---------------------------------------------------------------------------

    async def alert(self, alert_id: str) -> View | None:
        """One alert's view (with ``case_id``), or None if it is not (or no longer) kept."""
        record = await self.redis.hget(self.key("alerts"), alert_id)
        return None if record is None else _loads(record)["alert"]

    async def alerts(
        self, status: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[View]:
        """Alert views (with ``case_id``), newest ``fired_at`` first, filtered by status and
        kind. Resolved alerts older than the newest ``recent_alerts`` have been let go."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        statuses = [status] if status is not None else [s.value for s in AlertStatus]
        kinds = [kind] if kind is not None else [k.value for k in AlertKind]
        async with self.redis.pipeline(transaction=False) as pipe:
            for one_status in statuses:
                for one_kind in kinds:
                    key = self.key("alerts", one_status, one_kind)
                    pipe.zrange(key, 0, limit - 1, desc=True, withscores=True)
            ranges = await pipe.execute()
        newest = sorted(
            ((score, _text(member)) for found in ranges for member, score in found),
            key=lambda pair: (-pair[0], pair[1]),
        )[:limit]
        if not newest:
            return []
        records = await self.redis.hmget(self.key("alerts"), [alert_id for _, alert_id in newest])
        return [_loads(record)["alert"] for record in records if record is not None]

    # -- feed health ----------------------------------------------------------------------

    async def sources(self) -> list[SourceHealth]:
        """Feed health of every source that sent anything, by source id."""
        names = sorted(_text(s) for s in await self.redis.smembers(self.key("sources")))
        return [await self._source(name) for name in names]

    async def _source(self, source: str) -> SourceHealth:
        fields = await self._hash(self.key("source", source))
        unknown = await self._hash(self.key("source", source) + ":unknown_centers")
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


# -- small helpers -----------------------------------------------------------------------------


def encode_cursor(member: str) -> str:
    """An opaque cursor: the last index member returned (keyset pagination, no offsets)."""
    return base64.urlsafe_b64encode(member.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The index member a cursor stands for, or :class:`CursorError`."""
    try:
        member = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorError("cursor is not one this API handed out") from None
    if not _MEMBER.match(member):
        raise CursorError("cursor is not one this API handed out")
    return member


def _rank(department: str, sums: dict[str, int], lights: dict[str, int]) -> DepartmentRank:
    measured, share_n = sums.get("measured", 0), sums.get("share_n", 0)
    return DepartmentRank(
        department=department,
        completed=sums.get("completed", 0),
        measured=measured,
        on_time=sums.get("on_time", 0),
        breached=sums.get("breached", 0),
        overdue_now=lights.get(Light.RED.value, 0),
        on_time_rate=sums.get("on_time", 0) / measured if measured else None,
        average_share=sums.get("share_ppm", 0) / share_n / PPM if share_n else None,
        share_n=share_n,
    )


def _rank_order(rank: DepartmentRank) -> tuple[float, int, str]:
    # best rate first; departments with nothing measured after every measured one
    rate = -1.0 if rank.on_time_rate is None else rank.on_time_rate
    return (-rate, -rank.completed, rank.department)


def _matches(view: View, wanted: dict[str, str | None]) -> bool:
    """Whether a view fetched after its index entry still fits the filters (it may have
    moved in between: a page shows each case as it is now, or leaves it out)."""
    if view.get("light") == Light.CLOSED.value:
        return False
    return all(value is None or view.get(name) == value for name, value in wanted.items())


def _code(value: object) -> str:
    return "" if value is None else str(value)


def instant_of(value: object) -> int | None:
    """Epoch seconds of an RFC 3339 field of a view, None when absent or not an instant."""
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value)
    except InstantError:
        return None


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def _text(value: bytes | str) -> str:
    """Works with clients made with or without ``decode_responses``."""
    return value.decode() if isinstance(value, bytes) else value


def _loads(raw: bytes | str) -> Any:
    return json.loads(raw)


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a SCAN MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


@dataclass(slots=True)
class Projection:
    """A case view or an alert record to write, with the version of its case."""

    is_case: bool
    record: View  # without its version
    version: Version
    body: bytes | None = None  # the record as JSON, when its writer has it

    def published(self) -> tuple[bytes, bytes]:
        """The record as the cases or alerts topic holds it: its id, and its JSON with the
        version appended (what :func:`projection_of` reads back)."""
        body = jsontext.dumps(self.record) if self.body is None else self.body
        key = self.record["case_id"] if self.is_case else self.record["id"]
        return str(key).encode(), body[:-1] + b',"version":[%d,%d]}' % self.version


def projection_of(is_case: bool, value: bytes) -> Projection:
    """A record of the cases or alerts topic (its version inside) as a projection."""
    record = json.loads(value)
    events, time = record.pop("version")
    return Projection(is_case, record, (events, time))


async def project_records(read_model: ReadModel, records: Sequence[tuple[bool, bytes]]) -> None:
    """Write a batch of records of the cases and alerts topics in one round trip."""
    async with read_model.batch() as batched:
        await queue_records(batched, [projection_of(*record) for record in records])


async def queue_records(batched: ReadModel, projections: Sequence[Projection]) -> None:
    """Queue projections into a batch the caller opened (``ReadModel.batch()``) to share its
    round trip. Only the newest view of each case and the newest state of each alert is
    written: versioned writes would make the older ones no-ops anyway."""
    cases: dict[str, Projection] = {}
    alerts: dict[str, Projection] = {}
    for projection in projections:
        record = projection.record
        newest, key = (cases, record["case_id"]) if projection.is_case else (alerts, record["id"])
        known = newest.get(key)
        if known is None or known.version < projection.version:
            newest[key] = projection
    for case in cases.values():
        await batched.write_case(case.record, case.version, case.body)
    for alert in alerts.values():
        await batched.write_alerts([alert.record], alert.version)
