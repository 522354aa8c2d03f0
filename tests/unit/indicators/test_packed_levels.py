"""Far liquidity levels packed into numpy rows (``ict/liquidity_levels.py``): no event or view changes.

Alive levels are uncapped by the spec (§5: alive until taken), so on a trending market the far side
collects levels that are never taken. The indicator keeps the nearest ones per side as objects and
packs the rest; here the same candles are folded with packing as tight as it goes (``near`` = 1 and
2, packing and reviving all the time) and without it (``near`` = None: every level an object, the
old behaviour), and the event logs, the alive levels and the snapshot views are compared.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim.market import synthetic
from ictbot.indicators.ict.liquidity_levels import Level
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.stream import TimeframeEngine
from tests.unit.indicators.test_kernels import _walk

M5 = Timeframe.M5
# every liquidity source on, pools matched more often (wider tolerance)
ALL_SOURCES = IndicatorParams().with_overrides(["liquidity.k_atr=1.0", "liquidity.sweep_window=3"])


def market(candles: int, symbol: str = "BTCUSDT") -> tuple[np.ndarray, ...]:
    """The soak's synthetic market (regime-switching drift: trends leave untaken levels behind)."""
    series = synthetic.generate(symbol, 1_700_006_400_000, candles, M5, 7)
    return series.open_time, series.open, series.high, series.low, series.close


def fields(level: Level) -> tuple[object, ...]:
    return (level.side, level.level, level.source, level.anchor_index, level.anchor_time, level.confirm_index,
            level.confirm_time, level.parent_id, level.key, level.order)


def fold(candles: tuple[np.ndarray, ...], near: int | None, params: IndicatorParams | None = None,
         ) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], int, int]:
    """(event keys, alive levels at the end, most level objects held on one side, packed rows at the end)."""
    engine = TimeframeEngine("5m", params)
    engine.liquidity.set_near_levels(near)
    keys: list[tuple[object, ...]] = []
    most = 0
    for t, o, h, lo, c in zip(*(column.tolist() for column in candles), strict=True):
        keys.extend(event.key() for event in engine.step(t, o, h, lo, c))
        most = max(most, *engine.liquidity.hot_count.values())
    liquidity = engine.liquidity
    packed = len(liquidity.cold[1]) + len(liquidity.cold[-1])
    return keys, [fields(level) for level in liquidity.alive_levels()], most, packed


@pytest.mark.parametrize("near", [1, 2, 32])
@pytest.mark.parametrize("source", ["soak-market", "walk"])
def test_packing_far_levels_changes_no_event(near: int, source: str) -> None:
    candles = market(12_000) if source == "soak-market" else _walk(np.random.default_rng(11), 12_000)
    for params in (None, ALL_SOURCES):
        plain_keys, plain_alive, plain_most, plain_packed = fold(candles, None, params)
        keys, alive, most, packed = fold(candles, near, params)
        assert keys == plain_keys
        assert alive == plain_alive  # same levels, same fields, same order
        assert sum(1 for key in keys if key[1] == "liquidity_taken") > 300
        assert plain_packed == 0
        if near < 32 or source == "soak-market":
            assert packed > 0 and len(plain_alive) > 3 * near + 20  # the far side did get packed
            assert most < plain_most


def test_objects_per_side_stay_bounded_while_alive_levels_grow() -> None:
    # a steady uptrend: sell-side levels below are never taken
    t, o, h, lo, c = _walk(np.random.default_rng(3), 8_000)
    drift = np.arange(len(t)) * 0.5
    trend = (t, o + drift, h + drift, lo + drift, c + drift)
    _, alive, most, packed = fold(trend, 4)
    assert len(alive) > 400 and packed > 300
    assert most <= 3 * 4 + 1  # objects per side: at most 3 x near, then packed down to 2 x near


@pytest.mark.parametrize("limit", [3, 25])
def test_snapshot_views_unchanged_by_packing(limit: int) -> None:
    candles = market(9_000, "ETHUSDT")
    engines = [MultiTimeframeEngine(M5, [Timeframe.H1], resample_higher=True, liquidity_limit=limit)
               for _ in range(2)]
    for frame_engine in (engines[0].engine("ETHUSDT", M5), engines[0].engine("ETHUSDT", Timeframe.H1)):
        frame_engine.liquidity.set_near_levels(None)  # reference: nothing packed
    for frame_engine in (engines[1].engine("ETHUSDT", M5), engines[1].engine("ETHUSDT", Timeframe.H1)):
        frame_engine.liquidity.set_near_levels(limit)  # as tight as the view allows
    compared = 0
    for t, o, h, lo, c in zip(*(column.tolist() for column in candles), strict=True):
        snaps = [engine.on_values("ETHUSDT", M5, t, o, h, lo, c) for engine in engines]
        if snaps[0] is None:
            assert snaps[1] is None
            continue
        assert snaps[1] is not None
        for tf in ("5m", "1h"):
            reference, packed_view = snaps[0].view(tf), snaps[1].view(tf)
            assert (reference is None) == (packed_view is None)
            if reference is not None and packed_view is not None:
                assert reference.liquidity == packed_view.liquidity
                compared += 1
    packed = engines[1].engine("ETHUSDT", M5).liquidity.cold
    assert compared > 10_000 and len(packed[1]) + len(packed[-1]) > 0


def test_checkpoint_with_packed_levels_resumes_the_same() -> None:
    candles = market(8_000)
    cut = 5_000
    head = tuple(column[:cut] for column in candles)
    tail = tuple(column[cut:] for column in candles)
    engine = TimeframeEngine("5m")
    engine.liquidity.set_near_levels(1)
    for t, o, h, lo, c in zip(*(column.tolist() for column in head), strict=True):
        engine.step(t, o, h, lo, c)
    assert len(engine.liquidity.cold[1]) + len(engine.liquidity.cold[-1]) > 0
    restored = TimeframeEngine.restore(engine.checkpoint())
    for t, o, h, lo, c in zip(*(column.tolist() for column in tail), strict=True):
        assert [e.key() for e in restored.step(t, o, h, lo, c)] == [e.key() for e in engine.step(t, o, h, lo, c)]
    with pytest.raises(ValueError, match="unsupported indicator checkpoint"):
        TimeframeEngine.restore(pickle.dumps((2, engine)))


def test_near_levels_setting() -> None:
    candles = market(6_000)
    engine = TimeframeEngine("5m")
    engine.liquidity.set_near_levels(1)
    for t, o, h, lo, c in zip(*(column.tolist() for column in candles), strict=True):
        engine.step(t, o, h, lo, c)
    liquidity = engine.liquidity
    before = [fields(level) for level in liquidity.alive_levels()]
    packed = len(liquidity.cold[1]) + len(liquidity.cold[-1])
    assert packed > 0
    liquidity.set_near_levels(8)  # more objects in front of the packed rows at once
    assert len(liquidity.cold[1]) + len(liquidity.cold[-1]) < packed
    liquidity.set_near_levels(None)  # everything revived
    assert len(liquidity.cold[1]) + len(liquidity.cold[-1]) == 0
    assert [fields(level) for level in liquidity.alive_levels()] == before
    with pytest.raises(ValueError, match="near_levels"):
        liquidity.set_near_levels(0)
