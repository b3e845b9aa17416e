"""Settings for long-running processes that hold many cases in memory."""

from __future__ import annotations

import gc

# The engine keeps hundreds of thousands of small, long-lived objects. With CPython's default
# thresholds (700, 10, 10) the generational collector rescans them over and over; raising the
# first threshold and freezing what start-up allocated cut that cost by about a third
# (BENCHMARKS.md: "GC tuned" against "default GC").
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Freeze the start-up heap and collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
