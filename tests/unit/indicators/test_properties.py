"""Property tests (§12): streaming == batch, prefix invariance, checkpoint/restore on random candles."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ictbot.indicators.core.swings import pivots
from ictbot.indicators.params import (
    AtrParams,
    DisplacementParams,
    FvgParams,
    IndicatorParams,
    LiquidityParams,
    OrderBlockParams,
    StructureParams,
)
from ictbot.indicators.stream import TimeframeEngine
from ictbot.indicators.suite import SERIES, compute
from tests.unit.indicators.helpers import T0

SMALL = IndicatorParams(
    atr=AtrParams(length=3),
    structure=StructureParams(internal_left=1, internal_right=1, swing_left=2, swing_right=2),
    fvg=FvgParams(max_active=3, max_age=6, merge_adjacent=True),
    order_blocks=OrderBlockParams(max_active=2, invalidation_source="wick", breaker_requires_mss=True,
                                  mss_window=3),
    liquidity=LiquidityParams(left=1, right=1, k_atr=0.5, sweep_window=2, k_exc=1.5),
    displacement=DisplacementParams(k_body=0.8, min_body_ratio=0.5, max_leg=3, k_leg=1.2),
)
WICK = IndicatorParams(atr=AtrParams(length=2),
                       structure=StructureParams(internal_left=1, internal_right=2, swing_left=2, swing_right=1,
                                                 break_source="wick", require_sweep=True),
                       fvg=FvgParams(require_body_direction=False, k_atr=0.2, require_displacement=False),
                       liquidity=LiquidityParams(left=2, right=1, k_atr=0.0, k_bps=20.0))
PARAMS = st.sampled_from([SMALL, WICK, IndicatorParams()])


@st.composite
def candles(draw: st.DrawFn, max_size: int = 90) -> tuple[np.ndarray, ...]:
    """Tick-rounded random walk with plateaus, huge wicks and gaps in time (hourly clock)."""
    n = draw(st.integers(min_value=3, max_value=max_size))
    moves = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    wicks = draw(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.booleans()), min_size=n, max_size=n))
    gaps = draw(st.lists(st.sampled_from([1, 1, 1, 1, 2, 7]), min_size=n, max_size=n))
    price = 100
    rows = []
    for move, (up, down, huge) in zip(moves, wicks, strict=True):
        o = price
        c = max(1, price + move)
        h = max(o, c) + up * (5 if huge else 1)
        lo = max(0.5, min(o, c) - down * (5 if huge else 1))
        rows.append((float(o), float(h), float(lo), float(c)))
        price = c
    t = T0 + 3_600_000 * np.cumsum(np.array(gaps, dtype=np.int64))
    data = np.array(rows)
    return t, data[:, 0].copy(), data[:, 1].copy(), data[:, 2].copy(), data[:, 3].copy()


@settings(max_examples=40, deadline=None)
@given(data=candles(), params=PARAMS, cut=st.floats(0, 1))
def test_streaming_with_checkpoints_equals_batch(data: tuple[np.ndarray, ...], params: IndicatorParams,
                                                 cut: float) -> None:
    t, o, h, lo, c = data
    batch = compute(t, o, h, lo, c, "1h", params).events
    engine = TimeframeEngine("1h", params)
    streamed = []
    restart = int(cut * len(t))
    for i in range(len(t)):
        if i == restart:
            engine = TimeframeEngine.restore(engine.checkpoint())
        streamed.extend(engine.step(int(t[i]), float(o[i]), float(h[i]), float(lo[i]), float(c[i])))
    assert [e.key() for e in streamed] == [e.key() for e in batch]
    assert [e.confirm_index for e in batch] == sorted(e.confirm_index for e in batch)  # log order
    assert all(e.top >= e.bottom for e in batch if e.top is not None and e.bottom is not None)


@settings(max_examples=40, deadline=None)
@given(data=candles(), params=PARAMS, cut=st.floats(0, 1))
def test_prefix_invariance(data: tuple[np.ndarray, ...], params: IndicatorParams, cut: float) -> None:
    t, o, h, lo, c = data
    k = max(1, int(cut * len(t)))
    full = compute(t, o, h, lo, c, "1h", params, series=True)
    prefix = compute(t[:k], o[:k], h[:k], lo[:k], c[:k], "1h", params, series=True)
    assert [e.key() for e in prefix.events] == [e.key() for e in full.events if e.confirm_index < k]
    for name in SERIES:
        np.testing.assert_array_equal(prefix.series[name], full.series[name][:k])


@settings(max_examples=25, deadline=None)
@given(data=candles(max_size=60), left=st.integers(1, 4), right=st.integers(1, 4))
def test_vectorised_pivots_match_the_stream(data: tuple[np.ndarray, ...], left: int, right: int) -> None:
    t, o, h, lo, c = data
    params = IndicatorParams(structure=StructureParams(internal_left=left, internal_right=right,
                                                       streams=("internal",)))
    events = compute(t, o, h, lo, c, "1h", params).events
    ph, pl = pivots(h, lo, left, right)
    assert sorted(e.anchor_index for e in events if e.kind == "swing_high") == np.nonzero(ph)[0].tolist()
    assert sorted(e.anchor_index for e in events if e.kind == "swing_low") == np.nonzero(pl)[0].tolist()


def test_checkpoint_is_plain_pickle_of_state() -> None:
    engine = TimeframeEngine("5m", SMALL)
    for k in range(30):
        engine.step(T0 + k * 300_000, 10.0 + k % 3, 12.0 + k % 5, 9.0 - k % 2, 11.0)
    blob = engine.checkpoint()
    clone = TimeframeEngine.restore(blob)
    assert clone.index == engine.index and clone.last_time == engine.last_time
    assert pickle.loads(blob)[0] == 3  # versioned payload (2: LiquidityIndicator.track_taken; 3: packed far levels)
