"""The read model's store: one class, :class:`ReadModel`, that writes case views, alerts and
feed health into Redis and reads them back for the API, the wall page and the metrics. It is the
only code that knows the read model's key names (docs/read-model.md lists them).

Idempotency: every case write carries a version that grows with the case (events applied,
engine time). The Lua script compares it with the stored one and, only if it is newer, undoes
what the stored view contributed (its *footprint*: index memberships and counter increments)
and applies the new footprint, in one atomic step. The content under the prefix is therefore a
function of the newest view of each case, whatever the order, repetition or restarts of the
writes: a replay never double counts.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from monitor import jsontext
from monitor.alert import AlertKind, AlertStatus
from monitor.casetypes import Light
from monitor.readmodel import scripts
from monitor.readmodel.alertqueue import (
    AlertFilter,
    Order,
    Position,
    Visible,
    alert_order,
    decode_alert_cursor,
    encode_alert_cursor,
)
from monitor.readmodel.cursors import case_id_of, case_member, decode_cursor, encode_cursor
from monitor.readmodel.feed import (
    UNKNOWN_SOURCE,
    FeedRecord,
    FeedTally,
    SourceHealth,
    source_health,
)
from monitor.readmodel.footprints import footprint
from monitor.readmodel.ranking import DepartmentRank, iso_weeks, rank_departments
from monitor.readmodel.views import LIGHTS, SEP, KnownCodes, Version, View
from monitor.timeutil import parse_instant

OPEN_ALERT_STATUSES = (AlertStatus.FIRING.value, AlertStatus.ACKNOWLEDGED.value)
ALERT_CHUNK = 200  # alert index entries read per round trip when filters leave some out


class Page(NamedTuple):
    """One page of open cases in deadline order; ``cursor`` fetches the next, None at the end."""

    items: list[View]
    cursor: str | None


class CaseOwner(NamedTuple):
    """Whose a case is, for the API's check of who may write to it (``monitor.writers``): its
    centre and the source that opened it (None: not named, or not known)."""

    center: str | None
    opened_by: str | None


class Change(NamedTuple):
    """One entry of the change feed: its id (``<ms>-<n>``, the SSE position) and fields."""

    id: str
    fields: dict[str, str]


class ReadModel:
    """Cases, alerts, aggregates and feed health under one key prefix in Redis.

    The prefix belongs to the read model: :meth:`flush` deletes everything under it."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "redline:rm:",
        recent_alerts: int = 1_000,
        known: KnownCodes | None = None,
        alert_scan: int = 2_000,
    ) -> None:
        """``known``: the configured centre and department codes, which the writers (the
        workers, the rebuild) pass so that the aggregates count any other code as
        ``(unknown)``; None counts every code as it is (readers need none). ``alert_scan``:
        how many alert index entries one page of the alert queue reads at most, when filters
        the indexes do not cover leave most of them out."""
        if recent_alerts < 1 or alert_scan < 1:
            raise ValueError("recent_alerts and alert_scan must be at least 1")
        self.redis = redis
        self.prefix = prefix
        self.recent_alerts = recent_alerts
        self.known = known
        self.alert_scan = alert_scan
        self._write_case = redis.register_script(scripts.WRITE_CASE)
        self._write_alerts = redis.register_script(scripts.WRITE_ALERTS)
        self._record_events = redis.register_script(scripts.RECORD_EVENTS)
        self._write_audit = redis.register_script(scripts.WRITE_AUDIT)
        self._mark_handled = redis.register_script(scripts.MARK_HANDLED)
        self._alerts_after_script = redis.register_script(scripts.ALERTS_AFTER)
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
        events, time, config = Version(*version)  # a plain (events, time) too: config 0
        written = await self._write_case(
            client=self._client,
            keys=[self.key("case", str(view["case_id"]))],
            args=[
                self.prefix,
                events,
                time,
                jsontext.dumps(view) if body is None else body,
                footprint(view, self.known).to_json(),
                str(view["case_id"]),
                str(view.get("light") or ""),
                str(view.get("center") or ""),
                str(view.get("opened_by") or ""),
                config,
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

    async def write_audit(self, entry_id: str, entry: bytes) -> None:
        """Add one applied decision to the audit log (JSON ``entry``), once: a copy of an
        entry already there changes nothing."""
        await self._write_audit(
            client=self._client,
            keys=[self.key("audit"), self.key("audit", "entries")],
            args=[entry_id, entry],
        )

    async def mark_handled(self, offsets: dict[int, int]) -> None:
        """Store, per events partition, the highest offset whose feed health and dead letters
        are out (``streams.kit.handled``); a lower value than the stored one changes nothing."""
        if offsets:
            args = [n for partition, offset in offsets.items() for n in (partition, offset)]
            await self._mark_handled(keys=[self.key("feed", "handled")], args=args)

    async def handled_upto(self, partitions: Collection[int]) -> dict[int, int]:
        """The stored offsets of those partitions that have one."""
        if not partitions:
            return {}
        wanted = sorted(partitions)
        found = await self.redis.hmget(self.key("feed", "handled"), [str(p) for p in wanted])
        return {p: int(raw) for p, raw in zip(wanted, found, strict=True) if raw is not None}

    # -- the running configuration, as each process reports it ---------------------------------

    async def report_config(self, process: str, entry: dict[str, Any], ttl_s: int = 10) -> None:
        """A process's configuration version (and a worker's recompute progress), kept
        ``ttl_s`` seconds: a process that stopped reporting drops out of the list."""
        await self.redis.set(
            self.key("config", "process", process), jsontext.dumps(entry), ex=ttl_s
        )

    async def config_reports(self) -> list[View]:
        """What every running process last reported, by process id."""
        keys = [key async for key in self.redis.scan_iter(match=self.key("config", "process", "*"))]
        if not keys:
            return []
        found = await self.redis.mget(sorted(keys))
        return [_loads(raw) for raw in found if raw is not None]

    # -- whole: what a rebuild needs -----------------------------------------------------------

    async def is_built(self) -> bool:
        """Whether the read model holds what the topics hold: a rebuild (or the first start on
        an empty store) marks it so. False after Redis lost its data: the marker went with
        it, which is how a loss is detected rather than assumed."""
        return bool(await self.redis.exists(self.key("built")))

    async def built_at(self) -> str | None:
        """What the marker says (when and by whom the read model was last made whole)."""
        raw = await self.redis.get(self.key("built"))
        return None if raw is None else _text(raw)

    async def mark_built(self, note: str) -> None:
        """Mark the read model whole (after a rebuild), with a note for operators."""
        await self.redis.set(self.key("built"), note)

    async def lock_rebuild(self, holder: str, ttl_s: float) -> bool:
        """Take (or, for its holder, extend) the one rebuild lock for ``ttl_s``; False while
        another holds it. A holder that dies frees it when the lock expires."""
        key, ttl_ms = self.key("rebuilding"), int(ttl_s * 1000)
        if await self.redis.set(key, holder, nx=True, px=ttl_ms):
            return True
        if _text(await self.redis.get(key) or b"") == holder:
            return bool(await self.redis.set(key, holder, xx=True, px=ttl_ms))
        return False

    async def unlock_rebuild(self, holder: str) -> None:
        """Give the lock back if ``holder`` still holds it."""
        key = self.key("rebuilding")
        if _text(await self.redis.get(key) or b"") == holder:
            await self.redis.delete(key)

    async def flush(self) -> int:
        """Delete every key under the prefix (before a rebuild) but the rebuild lock; the
        number deleted."""
        deleted, batch = 0, []
        lock = self.key("rebuilding").encode()
        async for name in self.redis.scan_iter(match=_glob_escape(self.prefix) + "*", count=1000):
            if name == lock:
                continue
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
        key = self.key("case", case_id)
        events, time, config = await self.redis.hmget(key, ["events", "time", "config"])
        if events is None or time is None:
            return None
        return Version(int(events), int(time), int(config or 0))

    async def cases(
        self,
        light: str | None = None,
        center: str | None = None,
        department: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        within: Collection[str] | None = None,
    ) -> Page:
        """Open cases matching every filter given, by deadline (soonest first; suspended cases,
        without a deadline, last), ``limit`` at a time. ``within``: only cases of these
        centres (a principal bound to centres), when ``center`` is None."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if within is not None and center is None:
            return await self._merged(sorted(within), light, department, limit, cursor)
        indexes = self._indexes(light, center, department)
        after = None if cursor is None else decode_cursor(cursor)
        members = await self._intersection(indexes, after, limit + 1)
        more = len(members) > limit
        members = members[:limit]
        views = await self._views([case_id_of(member) for member in members])
        wanted = {"light": light, "center": center, "department": department}
        items = [view for view in views if _matches(view, wanted)]
        return Page(items, encode_cursor(members[-1]) if more else None)

    async def _merged(
        self,
        centers: list[str],
        light: str | None,
        department: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """One page merged from each centre's index; the cursor stays valid across them
        because every open-case index orders the same members."""
        pages = [await self.cases(light, one, department, limit, cursor) for one in centers]
        # each page is complete up to its own cursor: the merge is complete up to the smallest
        ends = [decode_cursor(page.cursor) for page in pages if page.cursor is not None]
        complete_to = min(ends) if ends else None
        merged = sorted(
            (
                (case_member(view), view)
                for page in pages
                for view in page.items
                if complete_to is None or case_member(view) <= complete_to
            ),
            key=lambda pair: pair[0],
        )
        if len(merged) > limit:
            merged = merged[:limit]
            return Page([view for _, view in merged], encode_cursor(merged[-1][0]))
        next_cursor = None if complete_to is None else encode_cursor(complete_to)
        return Page([view for _, view in merged], next_cursor)

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
        return list((await self._views_by_id(case_ids)).values())

    async def _views_by_id(self, case_ids: list[str]) -> dict[str, View]:
        """The stored views of these cases, in their order, in one round trip."""
        if not case_ids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for case_id in case_ids:
                pipe.hget(self.key("case", case_id), "view")
            raws = await pipe.execute()
        return {
            case_id: _loads(raw)
            for case_id, raw in zip(case_ids, raws, strict=True)
            if raw is not None
        }

    # -- aggregates -----------------------------------------------------------------------

    async def totals(self) -> dict[str, int]:
        """Cases by light (open lights, and ``closed`` for every case that ended)."""
        counts = await self._hash(self.key("agg", "light"))
        return {light: int(counts.get(light, 0)) for light in LIGHTS}

    async def center_totals(self) -> dict[str, dict[str, int]]:
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
        hashes = [await self._hash(bucket) for bucket in buckets]
        return rank_departments(hashes, await self.department_totals())

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
        kind: the first page of :meth:`alert_page`."""
        return (await self.alert_page(AlertFilter(status, kind), limit=limit)).items

    async def alert_page(
        self,
        wanted: AlertFilter,
        order: Order = Order.NEWEST,
        limit: int = 100,
        cursor: str | None = None,
        visible: Visible | None = None,
    ) -> Page:
        """One page of the alert queue: alert views matching ``wanted`` (and ``visible``, the
        caller's right to see them) by ``fired_at`` then id, after the position ``cursor``
        stands for. ``cursor`` is None at the end; a page may come back short (even empty)
        with a cursor when the walk read its bound of records: the next page goes on from
        there. :class:`CursorError` for a cursor of other filters or another order.
        Resolved alerts older than the newest ``recent_alerts`` have been let go."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        start = None if cursor is None else decode_alert_cursor(cursor, wanted, order)
        keys = [self.key("alerts", status, kind) for status, kind in wanted.sets()]
        filtered = visible is not None or wanted.reads_records()
        # unfiltered, a page's worth is enough; filtered, larger reads, within the bound
        chunk = min(max(limit, ALERT_CHUNK), self.alert_scan) if filtered else limit
        if not keys:
            return Page([], None)  # a kind of the other severity
        items: list[View] = []
        position, scanned = start, 0
        while True:
            # one more than a chunk tells whether the sets go on after it
            entries = await self._alerts_after(keys, position, order, chunk + 1)
            more, entries = len(entries) > chunk, entries[:chunk]
            records = await self._alert_records([alert_id for _, alert_id in entries])
            for i, (entry, alert) in enumerate(zip(entries, records, strict=True)):
                if alert is None or not wanted.matches(alert):
                    continue  # let go, or moved since its index entry was read
                if visible is not None and not visible(alert):
                    continue
                items.append(alert)
                if len(items) == limit:
                    last = not more and i == len(entries) - 1
                    return Page(items, None if last else encode_alert_cursor(entry, wanted, order))
            if not more:
                return Page(items, None)  # the walk reached the end of the sets
            scanned += len(entries)
            if scanned >= self.alert_scan:  # short, but the next page goes on from here
                return Page(items, encode_alert_cursor(entries[-1], wanted, order))
            position = entries[-1]

    async def _alerts_after(
        self, keys: list[str], start: Position | None, order: Order, count: int
    ) -> list[Position]:
        """The next ``count`` entries of the sets after ``start``, merged in order."""
        args: list[str | int] = [order.value, count]
        if start is not None:
            args += [start.fired_at, start.alert_id]
        flat = await self._alerts_after_script(keys=keys, args=args)
        entries = [
            Position(int(float(flat[i + 1])), _text(flat[i])) for i in range(0, len(flat), 2)
        ]
        return alert_order(entries, order)[:count]

    async def _alert_records(self, alert_ids: list[str]) -> list[View | None]:
        """The alert views of these ids, None for one no longer kept."""
        if not alert_ids:
            return []
        records = await self.redis.hmget(self.key("alerts"), alert_ids)
        return [None if record is None else _loads(record)["alert"] for record in records]

    # -- feed health ----------------------------------------------------------------------

    async def sources(self) -> list[SourceHealth]:
        """Feed health of every source that sent anything, by source id."""
        names = sorted(_text(s) for s in await self.redis.smembers(self.key("sources")))
        return [await self._source(name) for name in names]

    async def _source(self, source: str) -> SourceHealth:
        fields = await self._hash(self.key("source", source))
        unknown = await self._hash(self.key("source", source) + ":unknown_centers")
        return source_health(source, fields, unknown)

    # -- the change feed ------------------------------------------------------------------

    async def newest_change(self) -> str | None:
        """The id of the change feed's newest entry (``<ms>-<n>``), None when it is empty."""
        newest = cast(
            list[tuple[Any, Any]], await self.redis.xrevrange(self.key("changes"), count=1)
        )
        return _text(newest[0][0]) if newest else None

    async def last_change_ms(self) -> int | None:
        """When the read model last changed: epoch ms of its change feed's newest entry."""
        newest = await self.newest_change()
        return None if newest is None else int(newest.split("-", 1)[0])

    async def changes_after(self, position: str, count: int, block_ms: int | None) -> list[Change]:
        """Up to ``count`` changes after ``position`` (an entry id, ``0-0`` for all), waiting
        up to ``block_ms`` for the first when there is none yet (None: not waiting). Keep
        ``block_ms`` under the client's socket timeout (redis-py's default is 5 s), or the
        read times out."""
        feed = self.key("changes")
        found = cast(
            list[tuple[Any, list[tuple[Any, dict[Any, Any]]]]],
            await self.redis.xread({feed: position}, count=count, block=block_ms),
        )
        # RESP2 (the client's protocol): a list of [stream, entries] pairs
        return [
            Change(_text(entry_id), {_text(k): _text(v) for k, v in fields.items()})
            for _, entries in found
            for entry_id, fields in entries
        ]

    # -- what the gauges read at scrape time ----------------------------------------------

    async def audit_entries(self, before: str | None, limit: int) -> tuple[list[View], bool]:
        """Audit entries, newest first: ``limit`` of them older than the entry ``before`` (or
        the newest), and whether older ones remain."""
        newest = "+" if before is None else "(" + before
        ids = cast(
            list[bytes],
            await self.redis.zrange(
                self.key("audit"), newest, "-", desc=True, bylex=True, offset=0, num=limit + 1
            ),
        )
        if not ids:
            return [], False
        found = await self.redis.hmget(self.key("audit", "entries"), ids[:limit])
        return [_loads(raw) for raw in found if raw is not None], len(ids) > limit

    async def open_alert_counts(self) -> dict[tuple[str, str], int]:
        """Alerts waiting for action, by (kind, status), every pair present (zero or more)."""
        pairs = [(kind.value, status) for kind in AlertKind for status in OPEN_ALERT_STATUSES]
        async with self.redis.pipeline(transaction=False) as pipe:
            for kind, status in pairs:
                pipe.zcard(self.key("alerts", status, kind))
            counts = await pipe.execute()
        return {pair: int(n) for pair, n in zip(pairs, counts, strict=True)}

    async def case_centers(self, case_ids: Iterable[str]) -> dict[str, str | None]:
        """The centre of each case the read model holds (one round trip); cases it does not
        hold are left out."""
        wanted = sorted(set(case_ids))
        views = await self._views_by_id(wanted)
        return {case_id: view.get("center") for case_id, view in views.items()}

    async def case_owners(self, case_ids: Iterable[str]) -> dict[str, CaseOwner]:
        """The centre and opener of each case the read model holds, in one round trip of two
        small fields each; cases it does not hold are left out. A case written before those
        fields existed is read from its view (a second round trip, until it is written again
        or the read model rebuilt)."""
        wanted = sorted(set(case_ids))
        async with self.redis.pipeline(transaction=False) as pipe:
            for case_id in wanted:
                pipe.hmget(self.key("case", case_id), ["events", "center", "opened_by"])
            rows = await pipe.execute()
        owners: dict[str, CaseOwner] = {}
        older: list[str] = []
        for case_id, (events, center, opened_by) in zip(wanted, rows, strict=True):
            if events is None:
                continue  # not held
            if center is None:
                older.append(case_id)
                continue
            owners[case_id] = CaseOwner(_text(center) or None, _text(opened_by or b"") or None)
        for case_id, view in (await self._views_by_id(older)).items():
            owners[case_id] = CaseOwner(view.get("center"), view.get("opened_by"))
        return owners


def _matches(view: View, wanted: dict[str, str | None]) -> bool:
    """Whether a view fetched after its index entry still fits the filters (it may have
    moved in between: a page shows each case as it is now, or leaves it out)."""
    if view.get("light") == Light.CLOSED.value:
        return False
    return all(value is None or view.get(name) == value for name, value in wanted.items())


def _text(value: bytes | str) -> str:
    """Works with clients made with or without ``decode_responses``."""
    return value.decode() if isinstance(value, bytes) else value


def _loads(raw: bytes | str) -> Any:
    return json.loads(raw)


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a SCAN MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
