"""strategy_b — order block inside the OTE band of a fresh market-structure shift.

Rules (long; short mirrors), read at the base candle's close:
1. Leg: the ``structure_timeframe`` view's current impulse leg (ict-spec §6) is bullish and was
   started by a ``choch`` flagged ``mss`` (a displacement candle drove the break); ``allow_bos`` also
   accepts a BOS, ``require_mss`` = false accepts a CHoCH without displacement.
2. Retracement: price has come back into the leg's 0.62–0.79 OTE band (its ``ote_entered`` event).
3. Order block: an active bullish order block of that timeframe overlaps the OTE band and has been
   touched; the one created by the leg's own break is preferred, else the highest one.
   Trigger (once per arrival): either OTE is entered at this close and such a block is already
   touched, or OTE was entered earlier and such a block is touched for the first time at this close.
4. Entry: market at the close, provided the close is still above the block's bottom and below the
   leg's extreme. Stop: below the block by ``stop_buffer_atr`` ATRs.
5. Targets: the leg's extreme (the liquidity resting above the high the retracement started from),
   then further buy-side liquidity; targets nearer than ``min_reward_risk`` R are skipped.
Optional filters: ``killzones`` and ``trend_timeframes`` (every listed view trends with the leg).
"""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator

from ictbot.domain.ict import IctEvent, Leg, TimeframeView, Zone
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.strategies.base import (
    LIVE_WARMUP_CANDLES,
    BaseStrategy,
    DecisionCalendar,
    StrategyConfig,
    StrategyContext,
)
from ictbot.strategies.builtin import params
from ictbot.strategies.builtin._ict import events_since, find_event, htf_bias, liquidity_targets, new_events, price

_SEARCHED = frozenset({"impulse_leg", "bos", "choch", "ote_entered"})


class StrategyBConfig(StrategyConfig):
    structure_timeframe: str = "15m"
    require_mss: bool = True
    allow_bos: bool = False
    ob_stream: Literal["any", "internal", "swing"] = "any"
    killzones: tuple[str, ...] = ()
    trend_timeframes: tuple[str, ...] = ()
    target_timeframes: tuple[str, ...] = ("15m", "1h", "4h")
    stop_buffer_atr: float = Field(default=0.1, ge=0, le=5)
    min_reward_risk: float = Field(default=2.0, gt=0, le=20)
    max_targets: int = Field(default=2, ge=1, le=5)
    max_open_positions: int = Field(default=1, ge=1, le=20)

    @field_validator("structure_timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        return params.timeframes([value])[0]

    @field_validator("trend_timeframes", "target_timeframes")
    @classmethod
    def _timeframes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return params.timeframes(value)

    @field_validator("killzones")
    @classmethod
    def _windows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return params.windows(value)


class StrategyB(BaseStrategy[StrategyBConfig]):
    kind: ClassVar[str] = "strategy_b"
    config_model: ClassVar[type[StrategyConfig]] = StrategyBConfig

    @property
    def warmup_candles(self) -> int:
        # The history the live bot gives the indicator engine at start (strategies.base.LIVE_WARMUP_CANDLES).
        return LIVE_WARMUP_CANDLES

    @cached_property
    def required_timeframes(self) -> tuple[str, ...]:
        config = self.config
        return tuple(dict.fromkeys((config.base_timeframe, config.structure_timeframe, *config.trend_timeframes)))

    def decision_candles(self, calendar: DecisionCalendar) -> npt.NDArray[np.int64]:
        """Rule 3's trigger needs an ``ote_entered`` or ``ob_touched`` confirmed at this close on the
        structure view (``on_candle`` returns early otherwise); optional killzones filter further."""
        config = self.config
        candles = calendar.new_event_candles(config.structure_timeframe, ("ote_entered", "ob_touched"))
        if config.killzones:
            candles = candles[calendar.window_mask(config.killzones)[candles]]
        return candles

    def on_candle(self, context: StrategyContext) -> Signal | None:
        config, snapshot = self.config, context.snapshot
        if len(context.positions) >= config.max_open_positions:
            return None
        if config.killzones and not snapshot.in_killzone(*config.killzones):
            return None
        view = snapshot.view(config.structure_timeframe)
        leg = view.leg if view is not None else None
        if view is None or leg is None:
            return None
        if not new_events(view, snapshot.time, "ote_entered", "ob_touched"):
            return None  # nothing arrived anywhere at this close (cheap test first)
        if config.trend_timeframes and htf_bias(snapshot, config.trend_timeframes, "trend") != leg.direction:
            return None
        # Everything searched below (the leg's impulse_leg event and its break, the leg's ote_entered
        # events, a break at or after the leg's origin) was confirmed at or after the origin: only the
        # log's tail from there is read, once, and only those kinds (their relative order is kept).
        events = tuple(events_since(view, leg.a_time, _SEARCHED))
        brk = _leg_break(events, leg)
        if not self._qualifying_break(brk, leg):
            return None
        entered = [event for event in events if event.kind == "ote_entered" and _of_leg(event, leg)]
        if not entered:
            return None
        band = entered[-1]
        band_top = band.top if band.top is not None else leg.ote_top
        band_bottom = band.bottom if band.bottom is not None else leg.ote_bottom
        blocks = self._order_blocks(view, leg, band_top, band_bottom)
        if band.confirm_time != snapshot.time:
            # OTE was entered earlier: act only when price reaches a qualifying block for the first time now.
            touched_now = {str(e.extra.get("parent_id")) for e in new_events(view, snapshot.time, "ob_touched")}
            blocks = [zone for zone in blocks if zone.id in touched_now]
        block = self._preferred(brk, leg, blocks)
        return None if block is None else self._signal(context, view, leg, block)

    def _qualifying_break(self, brk: IctEvent | None, leg: Leg) -> bool:
        if brk is None or brk.direction != leg.direction:
            return False
        if brk.kind == "bos":
            return self.config.allow_bos
        return brk.kind == "choch" and (not self.config.require_mss or brk.extra.get("mss") is True)

    def _order_blocks(self, view: TimeframeView, leg: Leg, band_top: float, band_bottom: float) -> list[Zone]:
        """Active, touched blocks of the leg's direction overlapping the OTE band (edges included)."""
        stream = self.config.ob_stream
        return [
            zone for zone in view.order_blocks
            if zone.direction == leg.direction and zone.touched
            and zone.bottom <= band_top and zone.top >= band_bottom
            and (stream == "any" or zone.extra.get("stream") == stream)
        ]

    @staticmethod
    def _preferred(brk: IctEvent | None, leg: Leg, candidates: list[Zone]) -> Zone | None:
        if not candidates:
            return None
        own = [zone for zone in candidates if brk is not None and zone.extra.get("break_id") == brk.id]
        pool = own or candidates
        # Nearest to price first: the highest bullish block, the lowest bearish one.
        return max(pool, key=lambda zone: zone.top) if leg.direction > 0 else min(pool, key=lambda zone: zone.bottom)

    def _signal(self, context: StrategyContext, view: TimeframeView, leg: Leg, block: Zone) -> Signal | None:
        config, snapshot, candle = self.config, context.snapshot, context.candle
        side = leg.direction
        entry = float(candle.close)
        stop = (block.bottom if side > 0 else block.top) - side * config.stop_buffer_atr * (view.atr or 0.0)
        holding = entry >= block.bottom if side > 0 else entry <= block.top
        before_extreme = (leg.b - entry) * side > 0
        beyond_stop = float(candle.low) <= stop if side > 0 else float(candle.high) >= stop
        risk = (entry - stop) * side
        if not holding or not before_extreme or beyond_stop or risk <= 0:
            return None
        views = [v for tf in config.target_timeframes if (v := context.snapshot.view(tf)) is not None]
        targets = liquidity_targets(views, side, entry, risk, config.min_reward_risk, config.max_targets, first=leg.b)
        if not targets:
            return None
        return Signal(
            strategy_id=self.id,
            symbol=snapshot.symbol,
            direction=Direction.LONG if side > 0 else Direction.SHORT,
            entry_type=EntryType.MARKET,
            stop_loss=price(stop),
            take_profits=tuple(price(target) for target in targets),
            time=snapshot.time,
            reference_price=candle.close,
            timeframe=config.base_timeframe,
            reason=(
                f"{view.timeframe} leg {leg.a} -> {leg.b} after a structure shift",
                f"retraced into OTE [{leg.ote_bottom}, {leg.ote_top}]",
                f"order block [{block.bottom}, {block.top}] overlaps the OTE band",
            ),
            metadata=(("leg_id", leg.id), ("order_block_id", block.id)),
        )


def _of_leg(event: IctEvent, leg: Leg) -> bool:
    parent = event.extra.get("parent_id")
    if parent is not None:
        return bool(parent == leg.id)
    return event.direction == leg.direction and event.anchor_time == leg.a_time


def _leg_break(events: tuple[IctEvent, ...], leg: Leg) -> IctEvent | None:
    """The structure break that started ``leg`` (``events``: the view's events since the leg's origin): via the
    ``impulse_leg`` event's parent when the snapshot still holds it, else the latest break of the leg's
    direction at or after its origin."""
    start = find_event(events, leg.id)
    if start is not None and start.kind == "impulse_leg":
        parent = find_event(events, str(start.extra.get("parent_id", "")))
        if parent is not None:
            return parent
    for event in reversed(events):
        if event.kind in ("bos", "choch") and event.extra.get("stream", "swing") == "swing":
            return event if event.confirm_time >= leg.a_time else None
    return None

