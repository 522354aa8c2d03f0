"""The event log as one Arrow table: from the kernels' columns (vectorised) or from ``Event`` records.

Both builders give the same table for the same events (tested): the core columns of ``Event.to_row``
with times as UTC timestamps, then the kind-specific columns sorted by name, null where a kind has
no such field or its value is None / NaN. ``EventTable.field_order`` keeps each kind's own field
order for the jsonl export.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ictbot.indicators.export.ids import EventIds
from ictbot.indicators.export.schema import (
    CORE_COLUMNS,
    FIELDS,
    HAS_LEVEL,
    KIND_FIELDS,
    NO_RANGE,
    TIME_COLUMNS,
    TIME_TYPE,
    column_type,
    extra_columns,
)
from ictbot.indicators.kernels.codes import (
    ANCHOR,
    B0,
    B1,
    BOTTOM,
    CONFIRM,
    DIR,
    F0,
    F1,
    I0,
    I1,
    KIND,
    KINDS,
    LABELS,
    LEVEL,
    R0,
    R1,
    TAG,
    TAGS,
    TOP,
)

if TYPE_CHECKING:
    from ictbot.indicators.events import Event
    from ictbot.indicators.kernels.batch import KernelColumns

I64 = npt.NDArray[np.int64]
_INT_SOURCES = {"i0": I0, "i1": I1, "b0": B0, "b1": B1, "r0": R0, "r1": R1}
_FLOAT_SOURCES = {"f0": F0, "f1": F1, "level": LEVEL}
# rows per slice of the table (= per parquet row group / feather record batch); 64k: 27 MB more peak RSS
CHUNK_ROWS = 32_768


@dataclass(frozen=True)
class EventTable:
    """``table``: one row per event in log order; ``kinds``: the kind of each row as its index in
    ``codes.KINDS``; ``field_order``: per kind present, its fields in build order."""

    table: pa.Table
    kinds: I64
    field_order: dict[str, tuple[str, ...]]

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def slice(self, start: int, stop: int) -> EventTable:
        return EventTable(self.table.slice(start, stop - start), self.kinds[start:stop], self.field_order)


def _kind_mask(kinds: I64, names: set[str] | frozenset[str]) -> npt.NDArray[np.bool_]:
    """Rows whose kind is in ``names`` (a lookup per row: cheaper than ``np.isin``'s sort)."""
    lookup = np.array([kind in names for kind in KINDS], dtype=np.bool_)
    return lookup[kinds]


def _floats(values: npt.NDArray[np.float64], keep: npt.NDArray[np.bool_]) -> pa.Array:
    return _masked(values, keep & ~np.isnan(values), pa.float64())


def _masked(values: npt.NDArray[Any], valid: npt.NDArray[np.bool_], kind: pa.DataType) -> pa.Array:
    """``values`` (of ``kind``'s numpy type) as an Arrow array, null where not ``valid``: the validity
    bitmap packed by numpy, the values handed over as one buffer (``pa.array(mask=...)`` is slower)."""
    data = np.ascontiguousarray(values)
    nulls = int(len(valid) - np.count_nonzero(valid))
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(kind, len(data), [validity, pa.py_buffer(data)], null_count=nulls)


def schema_of(cols: KernelColumns) -> pa.Schema:
    """The columns of the kernels' table: the core ones, then those of the kinds present, by name."""
    names = [*CORE_COLUMNS, *extra_columns(_present(cols))]
    return pa.schema([pa.field(name, column_type(name)) for name in names])


def _present(cols: KernelColumns) -> set[str]:
    return {KINDS[code] for code in np.unique(cols.ints[:, KIND]).tolist()}


def column_chunks(cols: KernelColumns, rows: int | None = None) -> Iterator[EventTable]:
    """The table of the kernels' events in slices of ``rows`` rows (default ``CHUNK_ROWS``; each a table
    of ``schema_of(cols)``), built column by column without per-event Python objects; a writer holds
    one slice at a time."""
    rows = rows or CHUNK_ROWS
    present = _present(cols)
    schema = schema_of(cols)
    field_order = {kind: KIND_FIELDS[kind] for kind in present}
    ids = EventIds(cols)
    for start in range(0, max(len(cols), 1), rows):
        part = replace(cols, ints=cols.ints[start:start + rows], floats=cols.floats[start:start + rows],
                       slot=cols.slot[start:start + rows], n=cols.n[start:start + rows])
        yield _chunk(part, ids, start, schema, field_order)


def from_columns(cols: KernelColumns) -> EventTable:
    """The whole table of the kernels' events (see ``column_chunks``)."""
    parts = list(column_chunks(cols))
    kinds = np.concatenate([part.kinds for part in parts])
    return EventTable(pa.concat_tables([part.table for part in parts]), kinds, parts[0].field_order)


def _chunk(part: KernelColumns, ids: EventIds, start: int, schema: pa.Schema,
           field_order: dict[str, tuple[str, ...]]) -> EventTable:
    ints = part.ints
    kinds = ints[:, KIND].astype(np.int64)
    count = len(kinds)
    open_time = part.open_time
    data: dict[str, pa.Array] = {
        "id": ids.of(np.arange(start, start + count, dtype=np.int64)),
        "kind": pc.take(pa.array(KINDS, pa.string()), pa.array(kinds)),
        "direction": pa.array(ints[:, DIR].astype(np.int64)),
        "tf": pa.repeat(pa.scalar(part.tf, pa.string()), count),
        "anchor_time": pa.array(open_time[ints[:, ANCHOR]], TIME_TYPE),
        "confirm_time": pa.array(open_time[ints[:, CONFIRM]] + part.tf_ms, TIME_TYPE),
        "anchor_index": pa.array(ints[:, ANCHOR].astype(np.int64)),
        "confirm_index": pa.array(ints[:, CONFIRM].astype(np.int64)),
        "top": _floats(part.floats[:, TOP], ~_kind_mask(kinds, NO_RANGE)),
        "bottom": _floats(part.floats[:, BOTTOM], ~_kind_mask(kinds, NO_RANGE)),
        "level": _floats(part.floats[:, LEVEL], _kind_mask(kinds, HAS_LEVEL)),
        "params_hash": pc.take(pa.array(part.hashes, pa.string()), pa.array(part.slot.astype(np.int64))),
    }
    for name in schema.names[len(CORE_COLUMNS):]:
        carriers = _kind_mask(kinds, {kind for kind in field_order if name in KIND_FIELDS[kind]})
        data[name] = _field(part, ids, name, carriers)
    return EventTable(pa.table(data, schema=schema), kinds, field_order)


def _field(cols: KernelColumns, ids: EventIds, name: str, carriers: npt.NDArray[np.bool_]) -> pa.Array:
    source = FIELDS[name].source
    ints = cols.ints
    if source in _FLOAT_SOURCES:
        return _floats(cols.floats[:, _FLOAT_SOURCES[source]], carriers)
    if source == "tag":
        return pc.take(pa.array(TAGS, pa.string()), pa.array(ints[:, TAG], pa.int64(), mask=~carriers))
    if source == "label":
        index = ints[:, I0].astype(np.int64)
        return pc.take(pa.array(LABELS, pa.string()), pa.array(index, mask=~carriers))
    if source == "members":
        return _members(cols, carriers)
    values = ints[:, _INT_SOURCES[source]].astype(np.int64)
    if source.startswith("b"):
        return pa.array(values == 1, pa.bool_(), mask=~carriers)
    if source.startswith("r"):
        return ids.of(values, carriers & (values >= 0))
    return _masked(values, carriers, pa.int64())


def _members(cols: KernelColumns, carriers: npt.NDArray[np.bool_]) -> pa.Array:
    """Pool rows: ``members[i0 : i0 + i1]``; null elsewhere."""
    rows = np.flatnonzero(carriers)
    start = cols.ints[rows, I0].astype(np.int64)
    count = cols.ints[rows, I1].astype(np.int64)
    lengths = np.zeros(len(carriers), np.int64)
    lengths[rows] = count
    offsets = np.zeros(len(carriers) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # flat positions: for each pool row, start .. start + count − 1
    flat = np.repeat(start - offsets[rows], count) + np.arange(int(offsets[-1]), dtype=np.int64)
    values = pa.array(cols.members[flat].astype(np.int64), pa.int64())
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values, mask=pa.array(~carriers))


def from_events(events: Sequence[Event]) -> EventTable:
    """The same table from ``Event`` records (the Python engine's output)."""
    from ictbot.indicators.kernels.codes import K

    order: dict[str, tuple[str, ...]] = {}
    for event in events:
        if event.kind not in order:
            order[event.kind] = tuple(event.fields)
    names = [*CORE_COLUMNS, *sorted({name for fields in order.values() for name in fields} - set(CORE_COLUMNS))]
    rows = [event.to_row() for event in events]
    data: dict[str, pa.Array] = {}
    for name in names:
        if name in TIME_COLUMNS:
            values: list[Any] = [getattr(event, name) for event in events]
        else:
            values = [row.get(name) for row in rows]
        data[name] = pa.array(values, column_type(name), from_pandas=True)
    kinds = np.array([K[event.kind] for event in events], dtype=np.int64)
    if not events:
        return EventTable(pa.table({name: pa.array([], column_type(name)) for name in CORE_COLUMNS}), kinds, {})
    return EventTable(pa.table(data), kinds, order)
