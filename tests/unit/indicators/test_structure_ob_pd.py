"""Golden sequences for structure (§2), order blocks / breakers (§4) and OTE legs (§6).

Scenario (internal stream, L = R = 1; ATR undefined, so no displacement and mss = false):

    i  open  high  low   close
    0  10    11    9     10
    1  10    13    10    12      pivot high 13, confirmed at 2
    2  12    12.5  10.5  11      down-close
    3  11    12    8     9       down-close, pivot low 8 (confirmed at 4)
    4  9     14    9     13.5    closes above 13: bullish BOS (initial); pivot high 14 (confirmed at 5)
    5  13.5  13.6  7.5   7.6     closes below 8: bearish CHoCH; the bullish OB [8, 12] fails -> breaker
"""

from __future__ import annotations

import pytest

from ictbot.indicators.params import (
    AtrParams,
    IndicatorParams,
    LiquidityParams,
    OrderBlockParams,
    PremiumDiscountParams,
    StructureParams,
)
from tests.unit.indicators.helpers import only, run, summary

ROWS = [(10, 11, 9, 10), (10, 13, 10, 12), (12, 12.5, 10.5, 11), (11, 12, 8, 9), (9, 14, 9, 13.5),
        (13.5, 13.6, 7.5, 7.6)]
P = IndicatorParams(structure=StructureParams(internal_left=1, internal_right=1, streams=("internal",)),
                    premium_discount=PremiumDiscountParams(pd_stream="internal"))
STRUCTURE = ("bos", "choch")
BLOCKS = ("order_block", "ob_touched", "ob_mt_violated", "ob_invalidated", "breaker", "breaker_touched",
          "breaker_invalidated")
LEGS = ("impulse_leg", "ote_entered", "ote_exceeded", "leg_invalidated")


def test_bos_then_choch_with_fields() -> None:
    events = run(ROWS, P)
    bos, choch = only(events, *STRUCTURE)
    assert (bos.kind, bos.direction, bos.anchor_index, bos.confirm_index, bos.level) == ("bos", 1, 1, 4, 13.0)
    assert bos.fields["initial"] is True and bos.fields["mss"] is False
    assert bos.fields["swing_anchor_index"] == 1 and bos.fields["swing_confirm_index"] == 2
    high = only(events, "swing_high")[0]
    assert bos.fields["swing_id"] == high.id
    assert (choch.kind, choch.direction, choch.anchor_index, choch.confirm_index, choch.level) == (
        "choch", -1, 3, 5, 8.0)
    assert choch.fields["initial"] is False and choch.fields["mss"] is False


def test_one_break_per_level() -> None:
    rows = [*ROWS[:5], (13.5, 13.8, 12, 13.6), (13.6, 13.9, 12.5, 13.7)]  # keeps closing above 13
    assert [e.kind for e in only(run(rows, P), *STRUCTURE)] == ["bos"]


def test_order_block_is_lowest_down_close_candle_then_breaker() -> None:
    events = run(ROWS, P)
    blocks = only(events, *BLOCKS)
    assert summary(blocks) == [
        (4, "order_block", 1),
        (5, "ob_touched", 1), (5, "ob_mt_violated", 1), (5, "ob_invalidated", 1), (5, "breaker", -1),
        (5, "order_block", -1),
    ]
    ob = blocks[0]
    assert (ob.anchor_index, ob.top, ob.bottom, ob.fields["mt"]) == (3, 12.0, 8.0, 10.0)
    assert ob.fields["break_id"] == only(events, "bos")[0].id and ob.fields["swing_anchor_index"] == 1
    assert ob.fields["displacement"] is False and ob.fields["has_fvg"] is False
    breaker = blocks[4]
    assert breaker.fields["parent_id"] == ob.id and (breaker.top, breaker.bottom) == (12.0, 8.0)
    bearish = blocks[5]  # highest up-close candle in [4, 4]
    assert (bearish.anchor_index, bearish.top, bearish.bottom, bearish.fields["mt"]) == (4, 14.0, 9.0, 11.5)


def test_order_block_ties_go_to_the_latest_candle_and_body_zone() -> None:
    rows = [(10, 11, 9, 10), (10, 13, 10, 12), (12, 12.5, 8, 11), (11, 12, 8, 9), (9, 14, 9, 13.5)]
    p = IndicatorParams(structure=P.structure, order_blocks=OrderBlockParams(zone="body"))
    ob = only(run(rows, p), "order_block")[0]
    assert ob.anchor_index == 3 and (ob.top, ob.bottom) == (11.0, 9.0)


def test_order_block_falls_back_to_lowest_low_without_down_close() -> None:
    rows = [(10, 11, 9, 10), (10, 13, 10, 12), (10.5, 12.5, 10.5, 11), (8, 12, 8, 9), (9, 14, 9, 13.5)]
    ob = only(run(rows, P), "order_block")[0]
    assert ob.anchor_index == 3 and (ob.top, ob.bottom) == (12.0, 8.0)


def test_impulse_leg_and_ote_sequence() -> None:
    events = run(ROWS, P)
    legs = only(events, *LEGS)
    assert summary(legs) == [(4, "impulse_leg", 1), (5, "ote_entered", 1), (5, "ote_exceeded", 1),
                             (5, "leg_invalidated", 1), (5, "impulse_leg", -1)]
    bull = legs[0]
    assert (bull.anchor_index, bull.fields["a"], bull.fields["b"], bull.top, bull.bottom) == (3, 8.0, 14.0, 14.0, 8.0)
    entered = legs[1]
    assert entered.top == pytest.approx(14 - 0.62 * 6) and entered.bottom == pytest.approx(14 - 0.79 * 6)
    assert entered.level == pytest.approx(14 - 0.705 * 6) and entered.fields["parent_id"] == bull.id
    bear = legs[4]
    assert (bear.anchor_index, bear.fields["a"], bear.fields["b"]) == (4, 14.0, 7.5)


def test_log_order_within_the_candle_follows_sections() -> None:
    events = [e for e in run(ROWS, P) if e.confirm_index == 5]
    kinds = [e.kind for e in events]
    order = ["swing_high", "choch", "ob_touched", "ob_mt_violated", "ob_invalidated", "breaker", "order_block",
             "ote_entered", "ote_exceeded", "leg_invalidated", "impulse_leg"]
    assert [k for k in kinds if k in order] == order


def test_wick_mode_double_break_on_outside_candle_is_bos_then_choch() -> None:
    rows = [(10, 11, 9, 10), (10, 13, 10, 12), (12, 12.5, 10.5, 11), (11, 12, 8, 9), (9, 10, 8.5, 9.5),
            (9.5, 14, 7, 9.6)]
    p = IndicatorParams(structure=StructureParams(internal_left=1, internal_right=1, streams=("internal",),
                                                  break_source="wick"))
    breaks = only(run(rows, p), *STRUCTURE)
    assert [(e.kind, e.direction, e.fields["initial"], e.confirm_index) for e in breaks] == [
        ("bos", 1, True, 5), ("choch", -1, False, 5)]


def test_close_mode_needs_a_close_beyond_not_a_wick() -> None:
    rows = [(10, 11, 9, 10), (10, 13, 10, 12), (12, 12.5, 10.5, 11), (11, 12, 8, 9), (9, 13.5, 9, 13.0)]
    assert only(run(rows, P), *STRUCTURE) == []  # high 13.5 > 13 but close 13.0 is not > 13


def test_strict_breaker_needs_a_sweep_before_the_break_and_a_choch() -> None:
    liquidity = LiquidityParams(left=1, right=1)  # swing high 13 (confirmed 2) is taken by candle 4
    strict = OrderBlockParams(breaker_requires_mss=True, mss_window=0)
    p = IndicatorParams(structure=P.structure, order_blocks=strict, liquidity=liquidity)
    blocks = only(run(ROWS, p), *BLOCKS)
    # the bearish CHoCH on the invalidation candle satisfies (b) with m = j
    assert [(e.confirm_index, e.kind) for e in blocks if e.kind in ("ob_invalidated", "breaker")] == [
        (5, "ob_invalidated"), (5, "breaker")]
    unswept = IndicatorParams(structure=P.structure, order_blocks=strict,
                              liquidity=LiquidityParams(left=1, right=1, sources=("day",)))
    assert only(run(ROWS, unswept), "breaker") == []


def test_strict_breaker_waits_for_a_later_choch_within_the_window() -> None:
    rows = [(10, 11, 9.5, 10), (10, 13, 10, 12), (12, 12.5, 10.5, 11), (8.5, 12, 8, 9), (9, 14, 9, 13.5),
            (13.5, 13.6, 9.4, 9.5), (9.5, 9.6, 7.4, 7.5)]
    liquidity = LiquidityParams(left=1, right=1)
    loose = IndicatorParams(structure=P.structure, liquidity=liquidity)
    # OB = down-close candle 2 [10.5, 12.5]; candle 5 closes through it without breaking the low 8
    assert [(e.confirm_index, e.kind) for e in only(run(rows, loose), "ob_invalidated", "breaker", "choch")] == [
        (5, "ob_invalidated"), (5, "breaker"), (6, "choch")]
    for window, expected in ((3, [(5, "ob_invalidated"), (6, "choch"), (6, "breaker")]),
                             (0, [(5, "ob_invalidated"), (6, "choch")])):
        strict = IndicatorParams(structure=P.structure, liquidity=liquidity,
                                 order_blocks=OrderBlockParams(breaker_requires_mss=True, mss_window=window))
        events = only(run(rows, strict), "ob_invalidated", "breaker", "choch")
        assert [(e.confirm_index, e.kind) for e in events] == expected


MSS_ROWS = [(12, 12.5, 11.5, 12.0), (12, 13.0, 11.8, 12.5), (12.5, 12.6, 11.0, 11.2), (11.2, 11.5, 10.0, 10.2),
            (10.2, 11.0, 10.1, 10.8), (10.8, 10.9, 9.5, 9.6), (9.6, 9.8, 9.3, 9.5), (9.6, 13.6, 9.5, 13.5)]


def test_choch_with_displacement_in_the_leg_is_an_mss() -> None:
    # ATR(2) before candle 7 is 0.890625; its body 3.9 >= 1.5 * ATR and 3.9 / 4.1 >= 0.6 -> displacement.
    # The leg origin is the lowest low since the broken high (9.3 at 6), so [6, 7] holds the displacement.
    p = IndicatorParams(atr=AtrParams(length=2), structure=P.structure,
                        liquidity=LiquidityParams(left=1, right=1))
    events = run(MSS_ROWS, p)
    breaks = only(events, *STRUCTURE)
    assert [(e.kind, e.direction, e.confirm_index, e.fields["initial"], e.fields["mss"]) for e in breaks] == [
        ("bos", -1, 5, True, False), ("choch", 1, 7, False, True)]
    assert [(e.confirm_index, e.direction) for e in only(events, "displacement")] == [(7, 1)]
    ob = next(e for e in only(events, "order_block") if e.direction == 1)
    assert ob.fields["displacement"] is True


def test_require_sweep_needs_sell_side_taken_before_the_leg_origin() -> None:
    swept = IndicatorParams(atr=AtrParams(length=2), liquidity=LiquidityParams(left=1, right=1),
                            structure=StructureParams(internal_left=1, internal_right=1, streams=("internal",),
                                                      require_sweep=True))
    # the swing low 10.0 (confirmed 4) is taken at 5, inside [1, 6]
    assert only(run(MSS_ROWS, swept), "choch")[0].fields["mss"] is True
    unswept = IndicatorParams(atr=swept.atr, structure=swept.structure,
                              liquidity=LiquidityParams(left=1, right=1, sources=("day",)))
    assert only(run(MSS_ROWS, unswept), "choch")[0].fields["mss"] is False
