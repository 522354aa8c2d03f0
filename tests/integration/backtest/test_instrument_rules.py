"""A backtest on an XRP-priced market uses XRPUSDT's own rules (tick 0.0001, step 1), not BTCUSDT's.

The market is the shared BTCUSDT 5m candles divided by 25,000 (about 2.4–2.9 USDT) and rounded to
XRPUSDT's 0.0001 tick, as real XRPUSDT candles are, named XRPUSDT.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from ictbot.backtest.data import parse_time
from ictbot.backtest.report import render_report
from ictbot.backtest.run import BacktestSpec, results_document, run_backtest
from ictbot.domain.order import OrderLeg
from ictbot.domain.timeframe import Timeframe
from ictbot.instruments import UnknownInstrumentError
from tests.conftest import DATA, require_shared

SCALE = 25_000
TICK, STEP = Decimal("0.0001"), Decimal("1")


def _xrp_like(tmp_path: Path) -> Path:
    source = require_shared(DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-03.csv")
    rows = []
    for line in source.read_text().splitlines():
        cells = line.split(",")
        prices = [f"{float(cell) / SCALE:.4f}" for cell in cells[1:5]]  # rounding keeps low <= o, c <= high
        volume = f"{float(cells[5]) * SCALE:.8f}"
        rows.append(",".join([cells[0], *prices, volume, *cells[6:]]))
    target = tmp_path / "XRPUSDT-5m-2024-03.csv"
    target.write_text("\n".join(rows) + "\n")
    return target


def _on_grid(value: Decimal | None, grid: Decimal) -> bool:
    return value is not None and value % grid == 0


@pytest.mark.slow
def test_xrp_backtest_prices_on_xrp_tick_and_targets_stay_apart(tmp_path: Path) -> None:
    # Fees off: a reward:risk refusal can then only come from the prices put on the tick (with fees,
    # the fee-aware rule refuses tight setups whatever the tick, and its message says "after rounding" too).
    spec = BacktestSpec((str(_xrp_like(tmp_path)),), ("XRPUSDT",), Timeframe.M5, "strategy_a",
                        start_ms=parse_time("2024-03-01"), end_ms=parse_time("2024-03-16"), fee_rate=Decimal(0))
    outcome = run_backtest(spec)
    trades = outcome.trades
    assert trades, "the XRP-priced market produced no trades"
    for trade in trades:  # exit_price is the average over target tranches: the fills are checked below
        for value in (trade.entry_price, trade.stop_loss, trade.take_profit):
            assert _on_grid(value, TICK), f"{value} is not on XRPUSDT's 0.0001 tick"
        assert _on_grid(trade.qty, STEP), f"quantity {trade.qty} is not on XRPUSDT's step 1"
    orders = [order for result in outcome.results for order in result.orders()]
    for order in orders:
        for value in (order.price, order.stop_price):
            assert value is None or _on_grid(value, TICK), f"{order.client_order_id}: {value} off the tick"
        assert _on_grid(order.quantity, STEP), f"{order.client_order_id}: quantity {order.quantity} off the step"
        if order.filled_qty > 0:  # a backtest order fills at one price
            assert _on_grid(order.average_price, TICK), f"{order.client_order_id}: filled off the tick"
            assert _on_grid(order.filled_qty, STEP), f"{order.client_order_id}: filled qty off the step"
    finer = [o.price for o in orders if o.price is not None and o.price % Decimal("0.01") != 0]
    assert finer, "no order price used XRPUSDT's finer tick (BTCUSDT's 0.01 would still pass the grid checks)"
    targets: dict[str, list[Decimal]] = defaultdict(list)
    for order in orders:
        if order.leg is OrderLeg.TAKE_PROFIT and order.price is not None:
            targets[order.position_id].append(order.price)
    assert any(len(found) > 1 for found in targets.values()), "no position had two targets"
    for position_id, found in targets.items():
        assert len(set(found)) == len(found), f"{position_id}: targets collapsed to {found}"
    reasons = [reason for r in outcome.results for rejection in r.rejections for reason in rejection.reasons]
    assert not [reason for reason in reasons if "after rounding" in reason]
    document = results_document(outcome, include_code_version=False)
    source = document["metadata"]["instrument_source"]
    assert source["XRPUSDT"]["kind"] == "snapshot" and source["XRPUSDT"]["as_of"] == "2021-10-12"
    assert "Instrument rules: XRPUSDT: snapshot of 2021-10-12" in render_report(outcome, document)


def test_a_backtest_of_a_symbol_found_nowhere_stops_with_the_catalogue_error(tmp_path: Path) -> None:
    target = tmp_path / "NOPEUSDT-5m-2024-03.csv"
    target.write_text(_xrp_like(tmp_path).read_text())
    spec = BacktestSpec((str(target),), ("NOPEUSDT",), Timeframe.M5, "s1_ema_cross")
    with pytest.raises(UnknownInstrumentError, match="ictbot download --exchange-info"):
        run_backtest(spec)
