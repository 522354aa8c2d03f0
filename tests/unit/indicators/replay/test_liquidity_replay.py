"""Replayed ``TimeframeView.liquidity`` == the streaming engine's, on every candle of every timeframe.

Oracle: ``MultiTimeframeEngine`` fed as a backtest feeds it (``IndicatorSnapshots``) over the first month
of the shared 5m candles, views of M5, M15, H1 and H4 read on every base candle; default parameters
with the default limit, then other liquidity parameters with every level (no limit) and with one per side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from ictbot.adapters.files import read_candle_file
from ictbot.backtest.data import MarketData, aggregate_frame
from ictbot.backtest.ict import IndicatorSnapshots
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.kernels import compute_columns
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.indicators.params import IndicatorParams, LiquidityParams
from tests.conftest import DATA, require_shared

pytest.importorskip("numba")  # the replay modules below are compiled with numba

from ictbot.indicators.replay.liquidity import LiquidityReplay
from ictbot.indicators.replay.rows import EventRows

HIGHER = (Timeframe.M15, Timeframe.H1, Timeframe.H4)
OTHER = IndicatorParams(liquidity=LiquidityParams(left=2, right=1, k_atr=0.3, k_bps=2.0, sweep_window=2,
                                                  sources=("swing", "pool", "day", "week", "london", "ny_am_kz")))


@pytest.fixture(scope="module")
def month() -> MarketData:
    first = sorted(require_shared(DATA / "binance_spot_raw_5m").glob("BTCUSDT-5m-*.csv"))[0]
    return MarketData("BTCUSDT", Timeframe.M5, read_candle_file(first))


@dataclass
class Seen:
    """What the compared views contained (so the test knows the interesting cases occurred)."""

    views: int = 0
    levels: int = 0
    longest: int = 0
    sources: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)


def _replays(data: MarketData, params: IndicatorParams,
             limit: int | None) -> dict[str, tuple[LiquidityReplay, np.ndarray | None]]:
    frame = data.frame
    base_close = frame.open_time + Timeframe.M5.ms
    out = {}
    for tf in (Timeframe.M5, *HIGHER):
        series = frame if tf is Timeframe.M5 else aggregate_frame(frame, Timeframe.M5, tf)
        cols = compute_columns(series.open_time, series.open, series.high, series.low, series.close, tf, params)
        delivery = None if tf is Timeframe.M5 else np.searchsorted(base_close, series.open_time + tf.ms, side="left")
        out[tf.value] = (LiquidityReplay(cols, EventRows(cols), limit), delivery)
    return out


def _compare_every_candle(data: MarketData, params: IndicatorParams, limits: tuple[int | None, ...]) -> list[Seen]:
    """One streaming engine and one replay per limit, compared on every base candle and timeframe."""
    runs = []
    for limit in limits:
        engine = MultiTimeframeEngine(Timeframe.M5, HIGHER, params, liquidity_limit=limit)
        runs.append((IndicatorSnapshots(engine, data, HIGHER), _replays(data, params, limit), Seen()))
    for j in range(len(data)):
        for streaming, replays, seen in runs:
            views = streaming.at(j, None).views  # type: ignore[arg-type]
            for name, (replay, delivery) in replays.items():
                k = j if delivery is None else int(np.searchsorted(delivery, j, side="right")) - 1
                view = views.get(name)
                if view is None:
                    assert k < 0, (j, name)
                    continue
                got = replay.at(k)
                assert got == view.liquidity, (j, name, k)
                seen.views += 1
                seen.levels += len(got)
                seen.longest = max(seen.longest, len(got))
                for level in got:
                    seen.sources.add(level.source)
                    seen.ids.add(level.id)
    return [seen for _, _, seen in runs]


def test_default_levels_equal_the_streaming_view_on_every_candle(month: MarketData) -> None:
    (seen,) = _compare_every_candle(month, IndicatorParams(), (25,))
    assert seen.views > 4 * len(month) - 200
    assert seen.longest == 50  # both sides cut at the limit somewhere
    assert {"swing", "pool", "day", "week", "asia_kz", "london", "new_york"} <= seen.sources
    assert len(seen.ids) > 20 * seen.longest  # levels come and go (taken, or pushed out by nearer ones)


def test_other_parameters_with_every_level_and_with_one_per_side(month: MarketData) -> None:
    every, one = _compare_every_candle(month, OTHER, (None, 1))
    assert every.longest > 100  # far more untaken levels than any limit shows
    assert {"swing", "pool", "day", "week", "london", "ny_am_kz"} == every.sources
    assert len(every.ids) > 5 * every.longest
    assert one.longest == 2 and one.views == every.views


def test_no_levels_and_bad_limit() -> None:
    t = np.arange(4, dtype=np.int64) * Timeframe.M5.ms
    prices = np.array([1.0, 2.0, 1.5, 1.2])
    cols = compute_columns(t, prices, prices + 0.5, prices - 0.5, prices, Timeframe.M5)
    replay = LiquidityReplay(cols, EventRows(cols))
    assert [replay.at(k) for k in range(4)] == [()] * 4
    with pytest.raises(ValueError):
        LiquidityReplay(cols, EventRows(cols), -1)
