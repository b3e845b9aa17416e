"""Operators' configuration (SPEC §2): catalog, centres, calendars and policy, as YAML files.

Every error names the file, the entry and the field, e.g.
``catalog.yaml: items[3] (FOOD-LICENSE): promised: 'ten' is not a limit …`` (worded by
:mod:`monitor.configfile`), and a load reports every error of every file at once (each field of
each entry is read, whatever failed before it). A :class:`ConfigFiles` remembers where the files
are, so ``load()`` again is a reload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.calendar import Calendars, load_calendars
from monitor.configfile import (
    FileError,
    Problems,
    Source,
    Where,
    read_fields,
    read_mapping,
    source_of,
)
from monitor.events import is_code
from monitor.limits import Limit, Unit, parse_limit

DEFAULT_YELLOW_AT = Fraction(4, 5)
DEFAULT_INTAKE = Limit(5, Unit.WORKING_DAYS)
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_CALENDAR = "cn"
# the policy file's escalation part (SPEC §5.1), beside its yellow_at: read by alerts.policy,
# which the pure core does not import; here they are only let through
ESCALATION_KEYS = ("people", "receivers", "routes", "escalation")


class ConfigError(FileError):
    """Configuration files that break rules; each of its ``problems`` names file, entry and
    field."""


@dataclass(frozen=True, slots=True)
class Item:
    """One approval item of the catalog (事项目录)."""

    code: str
    name: str
    department: str
    promised: Limit  # 承诺时限
    statutory: Limit  # 法定时限
    extension_max: Limit | None = None  # 法定延期上限
    yellow_at: Fraction | None = None  # share of the budget used at which the case turns yellow
    intake: Limit = DEFAULT_INTAKE  # 受理时限


@dataclass(frozen=True, slots=True)
class Center:
    """A service centre (政务服务中心): its zone and working-day calendar."""

    code: str
    name: str
    timezone: str = DEFAULT_TIMEZONE
    calendar: str = DEFAULT_CALENDAR
    # window systems that may write to every case of this centre, besides the source that
    # opened it (monitor.writers): e.g. a department's approval system (审批系统) that
    # completes the cases the centre's front desk (综合窗口) opened
    sources: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Policy:
    """Yellow thresholds, the most specific winning: item, department, centre, default."""

    default_yellow_at: Fraction = DEFAULT_YELLOW_AT
    centers: Mapping[str, Fraction] = field(default_factory=dict)
    departments: Mapping[str, Fraction] = field(default_factory=dict)
    items: Mapping[str, Fraction] = field(default_factory=dict)

    def yellow_at(self, item: Item, center: str, department: str) -> Fraction:
        """The threshold for a case of ``item`` at ``center`` handled by ``department``."""
        for value in (
            self.items.get(item.code),
            item.yellow_at,
            self.departments.get(department),
            self.centers.get(center),
        ):
            if value is not None:
                return value
        return self.default_yellow_at


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the engine reads from operators, validated."""

    catalog: Mapping[str, Item]
    centers: Mapping[str, Center]
    calendars: Calendars
    policy: Policy = Policy()

    def center(self, code: str) -> Center:
        """The centre's settings; an unknown code gets the defaults (and is reported as unknown
        in its source's feed health)."""
        return self.centers.get(code) or Center(code, code)


@dataclass(frozen=True, slots=True)
class ConfigFiles:
    """Where the configuration lives (paths, or files already read: a configuration record's);
    :meth:`load` reads (and re-reads) it."""

    catalog: Path | Source
    centers: Path | Source | None = None
    calendars: Sequence[Path | Source] = ()
    policy: Path | Source | None = None

    def load(self) -> Config:
        """Read and validate every file; raises one :class:`ConfigError` with every problem of
        every file."""
        problems = Problems(ConfigError)
        calendars: Calendars | None = None
        with problems.gathering():
            calendars = load_calendars(self.calendars)
        centers: dict[str, Center] = {}
        if self.centers:
            with problems.gathering():
                centers = load_centers(self.centers)
            if calendars is not None:
                with problems.gathering():
                    _check_calendars(_name(self.centers), centers, calendars)
        catalog: dict[str, Item] = {}
        with problems.gathering():
            catalog = load_catalog(self.catalog)
        policy = Policy()
        if self.policy:
            with problems.gathering():
                policy = load_policy(self.policy)
        problems.check()
        assert calendars is not None  # else check() raised
        return Config(catalog=catalog, centers=centers, calendars=calendars, policy=policy)


def load_catalog(file: Path | Source) -> dict[str, Item]:
    """The catalog file: ``items:`` with code, name, department, promised, statutory, …; every
    field of every item checked, every problem reported at once."""
    source = source_of(file, ConfigError)
    path = source.name
    entries = _entries(source, "items")
    catalog: dict[str, Item] = {}
    codes: set[str] = set()  # every code read, of valid items or not
    problems = Problems(ConfigError)
    for index, raw in enumerate(entries):
        with problems.gathering():
            where = Where.entry(ConfigError, path, f"items[{index}]", raw)
            code = raw.get("code")
            if isinstance(code, str) and code in codes:
                raise where.error("code", f"{code!r} appears twice in the catalog")
            if isinstance(code, str):
                codes.add(code)
            item = _item(where, raw)
            catalog[item.code] = item
    problems.check()
    return catalog


def _item(where: Where, raw: dict[str, Any]) -> Item:
    """One catalog entry, each field read whatever failed before it."""
    problems = Problems(ConfigError)
    fields = read_fields(
        where,
        raw,
        problems,
        {
            "code": lambda: where.text(raw, "code"),
            "name": lambda: where.text(raw, "name"),
            "department": lambda: where.text(raw, "department"),
            "promised": lambda: where.get(raw, "promised", parse_limit),
            "statutory": lambda: where.get(raw, "statutory", parse_limit),
            "extension_max": lambda: where.get(raw, "extension_max", parse_limit, optional=True),
            "yellow_at": lambda: where.get(raw, "yellow_at", parse_fraction, optional=True),
            "intake": lambda: (
                where.get(raw, "intake", parse_limit, optional=True) or DEFAULT_INTAKE
            ),
        },
    )
    with problems.gathering():
        _check_limits(where, fields)
    problems.check()
    return Item(**fields)


def _check_limits(where: Where, fields: Mapping[str, Any]) -> None:
    """The limits of one item agree: of one family (an extension is added to the clocks), and
    the promise (承诺时限) no longer than the law's (法定时限)."""
    limits = {
        name: fields[name]
        for name in ("promised", "statutory", "extension_max")
        if isinstance(fields.get(name), Limit)
    }
    families = {limit.unit.family for limit in limits.values()}
    if len(families) > 1:
        written = ", ".join(f"{name} {limit}" for name, limit in limits.items())
        raise where.error(
            "promised",
            f"the limits of one item must be of one family, days (wd, d) or hours (h): {written}",
        )
    promised, statutory = limits.get("promised"), limits.get("statutory")
    if promised is not None and statutory is not None and _longer(promised, statutory):
        raise where.error(
            "promised",
            f"{promised} is longer than statutory {statutory}: a centre's promise "
            "(承诺时限) is at most the law's limit (法定时限)",
        )


def _longer(promised: Limit, statutory: Limit) -> bool:
    """Whether ``promised`` is surely longer than ``statutory``: the same unit, more of it; or
    working days against as many or fewer natural days (n working days span at least n days).
    Natural days against working days cannot be told apart without a calendar: not judged."""
    if promised.unit is statutory.unit:
        return promised.amount > statutory.amount
    both = {promised.unit, statutory.unit}
    if both == {Unit.WORKING_DAYS, Unit.DAYS}:
        return promised.unit is Unit.WORKING_DAYS and promised.amount > statutory.amount
    return False


def load_centers(file: Path | Source) -> dict[str, Center]:
    """The centres file: ``centers:`` with code, name, optional timezone, calendar and
    sources; every problem reported at once."""
    source = source_of(file, ConfigError)
    path = source.name
    centers: dict[str, Center] = {}
    problems = Problems(ConfigError)
    for index, raw in enumerate(_entries(source, "centers")):
        with problems.gathering():
            center = _center(Where.entry(ConfigError, path, f"centers[{index}]", raw), raw)
            if center.code in centers:
                raise Where(ConfigError, path, f"centers[{index}]", center.code).error(
                    "code", f"{center.code!r} appears twice"
                )
            centers[center.code] = center
    problems.check()
    return centers


def _center(where: Where, raw: dict[str, Any]) -> Center:
    problems = Problems(ConfigError)
    fields = read_fields(
        where,
        raw,
        problems,
        {
            "code": lambda: where.text(raw, "code"),
            "name": lambda: where.text(raw, "name"),
            "timezone": lambda: (
                where.get(raw, "timezone", _timezone, optional=True) or DEFAULT_TIMEZONE
            ),
            "calendar": lambda: where.text(raw, "calendar", optional=True) or DEFAULT_CALENDAR,
            "sources": lambda: where.get(raw, "sources", _sources, optional=True) or frozenset(),
        },
    )
    problems.check()
    return Center(**fields)


def load_policy(file: Path | Source) -> Policy:
    """The policy file's ``yellow_at`` thresholds: default, centers, departments, items. Its
    escalation keys (:data:`ESCALATION_KEYS`) are let through unread: ``alerts.policy`` reads
    them."""
    source = source_of(file, ConfigError)
    path = source.name
    raw = read_mapping(source, ConfigError)
    where = _entry(path, "policy", raw)
    where.only(raw, {"yellow_at", *ESCALATION_KEYS})
    thresholds = raw.get("yellow_at") or {}
    if not isinstance(thresholds, dict):
        raise where.error(
            "yellow_at", "must be a mapping with default, centers, departments, items"
        )
    inner = _entry(path, "yellow_at", thresholds)
    inner.only(thresholds, {"default", "centers", "departments", "items"})

    def scoped(key: str) -> dict[str, Fraction]:
        values = thresholds.get(key) or {}
        if not isinstance(values, dict):
            raise inner.error(key, "must map codes to fractions between 0 and 1")
        where = _entry(path, f"yellow_at.{key}", values)
        for code in values:
            if not isinstance(code, str):
                raise where.error(repr(code), "codes must be strings; write the code in quotes")
        return {code: where.get(values, code, parse_fraction) for code in values}

    default = inner.get(thresholds, "default", parse_fraction, optional=True)
    return Policy(
        default or DEFAULT_YELLOW_AT, scoped("centers"), scoped("departments"), scoped("items")
    )


def _check_calendars(path: str, centers: Mapping[str, Center], calendars: Calendars) -> None:
    problems = Problems(ConfigError)
    for index, center in enumerate(centers.values()):
        if not calendars.known(center.calendar):
            with problems.gathering():
                raise Where(ConfigError, path, f"centers[{index}]", center.code).error(
                    "calendar",
                    f"{center.calendar!r} is not a known calendar id; known: "
                    f"{', '.join(calendars.ids())} (add its year files with --calendar)",
                )
    problems.check()


def _name(file: Path | Source) -> str:
    return file.name if isinstance(file, Source) else str(file)


def parse_fraction(value: object) -> Fraction:
    """A share of the budget, ``0 < x <= 1``, kept exact (``0.8`` is 4/5, not a binary float)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a number between 0 and 1, e.g. 0.8")
    try:
        fraction = Fraction(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a number between 0 and 1") from None
    if not 0 < fraction <= 1:
        raise ValueError(f"{value} must be more than 0 and at most 1")
    return fraction


def _sources(value: object) -> frozenset[str]:
    """A centre's window systems: source ids, as events name them (the contract's codes)."""
    if not isinstance(value, list):
        raise ValueError("must be a list of source ids, e.g. [win-tianhe-market]")
    for source in value:
        if not isinstance(source, str) or not is_code(source):
            raise ValueError(f"{source!r} is not a source id (1-64 chars, no control chars)")
    return frozenset(value)


def _timezone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a tz database name such as Asia/Shanghai")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a tz database name such as Asia/Shanghai") from None
    return value


def _entries(source: Source, key: str) -> list[Any]:
    raw = read_mapping(source, ConfigError)
    where = Where(ConfigError, source.name)
    unknown = sorted(map(str, set(raw) - {key}))
    if unknown:
        raise where.error(unknown[0], f"unknown top-level key; the file has {key}:")
    entries = raw.get(key)
    if not isinstance(entries, list):
        raise where.error(key, "must be a list of entries")
    return entries


def _entry(path: str, entry: str, raw: Any) -> Where:
    return Where.entry(ConfigError, path, entry, raw)
