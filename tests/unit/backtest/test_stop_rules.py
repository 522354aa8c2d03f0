"""Breakeven and trailing stops in the backtest: moved at a candle's close, in force from the next
candle, by the live position monitor's own rule function."""

from __future__ import annotations

from decimal import Decimal

from ictbot.positions.rules import StopRules
from tests.unit.backtest.scripted import FLAT, Plan, run

# Signal at candle 0's close, entry at candle 1's open (100), stop 90 (1R = 10), target 130.
PLAN = {0: Plan(stop="90", target="130")}
ONE_R_CLOSE = (100.0, 111.0, 99.5, 110.0)  # closes 1R up; its own low is below the entry


def test_breakeven_moves_the_stop_to_the_entry_from_the_next_candle() -> None:
    rows = [FLAT, ONE_R_CLOSE, (110.0, 111.0, 95.0, 96.0), FLAT]
    moved, _ = run(rows, PLAN, stop_rules=StopRules(breakeven_at_r=Decimal(1)))
    (trade,) = moved.trades
    assert trade.exit_reason == "stop" and trade.exit_index == 2  # not candle 1, whose low was 99.5
    assert trade.exit_price == Decimal(100)
    assert trade.stop_loss == Decimal(90)  # the trade record keeps the planned stop

    fixed, _ = run(rows, PLAN)  # default: no stop moves, the 95 low is above the 90 stop
    assert fixed.trades[0].exit_reason == "end_of_data"


def test_trailing_stop_follows_the_closes_and_never_loosens() -> None:
    rows = [FLAT, ONE_R_CLOSE, (110.0, 121.0, 109.0, 120.0), (120.0, 120.5, 116.0, 117.0),
            (117.0, 118.0, 113.0, 114.0), FLAT]
    result, _ = run(rows, PLAN, stop_rules=StopRules(trail_at_r=Decimal(1), trail_distance=Decimal("0.05")))
    (trade,) = result.trades
    # stop 104.5 after candle 1, 114 after candle 2; candle 3's lower close (117) must not loosen it
    assert trade.exit_reason == "stop" and trade.exit_index == 4 and trade.exit_price == Decimal(114)


def test_rules_are_off_by_default_and_read_from_the_execution_settings() -> None:
    assert not StopRules().active
    rules = StopRules.from_settings({"breakeven_at_r": 1.5, "trail_at_r": None, "trail_distance": 0.02,
                                     "entry_order_type": "MARKET"})
    assert rules.active and rules.breakeven_at_r == Decimal("1.5") and rules.trail_at_r is None
    assert rules.trail_distance == Decimal("0.02")
