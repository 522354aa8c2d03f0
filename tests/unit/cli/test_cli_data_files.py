"""Symbol and timeframe from the candle files, and their data quality, through the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest
from typer.testing import CliRunner

from ictbot.adapters.files import read_candle_file
from ictbot.adapters.storage import sqlite_url
from ictbot.cli.main import app
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.errors import InputDataError
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

MARKETLAB = DATA / "feather" / "harthor_marketlab"
runner = CliRunner()
MAR_2025 = 1_740_787_200_000  # 2025-03-01T00:00Z
HOUR = 3_600_000


def _write_feather(frame: CandleFrame, path: Path) -> Path:
    table = pa.table({
        "date": pa.array(frame.open_time, type=pa.timestamp("ms", tz="UTC")),
        "open": frame.open, "high": frame.high, "low": frame.low, "close": frame.close, "volume": frame.volume,
    })
    feather.write_feather(table, str(path))
    return path


def _slice(name: str, days: int) -> CandleFrame:
    frame = read_candle_file(require_shared(MARKETLAB / name))
    return frame.between(MAR_2025, MAR_2025 + days * 86_400_000)


@pytest.fixture(scope="module")
def eth_15m(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three weeks of real ETH/USDT 15m candles under their freqtrade name."""
    return _write_feather(_slice("ETH_USDT-15m.feather", 21), tmp_path_factory.mktemp("eth") / "ETH_USDT-15m.feather")


@pytest.fixture(scope="module")
def eth_5m(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three weeks of real ETH/USDT 5m candles under their freqtrade name (strategy_a trades them)."""
    return _write_feather(_slice("ETH_USDT-5m.feather", 21), tmp_path_factory.mktemp("eth5") / "ETH_USDT-5m.feather")


@pytest.fixture(scope="module")
def eth_1h_with_outage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two weeks of ETH/USDT 1h with one hour missing (10 March 10:00) and a flat zero-volume halt bar
    before it, as an exchange halt leaves them."""
    frame = _slice("ETH_USDT-1h.feather", 14)
    missing = int(np.searchsorted(frame.open_time, MAR_2025 + (9 * 24 + 10) * HOUR))
    keep = np.ones(len(frame), dtype=bool)
    keep[missing] = False
    halt = missing - 1
    o, h, lo, c, v = (col.copy() for col in (frame.open, frame.high, frame.low, frame.close, frame.volume))
    h[halt] = lo[halt] = c[halt] = o[halt]
    v[halt] = 0.0
    cut = CandleFrame(frame.open_time[keep], o[keep], h[keep], lo[keep], c[keep], v[keep])
    return _write_feather(cut, tmp_path_factory.mktemp("halt") / "ETH_USDT-1h.feather")


def _error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


def test_strategy_a_trades_the_symbol_the_file_is_named_for(eth_5m: Path, tmp_path: Path) -> None:
    out = tmp_path / "eth.json"
    result = runner.invoke(app, ["backtest", "--data", str(eth_5m), "--strategy", "strategy_a", "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert list(doc["symbols"]) == ["ETHUSDT"] and doc["metadata"]["parameters"]["symbols"] == ["ETHUSDT"]
    assert doc["trades"] and {t["symbol"] for t in doc["trades"]} == {"ETHUSDT"}
    assert doc["data_quality"] == {"gaps": [], "missing_candles": 0, "zero_volume": 0, "duplicates": 0,
                                   "out_of_order": 0}
    frame = read_candle_file(eth_5m)
    expected = (frame.close[-1] / frame.open[0] - 1) * 100
    assert doc["summary"]["buy_and_hold_return"] == pytest.approx(expected, abs=1e-6)


def test_backtest_takes_the_timeframe_from_the_name(eth_15m: Path, tmp_path: Path) -> None:
    out = tmp_path / "eth15.json"
    result = runner.invoke(app, ["backtest", "--data", str(eth_15m), "--strategy", "s1_ema_cross", "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert list(doc["symbols"]) == ["ETHUSDT"]
    assert doc["metadata"]["parameters"]["timeframe"] == "15m"
    assert doc["metadata"]["candles"]["ETHUSDT"]["source_timeframe"] == "15m"


@pytest.mark.parametrize(("extra", "words"), [
    (["--symbol", "BTCUSDT"], "named for ETHUSDT, not --symbol BTCUSDT"),
    (["--timeframe", "5m"], "the files hold 15m candles; cannot build 5m"),
])
def test_backtest_refuses_a_contradicting_flag(eth_15m: Path, extra: list[str], words: str) -> None:
    result = runner.invoke(app, ["backtest", "--data", str(eth_15m), "--strategy", "s1_ema_cross", *extra],
                           terminal_width=400)
    assert result.exit_code == 2
    assert words in _error_line(result.output)


def test_backtest_refuses_a_name_that_contradicts_the_spacing(eth_15m: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "ETH_USDT-5m.feather"
    renamed.symlink_to(eth_15m)
    result = runner.invoke(app, ["backtest", "--data", str(renamed), "--strategy", "s1_ema_cross"],
                           terminal_width=400)
    assert result.exit_code == 2
    assert "named 5m but the candles are 15m apart" in _error_line(result.output)


def test_symbol_equals_path_names_an_unnamed_file(eth_15m: Path, tmp_path: Path) -> None:
    plain = tmp_path / "candles.feather"
    plain.symlink_to(eth_15m)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["backtest", "--data", f"ETHUSDT={plain}", "--timeframe", "15m", "--strategy",
                                 "s1_ema_cross", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert list(json.loads(out.read_text())["symbols"]) == ["ETHUSDT"]
    nameless = runner.invoke(app, ["backtest", "--data", str(plain), "--strategy", "s1_ema_cross"],
                             terminal_width=400)
    assert nameless.exit_code == 2 and "cannot tell the symbol" in _error_line(nameless.output)


def test_backtest_reports_the_gap_and_the_halt_bar(eth_1h_with_outage: Path, tmp_path: Path) -> None:
    out, page = tmp_path / "halt.json", tmp_path / "halt.html"
    result = runner.invoke(app, ["backtest", "--data", str(eth_1h_with_outage), "--strategy", "s1_ema_cross",
                                 "--json", str(out), "--report", str(page)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "gap 2025-03-10T10:00:00+00:00 → 2025-03-10T11:00:00+00:00: 1 missing" in result.output
    quality = json.loads(out.read_text())["data_quality"]
    assert quality["gaps"] == [{"symbol": "ETHUSDT", "start": "2025-03-10T10:00:00+00:00",
                                "end": "2025-03-10T11:00:00+00:00", "missing": 1}]
    assert quality["zero_volume"] == 1 and quality["missing_candles"] == 1
    html = page.read_text()
    assert html.index("Data quality") < html.index("<h2>Equity")
    assert "gap 2025-03-10T10:00:00+00:00 → 2025-03-10T11:00:00+00:00: 1 missing" in html
    assert "stroke-dasharray" in html  # the buy-and-hold line on the equity chart


def test_on_gap_fail_stops_with_one_line(eth_1h_with_outage: Path) -> None:
    result = runner.invoke(app, ["backtest", "--data", str(eth_1h_with_outage), "--strategy", "s1_ema_cross",
                                 "--on-gap", "fail"], terminal_width=400)
    assert result.exit_code == 1
    assert "--on-gap fail" in result.output.splitlines()[-1]
    assert "2025-03-10T10:00:00+00:00" in result.output.splitlines()[-1]


def test_indicators_report_the_gap_and_refuse_a_wrong_timeframe(eth_1h_with_outage: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    # --no-jit: the data-quality report is the subject; the compiled path is tested in tests/integration/indicators
    result = runner.invoke(app, ["indicators", "--data", str(eth_1h_with_outage), "--out", str(out), "--no-jit"],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "1 gap(s), 1 missing 1h candle(s); 1 zero-volume flat bar(s)" in result.output
    assert "gap 2025-03-10T10:00:00+00:00 → 2025-03-10T11:00:00+00:00" in result.output
    failed = runner.invoke(app, ["indicators", "--data", str(eth_1h_with_outage), "--out", str(out),
                                 "--on-gap", "fail", "--no-jit"], terminal_width=400)
    assert failed.exit_code == 1 and "--on-gap fail" in failed.output
    wrong = runner.invoke(app, ["indicators", "--data", str(eth_1h_with_outage), "--out", str(out),
                                "--timeframe", "15m", "--no-jit"], terminal_width=400)
    assert wrong.exit_code == 2 and "15m contradicts the files" in _error_line(wrong.output)


def test_download_from_file_reports_gaps_and_refuses_them_on_request(eth_1h_with_outage: Path,
                                                                     tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "import.db")
    result = runner.invoke(app, ["download", "--database-url", url, "--from-file", str(eth_1h_with_outage)],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "ETHUSDT 1h candles" in result.output
    assert "gap 2025-03-10T10:00:00+00:00 → 2025-03-10T11:00:00+00:00: 1 missing" in result.output
    refused = runner.invoke(app, ["download", "--database-url", sqlite_url(tmp_path / "strict.db"), "--from-file",
                                  str(eth_1h_with_outage), "--on-gap", "fail"], terminal_width=200)
    assert refused.exit_code == 1 and "1 gap(s) in the candles" in refused.output
    wrong = runner.invoke(app, ["download", "--database-url", url, "--from-file", str(eth_1h_with_outage),
                                "--symbol", "BTCUSDT"], terminal_width=200)
    assert wrong.exit_code == 1 and "named for ETHUSDT, not --symbol BTCUSDT" in wrong.output
    wrong_tf = runner.invoke(app, ["download", "--database-url", url, "--from-file", str(eth_1h_with_outage),
                                   "--timeframe", "4h"], terminal_width=200)
    assert wrong_tf.exit_code == 1 and "named 1h, not --timeframe 4h" in wrong_tf.output


def test_the_simulator_replays_a_freqtrade_named_file(eth_15m: Path, tmp_path: Path) -> None:
    from ictbot.exchange_sim.market.series import load_data_args

    (series,) = load_data_args([str(eth_15m)]).values()
    assert series.symbol == "ETHUSDT" and series.timeframe is Timeframe.M15
    renamed = tmp_path / "SOL_USDT-15m.feather"
    renamed.symlink_to(eth_15m)
    with pytest.raises(InputDataError, match="named for SOLUSDT, not ETHUSDT"):
        load_data_args([f"ETHUSDT={renamed}"])


def test_allocator_settings_apply_only_when_ictbot_is_the_program() -> None:
    import subprocess
    import sys

    from ictbot.cli.indicators import _owns_the_process

    assert not _owns_the_process(), "inside pytest the process-wide malloc settings must stay untouched"
    probe = ("import sys; sys.argv[0] = '/venv/bin/ictbot'; "
             "from ictbot.cli.indicators import _owns_the_process as owns; print(owns())")
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert answer.stdout.strip() == "True"
