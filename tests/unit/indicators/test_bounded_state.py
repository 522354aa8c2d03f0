"""Indicator state that used to grow with every candle stays bounded, and no event changes for it.

``equal_levels.SideSearch.records`` (the liquidity indicator's equal-level search) kept one record per
pivot for ever; it now drops records a newer pivot dominates (the proof is in
``equal_levels.prune_dominated``). Here the same candles are folded with and without the pruning (the
old behaviour: ``prune_dominated`` a no-op) and the event logs compared, under the default tolerance
and a wide one (old records matchable for longer), and the sizes are checked.
"""

from __future__ import annotations

import numpy as np
import pytest

from ictbot.indicators.ict import equal_levels
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.stream import TimeframeEngine
from tests.unit.indicators.test_kernels import _walk

WIDE = IndicatorParams().with_overrides(["liquidity.k_atr=2.0", "liquidity.k_bps=20"])


def fold(params: IndicatorParams, candles: tuple[np.ndarray, ...]) -> tuple[list[tuple[object, ...]], int, int]:
    """(event keys, most search records held at once, pivots recorded)."""
    engine = TimeframeEngine("5m", params)
    keys: list[tuple[object, ...]] = []
    most = pivots = 0
    search = engine.liquidity
    for t, o, h, lo, c in zip(*(column.tolist() for column in candles), strict=True):
        before = search.highs.records[-1:] + search.lows.records[-1:]
        keys.extend(event.key() for event in engine.step(t, o, h, lo, c))
        after = search.highs.records[-1:] + search.lows.records[-1:]
        pivots += len({id(r) for r in after} - {id(r) for r in before})
        most = max(most, len(search.highs.records) + len(search.lows.records))
    return keys, most, pivots


@pytest.mark.parametrize("params", [IndicatorParams(), WIDE], ids=["default", "wide-tolerance"])
def test_pruned_records_give_the_same_events_and_stay_few(params: IndicatorParams,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    candles = _walk(np.random.default_rng(5), 6000)
    pruned, most, pivots = fold(params, candles)
    monkeypatch.setattr(equal_levels, "prune_dominated", lambda search: None)
    unpruned, most_unpruned, _ = fold(params, candles)
    assert pruned == unpruned
    assert sum(1 for key in pruned if key[1] in ("liquidity_pool", "liquidity_pool_extended")) > 50
    assert pivots > 1000 and most_unpruned >= pivots - 2  # before: one record per pivot, for ever
    assert most <= 80


def test_taken_indexes_are_kept_only_for_their_readers() -> None:
    candles = _walk(np.random.default_rng(6), 1500)
    plain = TimeframeEngine("5m")
    strict = TimeframeEngine("5m", IndicatorParams().with_overrides(["structure.require_sweep=true"]))
    for engine in (plain, strict):
        for t, o, h, lo, c in zip(*(column.tolist() for column in candles), strict=True):
            engine.step(t, o, h, lo, c)
    assert plain.liquidity.taken == {1: [], -1: []}
    assert len(strict.liquidity.taken[1]) > 20 and len(strict.liquidity.taken[-1]) > 20
