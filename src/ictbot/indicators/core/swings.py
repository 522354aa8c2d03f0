"""Fractal pivots (ict-spec §1): strict left, non-strict right; the alternating stream with labels."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ictbot.indicators.core.history import History
from ictbot.indicators.events import Event, EventFactory


def pivot_flags(hs: list[float], ls: list[float], b: int, left: int, right: int) -> tuple[bool, bool]:
    """(pivot high, pivot low) of the candle at list position b of the history lists, judged ``right``
    candles later (strict left, non-strict right); the caller checks that it has ``left`` candles before it."""
    hp = hs[b]
    lp = ls[b]
    # cheap neighbour checks first: most candles fail them, so the window maxima are rarely computed
    is_high = hp > hs[b - 1] and hp >= hs[b + 1] and hp >= max(hs[b + 1:b + right + 1]) \
        and hp > max(hs[b - left:b])
    is_low = lp < ls[b - 1] and lp <= ls[b + 1] and lp <= min(ls[b + 1:b + right + 1]) \
        and lp < min(ls[b - left:b])
    return is_high, is_low


def pivots(h: npt.NDArray[np.float64], lo: npt.NDArray[np.float64], left: int,
           right: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Vectorised batch pivots (fast path; tested against the streaming fold).

    Returns boolean arrays indexed by the pivot (anchor) candle.
    """
    n = h.shape[0]
    is_high = np.zeros(n, dtype=np.bool_)
    is_low = np.zeros(n, dtype=np.bool_)
    if n < left + right + 1:
        return is_high, is_low
    win_h = np.lib.stride_tricks.sliding_window_view(h, left + right + 1)
    win_l = np.lib.stride_tricks.sliding_window_view(lo, left + right + 1)
    mid_h = win_h[:, left]
    mid_l = win_l[:, left]
    high_ok = (mid_h > win_h[:, :left].max(axis=1)) & (mid_h >= win_h[:, left + 1:].max(axis=1))
    low_ok = (mid_l < win_l[:, :left].min(axis=1)) & (mid_l <= win_l[:, left + 1:].min(axis=1))
    is_high[left:n - right] = high_ok
    is_low[left:n - right] = low_ok
    return is_high, is_low


class Pivot:
    """An accepted pivot of an alternating stream (or a raw pivot being processed)."""

    __slots__ = ("anchor", "anchor_time", "confirm", "direction", "id", "level")

    def __init__(self, direction: int, level: float, anchor: int, anchor_time: int, confirm: int,
                 event_id: str | None) -> None:
        self.direction = direction
        self.level = level
        self.anchor = anchor
        self.anchor_time = anchor_time
        self.confirm = confirm
        self.id = event_id


def _label(direction: int, level: float, previous: Pivot | None) -> str | None:
    if previous is None:
        return None
    if level == previous.level:
        return "EH" if direction > 0 else "EL"
    if direction > 0:
        return "HH" if level > previous.level else "LH"
    return "LL" if level < previous.level else "HL"


class SwingStream:
    """A logged alternating swing stream (``internal`` / ``swing``): events + accepted pivots."""

    __slots__ = ("high", "last_type", "left", "low", "name", "phash", "prev_high", "prev_low", "right")

    def __init__(self, name: str, left: int, right: int, phash: str) -> None:
        self.name = name
        self.left = left
        self.right = right
        self.phash = phash
        self.last_type = 0
        self.high: Pivot | None = None
        self.low: Pivot | None = None
        self.prev_high: Pivot | None = None
        self.prev_low: Pivot | None = None

    def process(self, hist: History, i: int, is_high: bool, is_low: bool, factory: EventFactory,
                out: list[Event]) -> list[Pivot]:
        """Log swing events of the pivots at i − R (judged by the engine, at least one is set) into ``out``;
        return the accepted pivots."""
        p = i - self.right
        b = p - hist.base
        order: tuple[int, ...]
        if is_high and is_low:
            order = (-1, 1) if self.last_type == 1 else (1, -1)
        elif is_high:
            order = (1,)
        else:
            order = (-1,)
        accepted: list[Pivot] = []
        for direction in order:
            level = hist.h[b] if direction > 0 else hist.l[b]
            pivot = self._accept(direction, level, p, hist.t[b], i, factory, out)
            if pivot is not None:
                accepted.append(pivot)
        return accepted

    def _accept(self, direction: int, level: float, p: int, t: int, i: int, factory: EventFactory,
                out: list[Event]) -> Pivot | None:
        kind = "swing_high" if direction > 0 else "swing_low"
        current = self.high if direction > 0 else self.low
        if self.last_type != direction:
            label = _label(direction, level, current)
            event = factory.make(kind, direction, self.name, p, t, self.phash, level=level,
                                 fields={"level": level, "stream": self.name, "accepted": True, "label": label})
            out.append(event)
            pivot = Pivot(direction, level, p, t, i, event.id)
            if direction > 0:
                self.prev_high, self.high = current, pivot
            else:
                self.prev_low, self.low = current, pivot
            self.last_type = direction
            return pivot
        assert current is not None
        better = level > current.level if direction > 0 else level < current.level
        if not better:
            out.append(factory.make(kind, direction, self.name, p, t, self.phash, level=level,
                                    fields={"level": level, "stream": self.name, "accepted": False,
                                            "label": None}))
            return None
        previous = self.prev_high if direction > 0 else self.prev_low
        label = _label(direction, level, previous)
        event = factory.make(kind, direction, self.name, p, t, self.phash, level=level,
                             fields={"level": level, "stream": self.name, "accepted": True, "label": label})
        out.append(event)
        out.append(factory.make("swing_superseded", direction, self.name, p, t, self.phash, level=level,
                                fields={"level": level, "stream": self.name, "old_id": current.id,
                                        "new_id": event.id}))
        pivot = Pivot(direction, level, p, t, i, event.id)
        if direction > 0:
            self.high = pivot
        else:
            self.low = pivot
        return pivot
