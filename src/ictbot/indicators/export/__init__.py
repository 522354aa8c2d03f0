"""The event log as columns for export: an Arrow table (``table``) and its csv / jsonl text (``text``).

``from_columns`` builds it from the compiled kernels' arrays without one Python object per event;
``from_events`` from the Python engine's ``Event`` records. Writing files is the caller's business
(``ictbot indicators``).
"""

from __future__ import annotations

from ictbot.indicators.export.table import EventTable, from_columns, from_events

FORMATS = ("parquet", "feather", "csv", "jsonl")

__all__ = ["FORMATS", "EventTable", "from_columns", "from_events"]
