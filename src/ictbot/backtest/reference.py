"""Reference strategies S1 and S2: regular strategies used to compare engines and measure speed.

Both are ``BaseStrategy`` subclasses, registered like any user strategy and driven through the same
``StrategyRunner`` → risk → execution → position path as the ICT strategies. They additionally
implement ``VectorisedStrategy``: ``prepare`` computes their indicators causally over the whole
series (value ``i`` uses candles ``0 … i`` only) and ``candidate_indices`` lists the candles at
whose close they *could* speak, so the engine may skip the others. ``on_candle`` makes the actual
decision in both modes; without ``prepare`` it keeps streaming state and must then see every
candle (tests check both modes produce the same trades).

* **S1** — EMA(fast=20) / EMA(slow=50) crossover, long only: enter when the fast EMA crosses above
  the slow one, exit when it crosses below (``crossover`` as in backtesting.py: strict on both
  candles). The ``Signal`` contract needs a stop and a target, so S1 attaches catastrophe levels
  (−50 % / +100 %) that never trigger on 5m trades; its exits are the crossings.
* **S2** — bullish fair value gap: at the close of candle ``i`` with ``low[i] > high[i-2]`` and
  ``close[i] > EMA(200)[i]``, buy at the next open, stop at ``low[i-2]``, target
  ``close[i] + 2 · (close[i] − low[i-2])`` (2R measured from the deciding close, the price known
  when the order is placed).

EMA: ``alpha = 2 / (n + 1)``, seeded with the first close, undefined (no signals) before ``n − 1``.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from decimal import Decimal
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field

from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.strategies.base import BaseStrategy, StrategyConfig, StrategyContext

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

EXIT_METADATA = ("action", "exit")
"""A signal carrying this metadata pair asks to close the strategy's open position at the next open."""


def ema(values: F64, period: int) -> F64:
    """EMA with ``alpha = 2/(period+1)`` seeded at ``values[0]``; NaN before ``period - 1``."""
    out = np.empty_like(values)
    if values.size == 0:
        return out
    alpha = 2.0 / (period + 1.0)
    keep = 1.0 - alpha
    series = values.tolist()
    level = series[0]
    result = [level]
    append = result.append
    for value in series[1:]:
        level = alpha * value + keep * level
        append(level)
    out[:] = result
    out[: max(0, period - 1)] = np.nan
    return out


class _StreamingEma:
    """The same recurrence as ``ema`` fed one close at a time (the live form)."""

    __slots__ = ("_alpha", "_count", "_level", "_period")

    def __init__(self, period: int) -> None:
        self._period = period
        self._alpha = 2.0 / (period + 1.0)
        self._count = 0
        self._level = math.nan

    def update(self, value: float) -> float:
        self._level = value if self._count == 0 else self._alpha * value + (1.0 - self._alpha) * self._level
        self._count += 1
        return self._level if self._count >= self._period else math.nan


class EmaCrossConfig(StrategyConfig):
    fast: int = Field(default=20, ge=1, description="Fast EMA period.")
    slow: int = Field(default=50, ge=2, description="Slow EMA period.")


class FvgConfig(StrategyConfig):
    trend_ema: int = Field(default=200, ge=1, description="Only take gaps closing above this EMA.")
    reward_risk: float = Field(default=2.0, gt=0, description="Target distance in multiples of the risk.")


def _price(value: float) -> Decimal:
    return Decimal(repr(float(value)))


class _Prepared:
    """Index lookup from candle open time to the prepared arrays."""

    def __init__(self, frame: CandleFrame) -> None:
        self._times: list[int] = frame.open_time.tolist()

    def index(self, open_time: int) -> int:
        i = bisect_left(self._times, open_time)
        if i >= len(self._times) or self._times[i] != open_time:
            raise KeyError(f"candle {open_time} is not in the prepared series")
        return i


class S1EmaCross(BaseStrategy[EmaCrossConfig]):
    kind: ClassVar[str] = "s1_ema_cross"
    config_model: ClassVar[type[StrategyConfig]] = EmaCrossConfig

    def __init__(self, config: EmaCrossConfig, strategy_id: str | None = None) -> None:
        super().__init__(config, strategy_id)
        self._prepared: _Prepared | None = None
        self._fast_arr: F64 = np.empty(0)
        self._slow_arr: F64 = np.empty(0)
        self._fast = _StreamingEma(config.fast)
        self._slow = _StreamingEma(config.slow)
        self._previous = (math.nan, math.nan)

    @property
    def warmup_candles(self) -> int:
        # An EMA never forgets its seed, but after 10 periods its weight is below 1e-8 of a close.
        return 10 * self.config.slow

    def prepare(self, frame: CandleFrame) -> None:
        self._fast_arr = ema(frame.close, self.config.fast)
        self._slow_arr = ema(frame.close, self.config.slow)
        self._prepared = _Prepared(frame)

    def candidate_indices(self) -> I64:
        fast, slow = self._fast_arr, self._slow_arr
        up = (fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])
        return (np.flatnonzero(up) + 1).astype(np.int64)

    def exit_candidate_indices(self) -> I64:
        fast, slow = self._fast_arr, self._slow_arr
        down = (fast[:-1] > slow[:-1]) & (fast[1:] < slow[1:])
        return (np.flatnonzero(down) + 1).astype(np.int64)

    def _emas(self, context: StrategyContext) -> tuple[float, float, float, float]:
        if self._prepared is not None:
            i = self._prepared.index(context.candle.open_time)
            if i == 0:
                return (math.nan,) * 4
            return (float(self._fast_arr[i - 1]), float(self._slow_arr[i - 1]),
                    float(self._fast_arr[i]), float(self._slow_arr[i]))
        close = float(context.candle.close)
        previous = self._previous
        current = (self._fast.update(close), self._slow.update(close))
        self._previous = current
        return previous[0], previous[1], current[0], current[1]

    def on_candle(self, context: StrategyContext) -> Signal | None:
        fast_prev, slow_prev, fast, slow = self._emas(context)
        candle = context.candle
        close = candle.close
        holding = any(p.is_open and p.qty > 0 for p in context.positions)
        if not holding and fast_prev < slow_prev and fast > slow:
            return Signal(
                strategy_id=self.id, symbol=candle.symbol, direction=Direction.LONG, entry_type=EntryType.MARKET,
                stop_loss=close / 2, take_profits=(close * 2,), time=candle.close_time, reference_price=close,
                reason=("ema_cross_up",), timeframe=candle.timeframe.value,
            )
        if holding and fast_prev > slow_prev and fast < slow:
            return Signal(
                strategy_id=self.id, symbol=candle.symbol, direction=Direction.SHORT, entry_type=EntryType.MARKET,
                stop_loss=close * 2, take_profits=(close / 2,), time=candle.close_time, reference_price=close,
                reason=("ema_cross_down",), timeframe=candle.timeframe.value, metadata=(EXIT_METADATA,),
            )
        return None


class S2BullishFvg(BaseStrategy[FvgConfig]):
    kind: ClassVar[str] = "s2_fvg"
    config_model: ClassVar[type[StrategyConfig]] = FvgConfig

    def __init__(self, config: FvgConfig, strategy_id: str | None = None) -> None:
        super().__init__(config, strategy_id)
        self._prepared: _Prepared | None = None
        self._frame: CandleFrame | None = None
        self._trend_arr: F64 = np.empty(0)
        self._trend = _StreamingEma(config.trend_ema)
        self._window: list[tuple[float, float]] = []  # (high, low) of the last two candles
        self._reward_risk = Decimal(repr(config.reward_risk))

    @property
    def warmup_candles(self) -> int:
        return 10 * self.config.trend_ema  # the EMA's seed weighs < 1e-8 after 10 periods

    def prepare(self, frame: CandleFrame) -> None:
        self._frame = frame
        self._trend_arr = ema(frame.close, self.config.trend_ema)
        self._prepared = _Prepared(frame)

    def candidate_indices(self) -> I64:
        frame = self._frame
        if frame is None:
            raise RuntimeError("prepare() first")
        gap = np.zeros(len(frame), dtype=bool)
        gap[2:] = frame.low[2:] > frame.high[:-2]
        with np.errstate(invalid="ignore"):
            gap &= frame.close > self._trend_arr
        return np.flatnonzero(gap).astype(np.int64)

    def exit_candidate_indices(self) -> I64:
        return np.empty(0, dtype=np.int64)  # exits only through its stop and target

    def _inputs(self, context: StrategyContext) -> tuple[float, float, float] | None:
        """(high[i-2], low[i-2], ema[i]) or None while warming up."""
        if self._prepared is not None and self._frame is not None:
            i = self._prepared.index(context.candle.open_time)
            if i < 2:
                return None
            return float(self._frame.high[i - 2]), float(self._frame.low[i - 2]), float(self._trend_arr[i])
        candle = context.candle
        trend = self._trend.update(float(candle.close))
        window = self._window
        result = (window[0][0], window[0][1], trend) if len(window) == 2 else None
        window.append((float(candle.high), float(candle.low)))
        if len(window) > 2:
            del window[0]
        return result

    def on_candle(self, context: StrategyContext) -> Signal | None:
        inputs = self._inputs(context)
        if inputs is None or any(p.is_open for p in context.positions):
            return None
        high2, low2, trend = inputs
        candle = context.candle
        if not (float(candle.low) > high2 and float(candle.close) > trend):
            return None
        stop = _price(low2)
        close = candle.close
        target = close + (close - stop) * self._reward_risk
        zone = (("zone_kind", "fvg"), ("zone_direction", "1"), ("zone_timeframe", candle.timeframe.value),
                ("zone_top", repr(float(candle.low))), ("zone_bottom", repr(high2)),
                ("zone_start", str(candle.open_time - candle.timeframe.ms)))
        return Signal(
            strategy_id=self.id, symbol=candle.symbol, direction=Direction.LONG, entry_type=EntryType.MARKET,
            stop_loss=stop, take_profits=(target,), time=candle.close_time, reference_price=close,
            reason=("bullish_fvg",), timeframe=candle.timeframe.value, metadata=zone,
        )


REFERENCE_STRATEGIES: tuple[type[BaseStrategy[EmaCrossConfig]] | type[BaseStrategy[FvgConfig]], ...] = (
    S1EmaCross, S2BullishFvg,
)
