"""strategy_a — higher-timeframe bias, liquidity sweep, lower-timeframe FVG entry.

Rules (long; short mirrors), all read from the snapshot at the base candle's close:
1. Bias: every ``bias_timeframes`` view has structure trend +1.
2. Time: the base candle lies in one of ``killzones``.
3. Sweep: a sell-side ``sweep`` (against the bias) on a ``sweep_timeframes`` view, confirmed at most
   ``max_sweep_age_minutes`` ago.
4. Fresh FVG: a bullish base-timeframe FVG confirmed at or after that sweep and at most
   ``max_fvg_age_minutes`` ago, still active.
5. Entry: this candle is the gap's first touch (its ``fvg_touched`` is confirmed now); market entry at
   the close. Stop: beyond the sweep's extreme (level − excursion) by ``stop_buffer_atr`` ATRs.
6. Targets: buy-side liquidity above the entry at least ``min_reward_risk`` R away, nearest first.
"""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator

from ictbot.domain.ict import IctEvent, IndicatorSnapshot, Zone
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.strategies.base import (
    LIVE_WARMUP_CANDLES,
    BaseStrategy,
    DecisionCalendar,
    StrategyConfig,
    StrategyContext,
)
from ictbot.strategies.builtin import params
from ictbot.strategies.builtin._ict import (
    events_since,
    extra_float,
    htf_bias,
    liquidity_targets,
    new_events,
    price,
)

MINUTE_MS = 60_000
_SWEEP = frozenset({"sweep"})


class StrategyAConfig(StrategyConfig):
    bias_timeframes: tuple[str, ...] = Field(default=("1h", "4h"), min_length=1)
    bias_source: Literal["trend", "swing_trend"] = "trend"
    killzones: tuple[str, ...] = ("london_kz", "ny_am_kz", "ny_pm_kz")
    sweep_timeframes: tuple[str, ...] = Field(default=("5m", "15m"), min_length=1)
    max_sweep_age_minutes: int = Field(default=120, ge=1, le=24 * 60)
    max_fvg_age_minutes: int = Field(default=120, ge=1, le=24 * 60)
    target_timeframes: tuple[str, ...] = ("5m", "15m", "1h", "4h")
    stop_buffer_atr: float = Field(default=0.1, ge=0, le=5)
    min_reward_risk: float = Field(default=2.0, gt=0, le=20)
    max_targets: int = Field(default=2, ge=1, le=5)
    max_open_positions: int = Field(default=1, ge=1, le=20)

    @field_validator("bias_timeframes", "sweep_timeframes", "target_timeframes")
    @classmethod
    def _timeframes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return params.timeframes(value)

    @field_validator("killzones")
    @classmethod
    def _windows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return params.windows(value)


class StrategyA(BaseStrategy[StrategyAConfig]):
    kind: ClassVar[str] = "strategy_a"
    config_model: ClassVar[type[StrategyConfig]] = StrategyAConfig

    @property
    def warmup_candles(self) -> int:
        # The history the live bot gives the indicator engine at start (strategies.base.LIVE_WARMUP_CANDLES).
        # Its liquidity targets can be levels of any age (a level rests until it is taken), so
        # decisions can depend on more history than this: `ictbot analyze recursive` shows where.
        return LIVE_WARMUP_CANDLES

    @cached_property
    def required_timeframes(self) -> tuple[str, ...]:
        config = self.config
        return tuple(dict.fromkeys((config.base_timeframe, *config.bias_timeframes, *config.sweep_timeframes)))

    def decision_candles(self, calendar: DecisionCalendar) -> npt.NDArray[np.int64]:
        """Rule 5 needs a ``fvg_touched`` of the bias direction confirmed at this close on the base view,
        of a gap at most ``max_fvg_age_minutes`` old (rule 4); rule 1 that bias; rule 2 a killzone; rule 3
        a sweep against the bias confirmed between ``max_sweep_age_minutes`` before the close and the
        gap's confirmation."""
        config = self.config
        trends = [calendar.trend(tf, config.bias_source) for tf in config.bias_timeframes]
        closes = calendar.close_times()
        sweep_age = config.max_sweep_age_minutes * MINUTE_MS
        found = []
        for direction in (1, -1):
            candles, gap_times = calendar.new_events_with_parents(config.base_timeframe, ("fvg_touched",), direction)
            keep = closes[candles] - gap_times <= config.max_fvg_age_minutes * MINUTE_MS
            for trend in trends:
                keep &= trend[candles] == direction
            swept = np.zeros(candles.shape[0], dtype=np.bool_)
            for timeframe in config.sweep_timeframes:
                times = calendar.event_times(timeframe, ("sweep",), -direction)
                # any such sweep confirmed in [close - sweep age, the gap's confirmation]
                swept |= np.searchsorted(times, gap_times, side="right") > np.searchsorted(
                    times, closes[candles] - sweep_age, side="left")
            found.append(candles[keep & swept])
        candles = np.union1d(found[0], found[1])
        if config.killzones:
            candles = candles[calendar.window_mask(config.killzones)[candles]]
        return candles

    def on_candle(self, context: StrategyContext) -> Signal | None:
        config, snapshot = self.config, context.snapshot
        if len(context.positions) >= config.max_open_positions:
            return None
        if config.killzones and not snapshot.in_killzone(*config.killzones):
            return None
        bias = htf_bias(snapshot, config.bias_timeframes, config.bias_source)
        base = snapshot.view(config.base_timeframe)
        if bias == 0 or base is None:
            return None
        active = {zone.id: zone for zone in base.fvgs if zone.direction == bias}
        for touch in new_events(base, snapshot.time, "fvg_touched"):
            zone = active.get(str(touch.extra.get("parent_id", "")))
            if zone is None or snapshot.time - zone.confirm_time > config.max_fvg_age_minutes * MINUTE_MS:
                continue
            sweep = self._sweep_before(snapshot, bias, zone)
            if sweep is not None:
                signal = self._signal(context, bias, zone, sweep)
                if signal is not None:
                    return signal
        return None

    def _sweep_before(self, snapshot: IndicatorSnapshot, bias: int, zone: Zone) -> IctEvent | None:
        """The latest sweep against the bias, recent enough and not after the gap's confirmation."""
        oldest = snapshot.time - self.config.max_sweep_age_minutes * MINUTE_MS
        found: IctEvent | None = None
        for timeframe in self.config.sweep_timeframes:
            view = snapshot.view(timeframe)
            for event in events_since(view, oldest, _SWEEP) if view is not None else ():
                if (
                    event.kind == "sweep" and event.direction == -bias and event.level is not None
                    and oldest <= event.confirm_time <= zone.confirm_time
                    and (found is None or event.confirm_time > found.confirm_time)
                ):
                    found = event
        return found

    def _signal(self, context: StrategyContext, bias: int, zone: Zone, sweep: IctEvent) -> Signal | None:
        config, snapshot, candle = self.config, context.snapshot, context.candle
        base = snapshot.view(config.base_timeframe)
        assert base is not None and sweep.level is not None
        entry = float(candle.close)
        # The sweep's extreme: how far beyond the level the raid went (level when not reported).
        extreme = sweep.level - bias * (extra_float(sweep, "excursion") or 0.0)
        stop = extreme - bias * config.stop_buffer_atr * (base.atr or 0.0)
        beyond_stop = float(candle.low) <= stop if bias > 0 else float(candle.high) >= stop
        still_in_gap = entry >= zone.bottom if bias > 0 else entry <= zone.top
        risk = (entry - stop) * bias
        if beyond_stop or not still_in_gap or risk <= 0:
            return None
        views = [view for tf in config.target_timeframes if (view := snapshot.view(tf)) is not None]
        targets = liquidity_targets(views, bias, entry, risk, config.min_reward_risk, config.max_targets)
        if not targets:
            return None
        return Signal(
            strategy_id=self.id,
            symbol=snapshot.symbol,
            direction=Direction.LONG if bias > 0 else Direction.SHORT,
            entry_type=EntryType.MARKET,
            stop_loss=price(stop),
            take_profits=tuple(price(target) for target in targets),
            time=snapshot.time,
            reference_price=candle.close,
            timeframe=config.base_timeframe,
            reason=(
                f"bias {bias:+d} on {'/'.join(config.bias_timeframes)}",
                f"{sweep.timeframe} sweep of {sweep.extra.get('source', '?')} level {sweep.level}",
                f"first touch of {zone.timeframe} FVG [{zone.bottom}, {zone.top}]",
            ),
            metadata=(
                ("sweep_id", sweep.id),
                ("fvg_id", zone.id),
                ("killzones", ",".join(w for w in snapshot.active_windows if w in config.killzones)),
            ),
        )
