"""Backtest runs on a stretch of one symbol's candles, through ``ictbot backtest``'s own code path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ictbot.backtest.data import MarketData
from ictbot.backtest.results import SymbolResult
from ictbot.backtest.run import BacktestSpec, run_backtest
from ictbot.domain.signal import Signal

Progress = Callable[[str, int, int], None]
"""(what is running, runs done, runs in all)."""


def slice_market_data(data: MarketData, start: int, stop: int) -> MarketData:
    """Candles ``start`` ≤ i < ``stop`` of ``data`` (and the detail candles inside them), as if the
    files had held only those."""
    if not 0 <= start < stop <= len(data):
        raise ValueError(f"{data.symbol}: cannot take candles {start}..{stop} of {len(data)}")
    frame = data.frame.slice(start, stop)
    detail = None
    if data.detail is not None:
        first = int(frame.open_time[0])
        end = int(frame.open_time[-1]) + data.timeframe.ms
        detail = data.detail.between(first, end)
    return replace(data, frame=frame, detail=detail, extra={}, quality=None)


@dataclass(frozen=True)
class Run:
    """One backtest of one symbol on candles ``start`` ≤ i < ``stop`` of the loaded data."""

    start: int
    stop: int
    result: SymbolResult

    @property
    def signals(self) -> list[Signal]:
        return [signal for signal, _flat in self.result.signal_log]

    def held_at(self) -> set[int]:
        """Close times of the candles at which the strategy held a position (or a resting entry)."""
        return self.result.held_candle_times


def run_slice(spec: BacktestSpec, data: MarketData, start: int, stop: int) -> Run:
    """The backtest of ``spec`` on candles ``start`` ≤ i < ``stop`` of ``data``."""
    part = data if (start, stop) == (0, len(data)) else slice_market_data(data, start, stop)
    outcome = run_backtest(replace(spec, symbols=(data.symbol,)), loaded=[part])
    return Run(start, stop, outcome.results[0])
