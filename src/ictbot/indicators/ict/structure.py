"""Market structure per swing stream: BOS / CHoCH / MSS (ict-spec §2).

Besides the break events, each break carries what §4 (order block candle) and §6 (impulse leg)
need, computed from running extremes seeded when the broken swing was registered, so no indicator
ever reads candles older than its own state.
"""

from __future__ import annotations

import bisect

from ictbot.indicators.core.history import History
from ictbot.indicators.core.swings import Pivot
from ictbot.indicators.events import Event, EventFactory

Candle = tuple[int, int, float, float, float, float]  # (index, open time, o, h, l, c)


class Ref:
    """A reference swing (latest accepted high or low) with the running extremes since its anchor."""

    __slots__ = ("a", "b", "broken", "k_any", "k_close", "pivot")

    def __init__(self, pivot: Pivot) -> None:
        self.pivot = pivot
        self.broken = False
        # leg origin: lowest low (highest high for a low ref) over [anchor, i], ties → latest
        self.a: Candle = (0, 0, 0.0, 0.0, 0.0, 0.0)
        # leg extreme: highest high (lowest low) over [a_idx, i]
        self.b: Candle = (0, 0, 0.0, 0.0, 0.0, 0.0)
        # OB candidates over [anchor+1, i]: lowest down-close (highest up-close) and lowest low (highest high)
        self.k_close: Candle | None = None
        self.k_any: Candle | None = None


class Break:
    """A structure break with the data its order block (§4) and impulse leg (§6) need."""

    __slots__ = ("a", "b", "direction", "event", "ob_candle", "swing_anchor")

    def __init__(self, direction: int, event: Event, swing_anchor: int, ob_candle: Candle, a: Candle,
                 b: Candle) -> None:
        self.direction = direction
        self.event = event
        self.swing_anchor = swing_anchor
        self.ob_candle = ob_candle
        self.a = a
        self.b = b


def _candle(hist: History, k: int) -> Candle:
    x = k - hist.base
    return (k, hist.t[x], hist.o[x], hist.h[x], hist.l[x], hist.c[x])


class StructureStream:
    __slots__ = ("high", "low", "name", "phash", "require_sweep", "trend", "wick")

    def __init__(self, name: str, wick: bool, require_sweep: bool, phash: str) -> None:
        self.name = name
        self.wick = wick
        self.require_sweep = require_sweep
        self.phash = phash
        self.trend = 0
        self.high: Ref | None = None
        self.low: Ref | None = None

    def step(self, hist: History, i: int, t: int, o: float, h: float, lo: float, c: float, accepted: list[Pivot],
             last_displacement: dict[int, int], taken: dict[int, list[int]], factory: EventFactory,
             out: list[Event]) -> list[Break]:
        """Candle i (values passed by the engine). ``taken[side]``: ascending confirm indexes of
        ``liquidity_taken`` per side (for require_sweep)."""
        high, low = self.high, self.low
        me: Candle | None = None  # built only when this candle becomes a running extreme
        # leg accumulators include candle i
        if high is not None:
            if lo <= high.a[4]:
                me = (i, t, o, h, lo, c)
                high.a = high.b = me
            elif h > high.b[3]:
                me = (i, t, o, h, lo, c)
                high.b = me
        if low is not None:
            if h >= low.a[3]:
                me = me or (i, t, o, h, lo, c)
                low.a = low.b = me
            elif lo < low.b[4]:
                me = me or (i, t, o, h, lo, c)
                low.b = me
        # Step A: breaks against references standing at i − 1
        breaks: list[Break] = _NO_BREAKS
        if high is not None and not high.broken and (h if self.wick else c) > high.pivot.level:
            breaks = [self._break(1, high, i, last_displacement, taken, factory, out)]
        if low is not None and not low.broken and (lo if self.wick else c) < low.pivot.level:
            brk = self._break(-1, low, i, last_displacement, taken, factory, out)
            breaks = [*breaks, brk]
        # order-block candidates now cover [anchor + 1, i]
        if high is not None:
            if c < o and (high.k_close is None or lo <= high.k_close[4]):
                me = me or (i, t, o, h, lo, c)
                high.k_close = me
            if high.k_any is None or lo <= high.k_any[4]:
                me = me or (i, t, o, h, lo, c)
                high.k_any = me
        if low is not None:
            if c > o and (low.k_close is None or h >= low.k_close[3]):
                me = me or (i, t, o, h, lo, c)
                low.k_close = me
            if low.k_any is None or h >= low.k_any[3]:
                me = me or (i, t, o, h, lo, c)
                low.k_any = me
        # Step B: register swings confirmed at i
        for pivot in accepted:
            ref = self._seed(hist, pivot, i)
            if pivot.direction > 0:
                self.high = ref
            else:
                self.low = ref
        return breaks

    def _break(self, direction: int, ref: Ref, i: int, last_displacement: dict[int, int],
               taken: dict[int, list[int]], factory: EventFactory, out: list[Event]) -> Break:
        trend = self.trend
        kind = "choch" if trend == -direction else "bos"
        origin = ref.a[0]
        mss = False
        if kind == "choch" and last_displacement[direction] >= origin:
            mss = True
            if self.require_sweep:
                confirms = taken[-direction]
                at = bisect.bisect_left(confirms, ref.pivot.anchor)
                mss = at < len(confirms) and confirms[at] <= origin
        pivot = ref.pivot
        event = factory.make(kind, direction, self.name, pivot.anchor, pivot.anchor_time, self.phash,
                             level=pivot.level,
                             fields={"level": pivot.level, "stream": self.name, "swing_id": pivot.id,
                                     "swing_anchor_index": pivot.anchor, "swing_confirm_index": pivot.confirm,
                                     "initial": trend == 0, "mss": mss})
        out.append(event)
        ref.broken = True
        self.trend = direction
        ob = ref.k_close if ref.k_close is not None else ref.k_any
        assert ob is not None  # K = [s+1, i−1] is never empty
        return Break(direction, event, pivot.anchor, ob, ref.a, ref.b)

    @staticmethod
    def _seed(hist: History, pivot: Pivot, i: int) -> Ref:
        ref = Ref(pivot)
        s = pivot.anchor
        up = pivot.direction > 0  # a swing high: bullish break later
        a = _candle(hist, s)
        b = a
        k_close: Candle | None = None
        k_any: Candle | None = None
        for k in range(s + 1, i + 1):
            cand = _candle(hist, k)
            _, _, o, h, lo, c = cand
            if up:
                if lo <= a[4]:
                    a = b = cand
                elif h > b[3]:
                    b = cand
                if c < o and (k_close is None or lo <= k_close[4]):
                    k_close = cand
                if k_any is None or lo <= k_any[4]:
                    k_any = cand
            else:
                if h >= a[3]:
                    a = b = cand
                elif lo < b[4]:
                    b = cand
                if c > o and (k_close is None or h >= k_close[3]):
                    k_close = cand
                if k_any is None or h >= k_any[3]:
                    k_any = cand
        ref.a, ref.b, ref.k_close, ref.k_any = a, b, k_close, k_any
        return ref


_NO_BREAKS: list[Break] = []  # shared empty result: callers only iterate it
