"""The event log as columns for export: an Arrow table (``table``) and its csv / jsonl text (``text``).

``column_chunks`` builds it from the compiled kernels' arrays slice by slice (``schema_of`` its
columns), without one Python object per event; ``from_columns`` the whole table at once;
``from_events`` from the Python engine's ``Event`` records. Writing files is the caller's business
(``ictbot indicators``). The table functions are imported on first use (PEP 562): checking a
``--format`` against ``FORMATS`` does not import Arrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ictbot.indicators.export.table import EventTable, column_chunks, from_columns, from_events, schema_of

FORMATS = ("parquet", "feather", "csv", "jsonl")
_FROM_TABLE = ("EventTable", "column_chunks", "from_columns", "from_events", "schema_of")


def __getattr__(name: str) -> Any:
    if name not in _FROM_TABLE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.table"), name)
    globals()[name] = value
    return value


__all__ = ["FORMATS", "EventTable", "column_chunks", "from_columns", "from_events", "schema_of"]
