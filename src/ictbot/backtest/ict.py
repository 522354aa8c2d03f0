"""ICT strategies in a backtest: indicator snapshots for the replayed candles.

Two sources give equal snapshots (tested view by view and by whole backtests):

* ``IndicatorSnapshots``: the live ``MultiTimeframeEngine`` stepped on every candle. Higher timeframes
  are built once with the live candle service's aggregation (``ictbot.candles``) and delivered in the
  live order: an HTF candle closing at instant T reaches the engine just before the base candle
  closing at T (the engine's contract with the candle service), so every snapshot holds exactly the
  HTF candles that had closed by then.
* ``ReplayedSnapshots``: the same snapshots rebuilt from the compiled batch kernels
  (``indicators.replay``) at the candles where the strategy can act only (``decision_candles``);
  used when numba is installed and the run is not ``--per-candle``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ictbot.backtest.data import MarketData, aggregate_frame
from ictbot.domain.candle import Candle
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.strategies.base import CalendarStrategy, Strategy

I64 = npt.NDArray[np.int64]


class IndicatorSnapshots:
    """``SnapshotSource`` over the live engine; catches up on skipped candles so none is missed."""

    every_candle = True

    def __init__(self, engine: MultiTimeframeEngine, data: MarketData, higher: tuple[Timeframe, ...]) -> None:
        self.engine = engine
        self._symbol = data.symbol
        self._base = data.timeframe
        frame = data.frame
        self._cols = (frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(), frame.low.tolist(),
                      frame.close.tolist())
        base_close = frame.open_time + data.timeframe.ms
        # (deliver before base index, timeframe, htf frame index) in live order: by base index, then
        # shorter timeframes first.
        schedule: list[tuple[int, int, Timeframe, int]] = []
        self._htf: dict[Timeframe, CandleFrame] = {}
        for tf in higher:
            htf = aggregate_frame(frame, data.timeframe, tf)
            self._htf[tf] = htf
            deliver = np.searchsorted(base_close, htf.open_time + tf.ms, side="left")
            schedule.extend((int(j), tf.ms, tf, k) for k, j in enumerate(deliver.tolist()))
        schedule.sort(key=lambda item: (item[0], item[1]))
        self._schedule = [(j, tf, k) for j, _, tf, k in schedule]
        self._next_htf = 0
        self._fed = -1
        self._last: IndicatorSnapshot | None = None

    def _feed_htf_until(self, index: int) -> None:
        schedule = self._schedule
        while self._next_htf < len(schedule) and schedule[self._next_htf][0] <= index:
            _, tf, k = schedule[self._next_htf]
            htf = self._htf[tf]
            self.engine.on_values(self._symbol, tf, int(htf.open_time[k]), float(htf.open[k]), float(htf.high[k]),
                                  float(htf.low[k]), float(htf.close[k]))
            self._next_htf += 1

    def at(self, index: int, candle: Candle) -> IndicatorSnapshot:
        t, o, h, lo, c = self._cols
        engine, symbol, base = self.engine, self._symbol, self._base
        while self._fed < index:
            k = self._fed + 1
            # Dropped first: the engine builds a snapshot's views before advancing only while
            # something still holds that snapshot, and a skipped candle's views are never read.
            self._last = None
            self._feed_htf_until(k)
            self._last = engine.on_values(symbol, base, t[k], o[k], h[k], lo[k], c[k])
            self._fed = k
        if self._last is None:
            raise RuntimeError(f"indicator engine returned no snapshot for {symbol} at candle {index}")
        return self._last


def higher_timeframes(strategy: Strategy, base: Timeframe) -> tuple[Timeframe, ...]:
    wanted = {Timeframe.parse(tf) for tf in strategy.required_timeframes}
    return tuple(sorted((tf for tf in wanted if tf.ms > base.ms), key=lambda tf: tf.ms))


class ReplayedSnapshots:
    """``SnapshotSource`` over ``indicators.replay.SnapshotReplay``; offers the strategies' decision candles."""

    every_candle = False

    def __init__(self, data: MarketData, higher: tuple[Timeframe, ...]) -> None:
        from ictbot.indicators.replay.frame import Candles
        from ictbot.indicators.replay.snapshots import SnapshotReplay

        frame = data.frame

        def candles(source: CandleFrame) -> Candles:
            return Candles(source.open_time, source.open, source.high, source.low, source.close)

        self.replay = SnapshotReplay(
            data.symbol, data.timeframe, candles(frame),
            [(tf, candles(aggregate_frame(frame, data.timeframe, tf))) for tf in higher])

    def at(self, index: int, candle: Candle) -> IndicatorSnapshot:
        return self.replay.snapshot(index)

    def decision_candles(self, strategies: tuple[Strategy, ...]) -> I64 | None:
        """Union of the strategies' decision candles; None when one of them cannot say."""
        found = []
        for strategy in strategies:
            if not isinstance(strategy, CalendarStrategy):
                return None
            found.append(strategy.decision_candles(self.replay))
        return np.unique(np.concatenate(found)) if found else None


def indicator_source(strategy: Strategy, data: MarketData, *, per_candle: bool = False) -> \
        IndicatorSnapshots | ReplayedSnapshots:
    """Replayed snapshots when the kernels are installed and the strategy names its decision candles;
    the streaming engine on every candle otherwise (or when asked: ``per_candle``)."""
    higher = higher_timeframes(strategy, data.timeframe)
    if uses_replay(strategy, per_candle=per_candle):
        return ReplayedSnapshots(data, higher)
    return IndicatorSnapshots(MultiTimeframeEngine(data.timeframe, higher), data, higher)


def uses_replay(strategy: Strategy, *, per_candle: bool = False) -> bool:
    """Whether ``indicator_source`` replays the kernels for this strategy (numba installed, the strategy
    names its decision candles, not ``--per-candle``)."""
    from ictbot.indicators import kernels

    return not per_candle and isinstance(strategy, CalendarStrategy) and kernels.available()
