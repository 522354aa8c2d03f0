"""One timeframe replayed from its kernel events: the non-zone parts of ``TimeframeView``.

Every quantity is read off the event log (or the candles) at the timeframe's candle ``index``, with the
rules of the streaming indicators it mirrors: trend = direction of the stream's latest BOS / CHoCH
(``StructureStream.trend``); the impulse leg and its silent extension (``PremiumDiscountIndicator``);
the dealing range = the pd stream's latest accepted swing pivots widened by the running extremes since
them; recent events = the last ``recent_limit`` rows, new events = the rows of candle ``index``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ictbot.domain.ict import EventWindow, IctEvent, Leg
from ictbot.indicators.ict.premium_discount import ote_band
from ictbot.indicators.kernels.codes import (
    K_BOS,
    K_CHOCH,
    K_IMPULSE_LEG,
    K_LEG_INVALIDATED,
    K_SWING_HIGH,
    K_SWING_LOW,
    KINDS,
    T,
)
from ictbot.indicators.kernels.fvg import atr_series
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.replay.rows import EventRows

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Candles:
    """The candles of one timeframe as columns (open times in ms)."""

    open_time: I64
    open: F64
    high: F64
    low: F64
    close: F64


def _last_at_or_before(confirms: I64, index: int) -> int:
    """Position of the last entry of ascending ``confirms`` that is <= index (−1 if none)."""
    return int(np.searchsorted(confirms, index, side="right")) - 1


class FrameReplay:
    """The event-derived parts of one timeframe's view at any of its candle indexes."""

    def __init__(self, rows: EventRows, candles: Candles, params: IndicatorParams, recent_limit: int,
                 delivery: I64 | None = None) -> None:
        self.rows = rows
        self.candles = candles
        self.params = params
        self.recent_limit = recent_limit
        self.delivery = delivery  # HTF: base index at which each candle is stepped (None: base timeframe)
        self.tf = rows.tf
        self.tf_ms = rows.tf_ms
        self.closes = candles.close.tolist()
        self._records: dict[int, IctEvent] = {}  # row -> its IctEvent, each row converted once
        self._kinds = rows.kind.item
        # confirm time of every row (EventWindow.tail reads it without building the record)
        self.confirm_time: I64 = candles.open_time[rows.confirm] + rows.tf_ms
        self._time_of = self.confirm_time.item
        self.atr = atr_series(candles.high, candles.low, candles.close, int(params.atr.length))
        kind, tag, confirm = rows.kind, rows.tag, rows.confirm
        # row bounds per candle: rows of candle k are [starts[k], starts[k + 1])
        self.starts: I64 = np.searchsorted(confirm, np.arange(len(candles.open_time) + 1), side="left")
        self._trend: dict[str, tuple[I64, I64]] = {}
        for stream in ("internal", "swing"):
            brk = np.flatnonzero(((kind == K_BOS) | (kind == K_CHOCH)) & (tag == T[stream]))
            self._trend[stream] = (confirm[brk], rows.direction[brk])
        pd = params.premium_discount
        self._pd = (float(pd.ote_low), float(pd.ote_high), float(pd.sweet_spot))
        pd_tag = T[pd.pd_stream]
        legs = np.flatnonzero(kind == K_IMPULSE_LEG)
        self._legs = legs
        self._leg_confirm = confirm[legs]
        ended = np.flatnonzero(kind == K_LEG_INVALIDATED)
        # confirm index of each invalidated leg's invalidation, by leg row
        self._leg_end: dict[int, int] = {int(g): int(k) for g, k in zip(rows.ref0[ended].tolist(),
                                                                          confirm[ended].tolist(), strict=True)}
        self._leg_cache: dict[int, tuple[int, float, int, Leg]] = {}  # leg row -> (index, b, b_time, view)
        accepted = rows.b0 == 1
        highs = np.flatnonzero((kind == K_SWING_HIGH) & (tag == pd_tag) & accepted)
        lows = np.flatnonzero((kind == K_SWING_LOW) & (tag == pd_tag) & accepted)
        self._pivots = ((confirm[highs], rows.anchor[highs], rows.level[highs]),
                        (confirm[lows], rows.anchor[lows], rows.level[lows]))

    # ---- per index ------------------------------------------------------------------------------

    def close(self, index: int) -> float:
        return self.closes[index]  # type: ignore[no-any-return]

    def close_time(self, index: int) -> int:
        return int(self.candles.open_time[index]) + self.tf_ms

    def atr_at(self, index: int) -> float | None:
        value = float(self.atr[index])
        return None if math.isnan(value) else value

    def trend(self, index: int, stream: str) -> int:
        confirms, directions = self._trend[stream]
        at = _last_at_or_before(confirms, index)
        return 0 if at < 0 else int(directions[at])

    def trend_series(self, stream: str) -> I64:
        """``trend(k, stream)`` for every candle k of this timeframe."""
        confirms, directions = self._trend[stream]
        if not len(directions):  # no structure break yet (short data): no trend on any candle
            return np.zeros(len(self.closes), dtype=np.int64)
        at = np.searchsorted(confirms, np.arange(len(self.closes)), side="right") - 1
        return np.where(at >= 0, directions[np.maximum(at, 0)], 0).astype(np.int64)

    def _base_index(self, g: int) -> int | None:
        delivery = self.delivery
        return None if delivery is None else int(delivery[int(self.rows.confirm[g])])

    def _ict(self, g: int) -> IctEvent:
        record = self._records.get(g)
        if record is None:
            record = self._records[g] = self.rows.ict(g, self._base_index(g))
        return record

    def recent(self, index: int) -> EventWindow:
        """The last ``recent_limit`` events, converted when read (readers mostly scan the tail only)."""
        end = int(self.starts[index + 1])
        return EventWindow(self._ict, max(0, end - self.recent_limit), end, self._kind_of, self._time_of)

    def new(self, index: int) -> EventWindow:
        return EventWindow(self._ict, int(self.starts[index]), int(self.starts[index + 1]), self._kind_of,
                           self._time_of)

    def _kind_of(self, g: int) -> str:
        return KINDS[self._kinds(g)]

    def leg(self, index: int) -> Leg | None:
        at = _last_at_or_before(self._leg_confirm, index)
        if at < 0:
            return None
        g = int(self._legs[at])
        if self._leg_end.get(g, 1 << 62) <= index:
            return None
        cached = self._leg_cache.get(g)
        rows, candles = self.rows, self.candles
        start = int(rows.confirm[g])
        direction = int(rows.direction[g])
        if cached is None:
            b0 = float(rows.f1[g])
            a_idx = int(rows.anchor[g])
            # the break's extreme candle: the first of [a, start] at that price (structure keeps the
            # earliest of equal extremes)
            span = candles.high[a_idx:start + 1] if direction > 0 else candles.low[a_idx:start + 1]
            b_idx = a_idx + int(np.flatnonzero(span == b0)[0])
            done, b, b_time = start, b0, int(candles.open_time[b_idx])
        else:
            done, b, b_time = cached[0], cached[1], cached[2]
        if index > done:
            # silent extension on the candles after the break (strictly beyond, first one wins)
            span = candles.high[done + 1:index + 1] if direction > 0 else candles.low[done + 1:index + 1]
            k = int(np.argmax(span)) if direction > 0 else int(np.argmin(span))
            if (span[k] > b) if direction > 0 else (span[k] < b):
                b, b_time = float(span[k]), int(candles.open_time[done + 1 + k])
            done = index
        if cached is not None and cached[1] == b:
            view = cached[3]
        else:
            a = float(rows.f0[g])
            top, bottom, spot = ote_band(direction, a, b, *self._pd)  # as the streaming view (ImpulseLeg.ote)
            view = Leg(rows.event_id(g), direction, self.tf, a, b, rows.open_time(int(rows.anchor[g])),
                       b_time, top, bottom, spot)
        self._leg_cache[g] = (done, b, b_time, view)
        return view

    def dealing_range(self, index: int) -> tuple[float, float] | None:
        (hc, ha, hl), (lc, la, ll) = self._pivots
        hi = _last_at_or_before(hc, index)
        li = _last_at_or_before(lc, index)
        if hi < 0 or li < 0:
            return None
        candles = self.candles
        top_run = float(candles.high[int(ha[hi]) + 1:index + 1].max())
        bottom_run = float(candles.low[int(la[li]) + 1:index + 1].min())
        high_level, low_level = float(hl[hi]), float(ll[li])
        top = top_run if top_run > high_level else high_level
        bottom = bottom_run if bottom_run < low_level else low_level
        return top, bottom
