"""The backtest's fill model replayed trade by trade on the shared matching engine (exchange_sim)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ictbot.backtest.data import load_market_data
from ictbot.backtest.run import BacktestSpec, run_backtest
from ictbot.backtest.venue_check import check_fills_on_matching_engine
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

MONTH = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv"


def test_every_s2_exit_is_the_matching_engines_and_a_changed_fill_is_caught() -> None:
    require_shared(MONTH)
    spec = BacktestSpec((str(MONTH),), ("BTCUSDT",), Timeframe.M5, "s2_fvg")
    data = load_market_data(spec.data, "BTCUSDT", Timeframe.M5)
    result = run_backtest(spec, loaded=[data]).results[0]
    check = check_fills_on_matching_engine(result, data, spec.fee_rate)
    assert check.ok, check.describe()
    assert check.trades == len(result.trades) > 100
    assert check.identical == check.trades  # exit candle, leg and price, trade for trade
    assert check.outcomes["entry at open + 1 tick (engine spread)"] == check.trades

    first = result.trades[0]
    moved = replace(first, exit_price=first.exit_price + Decimal("0.01"))
    late = replace(result.trades[1], exit_index=result.trades[1].exit_index + 1)
    tampered = replace(result, trades=[moved, late, *result.trades[2:]])
    broken = check_fills_on_matching_engine(tampered, data, spec.fee_rate)
    assert len(broken.problems) == 2 and broken.identical == check.identical - 2
