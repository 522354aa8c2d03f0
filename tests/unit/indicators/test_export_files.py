"""The export files written slice by slice (parquet row groups, feather record batches) hold the
same table as the Python engine's events; the ids written by the compiled kernel equal Arrow's formatting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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
from ictbot.indicators.kernels.codes import ANCHOR, CONFIRM, KIND, KINDS, TAG, TAGS
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


def arrow_ids(cols: KernelColumns, rows: np.ndarray, keep: np.ndarray) -> pa.Array:
    """The reference: the same ids joined by Arrow's integer formatting (any number of digits)."""
    ints = cols.ints
    safe = np.where(keep, rows, 0)
    kinds = ints[safe, KIND].astype(np.int64)
    prefix = pa.array([f"{cols.tf}:{kind}" for kind in KINDS], pa.string())
    anchor = cols.open_time[ints[safe, ANCHOR]]
    confirm = cols.open_time[ints[safe, CONFIRM]] + cols.tf_ms
    tags = pa.array(ints[safe, TAG], pa.int64())
    parts = [pc.take(prefix, pa.array(kinds)), pc.take(pa.array(TAGS, pa.string()), tags),
             pc.cast(pa.array(anchor), pa.string()), pc.cast(pa.array(confirm), pa.string()),
             pc.cast(pa.array(cols.n[safe].astype(np.int64)), pa.string())]
    ids = pc.binary_join_element_wise(*parts, ":")
    return pc.if_else(pa.array(keep), ids, pa.scalar(None, pa.string()))


def test_compiled_ids_equal_arrow_formatted_ids_with_nulls() -> None:
    data = _walk(np.random.default_rng(9), 500)
    columns = compute_columns(*data, "5m", PARAM_SETS[1])
    rows = np.random.default_rng(1).integers(0, len(columns), 3000)
    valid = np.random.default_rng(2).random(3000) < 0.7
    ids = ids_module.EventIds(columns)
    assert ids.of(rows, valid).equals(arrow_ids(columns, rows, valid))
    assert ids.of(rows).null_count == 0


@pytest.mark.parametrize("first_open_ms", [946_684_800_000 - 10**12 + 10**11, -86_400_000 * 400, 10**13 + 7])
def test_ids_of_times_of_any_number_of_digits_and_sign_are_the_events_own(first_open_ms: int) -> None:
    """1973 (12-digit milliseconds), before 1970 (negative) and after 2286 (14 digits): ids are still the
    events' own ids, and the table the Python engine's (after 1970: the engines' calendars are only
    compared there)."""
    t, o, h, lo, c = _walk(np.random.default_rng(3), 300)
    shifted = t - t[0] + first_open_ms
    columns = compute_columns(shifted, o, h, lo, c, "5m")
    rows = np.arange(len(columns), dtype=np.int64)
    assert ids_module.EventIds(columns).of(rows).equals(arrow_ids(columns, rows, np.ones(len(rows), np.bool_)))
    if first_open_ms >= 0:
        table = table_module.from_columns(columns)
        assert table.table.equals(from_events(compute(shifted, o, h, lo, c, "5m").events).table)


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
