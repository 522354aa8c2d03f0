"""Golden sequences for liquidity levels, EQH/EQL pools, taking, sweeps and runs (§5)."""

from __future__ import annotations

import pytest

from ictbot.indicators.params import IndicatorParams, LiquidityParams
from tests.unit.indicators.helpers import hl, only, run, summary

LIQ = ("liquidity_pool", "liquidity_pool_extended", "liquidity_taken", "sweep", "run")
P = IndicatorParams(liquidity=LiquidityParams(left=1, right=1, k_atr=0.0, k_bps=10.0))
HIGHS = [99, 100, 99, 99.5, 100.05, 99, 98]
ROWS = [*hl(HIGHS, [h - 1 for h in HIGHS]), (99.5, 100.2, 99.4, 99.9)]


def test_equal_highs_pool_taking_and_classification() -> None:
    events = only(run(ROWS, P), *LIQ)
    assert summary(events) == [
        (4, "liquidity_taken", 1), (4, "run", 1),  # X's own candle takes Y and closes above it
        (5, "liquidity_pool", 1),
        (6, "liquidity_taken", -1), (6, "sweep", -1),  # swing low 98 wicked (97), close back at 98
        (7, "liquidity_taken", 1), (7, "sweep", 1), (7, "liquidity_taken", 1), (7, "sweep", 1),
    ]
    taken_y, run_y, pool = events[0], events[1], events[2]
    assert (taken_y.fields["source"], taken_y.level, taken_y.anchor_index, taken_y.fields["taken_index"]) == (
        "swing", 100.0, 1, 4)
    assert taken_y.fields["source_confirm_index"] == 2 and taken_y.fields["parent_id"] is None
    assert run_y.fields["excursion"] == pytest.approx(0.05)
    assert (pool.anchor_index, pool.top, pool.bottom, pool.level) == (4, 100.05, 100.0, 100.05)
    assert pool.fields["members"] == [1, 4] and pool.fields["mean"] == pytest.approx(100.025)
    swing_x, pool_taken = events[5], events[7]
    assert swing_x.fields["source"] == "swing" and swing_x.level == 100.05
    assert pool_taken.fields["source"] == "pool" and pool_taken.fields["parent_id"] == pool.id
    assert events[8].fields["excursion"] == pytest.approx(0.15)


def test_tolerance_is_inclusive_and_nothing_higher_may_lie_between() -> None:
    tight = IndicatorParams(liquidity=LiquidityParams(left=1, right=1, k_atr=0.0, k_bps=4.0))
    assert only(run(ROWS, tight), "liquidity_pool") == []  # |x - y| = 0.05 > 4 bps of 100.05
    highs = [99, 100, 99, 100.5, 99, 100.05, 99]  # 100.5 between the equal highs blocks the pair
    pools = only(run(hl(highs, [h - 1 for h in highs]), P), "liquidity_pool")
    assert [e.direction for e in pools] == [-1]  # only the equal lows 98 / 98 pair up


def test_third_equal_high_extends_the_pool() -> None:
    highs = [99, 100, 99, 100, 99, 100, 99]
    events = [e for e in only(run(hl(highs, [h - 2 for h in highs]), P), "liquidity_pool",
                                  "liquidity_pool_extended") if e.direction == 1]
    assert summary(events) == [(4, "liquidity_pool", 1), (6, "liquidity_pool_extended", 1)]
    assert events[1].fields["members"] == [1, 3, 5] and events[1].fields["parent_id"] == events[0].id


def test_sweep_window_waits_for_a_close_back_inside() -> None:
    highs = [99, 100, 99, 98]
    rows = [*hl(highs, [h - 1 for h in highs]), (98, 100.5, 98, 100.4), (100.4, 100.6, 99.5, 99.8)]
    p = IndicatorParams(liquidity=LiquidityParams(left=1, right=1, k_atr=0.0, sweep_window=2))
    events = [e for e in only(run(rows, p), *LIQ) if e.direction == 1]
    assert summary(events) == [(4, "liquidity_taken", 1), (5, "sweep", 1)]
    assert events[1].fields["taken_index"] == 4 and events[1].fields["excursion"] == pytest.approx(0.6)


def test_previous_day_high_is_taken_on_the_first_candle_of_the_next_day() -> None:
    highs = [10.0] * 24
    highs[5] = 12.0
    rows = [*hl(highs, [9.0] * 24), (10, 13, 9.5, 11)]
    events = [e for e in run(rows, tf="1h") if e.kind == "liquidity_taken" and e.fields["source"] == "day"]
    assert [(e.confirm_index, e.direction, e.level, e.anchor_index) for e in events] == [(24, 1, 12.0, 5)]
    prev = only(run(rows, tf="1h"), "previous_day")[0]
    assert events[0].fields["parent_id"] == prev.id
