"""Order-level parity: the in-process backtest and the real live pipeline (paper mode: Binance
adapter, bus, SQLite storage, execution, positions) trading against the exchange simulator that
replays the same real candles place the same orders, and fill them alike where the fill models
agree; every difference is one of the documented kinds, checked by its formula."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from ictbot.backtest.data import load_market_data, parse_time
from ictbot.backtest.live_parity import Difference, judge, replay_both
from ictbot.backtest.run import BacktestSpec
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

MONTH = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv"


@pytest.mark.slow
@pytest.mark.timeout(600)  # ~20 s alone; a whole application per candle on a shared machine
def test_live_pipeline_sends_the_backtests_orders_to_the_simulator() -> None:
    require_shared(MONTH)
    spec = BacktestSpec((str(MONTH),), ("BTCUSDT",), Timeframe.M5, "s2_fvg")
    data = load_market_data(spec.data, "BTCUSDT", Timeframe.M5, start_ms=parse_time("2024-03-01"),
                            end_ms=parse_time("2024-03-03"))
    result, live, instrument = replay_both(spec, data)
    report = judge(result, data, live, spec, instrument)
    assert report.ok, report.describe()
    assert report.trades == len(result.trades) >= 10
    assert report.compared_orders == report.live_orders  # nothing sent that the comparison skipped
    # entry + stop + target per trade; exits identical for every closed trade
    assert report.live_orders == 3 * report.trades
    closed = report.trades - report.differences[Difference.END_OF_DATA]
    entries_equal = report.trades - report.differences[Difference.ENTRY_PRICE]
    assert report.agreeing_fills == closed + entries_equal
    assert report.differences[Difference.EXIT_QTY] == 2 * report.trades
    assert report.differences[Difference.OCO_SIBLING] == closed

    # The comparison notices a changed quantity, a lost order and an unexpected one.
    first = live.orders[0]
    changed = replace(first, quantity=first.quantity + Decimal("0.00001"))
    broken = judge(result, data, replace(live, orders=[changed, *live.orders[1:]]), spec, instrument)
    assert any(first.client_order_id in p for p in broken.problems)
    lost = judge(result, data, replace(live, orders=live.orders[3:]), spec, instrument)
    assert not lost.ok
    stray = replace(first, client_order_id="ict-" + "0" * 24 + "-E0")
    extra = judge(result, data, replace(live, orders=[*live.orders, stray]), spec, instrument)
    assert any("no backtest trade" in p for p in extra.problems)


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~50 s alone
def test_ict_strategy_with_two_targets_places_the_same_orders_live() -> None:
    """strategy_a: 15m/1h/4h context built by the live candle service, one OCO per target tranche."""
    require_shared(MONTH)
    spec = BacktestSpec((str(MONTH),), ("BTCUSDT",), Timeframe.M5, "strategy_a")
    data = load_market_data(spec.data, "BTCUSDT", Timeframe.M5, start_ms=parse_time("2024-03-01"),
                            end_ms=parse_time("2024-03-08"))
    result, live, instrument = replay_both(spec, data)
    report = judge(result, data, live, spec, instrument)
    assert report.ok, report.describe()
    # 2 trades since reward:risk counts the round-trip fee (a third, tight-stop setup is refused live and here)
    assert report.trades >= 2 and report.compared_orders == report.live_orders
    assert report.live_orders > 3 * report.trades  # several targets: one OCO pair per tranche
