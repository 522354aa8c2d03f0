"""Per-rule helpers of the compiled kernels (``indicators/kernels``) on hand-worked candle sequences.

The kernel == fold parity tests (``test_kernels.py``) cover the kernels end to end; these pin the
contract of the small helpers each kernel is built from (one ict-spec rule each), so a regression
names the rule. Skipped without numba.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("numba")

from ictbot.indicators.kernels.blocks import _choch_at
from ictbot.indicators.kernels.calendar import _extend_extremes, _new_extremes, _start_extremes
from ictbot.indicators.kernels.displacement import _leg_at
from ictbot.indicators.kernels.fvg import _detect_gap
from ictbot.indicators.kernels.liquidity import _sort_taken
from ictbot.indicators.kernels.liquidity_levels import new_level, new_levels
from ictbot.indicators.kernels.liquidity_pools import _equal_level_match, _record_pivot, new_pools
from ictbot.indicators.kernels.premium_discount import _ote_box
from ictbot.indicators.kernels.swings import _accept_pivot
from ictbot.indicators.kernels.zone_book import C_ACTIVE_UP, collect_reached, new_book, open_zone, requeue

F = np.float64


def series(*values: float) -> np.ndarray:
    return np.array(values, dtype=F)


def gap(h: list[float], lo: list[float], o: list[float], c: list[float], *, body: bool = False,
        close: bool = False, min_size: float = 0.0, k_atr: float = 0.0, atr: float = 1.0,
        disp: int | None = None) -> tuple[int, float, float]:
    """``_detect_gap`` at the last of the candles (the gap between the first and the last of three)."""
    n = len(h)
    disp_dir = np.zeros(n, np.int64)
    if disp is not None:
        disp_dir[n - 2] = disp
    d, top, bottom = _detect_gap(series(*o), series(*h), series(*lo), series(*c), np.full(n, atr), disp_dir, n - 1,
                                 body, close, disp is not None, min_size, k_atr)
    return int(d), float(top), float(bottom)


def test_gap_is_between_the_first_high_and_the_third_low() -> None:
    # candles 0..2: high of 0 = 10, low of 2 = 12 -> bullish gap [10, 12]
    assert gap([10, 13, 14], [9, 10.5, 12], [9.5, 10.6, 12.5], [9.8, 12.9, 13.5]) == (1, 12.0, 10.0)
    # mirrored: low of 0 = 20, high of 2 = 18 -> bearish gap [18, 20]
    assert gap([21, 20.5, 18], [20, 18.2, 17], [20.8, 20.4, 17.9], [20.2, 18.4, 17.2]) == (-1, 20.0, 18.0)
    # touching (low of 2 == high of 0) is no gap
    assert gap([10, 13, 14], [9, 10.5, 10], [9.5, 10.6, 12.5], [9.8, 12.9, 13.5])[0] == 0


def test_gap_filters_each_reject_on_their_own() -> None:
    h, lo = [10, 13, 14], [9, 10.5, 12]
    bearish_middle = ([9.5, 12.9, 12.5], [9.8, 10.6, 13.5])  # open, close of the three candles
    assert gap(h, lo, *bearish_middle)[0] == 1
    assert gap(h, lo, *bearish_middle, body=True)[0] == 0  # body direction of the middle candle
    closes_inside = ([9.5, 9.6, 12.5], [9.8, 9.9, 13.5])  # bullish middle candle closing below the first high
    assert gap(h, lo, *closes_inside, body=True)[0] == 1
    assert gap(h, lo, *closes_inside, close=True)[0] == 0  # close beyond the first candle's high
    o, c = [9.5, 10.6, 12.5], [9.8, 12.9, 13.5]
    assert gap(h, lo, o, c, min_size=2.0)[0] == 1 and gap(h, lo, o, c, min_size=2.5)[0] == 0
    assert gap(h, lo, o, c, k_atr=1.0, atr=2.0)[0] == 1 and gap(h, lo, o, c, k_atr=1.0, atr=2.1)[0] == 0
    assert gap(h, lo, o, c, k_atr=1.0, atr=math.nan)[0] == 0  # no ATR yet: the k_atr filter rejects
    assert gap(h, lo, o, c, disp=1)[0] == 1 and gap(h, lo, o, c, disp=-1)[0] == 0


def test_zone_book_reaches_a_bullish_zone_at_its_threshold_and_ignores_stale_versions() -> None:
    book, cnt = new_book(8)
    z = open_zone(book, cnt, 1, 0, 12.0, 10.0, 11.0, 1, 2, 7)
    assert (z, cnt[C_ACTIVE_UP], book.thr[z]) == (0, 1, 12.0)
    assert collect_reached(book, cnt, 12.01, 13.0) == 0  # low above the top: not reached
    assert collect_reached(book, cnt, 12.0, 13.0) == 1 and book.found[0] == z  # low at the top: reached
    book.thr[z] = 11.0
    requeue(book, cnt, z)
    requeue(book, cnt, z)  # the first entry is stale now
    assert collect_reached(book, cnt, 11.5, 13.0) == 0
    assert collect_reached(book, cnt, 10.5, 13.0) == 1  # once, though two entries were due
    assert collect_reached(book, cnt, 10.5, 13.0) == 0


def test_displacement_leg_takes_the_smallest_qualifying_start() -> None:
    o = series(10, 10, 11, 12, 13)
    c = series(10, 11, 12, 13, 14)  # bodies 0, 1, 1, 1, 1
    h, lo = c + 0.5, o - 0.5
    atr_prev = series(math.nan, 5.0, 1.0, 1.0, 1.0)
    s, body_sum, top, bottom, atr_before = _leg_at(o, h, lo, c, atr_prev, 4, 1, 3.0)
    # start 1 sums 4 bodies = 4 < 3 × 5; start 2 sums 3 >= 3 × 1
    assert (s, body_sum, top, bottom, atr_before) == (2, 3.0, 14.5, 10.5, 1.0)
    assert _leg_at(o, h, lo, c, atr_prev, 4, 1, 5.0)[0] == -1


def test_ote_box_of_a_bullish_and_a_bearish_leg() -> None:
    top, bottom, sweet, entered, exceeded, invalid = _ote_box(1, 100.0, 110.0, 0.62, 0.79, 0.705, 111.0, 103.0, 105.0)
    assert (top, bottom, sweet) == pytest.approx((103.8, 102.1, 102.95))
    assert (entered, exceeded, invalid) == (True, False, False)
    assert _ote_box(1, 100.0, 110.0, 0.62, 0.79, 0.705, 111.0, 99.9, 101.0)[3:] == (True, True, True)
    top, bottom, _, entered, exceeded, invalid = _ote_box(-1, 110.0, 100.0, 0.62, 0.79, 0.705, 106.3, 99.0, 105.0)
    assert (top, bottom) == pytest.approx((107.9, 106.2)) and (entered, exceeded, invalid) == (True, False, False)


def test_equal_lows_match_the_nearest_unblocked_pivot_within_tolerance() -> None:
    pools, _ = new_pools(16, 16)
    lo = series(5, 3, 6, 7, 3.05, 6, 8, 2.9, 6, 6)
    h = lo + 1.0
    # raw lows at 1 (3.0) and 4 (3.05); 7 (2.9) is lower than both
    _record_pivot(pools, 1, -1, 1, lo[1], 3, h, lo)
    nr = _record_pivot(pools, 1, -1, 4, lo[4], 6, h, lo)
    assert _equal_level_match(pools, 1, nr, -1, 3.05, 0.1) == 0  # 3.05 ~ 3.0, nothing lower between
    nr = _record_pivot(pools, 1, -1, 7, lo[7], 9, h, lo)
    assert _equal_level_match(pools, 1, nr, -1, 2.9, 0.2) == 1  # both within 0.2 of 2.9: the nearest wins
    assert _equal_level_match(pools, 1, nr, -1, 2.9, 0.05) == -1  # out of tolerance of both


def test_equal_level_search_stops_at_a_more_extreme_candle_between() -> None:
    pools, _ = new_pools(16, 16)
    h = series(5, 10, 6, 12, 6, 10.02, 6, 6)  # highs at 1 (10) and 5 (10.02), candle 3 (12) between
    lo = h - 1.0
    _record_pivot(pools, 0, 1, 1, h[1], 3, h, lo)
    _record_pivot(pools, 0, 1, 3, h[3], 5, h, lo)
    nr = _record_pivot(pools, 0, 1, 5, h[5], 7, h, lo)
    assert _equal_level_match(pools, 0, nr, 1, 10.02, 0.1) == -1


def test_taken_levels_sort_by_confirm_then_source_rank_then_buy_side_first() -> None:
    levels, lc = new_levels(8, 8)
    rank = np.array([0, 0, 0, 1, 2, 3, 4] + [5] * 8, dtype=np.int64)
    made = [new_level(levels, lc, side, 1.0, src, 0, 0, confirm, -1)
            for side, src, confirm in ((-1, 4, 3), (1, 4, 3), (1, 2, 3), (-1, 2, 1), (1, 2, 1))]
    work = np.array(made, dtype=np.int64)
    _sort_taken(levels, work, len(made), rank)
    assert work.tolist() == [4, 3, 2, 1, 0]


def test_pivot_alternation_accepts_supersedes_and_ignores() -> None:
    ev_i, ev_f = np.zeros((8, 11), np.int32), np.zeros((8, 5), F)
    has, lvl, ref = np.zeros(2, np.bool_), np.zeros(2, F), np.full(2, -1, np.int64)
    prev_has, prev_lvl = np.zeros(2, np.bool_), np.zeros(2, F)
    state = (has, lvl, ref, prev_has, prev_lvl, 1, 0)

    def accept(d: int, level: float, last_type: int, r: int) -> tuple[int, int]:
        r2, accepted = _accept_pivot(ev_i, ev_f, r, d, level, 0, 0, last_type, *state)
        return int(r2), int(accepted)

    assert accept(1, 10.0, 0, 0) == (1, 0)  # first high: accepted, one row
    assert accept(1, 9.0, 1, 1) == (2, -1)  # lower high after a high: logged, not accepted
    assert accept(1, 11.0, 1, 2) == (4, 2)  # higher high: accepted + superseded row
    assert ev_i[3, 7] == 0 and ev_i[3, 8] == 2  # superseded: old ref, new ref
    assert accept(-1, 5.0, 1, 4) == (5, 4)


def test_choch_flags_and_strict_period_extremes() -> None:
    brk = np.zeros((1, 2, 7), np.int64)
    brk[0, 0, 0], brk[0, 0, 6] = 1, 0  # bullish BOS
    brk[0, 1, 0], brk[0, 1, 6] = -1, 1  # bearish CHoCH
    assert _choch_at(brk, 0, 2) == (False, True)
    assert _choch_at(brk, 0, 1) == (False, False)
    x = _new_extremes(1)
    _start_extremes(x, 0, 0, 100, 10.0, 5.0)
    _extend_extremes(x, 0, 1, 200, 10.0, 4.0)  # an equal high does not move the high
    assert (x.high_index[0], x.low_index[0], x.low_time[0]) == (0, 1, 200)
