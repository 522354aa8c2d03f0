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
        bb = self.b if b is None else b
        rng = (bb - self.a) if self.direction > 0 else (self.a - bb)
        if self.direction > 0:
            return bb - low * rng, bb - high * rng, bb - sweet * rng
        return bb + high * rng, bb + low * rng, bb + sweet * rng


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

    def step(self, hist: History, i: int, accepted: list[Pivot], breaks: list[Break], factory: EventFactory,
             out: list[Event]) -> None:
        x = i - hist.base
        h, lo, c, t = hist.h[x], hist.l[x], hist.c[x], hist.t[x]
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
            span = slice(pivot.anchor + 1 - hist.base, x + 1)
            if pivot.direction > 0:
                self.high = pivot
                self.top_run = max(hist.h[span])
            else:
                self.low = pivot
                self.bottom_run = min(hist.l[span])
        if self.high is not None and self.low is not None:
            self.top = max(self.high.level, self.top_run)
            self.bottom = min(self.low.level, self.bottom_run)

    def _test(self, leg: ImpulseLeg, j: int, h: float, lo: float, c: float, t: int, factory: EventFactory,
              out: list[Event]) -> None:
        p = self.p
        b_prev = leg.b
        top, bottom, sweet = leg.ote(p.ote_low, p.ote_high, p.sweet_spot)
        if leg.direction > 0:
            rng = b_prev - leg.a
            self.retracement = (b_prev - lo) / rng
            entered, exceeded, invalid = lo <= top, c < bottom, lo < leg.a
        else:
            rng = leg.a - b_prev
            self.retracement = (h - b_prev) / rng
            entered, exceeded, invalid = h >= bottom, c > top, h > leg.a
        if self.retracement > leg.deepest:
            leg.deepest = self.retracement
        kinds: list[str] = []
        if entered and not leg.entered:
            leg.entered = True
            kinds.append("ote_entered")
        if exceeded and not leg.exceeded:
            leg.exceeded = True
            kinds.append("ote_exceeded")
        if invalid:
            kinds.append("leg_invalidated")
        for kind in kinds:
            out.append(factory.make(kind, leg.direction, p.pd_stream, leg.a_idx, leg.a_time, self.phash, top=top,
                                    bottom=bottom, level=sweet,
                                    fields={"stream": p.pd_stream, "parent_id": leg.id}))
        if invalid:
            self.leg = None
            return
        if leg.direction > 0 and h > leg.b:
            leg.b, leg.b_idx, leg.b_time = h, j, t
        elif leg.direction < 0 and lo < leg.b:
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
