"""Operators' YAML files: read, and refused with messages that name the file, the entry and
the field, e.g. ``catalog.yaml: items[3] (FOOD-LICENSE): promised: 'ten' is not a limit …``.

Every loader (the catalog, centres and policy of :mod:`monitor.config`, the calendar year files
of :mod:`monitor.calendar`) reads with :func:`read_mapping` or :func:`parse_yaml` and words its
refusals with a :class:`Where`, each raising its own error class, so the messages read alike.
A :class:`Problems` gathers the refusals of many fields, entries and files, so that an operator
sees every one of them at once rather than one per attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class FileError(ValueError):
    """A refusal of an operator's file, or of several at once: ``problems`` holds one message
    each (file, entry, field, rule). Each loader has its own subclass (ConfigError,
    CalendarError)."""

    def __init__(self, message: str, problems: Collection[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]


ErrorType = type[FileError]


class Problems:
    """The refusals gathered so far. ``with problems.gathering(): …`` runs a block and, should it
    raise a :class:`FileError`, records every message it carries and goes on after the block;
    :meth:`check` raises them all at once, as one error of ``error_type``."""

    def __init__(self, error_type: ErrorType) -> None:
        self.error_type = error_type
        self.messages: list[str] = []

    def add(self, error: FileError) -> None:
        """One more refusal, found without raising it."""
        self.messages.extend(error.problems)

    @contextmanager
    def gathering(self) -> Iterator[None]:
        try:
            yield
        except FileError as exc:
            self.messages.extend(exc.problems)

    def check(self) -> None:
        """Raise every refusal gathered, if there is any: one reads as itself, more as a count
        and one line each."""
        if not self.messages:
            return
        if len(self.messages) == 1:
            raise self.error_type(self.messages[0])
        lines = "\n".join(f"- {message}" for message in self.messages)
        raise self.error_type(f"{len(self.messages)} problems:\n{lines}", self.messages)


class Where:
    """A place in an operator's file: the file, optionally an entry and the entry's code.

    ``error(*parts)`` is the error that names the place, then the parts (a field, then the rule
    it breaks): ``Where(ConfigError, path, "items[3]", "A").error("promised", "is required")``
    reads ``<path>: items[3] (A): promised: is required``."""

    __slots__ = ("_error_type", "prefix")

    def __init__(
        self, error_type: ErrorType, name: str | Path, entry: str = "", code: object = None
    ) -> None:
        named = isinstance(code, str) and code.strip()
        self.prefix = f"{name}" + (f": {entry}" if entry else "") + (f" ({code})" if named else "")
        self._error_type = error_type

    @classmethod
    def entry(cls, error_type: ErrorType, name: str | Path, entry: str, raw: Any) -> Where:
        """The place of one entry, named with its ``code`` when it has one; refuses an entry
        that is not a mapping of fields."""
        code = raw.get("code") if isinstance(raw, dict) else None
        where = cls(error_type, name, entry, code)
        if not isinstance(raw, dict):
            raise where.error("must be a mapping of fields")
        return where

    def error(self, *parts: str) -> FileError:
        """The error naming this place and then ``parts`` (usually the field and the rule)."""
        return self._error_type(": ".join((self.prefix, *parts)))

    def only(self, raw: Mapping[str, Any], allowed: Collection[str]) -> None:
        """Refuse the first field (in sorted order) that is not one of ``allowed``."""
        unknown = self.unknown(raw, allowed)
        if unknown:
            raise unknown[0]

    def unknown(
        self, raw: Mapping[str, Any], allowed: Collection[str], within: str = ""
    ) -> list[FileError]:
        """An error for each field (in sorted order) that is not one of ``allowed``; of a
        mapping inside the entry, named as its field ``within``, ``within.key``."""
        expected = f"unknown field; expected one of {', '.join(sorted(allowed))}"
        unknown = sorted(set(map(str, raw)) - set(allowed))
        return [self.error(f"{within}.{key}" if within else key, expected) for key in unknown]

    def text(self, raw: Mapping[str, Any], key: str, optional: bool = False) -> str:
        """A non-empty string field (``""`` when optional and missing)."""
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
        """A field through ``parse``; its ``ValueError`` becomes the rule of this place's error
        (None when optional and missing)."""
        value = raw.get(key)
        if value is None:
            if optional:
                return None  # type: ignore[return-value]
            raise self.error(key, "is required")
        try:
            return parse(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None


def read_fields(
    where: Where, raw: dict[str, Any], problems: Problems, readers: Mapping[str, Callable[[], Any]]
) -> dict[str, Any]:
    """The entry's fields by ``readers``, each read whatever failed before it (its refusal in
    ``problems``); an unknown field is refused too."""
    fields: dict[str, Any] = {}
    with problems.gathering():
        where.only(raw, readers)
    for name, read in readers.items():
        with problems.gathering():
            fields[name] = read()
    return fields


def read_text(path: Path, error_type: ErrorType) -> str:
    """The file's text (UTF-8); a file that cannot be read is refused, naming it and why."""
    try:
        return path.read_text("utf-8")
    except OSError as exc:
        raise error_type(f"{path}: cannot be read: {exc.strerror}") from None


def parse_yaml(name: str | Path, text: str, error_type: ErrorType) -> Any:
    """The YAML document in ``text`` (the file ``name``); invalid YAML is refused."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error_type(f"{name}: not valid YAML: {exc}") from None


def parse_mapping(
    name: str | Path, text: str, error_type: ErrorType, fields: Collection[str] = ()
) -> dict[str, Any]:
    """The YAML document in ``text``, which must be a mapping (of ``fields``, when given)."""
    raw = parse_yaml(name, text, error_type)
    if not isinstance(raw, dict):
        with_fields = f" with {', '.join(fields)}" if fields else ""
        raise error_type(f"{name}: must be a YAML mapping{with_fields}")
    return raw


@dataclass(frozen=True, slots=True)
class Source:
    """An operator's file as read: the name it goes by in messages (its path as given) and
    its text. A running configuration keeps its files this way (monitor.configrecord), so the
    loaders read a file from disk and one from a configuration record alike."""

    name: str
    text: str

    @classmethod
    def read(cls, path: Path, error_type: ErrorType) -> Source:
        """The file at ``path``; one that cannot be read is refused, naming it and why."""
        return cls(str(path), read_text(path, error_type))


def source_of(file: Path | Source, error_type: ErrorType) -> Source:
    """``file`` as a :class:`Source`: read from disk when it is a path."""
    return file if isinstance(file, Source) else Source.read(file, error_type)


def read_mapping(file: Path | Source, error_type: ErrorType) -> dict[str, Any]:
    """The YAML file (a path, or a :class:`Source` already read), which must be a mapping."""
    source = source_of(file, error_type)
    return parse_mapping(source.name, source.text, error_type)
