"""Operators' configuration (SPEC §2): catalog, centres, calendars and policy, as YAML files.

Every error names the file, the entry and the field, e.g.
``catalog.yaml: items[3] (FOOD-LICENSE): promised: 'ten' is not a limit …``. A
:class:`ConfigFiles` remembers where the files are, so ``load()`` again is a reload.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from monitor.calendar import CalendarError, Calendars, load_calendars
from monitor.limits import Limit, LimitError, Unit, parse_limit

DEFAULT_YELLOW_AT = Fraction(4, 5)
DEFAULT_INTAKE = Limit(5, Unit.WORKING_DAYS)
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_CALENDAR = "cn"

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration file that breaks a rule; the message names file, entry and field."""


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
class Centre:
    """A service centre (政务服务中心): its zone and working-day calendar."""

    code: str
    name: str
    timezone: str = DEFAULT_TIMEZONE
    calendar: str = DEFAULT_CALENDAR


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
    centres: Mapping[str, Centre]
    calendars: Calendars
    policy: Policy = Policy()

    def centre(self, code: str) -> Centre:
        """The centre's settings; an unknown code gets the defaults (and is reported as unknown
        in its source's feed health)."""
        return self.centres.get(code) or Centre(code, code)


@dataclass(frozen=True, slots=True)
class ConfigFiles:
    """Where the configuration lives; :meth:`load` reads (and re-reads) it."""

    catalog: Path
    centres: Path | None = None
    calendars: Sequence[Path] = ()
    policy: Path | None = None

    def load(self) -> Config:
        """Read and validate every file; raises :class:`ConfigError` naming what is wrong."""
        try:
            calendars = load_calendars(self.calendars)
        except CalendarError as exc:
            raise ConfigError(str(exc)) from None
        centres = load_centres(self.centres) if self.centres else {}
        for index, centre in enumerate(centres.values()):
            if not calendars.known(centre.calendar):
                raise ConfigError(
                    f"{self.centres}: centers[{index}] ({centre.code}): calendar: "
                    f"{centre.calendar!r} is not a known calendar id; known: "
                    f"{', '.join(calendars.ids())} (add its year files with --calendar)"
                )
        return Config(
            catalog=load_catalog(self.catalog),
            centres=centres,
            calendars=calendars,
            policy=load_policy(self.policy) if self.policy else Policy(),
        )


def load_catalog(path: Path) -> dict[str, Item]:
    """The catalog file: ``items:`` with code, name, department, promised, statutory, …"""
    entries = _entries(path, "items")
    catalog: dict[str, Item] = {}
    for index, raw in enumerate(entries):
        where = _Where(path, f"items[{index}]", raw)
        where.only(
            raw,
            {
                "code",
                "name",
                "department",
                "promised",
                "statutory",
                "extension_max",
                "yellow_at",
                "intake",
            },
        )
        code = where.text(raw, "code")
        if code in catalog:
            raise where.error("code", f"{code!r} appears twice in the catalog")
        catalog[code] = Item(
            code=code,
            name=where.text(raw, "name"),
            department=where.text(raw, "department"),
            promised=where.get(raw, "promised", parse_limit),
            statutory=where.get(raw, "statutory", parse_limit),
            extension_max=where.get(raw, "extension_max", parse_limit, optional=True),
            yellow_at=where.get(raw, "yellow_at", parse_fraction, optional=True),
            intake=where.get(raw, "intake", parse_limit, optional=True) or DEFAULT_INTAKE,
        )
    return catalog


def load_centres(path: Path) -> dict[str, Centre]:
    """The centres file: ``centers:`` with code, name, optional timezone and calendar."""
    centres: dict[str, Centre] = {}
    for index, raw in enumerate(_entries(path, "centers")):
        where = _Where(path, f"centers[{index}]", raw)
        where.only(raw, {"code", "name", "timezone", "calendar"})
        code = where.text(raw, "code")
        if code in centres:
            raise where.error("code", f"{code!r} appears twice")
        tz = where.get(raw, "timezone", _timezone, optional=True) or DEFAULT_TIMEZONE
        calendar = where.text(raw, "calendar", optional=True) or DEFAULT_CALENDAR
        centres[code] = Centre(code, where.text(raw, "name"), tz, calendar)
    return centres


def load_policy(path: Path) -> Policy:
    """The policy file's ``yellow_at`` thresholds: default, centers, departments, items."""
    raw = _read(path)
    where = _Where(path, "policy", raw)
    where.only(raw, {"yellow_at"})
    thresholds = raw.get("yellow_at") or {}
    if not isinstance(thresholds, dict):
        raise where.error(
            "yellow_at", "must be a mapping with default, centers, departments, items"
        )
    inner = _Where(path, "yellow_at", thresholds)
    inner.only(thresholds, {"default", "centers", "departments", "items"})

    def scoped(key: str) -> dict[str, Fraction]:
        values = thresholds.get(key) or {}
        if not isinstance(values, dict):
            raise inner.error(key, "must map codes to fractions between 0 and 1")
        where = _Where(path, f"yellow_at.{key}", values)
        for code in values:
            if not isinstance(code, str):
                raise where.error(repr(code), "codes must be strings; write the code in quotes")
        return {code: where.get(values, code, parse_fraction) for code in values}

    default = inner.get(thresholds, "default", parse_fraction, optional=True)
    return Policy(
        default or DEFAULT_YELLOW_AT, scoped("centers"), scoped("departments"), scoped("items")
    )


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


def _timezone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a tz database name such as Asia/Shanghai")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a tz database name such as Asia/Shanghai") from None
    return value


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be a YAML mapping")
    return raw


def _entries(path: Path, key: str) -> list[Any]:
    raw = _read(path)
    unknown = sorted(map(str, set(raw) - {key}))
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown top-level key; the file has {key}:")
    entries = raw.get(key)
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: {key}: must be a list of entries")
    return entries


class _Where:
    """Builds errors that name the file, the entry (with its code) and the field."""

    def __init__(self, path: Path, entry: str, raw: Any) -> None:
        code = raw.get("code") if isinstance(raw, dict) else None
        named = isinstance(code, str) and code.strip()
        self.prefix = f"{path}: {entry}" + (f" ({code})" if named else "")
        if not isinstance(raw, dict):
            raise ConfigError(f"{self.prefix}: must be a mapping of fields")

    def error(self, field_name: str, rule: str) -> ConfigError:
        return ConfigError(f"{self.prefix}: {field_name}: {rule}")

    def only(self, raw: Mapping[str, Any], allowed: set[str]) -> None:
        unknown = sorted(set(map(str, raw)) - allowed)
        if unknown:
            raise self.error(
                unknown[0], f"unknown field; expected one of {', '.join(sorted(allowed))}"
            )

    def text(self, raw: Mapping[str, Any], key: str, optional: bool = False) -> str:
        value = raw.get(key)
        if value is None and optional:
            return ""
        if value is None:
            raise self.error(key, "is required")
        if not isinstance(value, str):
            # YAML reads 0123 as the number 83 and yes as True: codes must be quoted strings
            raise self.error(
                key, f"must be a string, but YAML read {value!r}; write the code in quotes"
            )
        if not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def get(
        self, raw: Mapping[str, Any], key: str, parse: Callable[[Any], T], optional: bool = False
    ) -> T:
        value = raw.get(key)
        if value is None:
            if optional:
                return None  # type: ignore[return-value]
            raise self.error(key, "is required")
        try:
            return parse(value)
        except (LimitError, ValueError) as exc:
            raise self.error(key, str(exc)) from None
