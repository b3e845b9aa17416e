"""The Redis read model: what the API, the wall page and the metrics read (docs/read-model.md).

Writers hand it the newest case view (``caseview.case_view``), alert records and per-event
feed facts; readers get open cases by light, centre, department and deadline, the alert queue,
counts by light, the weekly department ranking (以周为单位通报) and each source's feed health.

- ``views``: what a stored view is, its lights, the instants inside it, and the configured
  codes the aggregates count (any other as ``(unknown)``)
- ``footprints``: what one case view contributes to the indexes and aggregates (pure)
- ``ranking``: ISO weeks and the department ranking summed from their counters (pure)
- ``feed``: feed health of each source, summed per batch (pure)
- ``cursors``: open-case index members and the pagination cursors over them (pure)
- ``alertqueue``: the alert queue's filters, orders and cursors (pure)
- ``scripts``: the Lua scripts, each write one atomic step
- ``store``: :class:`ReadModel`, the only code that knows the key names
- ``projections``: topic records (``monitor.records``) into the store
"""

from monitor.readmodel.cursors import CursorError
from monitor.readmodel.feed import OUTCOMES, UNKNOWN_SOURCE, FeedRecord, SourceHealth
from monitor.readmodel.projections import TopicRecord, project_records, queue_records
from monitor.readmodel.ranking import DepartmentRank
from monitor.readmodel.store import CaseOwner, Change, Page, ReadModel
from monitor.readmodel.views import (
    LIGHTS,
    OPEN_LIGHTS,
    UNKNOWN_CODE,
    KnownCodes,
    Version,
    View,
    instant_of,
)

__all__ = [
    "LIGHTS",
    "OPEN_LIGHTS",
    "OUTCOMES",
    "UNKNOWN_CODE",
    "UNKNOWN_SOURCE",
    "CaseOwner",
    "Change",
    "CursorError",
    "DepartmentRank",
    "FeedRecord",
    "KnownCodes",
    "Page",
    "ReadModel",
    "SourceHealth",
    "TopicRecord",
    "Version",
    "View",
    "instant_of",
    "project_records",
    "queue_records",
]
