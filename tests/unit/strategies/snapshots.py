"""Hand-built indicator snapshots for strategy tests (prices are small round numbers)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ictbot.domain.candle import Candle
from ictbot.domain.ict import IctEvent, IndicatorSnapshot, Leg, LiquidityLevel, TimeframeView, Zone
from ictbot.domain.timeframe import Timeframe

MIN = 60_000
T = 1_700_000_100_000 - 1_700_000_100_000 % (5 * MIN)  # a 5m close time


def event(kind: str, direction: int, confirm_time: int, *, tf: str = "5m", id: str | None = None,
          level: float | None = None, top: float | None = None, bottom: float | None = None,
          anchor_time: int | None = None, **extra: Any) -> IctEvent:
    return IctEvent(
        id=id or f"{tf}:{kind}:-:{anchor_time or confirm_time}:{confirm_time}:0", kind=kind, direction=direction,
        timeframe=tf, anchor_index=0, confirm_index=0, anchor_time=anchor_time or confirm_time - 10 * MIN,
        confirm_time=confirm_time, top=top, bottom=bottom, level=level, extra=extra,
    )


def zone(kind: str, direction: int, bottom: float, top: float, confirm_time: int, *, tf: str = "5m",
         id: str = "z1", touched: bool = True, **extra: Any) -> Zone:
    return Zone(id=id, kind=kind, direction=direction, timeframe=tf, top=top, bottom=bottom,
                anchor_time=confirm_time - 10 * MIN, confirm_time=confirm_time, touched=touched, extra=extra)


def liquidity(side: int, *levels: float, tf: str = "5m") -> tuple[LiquidityLevel, ...]:
    return tuple(LiquidityLevel(f"liq{level}", side, level, "swing", tf, T - 60 * MIN) for level in levels)


def view(tf: str, *, close: float = 100.0, time: int = T, **fields: Any) -> TimeframeView:
    return TimeframeView(timeframe=tf, last_close_time=time, close=close, **fields)


def snapshot(views: Mapping[str, TimeframeView], *, windows: tuple[str, ...] = ("london_kz",),
             time: int = T, symbol: str = "BTCUSDT") -> IndicatorSnapshot:
    return IndicatorSnapshot(symbol=symbol, time=time, base_timeframe="5m", views=dict(views),
                             active_windows=windows)


def candle(*, open: float, high: float, low: float, close: float, time: int = T,
           symbol: str = "BTCUSDT") -> Candle:
    def d(x: float) -> Decimal:
        return Decimal(repr(x))

    return Candle(symbol=symbol, timeframe=Timeframe.M5, open_time=time - 5 * MIN, open=d(open), high=d(high),
                  low=d(low), close=d(close), volume=Decimal(1))


def leg(direction: int, a: float, b: float, *, tf: str = "15m", id: str = "leg1", a_time: int = T - 120 * MIN,
        b_time: int = T - 60 * MIN) -> Leg:
    span = b - a
    return Leg(id=id, direction=direction, timeframe=tf, a=a, b=b, a_time=a_time, b_time=b_time,
               ote_top=b - 0.62 * span if direction > 0 else b - 0.79 * span,
               ote_bottom=b - 0.79 * span if direction > 0 else b - 0.62 * span,
               sweet_spot=b - 0.705 * span)
