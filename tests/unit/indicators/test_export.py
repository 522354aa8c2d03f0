"""The columnar event export (``indicators/export``) against the row-by-row exporter it replaces.

The reference is what ``ictbot indicators`` wrote before: ``Event.to_row()`` per event, written by
``cli.indicators._write_csv`` / ``_write_jsonl``. The columnar tables must hold the same values and
their csv / jsonl text must be the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

pytest.importorskip("numba")

from ictbot.cli.indicators import _write_csv, _write_jsonl
from ictbot.indicators.events import Event
from ictbot.indicators.export import EventTable, from_columns, from_events
from ictbot.indicators.export.schema import CORE_COLUMNS, KIND_FIELDS
from ictbot.indicators.export.table import from_events as table_of
from ictbot.indicators.export.text import csv_header, csv_text, jsonl_text, text_bytes
from ictbot.indicators.kernels import compute_columns
from ictbot.indicators.suite import ALL_KINDS, compute
from tests.unit.indicators.test_kernels import PARAM_SETS, _walk

pytestmark = pytest.mark.timeout(900)  # a fresh checkout compiles the kernels first (see test_kernels)


def reference(events: list[Event], tmp_path: Path) -> tuple[bytes, bytes]:
    rows = [event.to_row() for event in events]
    _write_csv(tmp_path / "ref.csv", rows)
    _write_jsonl(tmp_path / "ref.jsonl", rows)
    return (tmp_path / "ref.csv").read_bytes(), (tmp_path / "ref.jsonl").read_bytes()


def texts(table: EventTable) -> tuple[bytes, bytes]:
    return csv_header(table) + bytes(text_bytes(csv_text(table))), bytes(text_bytes(jsonl_text(table)))


def seeded_walk_series() -> list[tuple[tuple[np.ndarray, ...], Any]]:
    rng = np.random.default_rng(7)
    return [(_walk(rng, 300), params) for params in PARAM_SETS for _ in range(6)]  # as test_kernels: every kind


def test_kernel_table_and_text_equal_the_row_exporter_on_walks_covering_every_kind(tmp_path: Path) -> None:
    seen: set[str] = set()
    for data, params in seeded_walk_series():
        fold = compute(*data, "5m", params).events
        seen.update(event.kind for event in fold)
        table = from_columns(compute_columns(*data, "5m", params))
        assert table.table.equals(from_events(fold).table)
        assert texts(table) == reference(fold, tmp_path)
    assert ALL_KINDS - seen == {"previous_week", "previous_month"}


def test_every_kind_declares_the_fields_the_indicators_build() -> None:
    assert set(KIND_FIELDS) == set(ALL_KINDS)
    rng = np.random.default_rng(11)
    for data, params in [(_walk(rng, 400), p) for p in PARAM_SETS]:
        for event in compute(*data, "5m", params).events:
            assert tuple(event.fields) == KIND_FIELDS[event.kind], event.kind


def test_float_text_is_python_repr_at_every_magnitude(tmp_path: Path) -> None:
    values = [0.0, -0.0, 1.0, 42000.0, 42000.5, 0.1, 1e-05, 9.99e-05, 0.0001, 123456789.5, 999999999.0,
              1e9, 1.5e16, 1.2345678901234567e-7, 3.0000000000000004, 5e-324, math.inf, -math.inf, math.nan]
    events = [Event(f"5m:fvg:-:{k}:1:0", "fvg", 1, "5m", k, k, k * 300_000, k * 300_000 + 300_000, "abc",
                    value, -value, None, {"ce": value / 3}) for k, value in enumerate(values)]
    assert texts(table_of(events)) == reference(events, tmp_path)


def test_strings_are_quoted_and_escaped_as_csv_writer_and_json_dumps_do(tmp_path: Path) -> None:
    odd = ['a,b', 'say "hi"', "line\nbreak", "tab\there", "naïve", "back\\slash", "plain"]
    events = [Event(f"5m:bos:internal:{k}:1:0", "bos", -1, "5m", k, k + 3, k * 300_000 + 1, k * 300_000 + 300_500,
                    "h", None, None, 1.5,
                    {"level": 1.5, "stream": text, "swing_id": text, "swing_anchor_index": k, "swing_confirm_index": k,
                     "initial": k == 0, "mss": False}) for k, text in enumerate(odd)]
    csv_bytes, jsonl_bytes = texts(table_of(events))
    assert (csv_bytes, jsonl_bytes) == reference(events, tmp_path)
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode(), newline="")))
    assert [row["stream"] for row in rows] == odd
    assert [json.loads(line)["swing_id"] for line in jsonl_bytes.decode().splitlines()] == odd


def test_sub_second_times_keep_their_milliseconds(tmp_path: Path) -> None:
    events = [Event("5m:fvg:-:1:2:0", "fvg", 1, "5m", 0, 1, 1_704_067_200_123, 1_704_067_500_999, "h", 2.0, 1.0,
                    None, {"ce": 1.5})]
    csv_bytes, _ = texts(table_of(events))
    assert b"2024-01-01T00:00:00.123Z" in csv_bytes and b"2024-01-01T00:05:00.999Z" in csv_bytes
    assert texts(table_of(events)) == reference(events, tmp_path)


def test_empty_log_gives_empty_text() -> None:
    table = from_columns(compute_columns(*(np.zeros(0, np.int64), *(np.zeros(0),) * 4), "5m"))
    assert len(table) == 0 and bytes(text_bytes(csv_text(table))) == b"" and len(jsonl_text(table)) == 0


def test_columnar_rows_read_back_as_the_reference_rows(btc_5m_slice: tuple[np.ndarray, ...]) -> None:
    """parquet / feather hold the same values: times as UTC timestamps of the same instants."""
    events = compute(*btc_5m_slice, "5m").events
    table = from_columns(compute_columns(*btc_5m_slice, "5m"))
    got = rows_of(table.table)
    want = [{k: clean(v) for k, v in event.to_row().items()} for event in events]
    assert [{k: v for k, v in row.items() if v is not None} for row in got] == \
        [{k: v for k, v in row.items() if v is not None} for row in want]
    assert set(table.table.column_names) == set(CORE_COLUMNS) | {k for row in want for k in row}


def rows_of(table: pa.Table) -> list[dict[str, Any]]:
    from ictbot.indicators.events import iso_utc

    rows = table.to_pylist()
    for row in rows:
        for name in ("anchor_time", "confirm_time"):
            row[name] = iso_utc(int(row[name].timestamp() * 1000))
    return rows


def clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


@pytest.fixture(scope="module")
def btc_5m_slice() -> tuple[np.ndarray, ...]:
    from ictbot.adapters.files import read_candle_file
    from tests.conftest import DATA, require_shared

    frame = read_candle_file(require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv")).slice(0, 4000)
    return frame.open_time, frame.open, frame.high, frame.low, frame.close
