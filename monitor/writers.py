"""Who may write to an existing case (SPEC §1): the source that opened it, and the window
systems the centres file lists under the case's centre (``sources:``).

Any source may open a new case; it is the case's *opener* (the source of the first event the
case received, in arrival order: a later-arriving event with an earlier ``occurred_at`` does
not take the case over). Every other source is refused, field ``source``, so an integrator
cannot close, suspend or extend another window system's cases. The engine decides
(:meth:`monitor.engine.Engine.offer`: events also arrive straight on Kafka); the API asks the
same question of the read model first, to answer the caller at once.

The rule is applied when an event arrives, never to a history already held: a replay, a
restored snapshot or a reload of the centres file does not refuse what was applied.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.config import Center
from monitor.events import FieldError


def writer_refusal(
    case_id: str,
    opened_by: str | None,
    center: str | None,
    source: str,
    centers: Mapping[str, Center],
) -> FieldError | None:
    """None when ``source`` may write to case ``case_id``, which ``opened_by`` opened (None:
    not known, anyone may) and which belongs to ``center`` (None: not yet named); else why not.
    """
    if opened_by is None or source == opened_by:
        return None
    home = centers.get(center) if center is not None else None
    if home is not None and source in home.sources:
        return None
    others = (
        ""
        if center is None
        else (f" and the sources the centres file lists for its centre {center!r}")
    )
    return FieldError(
        "source",
        f"case {case_id!r} was opened by source {opened_by!r}; only that source{others} "
        "may write to it",
    )
