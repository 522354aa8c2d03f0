"""Drives the live strategy objects from replayed candles: builds the ``StrategyContext`` the live
``StrategyService`` would build and calls the same synchronous ``StrategyRunner``.

Snapshots come from a ``SnapshotSource``: the live multi-timeframe indicator engine for ICT
strategies (``backtest.ict.IndicatorSnapshots``), or a bare snapshot for strategies that need no indicators.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ictbot.domain.candle import Candle
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.ict import IndicatorSnapshot, TimeframeView
from ictbot.domain.position import Position
from ictbot.domain.signal import Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.strategies.base import Strategy, StrategyContext
from ictbot.strategies.registry import StrategyRegistry
from ictbot.strategies.runner import StrategyRunner

I64 = npt.NDArray[np.int64]


@runtime_checkable
class VectorisedStrategy(Protocol):
    """Optional fast-path contract: causal precomputation plus supersets of the deciding candles.

    ``candidate_indices``: candles at whose close the strategy may return a signal while it holds
    nothing; ``exit_candidate_indices``: candles where it may speak while it holds a position.
    """

    def prepare(self, frame: CandleFrame) -> None: ...

    def candidate_indices(self) -> I64: ...

    def exit_candidate_indices(self) -> I64: ...


class SnapshotSource(Protocol):
    every_candle: bool
    """True when the source must see every candle in order (a streaming indicator engine)."""

    def at(self, index: int, candle: Candle) -> IndicatorSnapshot: ...


class BareSnapshots:
    """A snapshot with only the base timeframe's close: for strategies that use no ICT indicators."""

    every_candle = False

    def __init__(self, symbol: str, timeframe: Timeframe) -> None:
        self._symbol = symbol
        self._timeframe = timeframe.value

    def at(self, index: int, candle: Candle) -> IndicatorSnapshot:
        close_time = candle.close_time
        view = TimeframeView(timeframe=self._timeframe, last_close_time=close_time, close=float(candle.close))
        return IndicatorSnapshot(self._symbol, close_time, self._timeframe, {self._timeframe: view})


class StrategyDriver:
    def __init__(self, strategies: Sequence[Strategy], frame: CandleFrame, symbol: str, timeframe: Timeframe,
                 snapshots: SnapshotSource, *, per_candle: bool = False) -> None:
        registry = StrategyRegistry(include_builtins=False)
        for strategy in strategies:
            registry.add(strategy)
        self.runner = StrategyRunner(registry)
        self.strategies = tuple(strategies)
        self._frame = frame
        self._symbol = symbol
        self._timeframe = timeframe
        self._snapshots = snapshots
        self.last_snapshot: IndicatorSnapshot | None = None
        self._cols: tuple[list[Any], ...] | None = None
        self.candidates: I64 | None = None
        self.exit_candidates: I64 | None = None
        vectorised = [s for s in strategies if isinstance(s, VectorisedStrategy)]
        if not per_candle:
            for strategy in vectorised:
                strategy.prepare(frame)
        if not per_candle and not snapshots.every_candle and vectorised and len(vectorised) == len(strategies):
            self.candidates = np.unique(np.concatenate([s.candidate_indices() for s in vectorised]))
            self.exit_candidates = np.unique(np.concatenate([s.exit_candidate_indices() for s in vectorised]))
        decided = getattr(snapshots, "decision_candles", None)
        if not per_candle and self.candidates is None and decided is not None:
            # the strategies only speak at these candles, holding a position or not (an opposite
            # signal would close the trade), so they are both the entry and the exit candidates
            found = decided(self.strategies)
            if found is not None:
                self.candidates = self.exit_candidates = found

    def candle(self, index: int) -> Candle:
        if self.candidates is not None:
            # Only the candidate candles are visited (a few thousand of the series): reading numpy
            # scalars for those is cheaper than converting six whole columns to lists.
            frame = self._frame
            t, o, h, lo, c, v = (frame.open_time.item(index), frame.open.item(index), frame.high.item(index),
                                 frame.low.item(index), frame.close.item(index), frame.volume.item(index))
        else:
            if self._cols is None:  # every candle visited: Python lists index far cheaper than numpy scalars
                frame = self._frame
                self._cols = (frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(),
                              frame.low.tolist(), frame.close.tolist(), frame.volume.tolist())
            ts, os_, hs, ls, cs, vs = self._cols
            t, o, h, lo, c, v = ts[index], os_[index], hs[index], ls[index], cs[index], vs[index]
        return Candle(self._symbol, self._timeframe, t, Decimal(repr(o)), Decimal(repr(h)), Decimal(repr(lo)),
                      Decimal(repr(c)), Decimal(repr(v)))

    def signals_at(self, index: int, positions: tuple[Position, ...]) -> list[Signal]:
        candle = self.candle(index)
        # Let go of the previous snapshot first: the indicator engine builds every view a snapshot
        # has not shown yet before it advances while anything still holds that snapshot.
        self.last_snapshot = None
        snapshot = self._snapshots.at(index, candle)
        self.last_snapshot = snapshot
        return self.runner.evaluate(StrategyContext(candle, snapshot, positions))
