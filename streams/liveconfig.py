"""The worker's running configuration: switched live, and open cases recomputed in the background.

A worker starts with the newest configuration record (``monitor.configlink.running``) and
follows the topic (:class:`~monitor.configlink.ConfigFollower`). A new version is switched to
between two batches (:meth:`LiveConfig.switch`, under the lock the agent holds for each batch):
from then on every event, tick and command is counted under it, and a case loaded from its
snapshot is replayed under it, its alerts corrected or fired (``monitor.snapshot.load_case``).

Which cases have been counted under which version is kept per partition, in the worker's own
table: a marker key per partition holds the version its open cases were last recomputed under
(none: version 1, the files on disk that seeded the topic, which a table from before this
release was counted with too).
Whenever a worker owns a partition whose marker is below the version it runs (after a switch that
changes working time, after a rebalance brought it the partition, at start), it goes through that
partition's open cases in chunks (:meth:`Tracker.recompute`): each chunk is replayed, its views
republished under the new version, its timers re-armed at the new instants, its alerts corrected or
fired at their own instants; then it raises the markers. The cases due soonest go first, across the
partitions. The chunks take turns with the batches, and after each the pass rests in proportion to
the time it took (``recompute_share`` of the worker's time, half by default), so ingestion and
timers go on at their usual latency. A partition that moves away mid-way is left to its new owner,
which finds its marker low and recomputes it all.

Progress is written to the read model for ``GET /v1/config`` and ``redline watch``
(:meth:`ReadModel.report_config`): each worker's version, and cases recomputed, left, time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.config import Config
from monitor.configrecord import CalendarChange, ConfigRecord, calendar_change
from monitor.readmodel import KnownCodes, ReadModel
from monitor.snapshot import CLOSED, may_be_open, span_of
from streams.kit.batches import writing_to
from streams.kit.tablestore import Armed, TableStore
from streams.tracker import Outputs, Tracker

log = logging.getLogger(__name__)

FIRST_VERSION = 1  # the first record on the topic: the files on disk (configlink.running)
CHUNK = 200  # cases per turn: a turn holds the batches back this long (about 50 ms)
SCAN_SLICE = 20_000  # keys read from the table at a time when a pass starts (about 50 ms)
_NEVER = 2**62  # the due instant of a case with nothing due: last
REPORT_EVERY_S = 2.0
# a key no case can have (case ids have no control characters): the partition's marker, stored
# like a closed case's snapshot so that the timers and the recompute pass leave it alone
_MARKER = "\x00config:{}"
_CLOSED_PREFIX = struct.pack(">q", CLOSED)

Send = Callable[[Sequence[tuple[int, Outputs]]], Awaitable[None]]


def marker_key(partition: int) -> str:
    return _MARKER.format(partition)


@dataclass(slots=True)
class Recompute:
    """One pass's progress."""

    version: int
    cases: int = 0  # open cases found in the partitions to do
    done: int = 0
    partitions: list[int] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def report(self) -> dict[str, Any]:
        end = self.finished if self.finished is not None else time.monotonic()
        return {
            "version": self.version,
            "partitions": self.partitions,
            "cases": self.cases,
            "done": self.done,
            "left": self.cases - self.done,
            "seconds": round(end - self.started, 3),
            "finished": self.finished is not None,
        }


class LiveConfig:
    """A worker's configuration, switched live, and the recompute passes it needs."""

    def __init__(
        self,
        record: ConfigRecord,
        tracker: Tracker,
        store: TableStore,
        read_model: ReadModel,
        send: Send,
        owned: Callable[[], set[int]],
        share: float = 0.5,
    ) -> None:
        self.record = record
        self.tracker = tracker
        self.store = store
        self.read_model = read_model
        self.send = send
        self.owned = owned
        self.rest = (1 - share) / share  # seconds left to the rest per second of recompute
        self.lock = asyncio.Lock()  # held by the agent for each batch, and here for each turn
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.recompute: Recompute | None = None
        self._pass: asyncio.Task[None] | None = None
        self._again = False  # a pass is to start over once the current turn ends
        # marker version -> what changed of working time since, to the version running (None:
        # anything may have): a partition counted under a version found here recomputes only
        # the cases whose working-day span holds a changed day; any other recomputes them all
        self._since: dict[int, CalendarChange | None] = {}
        tracker.config_version = record.version

    async def switch(self, record: ConfigRecord, config: Config) -> None:
        """Run ``record`` from the next batch on; recompute the open cases if it changes
        working time or thresholds (else only its version changes: a catalog edit applies to
        new cases)."""
        async with self.lock:
            previous = self.record.version
            change = calendar_change(self.tracker.engine.config, config)
            self._since = {
                version: (since.then(change) if since is not None else None)
                for version, since in self._since.items()
            }
            self._since[previous] = change
            affects = self.tracker.switch(config, record.version)
            self.read_model.known = KnownCodes.of(config)
            self.record = record
        log.info(
            "configuration version %d (%s, applied by %s) running%s",
            record.version,
            record.digest[:15],
            record.applied_by,
            "; open cases are being recomputed" if affects else "",
        )
        if affects or (self._pass is not None and not self._pass.done()):
            self.start()  # a pass under way starts over under this version
        else:
            await self._raise_markers(self.owned(), record.version, previous)
        await self.report()

    def start(self) -> None:
        """A pass over the owned partitions whose marker is below the running version (after a
        switch, a rebalance, at start). A pass still running stops after its current turn and
        starts over (a turn is never cut in the middle: its outputs go out whole)."""
        if self._pass is not None and not self._pass.done():
            self._again = True
            return
        self._again = False
        self._pass = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._pass is not None:
            self._pass.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pass

    async def _run(self) -> None:
        try:
            while True:
                self._again = False
                await self._recompute(self.record.version)
                if not self._again:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.critical("the recompute pass failed; the worker exits", exc_info=True)
            logging.shutdown()
            os._exit(70)  # as the agent does (streams.app.AGENT_FAILED)

    async def _recompute(self, version: int) -> None:
        owned = self.owned()
        stale = {p for p in owned if self._marker(p) < version}
        if not stale:
            return
        found = await self._open_cases(stale)
        filters = {p: self._filter(self._marker(p)) for p in stale}
        progress = self.recompute = Recompute(version, len(found), partitions=sorted(stale))
        log.info(
            "recomputing %d open cases of partitions %s under configuration version %d",
            progress.cases,
            progress.partitions,
            version,
        )
        last_report = time.monotonic()
        moved: set[int] = set()  # its new owner finds the marker low and counts it all
        for start in range(0, len(found), CHUNK):
            if self._again:
                return  # a newer version or a rebalance: the pass starts over
            owned = self.owned()
            moved |= stale - owned
            chunk: dict[int, list[str]] = {}
            for _, partition, case_id in found[start : start + CHUNK]:
                if partition not in moved:
                    chunk.setdefault(partition, []).append(case_id)
            async with self.lock:
                turn = time.monotonic()
                now, outputs = int(time.time()), []
                for partition, ids in chunk.items():
                    self.store.partition = partition
                    with writing_to(partition):
                        outputs.append(
                            (partition, self.tracker.recompute(ids, now, filters[partition]))
                        )
                await self.send(outputs)
            progress.done += len(found[start : start + CHUNK])
            # A turn is Python from end to end and holds the GIL: faust's consumer runs in a
            # thread of its own, which a busy loop starves (measured: events and ticks waited
            # for the pass's end). Sleeping gives it the GIL, and the batches it fetches the
            # loop.
            await asyncio.sleep((time.monotonic() - turn) * self.rest)
            if time.monotonic() - last_report >= REPORT_EVERY_S:
                last_report = time.monotonic()
                await self.report()
        await self._raise_markers(stale - moved, version)
        progress.finished = time.monotonic()
        log.info(
            "recomputed %d open cases under configuration version %d in %.1f s",
            progress.done,
            version,
            progress.finished - progress.started,
        )
        await self.report()

    async def _open_cases(self, partitions: set[int]) -> list[tuple[int, int, str]]:
        """(next due, partition, case id) of every case of ``partitions`` that may be open, the
        soonest due first, whatever the partition: a deadline the change moves earlier, to an
        instant close at hand, is among the cases due soonest (a change moves a deadline by the
        days it changes); cases with nothing due (paused) come last.

        The table is read in slices that rest like the turns: at half a million cases a
        single read held the events and timers back for about five seconds."""

        def entries(scan: Iterable[Armed]) -> list[tuple[int, int, str]]:
            return [(_NEVER if e.due is None else e.due, e.partition, e.key) for e in scan]

        found: list[tuple[int, int, str]] = []
        scan = self.store.keys_where(partitions, may_be_open)
        try:
            while True:
                started = time.monotonic()
                read = entries(itertools.islice(scan, SCAN_SLICE))
                found += read
                if len(read) < SCAN_SLICE:
                    break
                await asyncio.sleep((time.monotonic() - started) * self.rest)
        except RuntimeError:  # a memory store changed size meanwhile: read it at once
            found = entries(self.store.keys_where(partitions, may_be_open))
        found.sort()
        return found

    def _filter(self, marker: int) -> Callable[[bytes], bool] | None:
        """Which cases of a partition counted under ``marker`` to recompute (None: all)."""
        if marker not in self._since:
            return None
        change = self._since[marker]
        if change is None:
            return None
        return lambda snapshot: change.touches(span_of(snapshot))

    def _marker(self, partition: int) -> int:
        stored = self.store.get(marker_key(partition))
        if stored is None:
            # a table without markers was counted under the files on disk, before this
            # release or on a fresh start: they are what version 1 seeds
            return FIRST_VERSION
        return int(stored[len(_CLOSED_PREFIX) :])

    async def _raise_markers(
        self, partitions: set[int], version: int, up_to_date: int | None = None
    ) -> None:
        """Record that these partitions' open cases are counted under ``version``; with
        ``up_to_date``, only those whose marker says they were counted under it (the others
        still wait for a pass)."""
        async with self.lock:
            for partition in partitions:
                marker = self._marker(partition)
                if marker >= version or partition not in self.owned():
                    continue
                if up_to_date is not None and marker < up_to_date:
                    continue
                self.store.partition = partition
                with writing_to(partition):
                    self.store[marker_key(partition)] = _CLOSED_PREFIX + b"%d" % version
            await self.send([])

    async def report(self) -> None:
        """This worker's version and its recompute's progress, in the read model."""
        entry = {
            "process": "worker",
            "id": self.worker,
            "version": self.record.version,
            "digest": self.record.digest,
            "partitions": sorted(self.owned()),
            "recompute": self.recompute.report() if self.recompute else None,
            # a pass started (or to start over) whose progress is not reported yet: between a
            # switch and the pass's first report, `config apply` must not take it as done
            "pending": self._pass is not None
            and not self._pass.done()
            and (
                self.recompute is None
                or self.recompute.version < self.record.version
                or self._again
            ),
        }
        try:
            await self.read_model.report_config(self.worker, entry)
        except (OSError, ConnectionError, TimeoutError) as exc:
            log.info("configuration report not written (%s)", exc)
        except Exception as exc:  # Redis errors: the next report writes it
            log.info("configuration report not written (%r)", exc)

    async def keep_reporting(self) -> None:
        while True:
            await self.report()
            await asyncio.sleep(REPORT_EVERY_S)
