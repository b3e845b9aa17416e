"""Topic records into the read model: what the worker writes after each batch, and what
``rebuild-readmodel`` writes from the compacted cases, alerts and audit topics."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.readmodel.store import ReadModel
from monitor.records import AlertRecord, AuditRecord, CaseRecord

TopicRecord = CaseRecord | AlertRecord | AuditRecord


async def project_records(read_model: ReadModel, records: Sequence[TopicRecord]) -> None:
    """Write a batch of case and alert records in one round trip."""
    async with read_model.batch() as batched:
        await queue_records(batched, records)


async def queue_records(batched: ReadModel, records: Sequence[TopicRecord]) -> None:
    """Queue records into a batch the caller opened (``ReadModel.batch()``) to share its round
    trip. Only the newest view of each case and the newest state of each alert is written:
    versioned writes would make the older ones no-ops anyway."""
    cases: dict[str, CaseRecord] = {}
    alerts: dict[str, AlertRecord] = {}
    for record in records:
        if isinstance(record, CaseRecord):
            known_case = cases.get(record.case_id)
            if known_case is None or known_case.version < record.version:
                cases[record.case_id] = record
        elif isinstance(record, AuditRecord):
            await batched.write_audit(record.id, record.encode()[1])
        else:
            known_alert = alerts.get(record.id)
            if known_alert is None or known_alert.version < record.version:
                alerts[record.id] = record
    for case in cases.values():
        await batched.write_case(case.view, case.version, case.body)
    for alert in alerts.values():
        await batched.write_alerts([alert.view()], alert.version)
