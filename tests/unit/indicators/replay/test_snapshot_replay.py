"""Whole replayed snapshots == the streaming engine's, and backtests through either give the same run.

Oracle: ``MultiTimeframeEngine`` fed as a backtest feeds it (``backtest.ict.IndicatorSnapshots``).
"""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("numba")  # the replay runs the compiled kernels

from ictbot.adapters.files import read_candle_file
from ictbot.backtest.data import MarketData, load_market_data
from ictbot.backtest.ict import IndicatorSnapshots, ReplayedSnapshots, indicator_source
from ictbot.backtest.run import BacktestSpec, build_strategy, run_backtest
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.mtf import MultiTimeframeEngine
from tests.conftest import DATA, require_shared

HIGHER = (Timeframe.M15, Timeframe.H1, Timeframe.H4)
MONTHS = ("BTCUSDT-5m-2024-03.csv", "BTCUSDT-5m-2024-04.csv")


def _month(name: str) -> MarketData:
    frame = read_candle_file(require_shared(DATA / "binance_spot_raw_5m" / name))
    return MarketData("BTCUSDT", Timeframe.M5, frame)


@pytest.fixture(scope="module")
def march() -> MarketData:
    return _month(MONTHS[0])


def _with_gaps(data: MarketData, stop: int) -> MarketData:
    """The first ``stop`` candles with holes: 137 candles (half a day, across HTF buckets), one, three."""
    keep = np.ones(stop, dtype=np.bool_)
    keep[2000:2137] = False
    keep[3001] = False
    keep[4500:4503] = False
    rows = np.flatnonzero(keep)
    f = data.frame
    frame = CandleFrame(f.open_time[rows], f.open[rows], f.high[rows], f.low[rows], f.close[rows], f.volume[rows])
    return MarketData(data.symbol, data.timeframe, frame)


@pytest.mark.parametrize("gaps", [False, True], ids=["month", "with-gaps"])
def test_replayed_snapshots_equal_streaming_ones_on_every_candle(march: MarketData, gaps: bool) -> None:
    if gaps:
        march = _with_gaps(march, 5200)
    streaming = IndicatorSnapshots(MultiTimeframeEngine(Timeframe.M5, HIGHER), march, HIGHER)
    replayed = ReplayedSnapshots(march, HIGHER)
    zones = levels = 0
    for j in range(len(march)):
        want = streaming.at(j, None)  # type: ignore[arg-type]
        got = replayed.at(j, None)  # type: ignore[arg-type]
        assert (got.symbol, got.time, got.base_timeframe, got.active_windows) == \
            (want.symbol, want.time, want.base_timeframe, want.active_windows), j
        assert list(got.views) == list(want.views), j
        for name in want.views:
            assert got.views[name] == want.views[name], (j, name)
            view = want.views[name]
            zones += len(view.fvgs) + len(view.order_blocks) + len(view.ifvgs) + len(view.breakers)
            levels += len(view.liquidity)
    assert zones > 10 * len(march) and levels > 10 * len(march)  # the views were not trivially empty
    assert pickle.loads(pickle.dumps(got)) == got  # lazily built views pickle as plain dicts


def test_replayed_views_are_built_only_when_read(march: MarketData) -> None:
    replayed = ReplayedSnapshots(march, HIGHER)
    snapshot = replayed.at(5000, None)  # type: ignore[arg-type]
    assert set(snapshot.views) == {"5m", "15m", "1h", "4h"}
    assert replayed.replay.timeframes["4h"]._view is None
    assert snapshot.views["4h"].timeframe == "4h"
    assert replayed.replay.timeframes["4h"]._view is not None


@pytest.mark.parametrize("strategy", ["strategy_a", "strategy_b"])
def test_backtest_on_replayed_snapshots_equals_the_per_candle_streaming_run(strategy: str) -> None:
    merged = load_market_data([require_shared(DATA / "binance_spot_raw_5m" / name) for name in MONTHS], "BTCUSDT",
                              Timeframe.M5)
    spec = BacktestSpec((), ("BTCUSDT",), Timeframe.M5, strategy)
    assert isinstance(indicator_source(build_strategy(spec), merged), ReplayedSnapshots)
    fast = run_backtest(spec, loaded=[merged])
    slow = run_backtest(replace(spec, per_candle=True), loaded=[merged])
    assert fast.results[0].signals == slow.results[0].signals > 0
    assert [(t.entry_time, t.exit_time, t.entry_price, t.exit_price, t.exit_reason) for t in fast.trades] == \
        [(t.entry_time, t.exit_time, t.entry_price, t.exit_price, t.exit_reason) for t in slow.trades]
    assert fast.fingerprint == slow.fingerprint
    assert fast.results[0].rejections == slow.results[0].rejections
    assert fast.results[0].zones == slow.results[0].zones  # the report's ICT zones


@pytest.mark.parametrize(("strategy", "params"), [
    ("strategy_a", {"bias_source": "swing_trend", "killzones": [], "bias_timeframes": ["15m"],
                    "sweep_timeframes": ["5m", "1h"], "max_sweep_age_minutes": 600}),
    ("strategy_a", {"max_fvg_age_minutes": 30, "max_sweep_age_minutes": 300, "killzones": []}),
    ("strategy_b", {"structure_timeframe": "5m", "require_mss": False, "trend_timeframes": ["1h"],
                    "killzones": ["london_kz", "ny_am_kz", "ny_pm_kz"]}),
], ids=["strategy_a-other-params", "strategy_a-short-ages", "strategy_b-other-params"])
def test_decision_candles_stay_a_superset_under_other_parameters(
        march: MarketData, strategy: str, params: dict[str, object]) -> None:
    spec = BacktestSpec((), ("BTCUSDT",), Timeframe.M5, strategy, params=params)
    fast = run_backtest(spec, loaded=[march])
    slow = run_backtest(replace(spec, per_candle=True), loaded=[march])
    assert fast.results[0].signals == slow.results[0].signals > 0
    assert fast.fingerprint == slow.fingerprint
    assert fast.results[0].rejections == slow.results[0].rejections
