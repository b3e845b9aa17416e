"""Redline's metric names, in one place: the collectors that expose them and the dashboards and
rules that query them import these constants, so a rename cannot leave a panel empty.

Counters are named without ``_total``: prometheus-client appends it when it exposes them.
"""

from __future__ import annotations

from typing import Final

# the read model's gauges, computed at scrape time (monitor.readmodel.collector)
OPEN_CASES: Final = "redline_open_cases"  # {light}
OPEN_CASES_BY_CENTER: Final = "redline_open_cases_by_center"  # {center, light}
OPEN_CASES_BY_DEPARTMENT: Final = "redline_open_cases_by_department"  # {department, light}
ALERTS: Final = "redline_alerts"  # {kind, status}: firing or acknowledged
SOURCE_EVENTS: Final = "redline_source_events"  # counter {source, outcome}
SOURCE_LAST_ARRIVAL: Final = "redline_source_last_arrival_timestamp_seconds"  # {source}
SOURCE_LAG: Final = "redline_source_lag_seconds"  # {source}

# the API's own (monitor.api.metrics)
API_REQUESTS: Final = "redline_api_requests"  # counter {method, route, status}
API_REQUEST_DURATION: Final = "redline_api_request_duration_seconds"  # histogram {method, route}


def open_cases_by(dimension: str) -> str:
    """The open-cases gauge by ``center`` or ``department``."""
    names = {"center": OPEN_CASES_BY_CENTER, "department": OPEN_CASES_BY_DEPARTMENT}
    return names[dimension]
