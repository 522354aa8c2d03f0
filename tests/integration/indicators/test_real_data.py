"""No look-ahead and warm-start checks on real Binance candles (§11, §12.3, §12.4)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ictbot.domain.candle_frame import CandleFrame
from ictbot.indicators.events import Event
from ictbot.indicators.params import FvgParams, IndicatorParams
from ictbot.indicators.stream import TimeframeEngine
from ictbot.indicators.suite import SERIES, SuiteResult, compute


def run(frame: CandleFrame, tf: str = "5m", params: IndicatorParams | None = None, series: bool = False) -> SuiteResult:
    return compute(frame.open_time, frame.open, frame.high, frame.low, frame.close, tf, params, series=series)


@pytest.mark.parametrize("source", ["btc_5m_raw", "btc_5m_feather"])
def test_prefix_invariance_at_random_cuts(source: str, request: pytest.FixtureRequest) -> None:
    frame: CandleFrame = request.getfixturevalue(source).slice(0, 2500)
    full = run(frame, series=True)
    kinds = {e.kind for e in full.events}
    assert {
        "bos",
        "choch",
        "fvg",
        "order_block",
        "liquidity_pool",
        "sweep",
        "session_closed",
        "previous_day",
        "impulse_leg",
        "displacement",
    } <= kinds  # the slice exercises every section
    rng = random.Random(12)
    for k in sorted(rng.sample(range(50, len(frame)), 3)):
        prefix = run(frame.slice(0, k), series=True)
        assert [e.key() for e in prefix.events] == [e.key() for e in full.events if e.confirm_index < k]
        for name in SERIES:
            np.testing.assert_array_equal(prefix.series[name], full.series[name][:k])


def test_checkpoint_restore_on_real_data(btc_5m_raw: CandleFrame) -> None:
    frame = btc_5m_raw.slice(0, 1500)
    expected = run(frame).events
    engine = TimeframeEngine("5m")
    got: list[Event] = []
    rows = zip(
        frame.open_time.tolist(),
        frame.open.tolist(),
        frame.high.tolist(),
        frame.low.tolist(),
        frame.close.tolist(),
        strict=True,
    )
    for i, row in enumerate(rows):
        if i in (1, 333, 777, 1200):
            engine = TimeframeEngine.restore(engine.checkpoint())
        got.extend(engine.step(*row))
    assert [e.key() for e in got] == [e.key() for e in expected]


def test_warm_started_stream_converges(btc_5m_raw: CandleFrame) -> None:
    """A stream started at w reproduces, after warm-up, every event not tied to pre-w zones or levels."""
    frame = btc_5m_raw.slice(0, 3000)
    w = 1000
    params = IndicatorParams(fvg=FvgParams(max_age=200))
    full = run(frame, params=params, series=True)
    warm = run(frame.slice(w, len(frame)), params=params, series=True)
    settle = w + 600
    local = ("swing_high", "swing_low", "fvg", "displacement", "displacement_leg", "session_closed", "previous_day")
    ours = [e.key() for e in full.events if e.confirm_index >= settle and e.kind in local]
    theirs = [e.shifted(w).key() for e in warm.events if e.confirm_index + w >= settle and e.kind in local]
    assert ours == theirs and ours
    np.testing.assert_allclose(warm.series["atr"][settle - w :], full.series["atr"][settle:], rtol=1e-9)
