"""``deviations_from_live``: a backtest lists every way it departs from the live bot's configuration."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ictbot.backtest.deviations import Deviation
from ictbot.backtest.report import render_report
from ictbot.backtest.run import BacktestSpec, results_document, risk_limits, run_backtest
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

LIVE = BacktestSpec(("x.csv",), ("BTCUSDT",), Timeframe.M5, "strategy_a")
MONTH = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv"


def settings(spec: BacktestSpec) -> list[str]:
    return [d.setting for d in spec.deviations()]


def test_the_live_defaults_deviate_in_nothing_and_switch_the_breakers_on() -> None:
    assert LIVE.breakers_on and LIVE.deviations() == []
    assert LIVE.describe()["circuit_breakers"] is True


def test_each_option_that_departs_from_live_is_listed() -> None:
    changed = replace(LIVE, circuit_breakers=False, limit_fills_on_touch=True, fee_rate=Decimal("0.00075"),
                      slippage_bps=Decimal(2), detail_timeframe=Timeframe.M1, initial_cash=Decimal(5000))
    assert settings(changed) == ["circuit_breakers", "fee_rate", "limit_fills_on_touch", "slippage_bps",
                                 "detail_timeframe", "initial_cash"]
    fee = changed.deviations()[1]
    assert fee.backtest.startswith("0.00075") and fee.live.startswith("0.001")
    # --per-candle and the stake of a live strategy change nothing live would do differently
    assert replace(LIVE, per_candle=True, stake=Decimal(50)).deviations() == []


def test_the_fee_deviation_compares_with_the_configs_rate_and_the_gate_uses_the_fill_fee() -> None:
    config = {"taker_fee_rate": "0.0004", "maker_fee_rate": "0.0002"}
    same = replace(LIVE, risk=config, fee_rate=Decimal("0.0004"))
    assert settings(same) == ["maker_fee_rate"]  # the fill model charges one rate on every fill
    assert risk_limits(same).maker_fee_rate == Decimal("0.0002")  # the gate keeps the live rates
    other = replace(same, fee_rate=Decimal("0.001"))
    assert settings(other) == ["fee_rate", "maker_fee_rate"]
    gate = risk_limits(other)
    assert (gate.maker_fee_rate, gate.taker_fee_rate) == (Decimal("0.001"), Decimal("0.001"))


def test_reference_strategies_declare_themselves_and_their_breakers_off() -> None:
    s2 = replace(LIVE, strategy="s2_fvg")
    assert not s2.breakers_on
    assert settings(s2) == ["strategy", "circuit_breakers"]
    assert "no live equivalent" in s2.deviations()[0].live
    assert replace(s2, circuit_breakers=True).breakers_on  # an explicit choice wins


def test_caller_supplied_deviations_are_appended() -> None:
    extra = Deviation("execution.breakeven_at_r", "1 (--breakeven-at-r)", "off")
    assert replace(LIVE, extra_deviations=(extra,)).deviations() == [extra]


def test_results_document_and_report_show_the_deviations() -> None:
    require_shared(MONTH)
    outcome = run_backtest(BacktestSpec((str(MONTH),), ("BTCUSDT",), Timeframe.M5, "s2_fvg",
                                        slippage_bps=Decimal(1)))
    document = results_document(outcome, include_code_version=False)
    assert [d["setting"] for d in document["deviations_from_live"]] == ["strategy", "circuit_breakers",
                                                                         "slippage_bps"]
    assert document["deviations_from_live"][2] == {"setting": "slippage_bps",
                                                   "backtest": "1 bps on market and stop fills",
                                                   "live": "the market's own slippage"}
    page = render_report(outcome, document)
    assert "Deviations from live" in page and "<b>slippage_bps</b>" in page
    summary = document["summary"]
    assert abs(summary["gross_pnl"] - summary["fees"] - summary["net_pnl"]) < 1e-6
    assert summary["fees"] > 0
