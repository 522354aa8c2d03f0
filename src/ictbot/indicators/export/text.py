"""csv and jsonl text of an ``EventTable``, byte for byte what the row-by-row exporter wrote.

The reference formatting (``Event.to_row`` written by ``csv.writer`` / ``json.dumps``): times as
ISO-8601 UTC with a ``Z``, floats as Python's ``repr`` (shortest round trip), ``None``/NaN as an empty
csv field or ``null``, booleans ``true``/``false``, pool members as a JSON list (``[1, 2]`` in csv,
``[1,2]`` in jsonl), csv fields quoted only when they hold a comma, quote or line break, csv rows
ending in CRLF. Every column is formatted once with Arrow compute kernels and the rows are joined
element-wise, so the cost does not grow with one Python object per event.
"""

from __future__ import annotations

import json
from graphlib import TopologicalSorter
from itertools import pairwise
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ictbot.indicators.export.schema import CORE_COLUMNS
from ictbot.indicators.export.table import EventTable
from ictbot.indicators.kernels.codes import KINDS

# Arrow's float → string cast writes the same shortest round-trip digits as repr(); the two only
# differ in when they switch to exponent notation and in the ".0" of integral values, so Arrow's
# text is used inside this range (checked against repr on 13.7 M values), repr outside it
_ARROW_FLOAT_RANGE = (1e-4, 1e9)
_CSV_SPECIAL = '[,"\r\n]'
_JSON_UNSAFE = r'[^ !#-\[\]-~]'  # anything json.dumps would escape (controls, quote, backslash, non-ASCII)


def csv_header(table: EventTable) -> bytes:
    return (",".join(table.table.column_names) + "\r\n").encode()


def csv_text(table: EventTable) -> pa.Array:
    """One csv line (with its CRLF) per row."""
    columns = [_csv_column(table.table.column(name).combine_chunks()) for name in table.table.column_names]
    joined = pc.binary_join_element_wise(*columns, ",", null_handling="replace", null_replacement="")
    return _terminated(joined, "\r\n")


def jsonl_text(table: EventTable) -> pa.Array:
    """One JSON object line per row, keys in ``Event.to_row`` order (core columns, then the kind's fields).

    The kinds' field orders agree with one global order (``_field_order``), so every row is the core
    pieces followed by ``,"name":value`` for each field in that order, empty where the kind has no such
    field: one element-wise join, no regrouping of rows by kind.
    """
    if len(table) == 0:
        return pa.array([], pa.string())
    columns = table.table
    core = [_json_piece(name, columns.column(name).combine_chunks()) for name in CORE_COLUMNS]
    fields = []
    for name in _field_order(table.field_order):
        if name in CORE_COLUMNS or name not in columns.column_names:
            continue
        lookup = np.array([name in table.field_order.get(kind, ()) for kind in KINDS], dtype=np.bool_)
        carriers = lookup[table.kinds]
        piece = pc.binary_join_element_wise(",", _json_piece(name, columns.column(name).combine_chunks()), "")
        fields.append(pc.if_else(pa.array(carriers), piece, pa.scalar(None, pa.string())))
    head = pc.binary_join_element_wise(*core, ",")
    line = pc.binary_join_element_wise("{", head, *fields, "}", "", null_handling="replace", null_replacement="")
    return _terminated(line, "\n")


def _field_order(orders: dict[str, tuple[str, ...]]) -> list[str]:
    """One order of all field names that keeps every kind's own order (a topological sort)."""
    graph: TopologicalSorter[str] = TopologicalSorter()
    for names in orders.values():
        graph.add(names[0])
        for before, after in pairwise(names):
            graph.add(after, before)
    return list(graph.static_order())


def text_bytes(lines: pa.Array) -> memoryview:
    """The concatenated text of a string array (its data buffer between the first and last offset)."""
    if len(lines) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[int(offsets[0]):int(offsets[-1])]


def _terminated(lines: pa.Array, end: str) -> pa.Array:
    return pc.binary_join_element_wise(lines, "", end)


# ---- columns -----------------------------------------------------------------------------------------


def _csv_column(column: pa.Array) -> pa.Array:
    kind = column.type
    if pa.types.is_string(kind):
        return _csv_quoted(column)
    if pa.types.is_list(kind):
        return _csv_quoted(_python_text(column, json.dumps))
    return _plain_text(column)


def _json_piece(name: str, column: pa.Array) -> pa.Array:
    """``"name":value`` for every row (``null`` where the value is missing)."""
    kind = column.type
    if pa.types.is_string(kind):
        text = _json_strings(column)
    elif pa.types.is_list(kind):
        text = _python_text(column, lambda members: json.dumps(members, separators=(",", ":")))
    else:
        text = _plain_text(column)
        if pa.types.is_timestamp(kind):
            text = pc.binary_join_element_wise('"', text, '"', "")
        elif pa.types.is_floating(kind):
            text = pc.replace_substring_regex(text, "^(-?)inf$", r"\1Infinity")
    return pc.binary_join_element_wise(json.dumps(name) + ":", text.fill_null("null"), "")


def _plain_text(column: pa.Array) -> pa.Array:
    kind = column.type
    if pa.types.is_timestamp(kind):
        return _iso_times(column)
    if pa.types.is_floating(kind):
        return _float_text(column)
    return pc.cast(column, pa.string())  # int64 as decimal digits, bool as true / false


def _float_text(column: pa.Array) -> pa.Array:
    """``repr`` of every float (null stays null)."""
    text = pc.cast(column, pa.string())
    text = pc.if_else(pc.match_substring(text, "."), text, pc.binary_join_element_wise(text, ".0", ""))
    values = column.to_numpy(zero_copy_only=False)
    magnitude = np.abs(values)
    outside = ~np.isnan(values) & (magnitude != 0.0) & ((magnitude < _ARROW_FLOAT_RANGE[0])
                                                        | (magnitude >= _ARROW_FLOAT_RANGE[1]))
    if outside.any():
        exact = pa.array([repr(value) for value in values[outside].tolist()], pa.string())
        text = pc.replace_with_mask(text, pa.array(outside), exact)
    return text


def _iso_times(column: pa.Array) -> pa.Array:
    """``events.iso_utc``: ``YYYY-MM-DDTHH:MM:SS[.mmm]Z``, each distinct time formatted once."""
    ms = column.cast(pa.int64()).to_numpy(zero_copy_only=False)
    unique, position = np.unique(ms, return_inverse=True)
    text = np.datetime_as_string(unique.astype("datetime64[ms]"), unit="ms")
    whole = unique % 1000 == 0
    formatted = [f"{value[:-4]}Z" if flag else f"{value}Z" for value, flag in
                 zip(text.tolist(), whole.tolist(), strict=True)]
    return pc.take(pa.array(formatted, pa.string()), pa.array(position.reshape(-1)))


def _csv_quoted(text: pa.Array) -> pa.Array:
    special = pc.match_substring_regex(text, _CSV_SPECIAL)
    if not pc.any(special).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(special, quoted, text)


def _json_strings(text: pa.Array) -> pa.Array:
    if pc.any(pc.match_substring_regex(text, _JSON_UNSAFE)).as_py():
        return _python_text(text, json.dumps)
    return pc.binary_join_element_wise('"', text, '"', "")


def _python_text(column: pa.Array, render: Any) -> pa.Array:
    """Values rendered one by one in Python (only for the rare columns that need it, nulls skipped)."""
    return pa.array([None if value is None else render(value) for value in column.to_pylist()], pa.string())
