"""Displacement candles, their FVG update and displacement legs (ict-spec §9)."""

from __future__ import annotations

from collections import deque

from ictbot.indicators.core.history import History
from ictbot.indicators.core.zones import ZoneState
from ictbot.indicators.events import Event, EventFactory
from ictbot.indicators.params import DisplacementParams

_FAR_PAST = -(10**18)


class DisplacementIndicator:
    __slots__ = ("last_end", "last_event", "last_index", "p", "phash", "recent", "run")

    def __init__(self, params: DisplacementParams, phash: str) -> None:
        self.p = params
        self.phash = phash
        self.last_index: dict[int, int] = {1: _FAR_PAST, -1: _FAR_PAST}  # latest displacement candle per side
        self.last_event: Event | None = None  # displacement of the previous candle (for _with_fvg)
        self.last_end: dict[int, int] = {1: -1, -1: -1}  # e: last candle of the previous leg per side
        self.run: dict[int, int] = {1: 0, -1: 0}  # consecutive candles of each direction ending here
        self.recent: deque[tuple[float, float]] = deque(maxlen=max(params.max_leg, 1))  # (body, ATR[k-1])

    def step(self, hist: History, i: int, t: int, o: float, h: float, lo: float, c: float, atr_prev: float,
             fvg_formed: ZoneState | None, factory: EventFactory, out: list[Event]) -> None:
        """Candle i (values passed by the engine, which appended it to ``hist``)."""
        previous = self.last_event
        if previous is not None:
            if fvg_formed is not None and fvg_formed.anchor_index == i - 1 \
                    and fvg_formed.direction == previous.direction:
                out.append(factory.make("displacement_with_fvg", previous.direction, "-", i - 1,
                                        previous.anchor_time, self.phash,
                                        fields={"parent_id": previous.id, "fvg_id": fvg_formed.id}))
            self.last_event = None
        p = self.p
        direction = 1 if c > o else -1 if c < o else 0
        body = abs(c - o)
        # §9: never while ATR[i−1] is undefined (even with k_body = 0); atr_prev == atr_prev: not NaN
        if direction != 0 and atr_prev == atr_prev and body / (h - lo) >= p.min_body_ratio \
                and body >= p.k_body * atr_prev:
            event = factory.make("displacement", direction, "-", i, t, self.phash, top=h, bottom=lo,
                                 fields={"body": body, "atr": atr_prev})
            out.append(event)
            self.last_event = event
            self.last_index[direction] = i
        # displacement legs
        run = self.run
        recent = self.recent
        recent.append((body, atr_prev))
        if direction == 0:
            run[1] = run[-1] = 0
            return
        length = run[direction] + 1
        run[direction] = length
        run[-direction] = 0
        max_leg = p.max_leg
        if max_leg <= 0:
            return
        # _leg inlined (one call per candle less): smallest qualifying start s in [first, i] wins
        first = max(i - max_leg + 1, self.last_end[direction] + 1, i - length + 1)
        last = len(recent) - 1 - i  # recent[last + k] holds candle k
        k_leg = p.k_leg
        for s in range(first, i + 1):
            atr_before = recent[last + s][1]
            if atr_before != atr_before:  # NaN: ATR undefined before s
                continue
            body_sum = 0.0
            for k in range(s, i + 1):  # summed left to right, as written in §9
                body_sum += recent[last + k][0]
            if k_leg != 0.0 and body_sum < k_leg * atr_before:
                continue
            base = hist.base
            top = max(hist.h[s - base:i - base + 1])
            bottom = min(hist.l[s - base:i - base + 1])
            out.append(factory.make("displacement_leg", direction, "-", s, hist.t[s - base], self.phash, top=top,
                                    bottom=bottom, fields={"length": i - s + 1, "body_sum": body_sum,
                                                           "atr": atr_before}))
            self.last_end[direction] = i
            return
