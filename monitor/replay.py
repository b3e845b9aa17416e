"""Offline replay (SPEC §6): a JSON Lines feed through the same engine, one case per line out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from monitor.case import Outcome
from monitor.engine import Engine
from monitor.events import EventRefused, FieldError, parse_event


@dataclass(slots=True)
class LineProblem:
    """One input line that was not applied, with its reasons."""

    line: int
    errors: list[FieldError]

    def __str__(self) -> str:
        return f"line {self.line}: " + "; ".join(map(str, self.errors))


@dataclass(slots=True)
class ReplayReport:
    """What a replay did with its input."""

    applied: int = 0
    duplicates: list[int] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


def read_lines(lines: Iterable[bytes | str]) -> Iterator[tuple[int, bytes | str]]:
    """Numbered non-blank lines (1-based, as an editor counts them)."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


def validate_lines(lines: Iterable[bytes | str], engine: Engine | None = None) -> ReplayReport:
    """Check every line against the contract (and the catalog, given an engine); apply nothing."""
    report = ReplayReport()
    for number, line in read_lines(lines):
        try:
            event = parse_event(line)
        except EventRefused as refused:
            report.problems.append(LineProblem(number, refused.errors))
            continue
        errors = engine.check(event) if engine else []
        if errors:
            report.problems.append(LineProblem(number, errors))
        else:
            report.applied += 1
    return report


def replay(lines: Iterable[bytes | str], engine: Engine) -> ReplayReport:
    """Apply every valid line, in file order, as if it arrived then."""
    report = ReplayReport()
    for number, line in read_lines(lines):
        try:
            event = parse_event(line)
        except EventRefused as refused:
            report.problems.append(LineProblem(number, refused.errors))
            continue
        result = engine.offer(event)
        if result.refused:
            report.problems.append(LineProblem(number, result.errors))
        elif result.outcome is Outcome.DUPLICATE:
            report.duplicates.append(number)
        else:
            report.applied += 1
    return report


def dumps_case(view: dict[str, Any]) -> str:
    """One output line: compact JSON, Chinese kept readable."""
    return json.dumps(view, ensure_ascii=False, separators=(",", ":"))
