"""The escalation policy (SPEC §5.1): who is told of an alert, over which channel, at which
level, and when it moves up; read from the policy file, beside its yellow thresholds.

:func:`parse_policy` reads the file's ``people``, ``receivers``, ``routes`` and ``escalation``
and refuses it with every problem at once, each naming file, entry and field as every
configuration file does (``policy.yaml: routes[0]: levels.2: 'head-robot' is not a receiver
of this file``). A route must be able to match: every code it names is one the catalog and the
centres know, every kind and severity one of :mod:`monitor.alert`'s, and no route before it
takes all of its alerts. :meth:`EscalationPolicy.route_for` picks an alert's route: the first
in file order whose match holds.

Pure: the file as read in, typed values out, no clock. Working days (``wd``) are only parsed
here; the notifier counts them on the calendar of the alert's centre.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, TypeVar

from monitor.alert import KIND_RULES, AlertKind, Severity
from monitor.config import ESCALATION_KEYS, Config, ConfigError, load_catalog, load_centers
from monitor.configfile import Problems, Source, Where, read_fields, read_mapping
from monitor.configrecord import ConfigSet
from monitor.limits import Wait, WaitUnit, parse_wait
from monitor.timeutil import HOUR, MINUTE

T = TypeVar("T")
HANDLER = "handler"  # in `to` and `mention`: the case's handler (经办人), whoever it is
LEVELS = (1, 2, 3)  # handler / window, department head (科室负责人), supervision office (效能督查)
MATCH_KEYS = ("center", "department", "item", "kind", "severity")
TIMING_KEYS = ("escalate_after", "repeat_every", "ack_timeout")


# a wait of the policy: an amount of a unit, as a clock's limit is, that may also be minutes or
# seconds; its working days are counted by the notifier on the alert's centre's calendar
Duration = Wait


@dataclass(frozen=True, slots=True)
class Timings:
    """When an unacknowledged red alert moves up, when a notice repeats, and how long an
    acknowledged alert may stay unresolved before it moves up again."""

    escalate_after: Duration
    repeat_every: Duration
    ack_timeout: Duration


DEFAULT_TIMINGS = Timings(
    escalate_after=Duration(1, WaitUnit.HOURS),
    repeat_every=Duration(4, WaitUnit.HOURS),
    ack_timeout=Duration(1, WaitUnit.WORKING_DAYS),
)


class Channel(StrEnum):
    """How a receiver is reached."""

    WEBHOOK = "webhook"
    DINGTALK = "dingtalk"  # 钉钉自定义机器人
    WECOM = "wecom"  # 企业微信群机器人
    FEISHU = "feishu"  # 飞书自定义机器人
    EMAIL = "email"
    SMS = "sms"  # 短信


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` notices in ``seconds``: a token bucket of burst ``count`` refilling at
    ``count / seconds`` a second (monitor.ratelimit)."""

    count: int
    seconds: int


@dataclass(frozen=True, slots=True)
class ChannelRule:
    """What a channel's receivers give besides ``channel``, ``window`` and ``rate``: the
    required address (``url`` or ``to``), the optional fields, and the vendor's rate limits."""

    address: str
    optional: tuple[str, ...]
    rate: tuple[RateLimit, ...]


CHANNEL_RULES: dict[Channel, ChannelRule] = {
    Channel.WEBHOOK: ChannelRule("url", ("secret",), ()),
    # 20 a minute per robot; beyond it DingTalk throttles the robot for 10 minutes
    Channel.DINGTALK: ChannelRule("url", ("secret", "mention"), (RateLimit(20, MINUTE),)),
    # no signature: the key in the url is the credential
    Channel.WECOM: ChannelRule("url", ("mention",), (RateLimit(20, MINUTE),)),
    Channel.FEISHU: ChannelRule(
        "url", ("secret", "mention"), (RateLimit(5, 1), RateLimit(100, MINUTE))
    ),
    Channel.EMAIL: ChannelRule("to", (), ()),
    Channel.SMS: ChannelRule("to", (), ()),
}
RATE_KEYS = {"per_second": 1, "per_minute": MINUTE, "per_hour": HOUR}


class Days(StrEnum):
    """The days of a delivery window."""

    WORKING = "working"  # the working days of the alert's centre (its calendar)
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Window:
    """When a receiver takes notices: from ``start`` to ``end`` (seconds after local midnight,
    in the alert's centre's zone) on ``days``; a notice due outside it waits for it to open.
    A red alert at level 3 (the supervision office) is not held, unless ``hold_red_level_3``."""

    start: int
    end: int
    days: Days = Days.WORKING
    hold_red_level_3: bool = False

    def __str__(self) -> str:
        return f"{_clock_text(self.start)}–{_clock_text(self.end)} {self.days.value} days"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone a receiver names in ``to`` or ``mention``."""

    id: str
    name: str
    mobile: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Receiver:
    """One channel and its address. The url and secret are kept out of its repr: a robot's url
    holds its credential."""

    id: str
    channel: Channel
    url: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    mention: tuple[str, ...] = ()  # people to @ (chat robots)
    to: tuple[str, ...] = ()  # people, or addresses / numbers as written (email, sms)
    window: Window | None = None  # None: any time
    rate: tuple[RateLimit, ...] = ()  # each must allow a notice; (): no limit


@dataclass(frozen=True, slots=True)
class Match:
    """A route's conditions: a key given holds when the alert's value is one of its values; a
    key left out (None) always holds."""

    center: frozenset[str] | None = None
    department: frozenset[str] | None = None
    item: frozenset[str] | None = None
    kind: frozenset[str] | None = None
    severity: frozenset[str] | None = None

    def conditions(self) -> dict[str, frozenset[str]]:
        """The keys given, with their values."""
        given = {key: getattr(self, key) for key in MATCH_KEYS}
        return {key: values for key, values in given.items() if values is not None}

    def holds(self, center: str, department: str, item: str, kind: str, severity: str) -> bool:
        """Whether an alert with these attributes matches."""
        alert = {
            "center": center,
            "department": department,
            "item": item,
            "kind": kind,
            "severity": severity,
        }
        return all(alert[key] in values for key, values in self.conditions().items())

    def covers(self, other: Match) -> bool:
        """Whether every alert ``other`` matches, this one matches too."""
        theirs = other.conditions()
        return all(
            key in theirs and theirs[key] <= values for key, values in self.conditions().items()
        )


@dataclass(frozen=True, slots=True)
class Route:
    """Where an alert that matches goes: receiver ids per level, and its timings (the route's
    own over the policy's defaults)."""

    entry: str  # its place in the file, "routes[0]": what a notice says it went by
    match: Match
    levels: Mapping[int, tuple[str, ...]]
    timings: Timings = DEFAULT_TIMINGS


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """The escalation part of the policy file, validated. No routes: no notices."""

    people: Mapping[str, Person] = field(default_factory=dict)
    receivers: Mapping[str, Receiver] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    defaults: Timings = DEFAULT_TIMINGS

    def route_for(
        self, center: str, department: str, item: str, kind: str, severity: str
    ) -> Route | None:
        """The first route in file order that matches the alert, or None."""
        for route in self.routes:
            if route.match.holds(center, department, item, kind, severity):
                return route
        return None


@dataclass(frozen=True, slots=True)
class ConfiguredCodes:
    """The codes a route may match on, and the files they come from. None where that file did
    not load: its codes are not judged then (its own problems are reported)."""

    centers: frozenset[str] | None
    departments: frozenset[str] | None
    items: frozenset[str] | None
    catalog_name: str = "the catalog"
    centres_name: str = "the centres file"

    @classmethod
    def of(cls, config: Config) -> ConfiguredCodes:
        """The codes of a configuration that loaded."""
        items = frozenset(config.catalog)
        departments = frozenset(item.department for item in config.catalog.values())
        return cls(frozenset(config.centers), departments, items)

    @classmethod
    def loadable(cls, files: ConfigSet) -> ConfiguredCodes:
        """The codes of those of ``files`` that load on their own."""
        centers = items = departments = None
        with suppress(ConfigError):
            catalog = load_catalog(files.catalog)
            items = frozenset(catalog)
            departments = frozenset(item.department for item in catalog.values())
        with suppress(ConfigError):
            centers = frozenset(load_centers(files.centres)) if files.centres else frozenset()
        return cls(centers, departments, items)

    def named(self, files: ConfigSet) -> ConfiguredCodes:
        """These codes, their files named as in ``files``."""
        centres = files.centres.name if files.centres else "the centres file (none is applied)"
        return ConfiguredCodes(
            self.centers, self.departments, self.items, files.catalog.name, centres
        )

    def unknown(self, key: str, value: str) -> str | None:
        """Why a route cannot match ``value`` of ``key``, or None when it is known."""
        if key == "kind":
            return None if value in set(AlertKind) else _not_one_of("an alert kind", AlertKind)
        if key == "severity":
            return None if value in set(Severity) else _not_one_of("a severity", Severity)
        known, what = {
            "center": (self.centers, f"a centre of {self.centres_name}"),
            "department": (self.departments, f"the department of any item of {self.catalog_name}"),
            "item": (self.items, f"an item of {self.catalog_name}"),
        }[key]
        return None if known is None or value in known else f"is not {what}"


def parse_policy(source: Source, config: Config) -> EscalationPolicy:
    """The escalation part of a policy file, against ``config``'s catalog and centres; raises
    one :class:`~monitor.config.ConfigError` with every problem. A file with only
    ``yellow_at`` has no routes."""
    problems = Problems(ConfigError)
    raw = read_mapping(source, ConfigError)
    with problems.gathering():
        Where.entry(ConfigError, source.name, "policy", raw).only(
            raw, {"yellow_at", *ESCALATION_KEYS}
        )
    policy = EscalationPolicy()
    with problems.gathering():
        policy = _policy(source.name, raw, ConfiguredCodes.of(config))
    problems.check()
    return policy


def check_policy(files: ConfigSet, config: Config | None) -> None:
    """The escalation part of ``files``' policy, as a check of the whole set
    (:data:`monitor.configrecord.SetCheck`): judged against the configuration, or, when the
    set does not load, against those of its files that do. Its top-level keys are left to
    ``monitor.config.load_policy``, which refuses unknown ones already."""
    if files.policy is None:
        return
    codes = ConfiguredCodes.of(config) if config else ConfiguredCodes.loadable(files)
    _policy(files.policy.name, read_mapping(files.policy, ConfigError), codes.named(files))


def _policy(path: str, raw: dict[str, Any], codes: ConfiguredCodes) -> EscalationPolicy:
    problems = Problems(ConfigError)
    people, person_ids = _section(path, raw, "people", problems, _person)

    def receiver(where: Where, rid: str, entry: dict[str, Any]) -> Receiver:
        return _receiver(where, rid, entry, people, person_ids)

    receivers, receiver_ids = _section(path, raw, "receivers", problems, receiver)
    defaults = DEFAULT_TIMINGS
    with problems.gathering():
        defaults = _defaults(path, raw.get("escalation"))
    routes: list[Route] = []
    with problems.gathering():
        routes = _routes(path, raw.get("routes"), receiver_ids, codes, defaults)
    problems.check()
    return EscalationPolicy(people, receivers, tuple(routes), defaults)


def _section(
    path: str,
    raw: dict[str, Any],
    key: str,
    problems: Problems,
    read: Callable[[Where, str, dict[str, Any]], T],
) -> tuple[dict[str, T], frozenset[str]]:
    """A mapping of ids to entries: those that read, and every id written (so that a name
    refers to an entry with problems of its own without one more problem)."""
    entries = raw.get(key) or {}
    if not isinstance(entries, dict):
        problems.add(Where(ConfigError, path).error(key, "must map ids to entries"))
        return {}, frozenset()
    read_ones: dict[str, T] = {}
    for entry_id, entry in entries.items():
        with problems.gathering():
            if not isinstance(entry_id, str):
                raise Where(ConfigError, path, key).error(
                    repr(entry_id), "ids must be strings; write the id in quotes"
                )
            where = Where.entry(ConfigError, path, f"{key}.{entry_id}", entry)
            read_ones[entry_id] = read(where, entry_id, entry)
    return read_ones, frozenset(str(entry_id) for entry_id in entries)


def _person(where: Where, person_id: str, raw: dict[str, Any]) -> Person:
    problems = Problems(ConfigError)
    if person_id == HANDLER:
        problems.add(where.error(f"{HANDLER!r} names the case's handler: choose another id"))
    fields = read_fields(
        where,
        raw,
        problems,
        {
            "name": lambda: where.text(raw, "name"),
            "mobile": lambda: where.get(raw, "mobile", _mobile, optional=True) or "",
            "email": lambda: where.get(raw, "email", _email, optional=True) or "",
        },
    )
    problems.check()
    return Person(person_id, **fields)


def _receiver(
    where: Where,
    receiver_id: str,
    raw: dict[str, Any],
    people: Mapping[str, Person],
    person_ids: frozenset[str],
) -> Receiver:
    """One receiver; the fields it may have depend on its channel, so a receiver whose
    channel is not one is refused for that alone."""
    channel = where.get(raw, "channel", _channel)
    rule = CHANNEL_RULES[channel]
    problems = Problems(ConfigError)

    def names(key: str, required: bool) -> tuple[str, ...]:
        given: tuple[str, ...] = where.get(raw, key, _names, optional=not required) or ()
        for name in given:
            with problems.gathering():
                _check_name(where, key, name, channel, people, person_ids)
        return given

    readers: dict[str, Callable[[], Any]] = {
        "channel": lambda: channel,
        "window": lambda: _window(where, raw.get("window")),
        "rate": lambda: _rate(where, raw.get("rate"), rule.rate),
    }
    if rule.address == "url":
        readers["url"] = lambda: where.get(raw, "url", _url)
    else:
        readers["to"] = lambda: names("to", required=True)
    if "secret" in rule.optional:
        readers["secret"] = lambda: where.get(raw, "secret", _secret, optional=True) or ""
    if "mention" in rule.optional:
        readers["mention"] = lambda: names("mention", required=False)
    fields = read_fields(where, raw, problems, readers)
    problems.check()
    return Receiver(receiver_id, **fields)


def _check_name(
    where: Where,
    key: str,
    name: str,
    channel: Channel,
    people: Mapping[str, Person],
    person_ids: frozenset[str],
) -> None:
    """A name in ``to`` or ``mention``: ``handler``, a person of the file who can be reached on
    ``channel``, or (in ``to``) an address or number as written."""
    literal = {Channel.EMAIL: _EMAIL, Channel.SMS: _MOBILE}.get(channel)
    if name == HANDLER or (key == "to" and literal and literal.match(name)):
        return
    if name not in person_ids:
        raise where.error(key, f"{name!r} is not a person of this file (people:) nor {HANDLER}")
    person = people.get(name)
    contact = "email" if channel is Channel.EMAIL else "mobile"
    if person is not None and not getattr(person, contact):
        raise where.error(key, f"{name!r} has no {contact} (people.{name})")


def _timing_readers(
    where: Where, raw: dict[str, Any], defaults: Timings
) -> dict[str, Callable[[], Duration]]:
    """The readers of an entry's timings, each over ``defaults``."""

    def read(key: str) -> Duration:
        given: Duration | None = where.get(raw, key, parse_wait, optional=True)
        return given or getattr(defaults, key)

    return {key: partial(read, key) for key in TIMING_KEYS}


def _timings(fields: Mapping[str, Any]) -> Timings:
    return Timings(**{key: fields[key] for key in TIMING_KEYS})


def _defaults(path: str, raw: Any) -> Timings:
    if raw is None:
        return DEFAULT_TIMINGS
    where = Where.entry(ConfigError, path, "escalation", raw)
    problems = Problems(ConfigError)
    fields = read_fields(where, raw, problems, _timing_readers(where, raw, DEFAULT_TIMINGS))
    problems.check()
    return _timings(fields)


def _routes(
    path: str,
    raw: Any,
    receiver_ids: frozenset[str],
    codes: ConfiguredCodes,
    defaults: Timings,
) -> list[Route]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Where(ConfigError, path).error("routes", "must be a list of routes")
    problems = Problems(ConfigError)
    routes: list[Route] = []
    earlier: list[tuple[str, Match]] = []
    for index, entry in enumerate(raw):
        with problems.gathering():
            name = f"routes[{index}]"
            where = Where.entry(ConfigError, path, name, entry)
            routes.append(_route(where, name, entry, receiver_ids, codes, defaults, earlier))
    problems.check()
    return routes


def _route(
    where: Where,
    name: str,
    raw: dict[str, Any],
    receiver_ids: frozenset[str],
    codes: ConfiguredCodes,
    defaults: Timings,
    earlier: list[tuple[str, Match]],
) -> Route:
    """One route; its match, when it reads, joins ``earlier`` (whatever else failed), so that
    the routes after it are judged against it."""
    problems = Problems(ConfigError)
    readers: dict[str, Callable[[], Any]] = {
        "match": lambda: _match(where, raw.get("match"), codes),
        "levels": lambda: _levels(where, raw.get("levels"), receiver_ids),
        **_timing_readers(where, raw, defaults),
    }
    fields = read_fields(where, raw, problems, readers)
    match = fields.get("match")
    if match is not None:
        with problems.gathering():
            _check_reachable(where, match, earlier)
        earlier.append((name, match))
    problems.check()
    return Route(name, fields["match"], fields["levels"], _timings(fields))


def _check_reachable(where: Where, match: Match, earlier: list[tuple[str, Match]]) -> None:
    """Refuse a route that a route before it leaves no alert to."""
    for name, before in earlier:
        if not before.covers(match):
            continue
        if not before.conditions():
            why = f"{name} before it has no match keys and takes every alert"
        else:
            why = f"{name} before it matches every alert it does"
        raise where.error("match", f"can never match: {why}")


def _match(where: Where, raw: Any, codes: ConfiguredCodes) -> Match:
    if raw is None:
        return Match()
    if not isinstance(raw, dict):
        raise where.error("match", f"must map {', '.join(MATCH_KEYS)} to a value or a list")
    problems = Problems(ConfigError)
    for error in where.unknown(raw, MATCH_KEYS, within="match"):
        problems.add(error)
    conditions: dict[str, frozenset[str]] = {}
    for key in MATCH_KEYS:
        if key in raw:
            with problems.gathering():
                conditions[key] = _condition(where, key, raw[key], codes)
    problems.check()
    kinds, severities = conditions.get("kind"), conditions.get("severity")
    if (
        kinds
        and severities
        and not any(KIND_RULES[AlertKind(kind)].severity in severities for kind in kinds)
    ):
        raise where.error(
            "match",
            f"kind {', '.join(sorted(kinds))} is never {', '.join(sorted(severities))}: "
            "it matches nothing",
        )
    return Match(**conditions)


def _condition(where: Where, key: str, raw: Any, codes: ConfiguredCodes) -> frozenset[str]:
    """The values of one match key, each one an alert can have."""
    name = f"match.{key}"
    values = _field(where, name, raw, _names) if raw else ()
    if not values:
        raise where.error(name, "must name a value or a list of them")
    problems = Problems(ConfigError)
    for value in values:
        reason = codes.unknown(key, value)
        if reason:
            problems.add(where.error(name, f"{value!r} {reason}: it matches nothing"))
    problems.check()
    return frozenset(values)


def _levels(where: Where, raw: Any, receiver_ids: frozenset[str]) -> dict[int, tuple[str, ...]]:
    if not isinstance(raw, dict) or not raw:
        raise where.error("levels", "is required: map levels 1, 2, 3 to receiver ids")
    problems = Problems(ConfigError)
    levels: dict[int, tuple[str, ...]] = {}
    for level, value in raw.items():
        with problems.gathering():
            name = f"levels.{level}"
            if isinstance(level, bool) or level not in LEVELS:
                raise where.error(
                    name, "a level is 1 (handler), 2 (department head) or 3 (supervision office)"
                )
            if not value:
                raise where.error(name, "has no receivers: name one, or leave the level out")
            levels[level] = _field(where, name, value, _names)
            for receiver_id in levels[level]:
                if receiver_id not in receiver_ids:
                    problems.add(
                        where.error(name, f"{receiver_id!r} is not a receiver of this file")
                    )
    problems.check()
    return dict(sorted(levels.items()))


def _window(where: Where, raw: Any) -> Window | None:
    """``{from: "08:30", to: "18:00", days: working | all, hold_red_level_3: false}``;
    ``days`` defaults to working."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise where.error("window", 'must be a mapping like {from: "08:30", to: "18:00"}')
    problems = Problems(ConfigError)
    for error in where.unknown(raw, ("from", "to", "days", "hold_red_level_3"), within="window"):
        problems.add(error)
    start = end = None
    days = Days.WORKING
    hold = raw.get("hold_red_level_3", False)
    if not isinstance(hold, bool):
        problems.add(where.error("window.hold_red_level_3", f"must be true or false, not {hold!r}"))
    with problems.gathering():
        start = _field(where, "window.from", raw.get("from"), _clock)
    with problems.gathering():
        end = _field(where, "window.to", raw.get("to"), _clock)
    if raw.get("days") is not None:
        with problems.gathering():
            days = _field(where, "window.days", raw["days"], _days)
    problems.check()
    assert start is not None and end is not None
    if start >= end:
        raise where.error(
            "window", f"from {_clock_text(start)} must be before to {_clock_text(end)}"
        )
    return Window(start, end, days, hold)


def _rate(where: Where, raw: Any, defaults: tuple[RateLimit, ...]) -> tuple[RateLimit, ...]:
    """``{per_second: 5, per_minute: 100, per_hour: …}``, each given over the channel's own
    limit of that period."""
    if raw is None:
        return defaults
    if not isinstance(raw, dict):
        raise where.error("rate", "must be a mapping like {per_minute: 20}")
    problems = Problems(ConfigError)
    for error in where.unknown(raw, RATE_KEYS, within="rate"):
        problems.add(error)
    limits = {limit.seconds: limit for limit in defaults}
    for key, seconds in RATE_KEYS.items():
        if key in raw:
            with problems.gathering():
                limits[seconds] = RateLimit(_field(where, f"rate.{key}", raw[key], _count), seconds)
    problems.check()
    return tuple(limits[seconds] for seconds in sorted(limits))


def _field(where: Where, name: str, value: Any, parse: Callable[[Any], T]) -> T:
    """A field inside an entry's field (``window.from``) through ``parse``."""
    if value is None:
        raise where.error(name, "is required")
    try:
        return parse(value)
    except ValueError as exc:
        raise where.error(name, str(exc)) from None


_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")
_MOBILE = re.compile(r"^\+?[0-9]{5,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _clock(value: object) -> int:
    """``"HH:MM"`` (``"24:00"``: the end of the day) as seconds after midnight."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 18:00 as the base-60 number 1080
        raise ValueError(f'must be a time "HH:MM" in quotes, but YAML read {value}')
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ValueError(f'{value!r} is not a time "HH:MM" (00:00 to 24:00)')
    hours, minutes = value.split(":")
    return int(hours) * HOUR + int(minutes) * MINUTE


def _clock_text(seconds: int) -> str:
    return f"{seconds // HOUR:02d}:{seconds % HOUR // MINUTE:02d}"


def _days(value: object) -> Days:
    if value not in set(Days):
        raise ValueError(_not_one_of("days", Days, value))
    return Days(str(value))


def _channel(value: object) -> Channel:
    if value not in set(Channel):
        raise ValueError(_not_one_of("a channel", Channel, value))
    return Channel(str(value))


def _not_one_of(what: str, values: type[StrEnum], value: object = None) -> str:
    said = f"{value!r} " if value is not None else ""
    return f"{said}is not {what}; one of {', '.join(sorted(v.value for v in values))}"


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{value!r} is not a count of notices (a whole number from 1)")
    return value


def _secret(value: object) -> str:
    # never echo it
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string (in quotes if it looks like a number)")
    return value


def _url(value: object) -> str:
    # never echo it: a robot's url holds its credential
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ValueError("must be an https:// (or http://) URL")
    return value


def _mobile(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"must be a string, but YAML read {value}; write the number in quotes")
    if not isinstance(value, str) or not _MOBILE.match(value):
        raise ValueError(f"{value!r} is not a mobile number")
    return value


def _email(value: object) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _names(value: object) -> tuple[str, ...]:
    """A name or a list of names (ids, codes), each a non-empty string."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError(f"must be a name or a list of names (strings), but YAML read {value!r}")
    return tuple(names)
