"""Streaming engine of one timeframe (ict-spec §11): every indicator stepped once per closed candle.

``TimeframeEngine.step`` is the only code path: batch results (``ictbot.indicators.suite``) are the fold
of ``step`` over a series, so streaming and batch cannot diverge. The whole engine is plain Python
objects and pickles, so a live process can checkpoint after every candle and resume.
"""

from __future__ import annotations

import math
import pickle

from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.core.atr import AtrState
from ictbot.indicators.core.history import History
from ictbot.indicators.core.swings import Pivot, SwingStream, pivot_flags
from ictbot.indicators.events import Event, EventFactory
from ictbot.indicators.ict.displacement import DisplacementIndicator
from ictbot.indicators.ict.fvg import FvgIndicator
from ictbot.indicators.ict.liquidity import LiquidityIndicator
from ictbot.indicators.ict.order_blocks import OrderBlockIndicator
from ictbot.indicators.ict.premium_discount import PremiumDiscountIndicator
from ictbot.indicators.ict.previous_period import PeriodLevel, PreviousPeriodIndicator
from ictbot.indicators.ict.sessions import SessionIndicator, SessionLevel
from ictbot.indicators.ict.structure import StructureStream
from ictbot.indicators.params import IndicatorParams, params_hash

_CHECKPOINT_VERSION = 3  # 2: LiquidityIndicator.track_taken; 3: far liquidity levels packed
_NO_PIVOT = (False, False)
_NO_PIVOTS: list[Pivot] = []  # shared empty results: callers only iterate them
_NO_PERIODS: list[PeriodLevel] = []
_NO_SESSIONS: list[SessionLevel] = []


class OutOfOrderCandle(ValueError):
    """A candle whose open time is not after the previous one (ict-spec §0: an input error)."""


class TimeframeEngine:
    """All indicators of one (symbol, timeframe); ``step`` returns the events confirmed at that candle."""

    def __init__(self, timeframe: Timeframe | str, params: IndicatorParams | None = None) -> None:
        self.timeframe = Timeframe.parse(timeframe) if isinstance(timeframe, str) else timeframe
        self.params = params or IndicatorParams()
        p = self.params
        tf = self.timeframe
        self.factory = EventFactory(tf.value, tf.ms)
        s = p.structure
        widths = [p.liquidity.left + p.liquidity.right + 1]
        widths += [sp.left + sp.right + 1 for sp in (s.stream_params(n) for n in s.streams)]
        self.history = History(max(widths) + max(p.displacement.max_leg, 3) + 2)
        self.atr = AtrState(p.atr.length)
        self.warm_after = max([p.atr.length, *widths])
        self.fvg = FvgIndicator(p.fvg, params_hash(p.fvg, p.atr, p.displacement))
        self.displacement = DisplacementIndicator(p.displacement, params_hash(p.displacement, p.atr))
        self.previous = PreviousPeriodIndicator(p.previous_period, params_hash(p.previous_period))
        self.sessions = SessionIndicator(p.sessions, tf.ms, params_hash(p.sessions))
        self.liquidity = LiquidityIndicator(p.liquidity, params_hash(p.liquidity, p.atr, p.previous_period,
                                                                     p.sessions),
                                            track_taken=s.require_sweep or p.order_blocks.breaker_requires_mss)
        structure_hash = params_hash(s, p.atr, p.displacement)
        self.streams: list[tuple[SwingStream, StructureStream, OrderBlockIndicator]] = []
        for name in ("internal", "swing"):
            if name not in s.streams:
                continue
            sp = s.stream_params(name)
            swing = SwingStream(name, sp.left, sp.right, params_hash(sp))
            structure = StructureStream(name, s.break_source == "wick", s.require_sweep, structure_hash)
            blocks = OrderBlockIndicator(name, p.order_blocks, params_hash(p.order_blocks, s, p.fvg, p.displacement))
            self.streams.append((swing, structure, blocks))
        self.premium_discount = PremiumDiscountIndicator(p.premium_discount,
                                                         params_hash(p.premium_discount, s))
        self.pd_stream = p.premium_discount.pd_stream
        # the per-candle plan of ``step``: each swing stream with the position of its (left, right) in
        # ``windows`` (streams and liquidity sharing a window judge a candle's pivots once) and whether the
        # dealing range follows it
        self.windows: list[tuple[int, int]] = [(p.liquidity.left, p.liquidity.right)]
        self.plan: list[tuple[SwingStream, StructureStream, OrderBlockIndicator, int, bool]] = []
        for swing, structure, blocks in self.streams:
            window = (swing.left, swing.right)
            if window not in self.windows:
                self.windows.append(window)
            self.plan.append((swing, structure, blocks, self.windows.index(window), swing.name == self.pd_stream))
        self.index = -1
        self.last_time: int | None = None
        self.last_close = math.nan
        self.atr_value = math.nan
        self.new_events: list[Event] = []

    # ---- stepping ---------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self.index + 1

    @property
    def is_warm(self) -> bool:
        """True once enough candles were seen for every look-back window (ATR n, L + R + 1)."""
        return self.index + 1 >= self.warm_after

    def step(self, t: int, o: float, h: float, lo: float, c: float) -> list[Event]:
        """Fold one closed candle into every rule; returns the events it made known, in the canonical
        log order (§0). Runs once per candle per timeframe: the helpers keep their fast paths inline."""
        i, b, atr_prev, atr_now = self._take(t, o, h, lo, c)
        hist = self.history
        factory = self.factory
        disp = self.displacement
        fvg = self.fvg
        # one list per section, concatenated in the canonical log order (§0) at the end
        s3: list[Event] = []
        last_disp = disp.last_index
        fvg.step(hist, i, h, lo, c, atr_now, 1 if last_disp[1] == i - 1 else -1 if last_disp[-1] == i - 1 else 0,
                 factory, s3)
        s9: list[Event] = []
        disp.step(hist, i, t, o, h, lo, c, atr_prev, fvg.formed, factory, s9)
        s7: list[Event] = []
        s8: list[Event] = []
        periods, levels = self._step_calendar(i, t, o, h, lo, s7, s8)
        # fractal pivots at i − right, once per distinct (left, right)
        hs, ls = hist.h, hist.l
        flags: list[tuple[bool, bool]] = []
        for left, right in self.windows:
            flags.append(pivot_flags(hs, ls, b - right, left, right) if i - right >= left else _NO_PIVOT)
        s5: list[Event] = []
        is_high, is_low = flags[0]
        self.liquidity.step(hist, i, t, h, lo, c, atr_now, periods, levels, is_high, is_low, factory, s5)
        s1: list[Event] = []
        s2: list[Event] = []
        s4: list[Event] = []
        s6: list[Event] = []
        self._step_structure(i, t, o, h, lo, c, flags, last_disp, s1, s2, s4, s6)
        if i & 63 == 63:  # amortised memory upkeep of the zone books (no effect on events)
            fvg.book.compact()
            for _, _, blocks in self.streams:
                blocks.book.compact()
        events = s1
        if s2:
            events += s2
        if s3:
            events += s3
        if s4:
            events += s4
        if s5:
            events += s5
        if s6:
            events += s6
        if s7:
            events += s7
        if s8:
            events += s8
        if s9:
            events += s9
        self.new_events = events
        return events

    def _take(self, t: int, o: float, h: float, lo: float, c: float) -> tuple[int, int, float, float]:
        """Take the candle into the history and the ATR; returns its index, its list position in the
        history and the ATR before and after it."""
        last_time = self.last_time
        if last_time is not None and t <= last_time:
            raise OutOfOrderCandle(f"{self.timeframe.value} candle open time {t} is not after {last_time}")
        self.last_time = t
        self.last_close = c
        i = self.index + 1
        self.index = i
        # History.append, inlined (this runs once per candle per timeframe; calls are the main cost)
        hist = self.history
        hs = hist.h
        hist.t.append(t)
        hist.o.append(o)
        hs.append(h)
        hist.l.append(lo)
        hist.c.append(c)
        if len(hs) > 4 * hist.keep:
            hist.append_trim()
        self.factory.begin(i, t)
        atr = self.atr
        atr_prev = atr.value
        if atr.count >= atr.n:  # AtrState.update once seeded, inlined (same expression and order)
            pc = atr.prev_close
            n = atr.n
            atr.prev_close = c
            atr.count += 1
            atr_now = atr.value = (atr_prev * (n - 1) + max(h - lo, abs(h - pc), abs(lo - pc))) / n
        else:
            atr_now = atr.update(h, lo, c)
        self.atr_value = atr_now
        return i, i - hist.base, atr_prev, atr_now

    def _step_calendar(self, i: int, t: int, o: float, h: float, lo: float, s7: list[Event],
                       s8: list[Event]) -> tuple[list[PeriodLevel], list[SessionLevel]]:
        """Previous periods (into ``s7``) and sessions (into ``s8``); returns what liquidity reads of them."""
        factory = self.factory
        previous = self.previous
        if t < previous.next_end:  # fast path of PreviousPeriodIndicator.step: no period rolls
            for period in previous.open_periods:
                if h > period.high:
                    period.high, period.high_index, period.high_time = h, i, t
                if lo < period.low:
                    period.low, period.low_index, period.low_time = lo, i, t
            periods = _NO_PERIODS
        else:
            periods = previous.step(i, t, o, h, lo, factory, s7)
        sessions = self.sessions
        if t + sessions.tf_ms < sessions.next_change:  # fast path of SessionIndicator.step
            for state in sessions.inside:
                if not state.seen:
                    sessions.update(state, i, t, h, lo)
                    continue
                if h > state.high:
                    state.high, state.high_index, state.high_time = h, i, t
                if lo < state.low:
                    state.low, state.low_index, state.low_time = lo, i, t
            sessions.active = sessions.inside_ids
            levels = _NO_SESSIONS
        else:
            levels = sessions.step(i, t, h, lo, factory, s8)
        return periods, levels

    def _step_structure(self, i: int, t: int, o: float, h: float, lo: float, c: float,
                        flags: list[tuple[bool, bool]], last_disp: dict[int, int], s1: list[Event], s2: list[Event],
                        s4: list[Event], s6: list[Event]) -> None:
        """Per swing stream: swings (``s1``), BOS/CHoCH (``s2``), order blocks (``s4``) and, on the
        dealing-range stream, premium/discount (``s6``)."""
        hist = self.history
        factory = self.factory
        taken = self.liquidity.taken
        last_fvg = self.fvg.last_confirm
        accepted: list[Pivot]
        for swing, structure, blocks, window, dealing_range in self.plan:
            is_high, is_low = flags[window]
            accepted = swing.process(hist, i, is_high, is_low, factory, s1) if is_high or is_low else _NO_PIVOTS
            breaks = structure.step(hist, i, t, o, h, lo, c, accepted, last_disp, taken, factory, s2)
            book = blocks.book
            down, up = book.down, book.up
            # OrderBlockIndicator.step has work only on a break, a reached heap head (as its own test reads
            # them), a pending strict breaker, an eviction, or to record the CHoCHs of strict breakers
            if breaks or (down and -down[0][0] >= lo) or (up and up[0][0] <= h) or blocks.pending or book.excess \
                    or blocks.strict:
                blocks.step(i, h, lo, c, breaks, last_disp, last_fvg, factory, s4, taken)
            if dealing_range:
                self.premium_discount.step(hist, i, t, h, lo, c, accepted, breaks, factory, s6)

    # ---- checkpoint -------------------------------------------------------------------------------

    def checkpoint(self) -> bytes:
        """Serialised state; ``TimeframeEngine.restore(blob)`` continues exactly where this one is."""
        return pickle.dumps((_CHECKPOINT_VERSION, self), protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def restore(blob: bytes) -> TimeframeEngine:
        version, engine = pickle.loads(blob)
        if version != _CHECKPOINT_VERSION or not isinstance(engine, TimeframeEngine):
            raise ValueError(f"unsupported indicator checkpoint (version {version!r})")
        return engine
