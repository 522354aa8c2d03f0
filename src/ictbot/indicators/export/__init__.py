"""The event log as columns for export: an Arrow table (``table``) and its csv / jsonl text (``text``).

``column_chunks`` builds it from the compiled kernels' arrays slice by slice (``schema_of`` its
columns), without one Python object per event; ``from_columns`` the whole table at once;
``from_events`` from the Python engine's ``Event`` records. Writing files is the caller's business
(``ictbot indicators``). The table functions are imported on first use (PEP 562): checking a
``--format`` against ``FORMATS`` does not import Arrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ictbot.lazy_names import lazy_names

if TYPE_CHECKING:
    from ictbot.indicators.export.table import EventTable, column_chunks, from_columns, from_events, schema_of

FORMATS = ("parquet", "feather", "csv", "jsonl")
_FROM_TABLE = ("EventTable", "column_chunks", "from_columns", "from_events", "schema_of")


__getattr__ = lazy_names(__name__, dict.fromkeys(_FROM_TABLE, "table"))


__all__ = ["FORMATS", "EventTable", "column_chunks", "from_columns", "from_events", "schema_of"]
