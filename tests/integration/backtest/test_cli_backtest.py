"""``ictbot backtest`` end to end on real files: JSON document, HTML report, sweeps, errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ictbot.cli.main import app
from tests.conftest import DATA, require_shared

MONTH = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-02.csv"
runner = CliRunner()
# No trading config at the default location: the built-in defaults (what `ictbot run` would create).
NO_CONFIG = {"ICTBOT_CONFIG_FILE": "/nonexistent/ictbot-trading-config.json"}


def test_help_lists_the_flags() -> None:
    result = runner.invoke(app, ["backtest", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for flag in (
        "--data",
        "--symbol",
        "--timeframe",
        "--strategy",
        "--config",
        "--start",
        "--end",
        "--fee",
        "--slippage-bps",
        "--json",
        "--report",
        "--sweep",
        "--detail-timeframe",
    ):
        assert flag in result.output


def test_backtest_writes_json_and_report(tmp_path: Path) -> None:
    require_shared(MONTH)
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    result = runner.invoke(
        app,
        [
            "backtest",
            "--data",
            str(MONTH),
            "--symbol",
            "BTCUSDT",
            "--strategy",
            "s2_fvg",
            "--stake",
            "500",
            "--start",
            "2024-02-05",
            "--end",
            "2024-02-20",
            "--fee",
            "0.00075",
            "--slippage-bps",
            "2",
            "--json",
            str(out),
            "--report",
            str(page),
        ],
        env=NO_CONFIG,
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["schema"] == "ictbot.backtest/1"
    assert [d["setting"] for d in doc["deviations_from_live"]] == ["strategy", "circuit_breakers", "fee_rate",
                                                                    "slippage_bps"]
    assert "deviates from live" in result.output and "Deviations from live" in page.read_text()
    (data_file,) = doc["metadata"]["data"]
    assert data_file["sha256"] == hashlib.sha256(MONTH.read_bytes()).hexdigest()
    params = doc["metadata"]["parameters"]
    assert params["params"] == {} and params["stake"] == "500" and params["config_file"] is None
    assert params["fee_rate"] == "0.00075" and params["slippage_bps"] == "2"
    assert doc["metadata"]["code"]["package_version"]
    assert doc["metadata"]["candles"]["BTCUSDT"]["first"].startswith("2024-02-05T00:00")
    trades = doc["trades"]
    assert trades and doc["summary"]["trades"] == len(trades)
    assert all(t["entry_time"] >= 1707091200000 for t in trades)  # nothing before --start
    fields = {"entry_time", "entry_price", "exit_time", "exit_price", "qty", "fees", "pnl", "exit_reason",
              "gross_pnl", "net_pnl"}
    assert fields <= set(trades[0])
    assert all(abs(float(t["qty"]) * float(t["entry_price"]) - 500) < 5 for t in trades)
    for key in (
        "win_rate_pct",
        "profit_factor",
        "expectancy",
        "total_return_pct",
        "cagr_pct",
        "sharpe",
        "sortino",
        "max_drawdown_pct",
        "max_drawdown_duration_days",
        "exposure_pct",
    ):
        assert key in doc["summary"]
    assert len(doc["fingerprint"]) == 64
    assert page.read_text().startswith("<!doctype html>")


def test_same_inputs_same_fingerprint_through_the_cli(tmp_path: Path) -> None:
    require_shared(MONTH)
    prints = []
    for name in ("a.json", "b.json"):
        result = runner.invoke(
            app, ["backtest", "--data", str(MONTH), "--strategy", "s1_ema_cross", "--json", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
        prints.append(json.loads((tmp_path / name).read_text())["fingerprint"])
    assert prints[0] == prints[1]


def test_sweep_prints_a_ranked_table(tmp_path: Path) -> None:
    require_shared(MONTH)
    out = tmp_path / "sweep.json"
    result = runner.invoke(
        app,
        [
            "backtest",
            "--data",
            str(MONTH),
            "--strategy",
            "s1_ema_cross",
            "--sweep",
            "fast=10,20",
            "--sweep",
            "slow=40",
            "--workers",
            "1",
            "--json",
            str(out),
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "ranked by total_return_pct" in result.output
    sweep_doc = json.loads(out.read_text())
    assert [d["setting"] for d in sweep_doc["deviations_from_live"]] == ["strategy", "circuit_breakers"]
    runs = sweep_doc["runs"]
    returns = [r["summary"]["total_return_pct"] for r in runs]
    assert returns == sorted(returns, reverse=True) and len(runs) == 2


def test_errors_are_reported_without_a_traceback(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["backtest", "--data", str(tmp_path / "nope.csv"), "--strategy", "s2_fvg"])
    assert missing.exit_code == 2 and "not found" in missing.output
    unknown = runner.invoke(app, ["backtest", "--data", str(MONTH), "--strategy", "nope"])
    assert unknown.exit_code == 2 and "unknown strategy" in unknown.output


def test_two_symbols_from_feather_files(tmp_path: Path) -> None:
    feather = DATA / "feather" / "harthor_marketlab"
    btc, eth = require_shared(feather / "BTC_USDT-5m.feather"), require_shared(feather / "ETH_USDT-5m.feather")
    out = tmp_path / "two.json"
    result = runner.invoke(
        app,
        [
            "backtest",
            "--data",
            str(btc),
            "--data",
            str(eth),
            "--symbol",
            "BTCUSDT",
            "--symbol",
            "ETHUSDT",
            "--strategy",
            "s2_fvg",
            "--start",
            "2025-03-01",
            "--end",
            "2025-03-15",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert set(doc["symbols"]) == {"BTCUSDT", "ETHUSDT"}
    assert {d["symbol"] for d in doc["metadata"]["data"]} == {"BTCUSDT", "ETHUSDT"}
    per_symbol = [doc["symbols"][s]["summary"]["trades"] for s in ("BTCUSDT", "ETHUSDT")]
    assert all(per_symbol) and sum(per_symbol) == doc["summary"]["trades"] == len(doc["trades"])
    assert doc["summary"]["initial_equity"] == 20_000  # one sub-account of --cash per symbol
    assert {t["symbol"] for t in doc["trades"]} == {"BTCUSDT", "ETHUSDT"}


def test_higher_timeframe_with_detail_candles(tmp_path: Path) -> None:
    require_shared(MONTH)
    runs = {}
    for name, extra in (("plain", []), ("detail", ["--detail-timeframe", "5m"])):
        out = tmp_path / f"{name}.json"
        result = runner.invoke(app, ["backtest", "--data", str(MONTH), "--strategy", "s2_fvg", "--timeframe", "15m",
                                     *extra, "--json", str(out)])
        assert result.exit_code == 0, result.output
        runs[name] = json.loads(out.read_text())
    plain, detail = runs["plain"], runs["detail"]
    assert plain["metadata"]["candles"]["BTCUSDT"]["count"] == 29 * 96  # Feb 2024, 15m built from 5m
    assert plain["metadata"]["candles"]["BTCUSDT"]["source_timeframe"] == "5m"
    assert detail["metadata"]["parameters"]["detail_timeframe"] == "5m"
    # No 15m candle of Feb 2024 reaches both an S2 stop and target, so the finer candles must change
    # nothing (the ambiguous case itself is covered in tests/unit/backtest/test_fill_model.py).
    assert plain["trades"] and detail["fingerprint"] == plain["fingerprint"]
    bad = runner.invoke(app, ["backtest", "--data", str(MONTH), "--strategy", "s2_fvg", "--timeframe", "5m",
                              "--detail-timeframe", "15m"])
    assert bad.exit_code == 2 and "finer" in bad.output


def test_stop_rules_from_the_live_config_and_flags(tmp_path: Path) -> None:
    require_shared(MONTH)
    base = ["backtest", "--data", str(MONTH), "--strategy", "s2_fvg", "--start", "2024-02-05", "--end", "2024-02-12"]
    bad = runner.invoke(app, [*base, "--breakeven-at-r", "-1"])
    assert bad.exit_code == 2 and "execution.breakeven_at_r" in bad.output

    config = tmp_path / "live.json"
    config.write_text(json.dumps({"execution": {"breakeven_at_r": 1.0, "entry_timeout_seconds": 60}}))
    runs = {}
    for name, extra in (("fixed", []), ("file", ["--config", str(config)]), ("flag", ["--breakeven-at-r", "1"])):
        out = tmp_path / f"{name}.json"
        result = runner.invoke(app, [*base, *extra, "--json", str(out)], env=NO_CONFIG)
        assert result.exit_code == 0, result.output
        runs[name] = json.loads(out.read_text())
    assert runs["file"]["metadata"]["parameters"]["stop_rules"]["breakeven_at_r"] == 1.0
    assert runs["file"]["fingerprint"] == runs["flag"]["fingerprint"]
    assert runs["file"]["fingerprint"] != runs["fixed"]["fingerprint"]  # some trades reached 1R and came back
    # the config's value is live; the same value from a flag departs from the (default) live config
    assert {d["setting"] for d in runs["file"]["deviations_from_live"]} == {"strategy", "circuit_breakers"}
    assert {"setting": "execution.breakeven_at_r", "backtest": "1.0 (--breakeven-at-r)",
            "live": "off"} in runs["flag"]["deviations_from_live"]


def _run(tmp_path: Path, name: str, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    result = runner.invoke(app, ["backtest", "--data", str(MONTH), "--strategy", "strategy_a", *extra,
                                 "--json", str(out)], env=env or NO_CONFIG)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def test_the_live_trading_config_drives_the_backtest(tmp_path: Path) -> None:
    require_shared(MONTH)
    default = _run(tmp_path, "default")
    params = default["metadata"]["parameters"]
    assert default["deviations_from_live"] == [] and default["trades"]
    assert params["circuit_breakers"] is True and params["fee_rate"] == "0.001" and params["config_file"] is None
    assert params["limit_ttl_candles"] == 3  # execution.entry_timeout_seconds 900 on 5m candles

    config = tmp_path / "trading_config.json"
    config.write_text(json.dumps({
        "risk": {"min_reward_risk": 50, "taker_fee_rate": 0.0005, "maker_fee_rate": 0.0005},
        "strategies": {"strategy_a": {"params": {"max_targets": 1}}},
        "execution": {"entry_timeout_seconds": 600},
    }))
    strict = _run(tmp_path, "strict", "--config", str(config))
    params = strict["metadata"]["parameters"]
    assert strict["deviations_from_live"] == []
    assert params["config_file"] == str(config) and params["fee_rate"] == "0.0005"
    assert params["params"] == {"max_targets": 1} and params["limit_ttl_candles"] == 2
    assert params["risk"]["min_reward_risk"] == 50
    # no strategy_a setup reaches 50 R after fees: every signal is refused by the live rule
    reasons = strict["symbols"]["BTCUSDT"]["rejection_reasons"]
    assert strict["trades"] == [] and sum(n for key, n in reasons.items() if key.startswith("reward:risk")) > 0


def test_the_default_config_file_is_read_and_overrides_are_listed(tmp_path: Path) -> None:
    require_shared(MONTH)
    config = tmp_path / "trading_config.json"
    config.write_text(json.dumps({"strategies": {"strategy_a": {"enabled": False}}}))
    document = _run(tmp_path, "env", "--no-circuit-breakers", "--timeframe", "15m",
                    env={"ICTBOT_CONFIG_FILE": str(config)})
    assert document["metadata"]["parameters"]["config_file"] == str(config)
    deviations = {d["setting"]: d for d in document["deviations_from_live"]}
    assert set(deviations) == {"circuit_breakers", "strategies.strategy_a", "exchange.base_timeframe"}
    assert "disabled" in deviations["strategies.strategy_a"]["live"]
    assert deviations["exchange.base_timeframe"] == {"setting": "exchange.base_timeframe",
                                                      "backtest": "15m (data / --timeframe)", "live": "5m"}


def test_an_invalid_trading_config_is_refused_with_the_field_named(tmp_path: Path) -> None:
    base = ["backtest", "--data", str(MONTH), "--strategy", "s2_fvg"]
    cases = {
        "limits.json": ({"risk": {"max_open_positions": 0}}, "risk.max_open_positions"),
        "legacy.json": ({"params": {"fast": 10}}, "params: Extra inputs are not permitted"),
        "strategy.json": ({"strategies": {"strategy_a": {"params": {"max_targets": 0}}}}, "strategy_a"),
    }
    for name, (document, fragment) in cases.items():
        path = tmp_path / name
        path.write_text(json.dumps(document))
        result = runner.invoke(app, [*base, "--config", str(path)], terminal_width=400)
        assert result.exit_code == 2 and fragment in " ".join(result.output.split()), result.output
    missing = runner.invoke(app, [*base, "--config", str(tmp_path / "nope.json")], terminal_width=400)
    assert missing.exit_code == 2 and "does not exist" in " ".join(missing.output.split())


def test_a_lasting_breaker_trip_is_reported(tmp_path: Path) -> None:
    january = require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv")
    out = tmp_path / "stopped.json"
    result = runner.invoke(app, ["backtest", "--data", str(january), "--strategy", "strategy_a", "--json", str(out)],
                           env=NO_CONFIG, terminal_width=400)
    assert result.exit_code == 0, result.output
    assert "trading stopped 2024-01-30T23:35:00+00:00 by the consecutive_losses" in " ".join(result.output.split())
    stopped = json.loads(out.read_text())["symbols"]["BTCUSDT"]["trading_stopped"]
    assert stopped == {"at": "2024-01-30T23:35:00+00:00", "breaker": "consecutive_losses: 4 losing trades in a row"}
