"""Golden sequences for fair value gaps and inverse FVGs (§3)."""

from __future__ import annotations

from ictbot.indicators.params import FvgParams, IndicatorParams
from tests.unit.indicators.helpers import only, run, summary

FVG_KINDS = ("fvg", "fvg_touched", "fvg_ce_touched", "fvg_filled", "fvg_invalidated", "fvg_expired",
             "fvg_evicted", "fvg_extended", "ifvg", "ifvg_touched", "ifvg_invalidated", "ifvg_expired",
             "ifvg_evicted")

# 2: bullish gap [11, 12]; 4: touched + ce + filled + invalidated on one candle -> bearish IFVG;
# 5: IFVG touched, bearish gap [11.2, 12.5]; 6: IFVG invalidated, bearish gap touched/ce/filled
ROWS = [(10, 11, 9, 10.5), (10.5, 14, 10.4, 13.8), (13.8, 15, 12, 14.5), (14.5, 15, 12.5, 14),
        (14, 14.2, 10.8, 10.9), (10.9, 11.2, 10.5, 11.0), (11, 12.5, 10.9, 12.2)]


def test_lifecycle_same_candle_transitions_and_inversion() -> None:
    events = only(run(ROWS), *FVG_KINDS)
    assert summary(events) == [
        (2, "fvg", 1),
        (4, "fvg_touched", 1), (4, "fvg_ce_touched", 1), (4, "fvg_filled", 1), (4, "fvg_invalidated", 1),
        (4, "ifvg", -1),
        (5, "ifvg_touched", -1), (5, "fvg", -1),
        (6, "ifvg_invalidated", -1), (6, "fvg_touched", -1), (6, "fvg_ce_touched", -1), (6, "fvg_filled", -1),
    ]
    gap = events[0]
    assert (gap.anchor_index, gap.top, gap.bottom, gap.fields["ce"]) == (1, 12.0, 11.0, 11.5)
    ifvg = events[5]
    assert ifvg.fields["parent_id"] == gap.id and ifvg.anchor_index == 1 and (ifvg.top, ifvg.bottom) == (12.0, 11.0)
    assert events[6].fields["parent_id"] == ifvg.id
    bear = events[7]
    assert (bear.anchor_index, bear.top, bear.bottom) == (4, 12.5, 11.2)
    assert all(e.top is not None and e.bottom is not None and e.top > e.bottom for e in events)


def test_equal_levels_are_no_gap() -> None:
    rows = [(10, 11, 9, 10.5), (10.5, 14, 10.4, 13.8), (13.8, 15, 11, 14.5)]  # l[2] == h[0]
    assert only(run(rows), "fvg") == []


def test_body_direction_filter() -> None:
    rows = [(10, 11, 9, 10.5), (13.8, 14, 10.4, 10.5), (13.8, 15, 12, 14.5)]  # middle candle closes down
    assert only(run(rows), "fvg") == []
    loose = IndicatorParams(fvg=FvgParams(require_body_direction=False))
    assert len(only(run(rows, loose), "fvg")) == 1


def test_k_atr_filter_needs_defined_atr() -> None:
    assert only(run(ROWS[:3], IndicatorParams(fvg=FvgParams(k_atr=0.1))), "fvg") == []


def test_max_age_expires_the_gap() -> None:
    rows = [*ROWS[:4], (14.5, 15.5, 13, 15)]
    events = only(run(rows, IndicatorParams(fvg=FvgParams(max_age=2))), *FVG_KINDS)
    assert summary(events) == [(2, "fvg", 1), (4, "fvg_expired", 1)]


def test_capacity_evicts_the_oldest_after_the_new_gap() -> None:
    rows = [(10, 11, 9, 10.5), (10.5, 14, 10.4, 13.8), (13.8, 15, 12, 14.5), (14.5, 17, 14.5, 16.8),
            (16.8, 18, 15.5, 17.5)]
    events = only(run(rows, IndicatorParams(fvg=FvgParams(max_active=1))), *FVG_KINDS)
    # gaps [11, 12] at 2, [14, 14.5] at 3, [15, 15.5] at 4: each new gap pushes the older one out
    assert summary(events) == [(2, "fvg", 1), (3, "fvg", 1), (3, "fvg_evicted", 1), (4, "fvg", 1),
                               (4, "fvg_evicted", 1)]
    assert events[2].fields["parent_id"] == events[0].id
    assert events[4].fields["parent_id"] == events[1].id


def test_merge_adjacent_emits_union_zone() -> None:
    rows = [(10, 11, 9, 10.5), (10.5, 14, 10.4, 13.8), (14.2, 15, 14.2, 14.8), (14.8, 17, 14.5, 16.8)]
    events = only(run(rows, IndicatorParams(fvg=FvgParams(merge_adjacent=True))), *FVG_KINDS)
    # gaps [11, 14.2] (confirmed 2) and [14, 14.5] (confirmed 3) overlap on [14, 14.2]
    assert summary(events) == [(2, "fvg", 1), (3, "fvg", 1), (3, "fvg_extended", 1)]
    extended = events[2]
    assert (extended.top, extended.bottom, extended.anchor_index) == (14.5, 11.0, 2)
    assert extended.fields["parent_id"] == events[0].id
    assert only(run(rows), "fvg_extended") == []  # off by default


def test_bearish_gap_mirrors() -> None:
    rows = [(20, 21, 19, 19.5), (19.5, 19.6, 16, 16.2), (16.2, 18, 15, 15.5), (15.5, 18.5, 15.4, 18.4),
            (18.4, 19.5, 18, 19.2)]
    events = only(run(rows), *FVG_KINDS)
    # gap [18, 19] confirmed 2; 3: high 18.5 touches and passes ce (18.5 >= 18.5), no fill;
    # 4: high 19.5 fills, close 19.2 > 19 invalidates -> bullish IFVG
    assert summary(events) == [(2, "fvg", -1), (3, "fvg_touched", -1), (3, "fvg_ce_touched", -1),
                               (4, "fvg_filled", -1), (4, "fvg_invalidated", -1), (4, "ifvg", 1)]
    assert (events[0].top, events[0].bottom) == (19.0, 18.0)
