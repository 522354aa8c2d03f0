"""The fill model through the whole engine: entries, exits, ambiguity, fees, slippage, filters."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from ictbot.backtest.fills import (
    ExitKind,
    FillModel,
    first_protective_index,
    limit_fill_price,
    protective_hit,
)
from ictbot.domain.market import Market
from ictbot.domain.order import OrderSide, OrderStatus
from ictbot.domain.signal import Direction
from ictbot.domain.timeframe import Timeframe
from ictbot.instruments import default_catalogue
from tests.unit.backtest.scripted import FLAT, T0, Plan, frame, run

INSTRUMENT = default_catalogue().instrument("BTCUSDT")


def test_market_entry_fills_at_next_open_not_at_signal_close() -> None:
    rows = [FLAT, (100, 101, 99, 104), (107, 108, 106, 107), FLAT]
    result, _ = run(rows, {1: Plan(stop="50", target="500")})
    (trade,) = result.trades
    assert trade.entry_price == Decimal("107")  # open of candle 2, not close 104 of candle 1
    assert trade.entry_time == T0 + 2 * Timeframe.M5.ms
    assert trade.signal_time == T0 + 2 * Timeframe.M5.ms  # decided at candle 1's close
    assert trade.exit_reason == ExitKind.END.value and trade.exit_price == Decimal("100")


def test_signal_on_last_candle_is_not_filled() -> None:
    result, engine = run([FLAT, FLAT], {1: Plan()})
    assert result.trades == []
    assert engine.rejections[0].reasons == ("no candle left to fill the entry",)


def test_stop_first_when_one_candle_could_hit_stop_and_target() -> None:
    rows = [FLAT, (100, 100.5, 99.5, 100), (100, 125, 85, 100), FLAT]
    result, _ = run(rows, {0: Plan(stop="90", target="120")})
    (trade,) = result.trades
    assert trade.exit_reason == "stop" and trade.exit_price == Decimal("90")


def test_detail_timeframe_decides_the_ambiguous_candle() -> None:
    rows = [FLAT, (100, 100.5, 99.5, 100), (100, 125, 85, 100), FLAT]
    # 1m candles inside candle 2: target (121) reached in the 2nd minute, the 85 low only in the 4th
    minutes = [(100, 101, 99, 100)] * 10 + [(100, 101, 99, 101), (101, 125, 100, 124), (124, 124, 110, 112),
                                              (112, 112, 85, 90), (90, 101, 90, 100)] + [(100, 101, 99, 100)] * 5
    detail = frame(minutes, Timeframe.M1)
    result, _ = run(rows, {0: Plan(stop="90", target="120")}, detail=detail, detail_tf=Timeframe.M1)
    (trade,) = result.trades
    assert trade.exit_reason == "target" and trade.exit_price == Decimal("120")


def test_stop_and_target_active_in_the_entry_candle() -> None:
    rows = [FLAT, (100, 100.5, 88, 95), FLAT]
    result, _ = run(rows, {0: Plan(stop="90", target="120")})
    assert result.trades[0].exit_reason == "stop" and result.trades[0].exit_index == 1


def test_gap_through_stop_fills_at_the_worse_open() -> None:
    rows = [FLAT, (100, 100.5, 99.5, 100), (80, 82, 79, 81), FLAT]
    result, _ = run(rows, {0: Plan(stop="90", target="120")})
    assert result.trades[0].exit_price == Decimal("80")


def test_target_needs_trade_through_unless_touch_fills() -> None:
    rows = [FLAT, (100, 100.5, 99.5, 100), (100, 120, 99, 119), (119, 119, 95, 96), FLAT]
    strict, _ = run(rows, {0: Plan(stop="90", target="120")})
    touch, _ = run(rows, {0: Plan(stop="90", target="120")}, touch=True)
    assert strict.trades[0].exit_reason == "end_of_data"
    assert touch.trades[0].exit_reason == "target" and touch.trades[0].exit_price == Decimal("120")


def test_fees_are_charged_on_both_fills() -> None:
    rows = [FLAT, (100, 101, 99, 100), (100, 121, 99, 120), FLAT]
    result, _ = run(rows, {0: Plan(stop="90", target="120")}, fee="0.001")
    (trade,) = result.trades
    qty = Decimal(10)  # 1000 / 100
    assert trade.qty == qty
    assert trade.fees == Decimal("100") * qty * Decimal("0.001") + Decimal("120") * qty * Decimal("0.001")
    assert trade.pnl == (Decimal(120) - Decimal(100)) * qty - trade.fees
    assert result.final_equity == Decimal(10_000) + trade.pnl


def test_slippage_is_adverse_and_tick_rounded() -> None:
    rows = [FLAT, (100, 101, 99, 100), (100, 100.5, 85, 88), FLAT]
    result, _ = run(rows, {0: Plan(stop="90", target="120")}, slippage_bps="10")
    (trade,) = result.trades
    assert trade.entry_price == Decimal("100.10")  # buy 10 bps above the open
    assert trade.exit_price == Decimal("89.91")  # stop 90 sold 10 bps lower


def test_exchange_filters_reject_an_order_below_min_notional() -> None:
    rows = [FLAT, FLAT, FLAT]
    result, engine = run(rows, {0: Plan()}, stake="4")  # BTCUSDT minNotional is 10 (catalogue snapshot)
    assert result.trades == []
    assert any("notional" in reason for reason in engine.rejections[0].reasons)


def test_quantity_is_floored_to_the_lot_step() -> None:
    rows = [(30000.0, 30010.0, 29990.0, 30000.0)] * 3
    result, _ = run(rows, {0: Plan(stop="20000", target="90000")})
    assert result.trades[0].qty == Decimal("0.03333")  # 1000/30000 = 0.0333… floored to 0.00001


def test_exit_signal_closes_at_the_next_open() -> None:
    rows = [FLAT, FLAT, FLAT, (103, 104, 102, 103), FLAT]
    result, _ = run(rows, {0: Plan(stop="50", target="500"), 2: Plan(direction=Direction.SHORT, exit=True)})
    (trade,) = result.trades
    assert trade.exit_reason == "signal" and trade.exit_price == Decimal("103") and trade.exit_index == 3


def test_limit_entry_fills_only_when_price_trades_below_the_limit() -> None:
    rows = [FLAT, (100, 101, 98, 99), (99, 99.5, 96.5, 97), (97, 98, 96, 97), FLAT]
    result, _ = run(rows, {0: Plan(limit="97", stop="90", target="120")})
    (trade,) = result.trades
    assert trade.entry_index == 2 and trade.entry_price == Decimal("97")


def test_limit_entry_expires_unfilled() -> None:
    rows = [FLAT] * 20
    result, engine = run(rows, {0: Plan(limit="80", stop="70", target="120")})
    assert result.trades == []
    assert engine.rejections[0].reasons == ("limit entry expired unfilled",)


def test_orders_replay_through_the_state_machine() -> None:
    rows = [FLAT, (100, 101, 99, 100), (100, 121, 99, 120), FLAT]
    _, engine = run(rows, {0: Plan(stop="90", target="120")})
    orders = engine.broker.orders
    assert [o.status for o in orders] == [OrderStatus.FILLED, OrderStatus.FILLED]
    assert orders[0].side is OrderSide.BUY and orders[1].side is OrderSide.SELL
    assert orders[0].position_id == orders[1].position_id
    # The live executor's leg numbering: seconds of the entry fill's time, modulo 900,000.
    entry_time = engine.broker.trades[0].entry_time
    assert orders[1].client_order_id.endswith(f"-T{(entry_time // 1000) % 900_000}")
    assert orders[1].price == Decimal("120")


def test_protective_hit_rules() -> None:
    nan = float("nan")
    assert protective_hit(True, 90, 120, 100, 125, 85) is not None
    assert protective_hit(True, 90, 120, 100, 125, 85).kind is ExitKind.STOP  # type: ignore[union-attr]
    assert protective_hit(True, nan, 120, 100, 120, 99) is None
    assert protective_hit(True, nan, 120, 100, 120, 99, touch=True) is not None
    short = protective_hit(False, 110, 80, 100, 111, 95)
    assert short is not None and short.kind is ExitKind.STOP and short.price == 110
    gap = protective_hit(False, 110, 80, 75, 76, 74)
    assert gap is not None and gap.kind is ExitKind.TARGET and gap.price == 75


def test_first_protective_index_scans_past_chunks() -> None:
    n = 5000
    high = np.full(n, 101.0)
    low = np.full(n, 99.0)
    low[4321] = 89.0
    assert first_protective_index(True, 90.0, 120.0, high, low, 0) == 4321
    assert first_protective_index(True, 90.0, 120.0, high, low, 4322) == n


def test_limit_fill_price_and_slipped() -> None:
    assert limit_fill_price(True, 97.0, 96.0, 97.5, 95.0) == 96.0  # opened below the limit: the open
    assert limit_fill_price(True, 97.0, 98.0, 99.0, 97.0) is None
    assert limit_fill_price(True, 97.0, 98.0, 99.0, 97.0, touch=True) == 97.0
    model = FillModel(slippage_bps=Decimal("5"))
    assert model.slipped(Decimal("100"), OrderSide.BUY, INSTRUMENT) == Decimal("100.05")
    assert model.slipped(Decimal("100"), OrderSide.SELL, INSTRUMENT) == Decimal("99.95")


def test_two_targets_split_the_position_like_the_live_plan() -> None:
    rows = [FLAT, (100, 101, 99, 100), (100, 111, 99, 110), (110, 112, 89, 90), FLAT]
    result, engine = run(rows, {0: Plan(stop="90", target="110", target2="130")})
    (trade,) = result.trades
    assert trade.qty == Decimal(10)
    # 5 units at the first target (traded through at 111), the other 5 stopped at 90
    assert trade.exit_reason == "target+stop"
    assert trade.exit_price == Decimal(100)  # (110·5 + 90·5) / 10
    assert trade.pnl == (Decimal(110) - 100) * 5 + (Decimal(90) - 100) * 5
    # Tranche k's OCO legs share the live attempt base + k (base: seconds of the entry fill).
    base = (trade.entry_time // 1000) % 900_000
    legs = [o.client_order_id.rsplit("-", 1)[1] for o in engine.broker.orders]
    assert legs == ["E0", f"T{base}", f"S{base + 1}"]


def test_both_targets_in_one_candle_close_the_whole_trade() -> None:
    rows = [FLAT, (100, 101, 99, 100), (100, 140, 99, 135), FLAT]
    result, _ = run(rows, {0: Plan(stop="90", target="110", target2="130")})
    (trade,) = result.trades
    assert trade.exit_reason == "target" and trade.exit_price == Decimal(120) and trade.exit_index == 2


def test_spot_refuses_shorts_and_usdm_trades_them() -> None:
    rows = [FLAT, (100, 101, 99, 100), (100, 101, 79, 80), FLAT]
    short = Plan(direction=Direction.SHORT, stop="110", target="85")
    spot, engine = run(rows, {0: short})
    assert spot.trades == [] and "short" in engine.rejections[0].reasons[0]
    futures, _ = run(rows, {0: short}, kind=Market.USDM, fee="0.001")
    (trade,) = futures.trades
    assert trade.direction == "SHORT" and trade.exit_reason == "target" and trade.exit_price == Decimal(85)
    assert trade.pnl == (Decimal(100) - 85) * 10 - trade.fees
    assert futures.equity[-1] == float(Decimal(10_000) + trade.pnl)
