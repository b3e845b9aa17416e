"""The supervisor's work queue over the alerts: its filters, its two orders and the cursors of
its pages (keyset pagination on ``(fired_at, alert id)``, no offsets). Pure: the store walks
the indexes (``ReadModel.alert_page``).

Status and kind (and severity, which is the kind's: ``KIND_RULES``) choose the sorted sets
``alerts:{status}:{kind}`` to walk; centre, department, item and level are checked on each
alert's record as the walk reads it (docs/read-model.md says why there is no index for them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from monitor.alert import KIND_RULES, AlertStatus
from monitor.readmodel.cursors import CursorError, opaque, unopaque


class Order(StrEnum):
    """Which end of the queue comes first."""

    NEWEST = "newest"  # the default, as the list was before it paged
    OLDEST = "oldest"  # the longest-waiting first: the queue a supervisor works through


class Position(NamedTuple):
    """Where a page ended: the last alert's ``fired_at`` (the index score) and id. Equal
    instants are ordered by id, in byte order, as Redis orders equal scores."""

    fired_at: int
    alert_id: str

    def key(self) -> tuple[int, bytes]:
        """The sort key, ascending for :attr:`Order.OLDEST`."""
        return self.fired_at, self.alert_id.encode()


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What a page shows: every filter given must hold (None: any)."""

    status: str | None = None
    kind: str | None = None
    severity: str | None = None  # yellow | red
    center: str | None = None  # 中心
    department: str | None = None  # 科室
    item: str | None = None  # 事项编码, the view's item_code
    level: int | None = None  # the view's `level` (today the kind's first level)

    def sets(self) -> list[tuple[str, str]]:
        """The (status, kind) pairs whose sorted sets may hold a matching alert."""
        statuses = [self.status] if self.status is not None else [s.value for s in AlertStatus]
        kinds = [
            kind.value
            for kind, rule in KIND_RULES.items()
            if (self.kind is None or kind.value == self.kind)
            and (self.severity is None or rule.severity.value == self.severity)
        ]
        return [(status, kind) for status in statuses for kind in kinds]

    def matches(self, alert: Mapping[str, Any]) -> bool:
        """Whether an alert view (as read now: it may have moved since its index entry was
        read) fits every filter."""
        wanted = {
            "status": self.status,
            "kind": self.kind,
            "severity": self.severity,
            "center": self.center,
            "department": self.department,
            "item_code": self.item,
            "level": self.level,
        }
        return all(value is None or alert.get(name) == value for name, value in wanted.items())

    def reads_records(self) -> bool:
        """Whether a filter is checked on the records, the indexes not covering it."""
        return any(
            value is not None for value in (self.center, self.department, self.item, self.level)
        )

    def digest(self, order: Order) -> str:
        """A short digest of the filters and the order, carried in each cursor so that a
        cursor is only taken back with the query that made it."""
        text = json.dumps([order.value, asdict(self)], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


Visible = Callable[[Mapping[str, Any]], bool]  # whether the caller may see an alert


def encode_alert_cursor(position: Position, wanted: AlertFilter, order: Order) -> str:
    """The opaque cursor of the page after ``position``."""
    text = json.dumps(
        [order.value, wanted.digest(order), position.fired_at, position.alert_id],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return opaque(text)


def decode_alert_cursor(cursor: str, wanted: AlertFilter, order: Order) -> Position:
    """The position a cursor stands for; :class:`CursorError` if this API did not hand it
    out, or handed it out for other filters or another order."""
    try:
        order_value, digest, fired_at, alert_id = json.loads(unopaque(cursor))
    except (ValueError, TypeError):
        raise CursorError("cursor is not one this API handed out") from None
    if not (isinstance(fired_at, int) and isinstance(alert_id, str) and isinstance(digest, str)):
        raise CursorError("cursor is not one this API handed out")
    if order_value != order.value or digest != wanted.digest(order):
        raise CursorError(
            "cursor was handed out for other filters or another order: "
            "repeat the query that returned it, or start again without a cursor"
        )
    return Position(fired_at, alert_id)


def alert_order(positions: list[Position], order: Order) -> list[Position]:
    """Positions in the queue's order."""
    return sorted(positions, key=Position.key, reverse=order is Order.NEWEST)
