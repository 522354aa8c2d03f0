"""Deliberately faulty user strategies for the analysis tests (loaded by path, as a user's file is).

* ``Peeking`` decides on the close three candles ahead: a lookahead bug (``shift(-3)``).
* ``Overreaching`` declares 10 candles of warm-up but follows a 200-candle average of everything it
  has seen: it needs more history than it declares.
* ``Cheater`` does both.
* ``Honest`` is ``Overreaching`` with the warm-up it needs, deciding on nothing but the past.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from decimal import Decimal
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.strategies.base import BaseStrategy, StrategyConfig, StrategyContext

AHEAD = 3
AVERAGE = 200


def _long(strategy: BaseStrategy[StrategyConfig], context: StrategyContext, why: str) -> Signal:
    # Tight levels: trades end within a few candles, so the strategy is often flat and speaks often.
    close = context.candle.close
    return Signal(strategy_id=strategy.id, symbol=context.symbol, direction=Direction.LONG,
                  entry_type=EntryType.MARKET, stop_loss=close * Decimal("0.997"),
                  take_profits=(close * Decimal("1.01"),), time=context.time, reference_price=close,
                  reason=(why,), timeframe=context.candle.timeframe.value)


class Peeking(BaseStrategy[StrategyConfig]):
    """Gets the whole series through the backtest's ``prepare`` hook and reads ahead in it."""

    kind: ClassVar[str] = "peeking"

    def prepare(self, frame: CandleFrame) -> None:
        self._times: list[int] = frame.open_time.tolist()
        self._series: list[float] = frame.close.tolist()

    def candidate_indices(self) -> npt.NDArray[np.int64]:
        return np.arange(len(self._times), dtype=np.int64)

    def exit_candidate_indices(self) -> npt.NDArray[np.int64]:
        return self.candidate_indices()

    def rises_ahead(self, context: StrategyContext) -> bool:
        i = bisect_left(self._times, context.candle.open_time)
        return i + AHEAD < len(self._series) and self._series[i + AHEAD] > self._series[i] * 1.002

    def on_candle(self, context: StrategyContext) -> Signal | None:
        if context.positions or not self.rises_ahead(context):
            return None
        return _long(self, context, "the future rises")


class Overreaching(BaseStrategy[StrategyConfig]):
    """Buys a close crossing above the average of the last 200 closes, from the first candle on."""

    kind: ClassVar[str] = "overreaching"
    declared: ClassVar[int] = 10

    def __init__(self, config: StrategyConfig, strategy_id: str | None = None) -> None:
        super().__init__(config, strategy_id)
        self._closes: deque[float] = deque(maxlen=AVERAGE)
        self._above = False

    @property
    def warmup_candles(self) -> int:
        return self.declared

    def crosses_up(self, context: StrategyContext) -> bool:
        close = float(context.candle.close)
        self._closes.append(close)
        above = close > sum(self._closes) / len(self._closes)
        crossed = above and not self._above
        self._above = above
        return crossed

    def on_candle(self, context: StrategyContext) -> Signal | None:
        crossed = self.crosses_up(context)
        if context.positions or not crossed:
            return None
        return _long(self, context, "close above its average")


class Honest(Overreaching):
    kind: ClassVar[str] = "honest"
    declared: ClassVar[int] = AVERAGE


class Cheater(Overreaching, Peeking):
    """Crosses an undeclared 200-candle average while the next candles rise."""

    kind: ClassVar[str] = "cheater"

    def on_candle(self, context: StrategyContext) -> Signal | None:
        crossed = self.crosses_up(context)
        if context.positions or not (crossed and self.rises_ahead(context)):
            return None
        return _long(self, context, "crossed, and the future rises")
