"""`ictbot indicators` end to end on small files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ictbot.adapters.files import write_candle_csv
from ictbot.cli.indicators import _write_csv, _write_jsonl
from ictbot.cli.main import app
from ictbot.domain.candle_frame import CandleFrame
from ictbot.indicators.events import iso_utc

runner = CliRunner()
# the compiled kernels are the default: a fresh checkout compiles them in its first test (1-2 min CPU)
pytestmark = pytest.mark.timeout(900)


def _write(frame: CandleFrame, path: Path) -> Path:
    write_candle_csv(frame, path)
    return path


def test_jsonl_export_has_one_row_per_event(tmp_path: Path, btc_5m_raw: CandleFrame) -> None:
    data = _write(btc_5m_raw.slice(0, 600), tmp_path / "a.csv")
    out = tmp_path / "events.jsonl"
    result = runner.invoke(app, ["indicators", "--data", str(data), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and {
        "id",
        "kind",
        "direction",
        "anchor_time",
        "confirm_time",
        "anchor_index",
        "confirm_index",
        "top",
        "bottom",
        "level",
    } <= set(rows[0])
    assert rows[0]["confirm_time"].endswith("Z") and "T" in rows[0]["anchor_time"]
    assert [r["confirm_index"] for r in rows] == sorted(r["confirm_index"] for r in rows)


def test_two_files_csv_resampled_with_params(tmp_path: Path, btc_5m_raw: CandleFrame) -> None:
    first = _write(btc_5m_raw.slice(0, 1200), tmp_path / "a.csv")
    second = _write(btc_5m_raw.slice(1200, 2400), tmp_path / "b.csv")
    out = tmp_path / "h1.csv"
    result = runner.invoke(
        app,
        [
            "indicators",
            "--data",
            str(second),
            "--data",
            str(first),
            "--resample",
            "1h",
            "--format",
            "csv",
            "--out",
            str(out),
            "--param",
            "fvg.max_active=none",
            "--param",
            "structure.internal_left=2",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["tf"] == "1h" for row in rows)
    assert max(int(row["confirm_index"]) for row in rows) < 200  # 2 400 five-minute candles = 200 hours


def test_bad_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("open_time,open,high,low,close,volume\n1704067200000,2,3,1,2,5\n1704067500000,2,1,3,2,5\n")
    result = runner.invoke(app, ["indicators", "--data", str(bad), "--out", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
    assert "bad.csv:3" in result.output.replace("\n", "")


def test_bad_param_is_a_clear_error(tmp_path: Path, btc_5m_raw: CandleFrame) -> None:
    data = _write(btc_5m_raw.slice(0, 50), tmp_path / "a.csv")
    result = runner.invoke(
        app, ["indicators", "--data", str(data), "--out", str(tmp_path / "x.jsonl"), "--param", "fvg.nope=1"]
    )
    assert result.exit_code == 2 and "unknown parameter" in result.output.replace("\n", " ")


def _reference_rows(frame: CandleFrame) -> list[dict[str, Any]]:
    from ictbot.indicators.params import IndicatorParams
    from ictbot.indicators.suite import compute

    params = IndicatorParams().with_overrides(["fvg.k_atr=0.1"])
    return [event.to_row() for event in compute(frame.open_time, frame.open, frame.high, frame.low, frame.close,
                                                 "5m", params).events]


@pytest.mark.parametrize("fmt", ["parquet", "feather", "csv", "jsonl"])
def test_every_format_holds_the_events_the_row_exporter_wrote(tmp_path: Path, btc_5m_raw: CandleFrame,
                                                               fmt: str) -> None:
    """Compiled kernels (the default) → columns → file, against the old path: Python engine → one dict per
    event → csv.writer / json.dumps. Text formats byte for byte, columnar ones value for value."""
    pytest.importorskip("numba")
    frame = btc_5m_raw.slice(0, 3000)
    data = _write(frame, tmp_path / "a.csv")
    out = tmp_path / f"events.{fmt}"
    result = runner.invoke(app, ["indicators", "--data", str(data), "--out", str(out), "--format", fmt,
                                 "--param", "fvg.k_atr=0.1", "--quiet"])
    assert result.exit_code == 0, result.output
    rows = _reference_rows(frame)
    assert len(rows) > 1000
    if fmt in ("csv", "jsonl"):
        reference = tmp_path / f"reference.{fmt}"
        (_write_csv if fmt == "csv" else _write_jsonl)(reference, rows)
        assert out.read_bytes() == reference.read_bytes()
        return
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    table = pq.read_table(out) if fmt == "parquet" else feather.read_table(out)
    got = table.to_pylist()
    for row in got:
        for name in ("anchor_time", "confirm_time"):
            row[name] = iso_utc(int(row[name].timestamp() * 1000))
    present = [{k: v for k, v in row.items() if v is not None} for row in got]
    assert present == [{k: v for k, v in row.items() if v is not None and v == v} for row in rows]


def test_no_jit_and_the_old_fast_flag_write_the_same_file(tmp_path: Path, btc_5m_raw: CandleFrame) -> None:
    pytest.importorskip("numba")
    data = _write(btc_5m_raw.slice(0, 2000), tmp_path / "a.csv")
    outputs = []
    for extra in (["--no-jit"], ["--fast"], []):
        out = tmp_path / f"events{len(outputs)}.csv"
        result = runner.invoke(app, ["indicators", "--data", str(data), "--out", str(out), "--quiet", *extra])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2] and outputs[0].count(b"\n") > 100


def test_format_follows_the_out_suffix_and_a_bad_one_is_refused(tmp_path: Path, btc_5m_raw: CandleFrame) -> None:
    import pyarrow.parquet as pq

    pytest.importorskip("numba")
    data = _write(btc_5m_raw.slice(0, 600), tmp_path / "a.csv")
    out = tmp_path / "events.parquet"
    result = runner.invoke(app, ["indicators", "--data", str(data), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows > 0 and not (tmp_path / "events.parquet.partial").exists()
    bad = runner.invoke(app, ["indicators", "--data", str(data), "--out", str(out), "--format", "xlsx"])
    assert bad.exit_code == 2 and "--format must be one of parquet, feather, csv, jsonl" in bad.output
