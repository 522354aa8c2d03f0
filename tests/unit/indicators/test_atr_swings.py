"""Golden sequences for ATR (§0) and swing pivots / alternation (§1)."""

from __future__ import annotations

import math

import numpy as np

from ictbot.indicators.core.atr import atr
from ictbot.indicators.core.swings import pivots
from ictbot.indicators.params import IndicatorParams, StructureParams
from tests.unit.indicators.helpers import T0, hl, only, run

INTERNAL_1 = IndicatorParams(structure=StructureParams(internal_left=1, internal_right=1, streams=("internal",)))
INTERNAL_2 = IndicatorParams(structure=StructureParams(internal_left=2, internal_right=2, streams=("internal",)))


def test_atr_wilder_seed_and_recursion() -> None:
    h = np.array([10.0, 12.0, 11.0, 15.0, 14.0])
    lo = np.array([9.0, 10.0, 8.0, 11.0, 13.0])
    c = np.array([9.5, 11.0, 9.0, 14.0, 13.5])
    out = atr(h, lo, c, n=3)
    # TR: 1, max(2, |12-9.5|, |10-9.5|)=2.5, max(3, 0, 3)=3, max(4, 6, 2)=6, max(1, 0, 1)=1
    assert math.isnan(out[0]) and math.isnan(out[1])
    assert out[2] == (1.0 + 2.5 + 3.0) / 3
    assert out[3] == (out[2] * 2 + 6.0) / 3
    assert out[4] == (out[3] * 2 + 1.0) / 3


def test_pivot_plateau_gives_leftmost_candle_confirmed_r_later() -> None:
    events = run(hl([10, 11, 12, 12, 11, 10, 9], [5, 5, 5, 5, 5, 5, 5]), INTERNAL_2)
    highs = only(events, "swing_high")
    assert [(e.anchor_index, e.confirm_index, e.level) for e in highs] == [(2, 4, 12.0)]
    assert highs[0].fields == {"level": 12.0, "stream": "internal", "accepted": True, "label": None}
    assert highs[0].id == f"5m:swing_high:internal:{T0 + 2 * 300_000}:{T0 + 5 * 300_000}:0"
    assert only(events, "swing_low") == []  # flat lows: strict left comparison never holds


def test_equal_high_on_the_right_does_not_block_but_on_the_left_does() -> None:
    # plateaus 1-2 and 4-5: each yields its leftmost candle only (2 and 5 have an equal left neighbour)
    events = run(hl([1, 3, 3, 1, 2, 2, 1], [0.5] * 7), INTERNAL_1)
    assert [e.anchor_index for e in only(events, "swing_high")] == [1, 4]


def test_outside_candle_is_both_pivot_high_and_low_high_first() -> None:
    events = run(hl([5, 7, 6], [4, 2, 3]), INTERNAL_1)
    swings = only(events, "swing_high", "swing_low")
    assert [(e.kind, e.anchor_index, e.confirm_index, e.fields["accepted"]) for e in swings] == [
        ("swing_high", 1, 2, True), ("swing_low", 1, 2, True)]


def test_outside_candle_processes_the_type_different_from_last_first() -> None:
    # pivot high at 1 (last = high), then outside candle at 3 is high and low: low must come first
    events = run(hl([1, 5, 2, 6, 3], [0.9, 1.0, 1.5, 0.8, 1.2]), INTERNAL_1)
    swings = only(events, "swing_high", "swing_low", "swing_superseded")
    kinds = [(e.kind, e.anchor_index) for e in swings]
    assert kinds == [("swing_high", 1), ("swing_low", 3), ("swing_high", 3)]
    assert all(e.fields["accepted"] for e in swings)


def test_alternation_replaces_higher_high_and_ignores_equal_or_lower() -> None:
    events = run(hl([1, 3, 2, 4, 2, 4, 1], [0.5] * 7), INTERNAL_1)
    swings = only(events, "swing_high", "swing_superseded")
    assert [(e.kind, e.anchor_index, e.confirm_index) for e in swings] == [
        ("swing_high", 1, 2), ("swing_high", 3, 4), ("swing_superseded", 3, 4), ("swing_high", 5, 6)]
    first, second, superseded, third = swings
    assert second.fields["accepted"] is True and second.fields["label"] is None  # replaced pivot does not count
    assert superseded.fields["old_id"] == first.id and superseded.fields["new_id"] == second.id
    assert third.fields["accepted"] is False and third.fields["label"] is None  # tie keeps the earlier pivot


def test_labels_compare_with_previous_accepted_pivot_of_same_type() -> None:
    # highs at 1 (5), 3 (6) with low at 2 between, then low 4 (higher), high 5 (lower) ...
    highs = [3, 5, 2, 6, 3, 5.5, 2, 5.5, 1]
    lows = [2, 3, 1, 4, 2, 4, 1.5, 4, 0.5]
    events = run(hl(highs, lows), INTERNAL_1)
    labels = [(e.kind, e.anchor_index, e.fields["label"]) for e in only(events, "swing_high", "swing_low")
              if e.fields["accepted"]]
    assert labels == [("swing_high", 1, None), ("swing_low", 2, None), ("swing_high", 3, "HH"),
                      ("swing_low", 4, "HL"), ("swing_high", 5, "LH"), ("swing_low", 6, "LL"),
                      ("swing_high", 7, "EH")]


def test_vectorised_pivots_equal_streaming_fold() -> None:
    rng = np.random.default_rng(7)
    h = np.round(100 + rng.normal(0, 1, 500).cumsum(), 0)
    lo = h - np.round(rng.uniform(0, 3, 500), 0)
    ph, pl = pivots(h, lo, 3, 2)
    p = IndicatorParams(structure=StructureParams(internal_left=3, internal_right=2, streams=("internal",)))
    events = run([(lo_, h_, lo_, h_) for h_, lo_ in zip(h, lo, strict=True)], p)
    assert sorted(e.anchor_index for e in only(events, "swing_high")) == np.nonzero(ph)[0].tolist()
    assert sorted(e.anchor_index for e in only(events, "swing_low")) == np.nonzero(pl)[0].tolist()
