"""`ictbot indicators` end to end on small files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from ictbot.adapters.files import write_candle_csv
from ictbot.cli.main import app
from ictbot.domain.candle_frame import CandleFrame

runner = CliRunner()


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


def test_fast_export_is_byte_identical_to_the_python_engine(tmp_path: Path, btc_5m_raw: CandleFrame) -> None:
    import pytest

    pytest.importorskip("numba")
    data = _write(btc_5m_raw.slice(0, 3000), tmp_path / "a.csv")
    outputs = []
    for extra in ([], ["--fast"]):
        out = tmp_path / f"events{len(extra)}.csv"
        result = runner.invoke(app, ["indicators", "--data", str(data), "--out", str(out), "--format", "csv",
                                     "--param", "fvg.k_atr=0.1", "--quiet", *extra])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") > 100
