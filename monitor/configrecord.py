"""The running configuration as a record: the operators' files as applied, a hash, who applied
them and when.

``redline config apply FILES…`` reads the files given, lays them over the running set
(:meth:`ConfigSet.with_files`: a catalog, centres or policy file replaces the running one, a
calendar year file replaces that calendar's year or adds it), validates the whole set and, if it
loads, publishes it as a :class:`ConfigRecord` on the compacted ``redline-config`` topic
(``monitor.configlink``). Every worker, the API and the notifier load the same record and so
count every deadline alike. A record's version is its place on the topic (offset + 1), which
Kafka hands out once, so two operators applying at once get two versions, never one.

Pure: no Kafka here.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from monitor.calendar import CalendarError, YearSchedule, parse_year_file
from monitor.config import ESCALATION_KEYS, Config, ConfigError, ConfigFiles
from monitor.configfile import FileError, Problems, Source, parse_mapping, source_of
from monitor.timeutil import zone

OPEN_END = 2**53  # the end of a span whose overdue time still counts (monitor.snapshot)

RECORD_VERSION = 1  # the record's format (not the configuration's version)

# which role a file plays, by its top-level keys
_ROLE_BY_KEY = {
    "items": "catalog",
    "centers": "centres",
    "yellow_at": "policy",
    **{key: "policy" for key in ESCALATION_KEYS},
}
ROLES = ("catalog", "centres", "policy", "calendar year file")

SetCheck = Callable[["ConfigSet", Config | None], None]
"""A check of a set beyond what the core loads, given the set's configuration (None when it
does not load): it raises a :class:`~monitor.configfile.FileError` with its problems. The
command line passes the escalation policy's (``alerts.policy.check_policy``), which the pure
core cannot import."""


class RecordDecodeError(ValueError):
    """A configuration record that does not decode (written by a newer Redline, or damaged)."""


@dataclass(frozen=True, slots=True)
class ConfigSet:
    """The operators' files of one configuration, as read."""

    catalog: Source
    centres: Source | None = None
    policy: Source | None = None
    calendars: tuple[Source, ...] = ()  # operators' year files, on top of the shipped ones

    @classmethod
    def read(cls, files: ConfigFiles) -> ConfigSet:
        """The files ``files`` points at, read (not yet validated: :meth:`load`)."""
        problems = Problems(ConfigError)
        read: dict[str, Any] = {}
        for role, file in (
            ("catalog", files.catalog),
            ("centres", files.centers),
            ("policy", files.policy),
        ):
            if file is not None:
                with problems.gathering():
                    read[role] = source_of(file, ConfigError)
        calendars = []
        for file in files.calendars:
            with problems.gathering():
                calendars.append(source_of(file, ConfigError))
        problems.check()
        return cls(calendars=tuple(calendars), **read)

    def files(self) -> ConfigFiles:
        return ConfigFiles(self.catalog, self.centres, self.calendars, self.policy)

    def load(self, checks: Sequence[SetCheck] = ()) -> Config:
        """Validate the set, and run ``checks`` over it: one
        :class:`~monitor.configfile.FileError` with every problem of every file (calendar and
        other files alike) and of every check, or the configuration."""
        if not checks:
            return self.files().load()
        problems = Problems(ConfigError)
        config = None
        with problems.gathering():
            config = self.files().load()
        for check in checks:
            with problems.gathering():
                check(self, config)
        problems.check()
        assert config is not None  # else check() raised
        return config

    def digest(self) -> str:
        """A hash of the files' names and texts: equal sets, equal digests."""
        canonical = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        def one(source: Source | None) -> dict[str, str] | None:
            return None if source is None else {"name": source.name, "text": source.text}

        return {
            "catalog": one(self.catalog),
            "centres": one(self.centres),
            "policy": one(self.policy),
            "calendars": [one(source) for source in self.calendars],
        }

    @classmethod
    def from_json(cls, raw: Any) -> ConfigSet:
        def one(value: Any, role: str) -> Source:
            if (
                not isinstance(value, dict)
                or not isinstance(value.get("name"), str)
                or not isinstance(value.get("text"), str)
            ):
                raise RecordDecodeError(f"files.{role}: must be {{name, text}}")
            return Source(value["name"], value["text"])

        if not isinstance(raw, dict) or not isinstance(raw.get("calendars"), list):
            raise RecordDecodeError("files: must hold catalog, centres, policy and calendars")
        return cls(
            catalog=one(raw.get("catalog"), "catalog"),
            centres=None if raw.get("centres") is None else one(raw["centres"], "centres"),
            policy=None if raw.get("policy") is None else one(raw["policy"], "policy"),
            calendars=tuple(
                one(value, f"calendars[{i}]") for i, value in enumerate(raw["calendars"])
            ),
        )

    def with_files(
        self, sources: Sequence[Source], checks: Sequence[SetCheck] = ()
    ) -> tuple[ConfigSet, Config]:
        """This set with ``sources`` laid over it, each by the role its top-level keys give it,
        validated: a catalog (``items:``), centres (``centers:``) or policy (``yellow_at:``)
        file replaces the running one; a calendar year file (``year:``) replaces the running
        file of its calendar and year, or is added. Refuses with one
        :class:`~monitor.config.ConfigError` holding every problem at once: a file whose role
        cannot be told, two files of one role, a year file that does not parse, and every
        problem of the set the others make, ``checks`` included."""
        problems = Problems(ConfigError)
        changed: dict[str, Source] = {}
        years: dict[tuple[str, int], Source] = {}
        for source in sources:
            with problems.gathering():
                role, year = _role_of(source)
                if year is not None:
                    if year in years:
                        raise ConfigError(
                            f"{source.name}: {year[0]} {year[1]} is also in {years[year].name}: "
                            "give one file per calendar year"
                        )
                    years[year] = source
                elif role in changed:
                    raise ConfigError(
                        f"{source.name}: a {role} file too, besides {changed[role].name}: give "
                        "one file per role"
                    )
                else:
                    changed[role] = source
        kept = [source for source in self.calendars if _year_of(source) not in years]
        calendars = tuple(sorted([*kept, *years.values()], key=_year_order))
        wanted = replace(self, calendars=calendars, **changed)
        config = None
        with problems.gathering():  # the files placed, with the rest of the set
            config = wanted.load(checks)
        problems.check()
        assert config is not None
        return wanted, config


def _role_of(source: Source) -> tuple[str, tuple[str, int] | None]:
    """The file's role, and for a calendar year file its (calendar, year)."""
    raw = parse_mapping(source.name, source.text, ConfigError)
    if "year" in raw:
        try:
            schedule = parse_year_file(source.name, source.text, origin=source.name)
        except CalendarError as exc:
            raise ConfigError(str(exc), exc.problems) from None
        return "calendar year file", (schedule.calendar, schedule.year)
    roles = {_ROLE_BY_KEY[key] for key in raw if key in _ROLE_BY_KEY}
    if len(roles) != 1:
        raise ConfigError(
            f"{source.name}: not a Redline configuration file: its top-level keys must be those "
            "of a catalog (items:), a centres file (centers:), a policy (yellow_at:, people:, "
            "receivers:, routes:, escalation:) or a calendar year file (year:)"
        )
    return roles.pop(), None


def _year_of(source: Source) -> tuple[str, int] | None:
    try:
        return _role_of(source)[1]
    except FileError:
        return None


def _year_order(source: Source) -> tuple[str, int, str]:
    year = _year_of(source)
    return (*year, source.name) if year is not None else ("", 0, source.name)


@dataclass(frozen=True, slots=True)
class ConfigRecord:
    """One configuration as applied: its files, who applied them, when, and how (``seed``: the
    files on disk, published by the first process that found the topic empty; ``apply``:
    ``redline config apply``). ``version`` is the record's offset + 1 on the topic; 0 for a
    configuration read from disk and not (yet) on the topic."""

    files: ConfigSet
    applied_by: str
    applied_at: int  # epoch seconds
    how: str = "apply"
    version: int = 0
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", self.files.digest())

    def encode(self) -> bytes:
        return json.dumps(
            {
                "v": RECORD_VERSION,
                "digest": self.digest,
                "applied_by": self.applied_by,
                "applied_at": self.applied_at,
                "how": self.how,
                "files": self.files.to_json(),
            },
            ensure_ascii=False,
        ).encode()

    @classmethod
    def decode(cls, value: bytes, version: int) -> ConfigRecord:
        """The record read at offset ``version - 1``; a record that does not decode, or whose
        files do not hash to its digest, is refused."""
        try:
            raw = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            raise RecordDecodeError("not a JSON object") from None
        if not isinstance(raw, dict) or raw.get("v") != RECORD_VERSION:
            got = raw.get("v") if isinstance(raw, dict) else None
            raise RecordDecodeError(f"v: {got!r} is not {RECORD_VERSION} (a newer Redline?)")
        files = ConfigSet.from_json(raw.get("files"))
        record = cls(
            files,
            str(raw.get("applied_by", "")),
            int(raw.get("applied_at", 0)),
            str(raw.get("how", "apply")),
            version,
        )
        if record.digest != raw.get("digest"):
            raise RecordDecodeError("digest: the files do not hash to the record's digest")
        return record

    def numbered(self, version: int) -> ConfigRecord:
        return replace(self, version=version)

    def summary(self, config: Config, this_year: int) -> dict[str, Any]:
        """What ``GET /v1/config`` says of it: version, digest, who and when, the files, and for
        each calendar in use the years in force: official (a published schedule, shipped or
        an operator's) or provisional (counted on the provisional rule until the State
        Council's notice is loaded), from last year to next year."""
        files = self.files
        return {
            "version": self.version,
            "digest": self.digest,
            "applied_by": self.applied_by,
            "applied_at": self.applied_at,
            "how": self.how,
            "files": {
                "catalog": files.catalog.name,
                "centres": files.centres.name if files.centres else None,
                "policy": files.policy.name if files.policy else None,
                "calendars": [source.name for source in files.calendars],
            },
            "calendars": calendar_years(config, this_year),
        }


def calendar_years(config: Config, this_year: int) -> dict[str, dict[str, Any]]:
    """For each calendar the centres use (or ``cn``), the years from last year to next year:
    official (with the notice it comes from) or provisional."""
    ids = sorted({center.calendar for center in config.centers.values()} or {"cn"})
    found: dict[str, dict[str, Any]] = {}
    for calendar_id in ids:
        schedules: Mapping[int, YearSchedule] = config.calendars.years(calendar_id)
        years = range(this_year - 1, this_year + 2)
        found[calendar_id] = {
            "official": {str(year): schedules[year].source for year in years if year in schedules},
            "provisional": [year for year in years if year not in schedules],
        }
    return found


def affects_open_cases(before: Config, after: Config) -> bool:
    """Whether open cases must be recomputed: working time (calendars, centres' zones and
    calendars) or the yellow thresholds changed. A catalog edit applies to new cases only (a
    case keeps the item as it first saw it), so it needs none."""
    return (
        before.calendars.days_off_and_on() != after.calendars.days_off_and_on()
        or _zones(before) != _zones(after)
        or before.policy != after.policy
    )


@dataclass(frozen=True, slots=True)
class CalendarChange:
    """The days a new configuration counts otherwise than the old one, per calendar id: those
    whose working status changed, and every day of a year that became official or went back
    to the provisional rule (its cases' ``calendar_provisional`` changes). Only an open case
    whose working-day span (``monitor.snapshot.working_span``) holds one of them can change."""

    days: Mapping[str, tuple[int, ...]]  # days since 1970-01-01, sorted
    after: Config

    def then(self, later: CalendarChange | None) -> CalendarChange | None:
        """This change followed by ``later``: their days together (a day changed and changed
        back is kept: at worst a case is recomputed for nothing), or None if either is."""
        if later is None:
            return None
        days = {cid: set(d) for cid, d in self.days.items()}
        for cid, more in later.days.items():
            days.setdefault(cid, set()).update(more)
        return CalendarChange({cid: tuple(sorted(d)) for cid, d in days.items()}, later.after)

    def touches(self, span: Sequence[Any] | None) -> bool:
        """Whether a case of ``span`` (``[first instant, last deadline, centre]``; None:
        unbounded) must be recomputed."""
        if span is None:
            return True
        first, until, center = span
        site = self.after.center(center)
        days = self.days.get(site.calendar, ())
        if not days:
            return False
        local = zone(site.timezone)
        found = bisect.bisect_left(days, local.local_day(first))
        if until >= OPEN_END:  # overdue and still counting: every day from its first on
            return found < len(days)
        return found < len(days) and days[found] <= local.local_day(until)


def calendar_change(before: Config, after: Config) -> CalendarChange | None:
    """What changed of working time alone, or None when every open case is to be recomputed
    whatever its days (the yellow thresholds, or a centre's zone or calendar, changed)."""
    if before.policy != after.policy or _zones(before) != _zones(after):
        return None
    old, new = before.calendars.days_off_and_on(), after.calendars.days_off_and_on()
    changed: dict[str, set[int]] = {}
    for calendar_id, year in set(old) | set(new):
        if old.get((calendar_id, year)) == new.get((calendar_id, year)):
            continue
        first = (date(year, 1, 1) - EPOCH).days
        days = range(first, (date(year + 1, 1, 1) - EPOCH).days)
        if ((calendar_id, year) in old) != ((calendar_id, year) in new):
            changed.setdefault(calendar_id, set()).update(days)  # official <-> provisional
            continue
        was, now = before.calendars.get(calendar_id), after.calendars.get(calendar_id)
        changed.setdefault(calendar_id, set()).update(
            day for day in days if was.is_workday(day) != now.is_workday(day)
        )
    return CalendarChange({cid: tuple(sorted(days)) for cid, days in changed.items()}, after)


EPOCH = date(1970, 1, 1)


def _zones(config: Config) -> dict[str, tuple[str, str]]:
    return {code: (c.timezone, c.calendar) for code, c in config.centers.items()}


def sources(paths: Iterable[Any], error_type: type[FileError] = ConfigError) -> list[Source]:
    """The files at ``paths``, read; every file that cannot be read refused at once."""
    problems = Problems(error_type)
    read = []
    for path in paths:
        with problems.gathering():
            read.append(source_of(path, error_type))
    problems.check()
    return read
