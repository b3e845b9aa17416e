"""Offline replay (SPEC §6): a JSON Lines feed through the same engine, one case per line out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from monitor.casetypes import Outcome
from monitor.engine import Engine
from monitor.events import AnyEvent, EventRefused, FieldError, parse_event


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


def valid_events(
    lines: Iterable[bytes | str], report: ReplayReport
) -> Iterator[tuple[int, AnyEvent, bytes | str]]:
    """Numbered events of the non-blank lines that pass the contract (1-based, as an editor
    counts); every other line goes into ``report.problems``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, parse_event(line), line
        except EventRefused as refused:
            report.problems.append(LineProblem(number, refused.errors))


def validate_lines(lines: Iterable[bytes | str], engine: Engine | None = None) -> ReplayReport:
    """Check every line against the contract (and the catalog, given an engine); apply nothing."""
    report = ReplayReport()
    for number, event, _ in valid_events(lines, report):
        errors = engine.check(event) if engine else []
        if errors:
            report.problems.append(LineProblem(number, errors))
        else:
            report.applied += 1
    return report


def replay(lines: Iterable[bytes | str], engine: Engine) -> ReplayReport:
    """Apply every valid line, in file order, as if it arrived then."""
    report = ReplayReport()
    for number, event, line in valid_events(lines, report):
        result = engine.offer(event, line.strip() if isinstance(line, bytes) else None)
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
