"""Dealing range, premium / discount / equilibrium and OTE impulse legs (ict-spec §6)."""

from __future__ import annotations

import math

from ictbot.indicators.core.history import History
from ictbot.indicators.core.swings import Pivot
from ictbot.indicators.events import Event, EventFactory
from ictbot.indicators.ict.structure import Break
from ictbot.indicators.params import PremiumDiscountParams

NAN = math.nan


class ImpulseLeg:
    __slots__ = ("a", "a_idx", "a_time", "b", "b_idx", "b_time", "deepest", "direction", "entered", "exceeded",
                 "id", "start")

    def __init__(self, direction: int, a: float, a_idx: int, a_time: int, b: float, b_idx: int, b_time: int,
                 event_id: str, start: int) -> None:
        self.direction = direction
        self.a = a
        self.a_idx = a_idx
        self.a_time = a_time
        self.b = b
        self.b_idx = b_idx
        self.b_time = b_time
        self.id = event_id
        self.start = start
        self.entered = False
        self.exceeded = False
        self.deepest = 0.0

    def ote(self, low: float, high: float, sweet: float, b: float | None = None) -> tuple[float, float, float]:
        """(top, bottom, sweet spot) of the OTE zone computed with extreme ``b`` (default: current)."""
        return ote_band(self.direction, self.a, self.b if b is None else b, low, high, sweet)


def ote_band(direction: int, a: float, b: float, low: float, high: float, sweet: float) -> tuple[float, float, float]:
    """(top, bottom, sweet spot) of the OTE zone of a leg from ``a`` to extreme ``b`` (§6)."""
    rng = (b - a) if direction > 0 else (a - b)
    if direction > 0:
        return b - low * rng, b - high * rng, b - sweet * rng
    return b + high * rng, b + low * rng, b + sweet * rng


class PremiumDiscountIndicator:
    __slots__ = ("bottom", "bottom_run", "high", "leg", "low", "p", "phash", "retracement", "top", "top_run")

    def __init__(self, params: PremiumDiscountParams, phash: str) -> None:
        self.p = params
        self.phash = phash
        self.high: Pivot | None = None
        self.low: Pivot | None = None
        self.top_run = -math.inf  # max h over [H.anchor+1, i]
        self.bottom_run = math.inf
        self.top = NAN
        self.bottom = NAN
        self.leg: ImpulseLeg | None = None
        self.retracement = NAN

    def step(self, hist: History, i: int, t: int, h: float, lo: float, c: float, accepted: list[Pivot],
             breaks: list[Break], factory: EventFactory, out: list[Event]) -> None:
        """Candle i (values passed by the engine)."""
        self.retracement = NAN
        leg = self.leg
        if leg is not None and leg.start < i:
            self._test(leg, i, h, lo, c, t, factory, out)
        for brk in breaks:
            a_c, b_c = brk.a, brk.b
            if brk.direction > 0:
                a, b = a_c[4], b_c[3]
                top, bottom = b, a
            else:
                a, b = a_c[3], b_c[4]
                top, bottom = a, b
            event = factory.make("impulse_leg", brk.direction, self.p.pd_stream, a_c[0], a_c[1], self.phash,
                                 top=top, bottom=bottom,
                                 fields={"a": a, "b": b, "stream": self.p.pd_stream, "parent_id": brk.event.id})
            out.append(event)
            self.leg = ImpulseLeg(brk.direction, a, a_c[0], a_c[1], b, b_c[0], b_c[1], event.id, i)
        # dealing range (series)
        if h > self.top_run:
            self.top_run = h
        if lo < self.bottom_run:
            self.bottom_run = lo
        for pivot in accepted:
            span = slice(pivot.anchor + 1 - hist.base, i - hist.base + 1)
            if pivot.direction > 0:
                self.high = pivot
                self.top_run = max(hist.h[span])
            else:
                self.low = pivot
                self.bottom_run = min(hist.l[span])
        high, low = self.high, self.low
        if high is not None and low is not None:
            # max / min of two, as the builtins pick them (first argument unless the second is strictly beyond)
            top_run, bottom_run = self.top_run, self.bottom_run
            self.top = top_run if top_run > high.level else high.level
            self.bottom = bottom_run if bottom_run < low.level else low.level

    def _test(self, leg: ImpulseLeg, j: int, h: float, lo: float, c: float, t: int, factory: EventFactory,
              out: list[Event]) -> None:
        p = self.p
        b_prev = leg.b
        # the OTE zone as ``leg.ote`` computes it (same expressions), inlined: this runs on most candles
        if leg.direction > 0:
            rng = b_prev - leg.a
            top, bottom, sweet = b_prev - p.ote_low * rng, b_prev - p.ote_high * rng, b_prev - p.sweet_spot * rng
            retracement = (b_prev - lo) / rng
            entered, exceeded, invalid = lo <= top, c < bottom, lo < leg.a
        else:
            rng = leg.a - b_prev
            top, bottom, sweet = b_prev + p.ote_high * rng, b_prev + p.ote_low * rng, b_prev + p.sweet_spot * rng
            retracement = (h - b_prev) / rng
            entered, exceeded, invalid = h >= bottom, c > top, h > leg.a
        self.retracement = retracement
        if retracement > leg.deepest:
            leg.deepest = retracement
        entered = entered and not leg.entered
        exceeded = exceeded and not leg.exceeded
        if entered or exceeded or invalid:  # events in this order: entered, exceeded, invalidated
            if entered:
                leg.entered = True
            if exceeded:
                leg.exceeded = True
            for kind, due in (("ote_entered", entered), ("ote_exceeded", exceeded), ("leg_invalidated", invalid)):
                if due:
                    out.append(factory.make(kind, leg.direction, p.pd_stream, leg.a_idx, leg.a_time, self.phash,
                                            top=top, bottom=bottom, level=sweet,
                                            fields={"stream": p.pd_stream, "parent_id": leg.id}))
            if invalid:
                self.leg = None
                return
        if leg.direction > 0:
            if h > leg.b:
                leg.b, leg.b_idx, leg.b_time = h, j, t
        elif lo < leg.b:
            leg.b, leg.b_idx, leg.b_time = lo, j, t

    def zone(self, close: float) -> str | None:
        """premium / discount / equilibrium of ``close`` in the current dealing range (None if undefined)."""
        if math.isnan(self.top) or self.top == self.bottom:
            return None
        pos = (close - self.bottom) / (self.top - self.bottom)
        half = self.p.eq_band / 2.0
        if pos > 0.5 + half:
            return "premium"
        if pos < 0.5 - half:
            return "discount"
        return "equilibrium"
