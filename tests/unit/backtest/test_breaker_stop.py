"""A lasting circuit-breaker trip ends a backtest's trading, as live it waits for an operator."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ictbot.backtest.data import load_market_data, parse_time
from ictbot.backtest.report import render_report
from ictbot.backtest.run import BacktestSpec, results_document, run_backtest
from ictbot.backtest.sizing import RiskGate
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.instruments import default_catalogue
from ictbot.risk.limits import RiskLimits
from tests.conftest import DATA, require_shared

DAY = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01
JAN = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv"


def gate(**limits: object) -> RiskGate:
    """A gate that has seen the starting equity (as at the first entry decision)."""
    risk = RiskGate(RiskLimits.model_validate(limits), default_catalogue().instrument("BTCUSDT", Market.SPOT),
                    circuit_breakers=True)
    risk.book, _ = risk.book.observe_equity(Decimal(10_000), T0, risk.limits)
    return risk


def test_a_losing_streak_stops_for_good_and_the_daily_loss_does_not() -> None:
    streak = gate(max_consecutive_losses=2)
    streak.on_trade_closed("BTCUSDT", Decimal(-1), True, T0, Decimal(9_999))
    assert streak.stopped is None
    streak.on_trade_closed("BTCUSDT", Decimal(-1), True, T0 + 1, Decimal(9_998))
    assert streak.stopped is not None and streak.stopped.reason == "consecutive_losses"

    daily = gate(daily_loss_limit_pct=1)
    daily.on_trade_closed("BTCUSDT", Decimal(-200), True, T0, Decimal(9_800))
    assert daily.book.tripped("daily_loss")  # no new entries today, but it expires at 00:00 UTC
    assert daily.stopped is None

    drawdown = gate(daily_loss_limit_pct=50, max_drawdown_pct=5)
    drawdown.on_trade_closed("BTCUSDT", Decimal(100), False, T0, Decimal(10_100))
    drawdown.on_trade_closed("BTCUSDT", Decimal(-600), True, T0 + DAY, Decimal(9_500))
    assert drawdown.stopped is not None and drawdown.stopped.reason == "max_drawdown"


def test_breakers_off_never_stop() -> None:
    off = RiskGate(RiskLimits(max_consecutive_losses=1), default_catalogue().instrument("BTCUSDT", Market.SPOT))
    off.on_trade_closed("BTCUSDT", Decimal(-1), True, T0, Decimal(9_999))
    assert off.stopped is None


def test_the_stop_is_the_same_candle_by_candle_and_on_the_fast_path() -> None:
    """January 2024, strategy_a on the live defaults: the fourth loss in a row ends trading."""
    data = load_market_data([str(require_shared(JAN))], "BTCUSDT", Timeframe.M5)
    spec = BacktestSpec((str(JAN),), ("BTCUSDT",), Timeframe.M5, "strategy_a")
    outcome = run_backtest(spec, loaded=[data])
    fast = outcome.results[0]
    page = render_report(outcome, results_document(outcome, include_code_version=False))
    assert "trading stopped 2024-01-30T23:35:00+00:00 by the consecutive_losses: 4 losing trades" in page
    slow = run_backtest(replace(spec, per_candle=True), loaded=[data]).results[0]
    assert fast.trading_stopped is not None and fast.trading_stopped[0] == parse_time("2024-01-30T23:35")
    assert slow.trading_stopped == fast.trading_stopped
    assert slow.fingerprint == fast.fingerprint and len(fast.trades) == 4
    # the candles after the stop are not decided: parity checks skip them like held candles
    assert max(fast.held_candle_times) == int(data.frame.open_time[-1]) + Timeframe.M5.ms
