"""The export files written slice by slice (parquet row groups, feather record batches) hold the
same table as the Python engine's events; the ids written by numpy equal Arrow's formatting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

pytest.importorskip("numba")

from ictbot.cli import indicators as cli
from ictbot.indicators.export import column_chunks, from_columns, from_events, schema_of
from ictbot.indicators.export import ids as ids_module
from ictbot.indicators.export import table as table_module
from ictbot.indicators.kernels import compute_columns
from ictbot.indicators.kernels.batch import KernelColumns
from ictbot.indicators.kernels.codes import KIND
from ictbot.indicators.suite import compute
from tests.unit.indicators.test_kernels import PARAM_SETS, _walk

pytestmark = pytest.mark.timeout(900)  # a fresh checkout compiles the kernels first (see test_kernels)


def events_of(columns: KernelColumns, rows: int) -> cli._Events:
    return cli._Events(schema_of(columns), lambda: column_chunks(columns, rows), len(columns),
                       columns.ints[:, KIND].astype(np.int64))


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
def test_files_written_in_small_slices_read_back_as_the_python_engine_table(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(5)
    for params in PARAM_SETS:
        data = _walk(rng, 400)
        columns = compute_columns(*data, "5m", params)
        # 37-row slices: references (parent_id, swing_id ...) point into earlier slices
        assert len(columns) > 3 * 37
        out = tmp_path / f"events.{fmt}"
        cli._write(events_of(columns, 37), out, fmt)
        written = pq.read_table(out) if fmt == "parquet" else feather.read_table(out)
        if fmt == "parquet":
            assert pq.ParquetFile(out).num_row_groups == -(-len(columns) // 37)
        assert written.equals(from_events(compute(*data, "5m", params).events).table)


def test_empty_log_writes_an_empty_file_with_the_core_columns(tmp_path: Path) -> None:
    columns = compute_columns(*(np.zeros(0, np.int64), *(np.zeros(0),) * 4), "5m")
    cli._write(events_of(columns, 37), tmp_path / "e.parquet", "parquet")
    written = pq.read_table(tmp_path / "e.parquet")
    assert written.num_rows == 0 and written.schema.equals(from_columns(columns).table.schema)


def test_numpy_ids_equal_arrow_formatted_ids_with_nulls() -> None:
    data = _walk(np.random.default_rng(9), 500)
    columns = compute_columns(*data, "5m", PARAM_SETS[1])
    rows = np.random.default_rng(1).integers(0, len(columns), 3000)
    valid = np.random.default_rng(2).random(3000) < 0.7
    fast = ids_module.EventIds(columns)
    assert fast.fast
    assert fast.of(rows, valid).equals(ids_module._arrow_ids(columns, rows, valid))
    assert fast.of(rows).null_count == 0


def test_times_of_other_than_13_digits_take_arrow_formatting() -> None:
    """Before 2001-09-09 a millisecond time has 12 digits: ids must still be the events' own ids."""
    t, o, h, lo, c = _walk(np.random.default_rng(3), 300)
    early = t - t[0] + 946_684_800_000 - 10**12 + 10**11  # 1973: 12-digit milliseconds
    assert early[0] < 10**12
    columns = compute_columns(early, o, h, lo, c, "5m")
    assert not ids_module.EventIds(columns).fast
    table = table_module.from_columns(columns)
    assert table.table.equals(from_events(compute(early, o, h, lo, c, "5m").events).table)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_text_written_in_small_slices_is_the_row_exporters_bytes(tmp_path: Path, fmt: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.indicators.test_export import reference

    monkeypatch.setattr(cli, "TEXT_SLICE_ROWS", 23)  # slices of slices: 50-row tables cut into 23-row pieces
    data = _walk(np.random.default_rng(13), 400)
    columns = compute_columns(*data, "5m", PARAM_SETS[0])
    out = tmp_path / f"events.{fmt}"
    cli._write(events_of(columns, 50), out, fmt)
    csv_bytes, jsonl_bytes = reference(compute(*data, "5m", PARAM_SETS[0]).events, tmp_path)
    assert out.read_bytes() == (csv_bytes if fmt == "csv" else jsonl_bytes)
