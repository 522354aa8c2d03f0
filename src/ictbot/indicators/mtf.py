"""Multi-timeframe composition (ict-spec §10) and the snapshot consumed by strategies.

One ``TimeframeEngine`` per (symbol, timeframe). Higher-timeframe (HTF) candles are either delivered
by the candle service (contract: an HTF candle closing at instant T arrives *before* the base candle
closing at T) or, with ``resample_higher=True``, built here from base candles with left-closed,
left-labelled UTC buckets. Either way an HTF candle reaches its engine only once it has closed, so on
every base candle the HTF views contain exactly the HTF events confirmed by then.
"""

from __future__ import annotations

import bisect
import heapq
import math
import pickle
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ictbot.adapters.files.candle_files import CandleFrame
from ictbot.domain.candle import Candle
from ictbot.domain.ict import IctEvent, IndicatorSnapshot, Leg, LiquidityLevel, TimeframeView, Zone
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.core.zones import Zone as CoreZone
from ictbot.indicators.core.zones import ZoneBook
from ictbot.indicators.ict.liquidity import Level
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.stream import TimeframeEngine

DEFAULT_WARMUP = 5_000
DEFAULT_RECENT = 200
DEFAULT_LIQUIDITY = 25


@dataclass(slots=True)
class Bar:
    """A higher-timeframe candle built from base candles (``complete`` = no base candle missing)."""

    open_time: int
    open: float
    high: float
    low: float
    close: float
    count: int
    complete: bool = False


class Resampler:
    """Left-closed, left-labelled UTC buckets of ``target`` from ``base`` candles (§10)."""

    __slots__ = ("bar", "base_ms", "expected", "target")

    def __init__(self, base: Timeframe, target: Timeframe) -> None:
        if not target.is_multiple_of(base) or target == base:
            raise ValueError(f"{target.value} is not a higher multiple of {base.value}")
        self.base_ms = base.ms
        self.target = target
        self.expected = target.ms // base.ms
        self.bar: Bar | None = None

    def add(self, t: int, o: float, h: float, lo: float, c: float) -> list[Bar]:
        """Feed one base candle; return the HTF candles that closed at (or, after a gap, before) its close."""
        closed: list[Bar] = []
        start = self.target.floor(t)
        bar = self.bar
        if bar is not None and bar.open_time != start:
            closed.append(bar)  # data gap over the bucket end: the bucket is closed, incomplete
            bar = None
        if bar is None:
            bar = Bar(start, o, h, lo, c, 1)
        else:
            if h > bar.high:
                bar.high = h
            if lo < bar.low:
                bar.low = lo
            bar.close = c
            bar.count += 1
        if t + self.base_ms >= start + self.target.ms:
            bar.complete = bar.count == self.expected
            closed.append(bar)
            self.bar = None
        else:
            self.bar = bar
        return closed


def resample(frame: CandleFrame, base: Timeframe, target: Timeframe) -> tuple[CandleFrame, list[bool]]:
    """Whole-series resampling (CLI ``--resample``); the last bucket is dropped if it has not closed."""
    sampler = Resampler(base, target)
    bars: list[Bar] = []
    for t, o, h, lo, c in zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(),
                              frame.low.tolist(), frame.close.tolist(), strict=True):
        bars.extend(sampler.add(t, o, h, lo, c))
    import numpy as np

    out = CandleFrame(
        np.array([b.open_time for b in bars], dtype=np.int64), np.array([b.open for b in bars], dtype=np.float64),
        np.array([b.high for b in bars], dtype=np.float64), np.array([b.low for b in bars], dtype=np.float64),
        np.array([b.close for b in bars], dtype=np.float64), np.zeros(len(bars), dtype=np.float64), frame.sources,
    )
    return out, [b.complete for b in bars]


class BaseTracker:
    """Tracks higher-timeframe zones on base candles from the base candle after their HTF close (§10).

    Bullish zones wait for price to come down (``l <= top`` = touched, then ``c < bottom`` = closed
    through), bearish zones mirror; one heap per side keyed by the next threshold, as in ``ZoneBook``.
    """

    __slots__ = ("_down", "_seq", "_up", "pending")

    def __init__(self) -> None:
        self._down: list[tuple[float, int, CoreZone]] = []
        self._up: list[tuple[float, int, CoreZone]] = []
        self._seq = 0
        self.pending: list[CoreZone] = []  # created at the current base candle, tracked from the next one

    def _push(self, zone: CoreZone) -> None:
        self._seq += 1
        up = zone.direction > 0
        untouched = zone.base_touch == 0  # next rule: touch (near edge), then close through (far edge)
        key = (zone.top if up else zone.bottom) if untouched else (zone.bottom if up else zone.top)
        if up:
            heapq.heappush(self._down, (-key, self._seq, zone))
        else:
            heapq.heappush(self._up, (key, self._seq, zone))

    def start_pending(self) -> None:
        for zone in self.pending:
            self._push(zone)
        self.pending = []

    def test(self, close_time: int, h: float, lo: float, c: float) -> list[CoreZone]:
        changed: list[CoreZone] = []
        popped: list[CoreZone] = []
        down = self._down
        while down and -down[0][0] >= lo:
            popped.append(heapq.heappop(down)[2])
        up = self._up
        while up and up[0][0] <= h:
            popped.append(heapq.heappop(up)[2])
        for zone in popped:
            if not zone.alive or zone.base_break:
                continue
            before = (zone.base_touch, zone.base_break)
            bullish = zone.direction > 0
            if zone.base_touch == 0 and (lo <= zone.top if bullish else h >= zone.bottom):
                zone.base_touch = close_time
            if zone.base_touch and (c < zone.bottom if bullish else c > zone.top):
                zone.base_break = close_time
            if (zone.base_touch, zone.base_break) != before:
                zone.changes += 1
                changed.append(zone)
            if not zone.base_break:
                self._push(zone)
        return changed


class _TimeframeState:
    """Engine of one timeframe plus what its view needs (recent events, mirrored zones and levels)."""

    __slots__ = ("engine", "levels", "limit", "nearest", "new", "recent", "resampler", "tracker", "tuples", "view",
                 "zones")

    def __init__(self, engine: TimeframeEngine, recent: int, resampler: Resampler | None,
                 liquidity_limit: int | None = None) -> None:
        self.engine = engine
        self.recent: deque[IctEvent] = deque(maxlen=recent)
        self.new: tuple[IctEvent, ...] = ()
        self.resampler = resampler
        self.view: TimeframeView | None = None
        # read-only copies of the live zones / levels, updated from the books' journals
        self.zones: dict[str, dict[CoreZone, Zone]] = {"fvg": {}, "ifvg": {}, "ob": {}, "breaker": {}}
        # untaken levels per side sorted nearest-first (buy-side ascending, sell-side descending); buy-side
        # levels are never below any later high and sell-side never above any later low, so "nearest to
        # price" is simply the head of each list
        self.levels: dict[Level, tuple[float, int]] = {}
        self.nearest: dict[int, list[tuple[float, int, LiquidityLevel]]] = {1: [], -1: []}
        self.limit = liquidity_limit
        self.tuples: dict[str, tuple[object, ...]] = {}
        self.tracker = BaseTracker()
        engine.fvg.book.journal = []
        for _, _, blocks in engine.streams:
            blocks.book.journal = []
        engine.liquidity.journal = []

    def books(self) -> list[ZoneBook]:
        return [self.engine.fvg.book] + [blocks.book for _, _, blocks in self.engine.streams]

    def step(self, t: int, o: float, h: float, lo: float, c: float, track: bool = False,
             base_index: int | None = None) -> None:
        """``base_index``: for an HTF candle, the base candle j(k) at whose close it becomes visible (§10)."""
        engine = self.engine
        books = self.books() if track else []
        marks = [len(book.journal or ()) for book in books]
        events = engine.step(t, o, h, lo, c)
        if track:  # zones this HTF candle created start being tracked on base candles (§10)
            index = engine.index
            for book, mark in zip(books, marks, strict=True):
                journal = book.journal or []
                self.tracker.pending.extend(z for z in journal[mark:] if z.alive and z.confirm_index == index
                                            and z.changes == 0 and z.base_touch == 0)
        if events:
            converted = tuple(e.to_ict() for e in events)
            if base_index is not None:
                for event in converted:  # extra is the event's own fresh dict
                    event.extra["base_confirm_index"] = base_index  # type: ignore[index]
            self.recent.extend(converted)
            self.new = converted
        else:
            self.new = ()
        self.view = None

    def sync(self) -> None:
        engine = self.engine
        tf = engine.timeframe.value
        for book in self.books():
            journal = book.journal
            if not journal:
                continue
            for zone in journal:
                mirror = self.zones[zone.role]
                if zone.alive:
                    mirror[zone] = _zone_view(zone, tf)
                else:
                    mirror.pop(zone, None)
            for role in {zone.role for zone in journal}:
                self.tuples[role] = tuple(self.zones[role].values())
            journal.clear()
        journal_levels = engine.liquidity.journal
        if journal_levels:
            for level in journal_levels:
                old = self.levels.pop(level, None)
                side = self.nearest[level.side]
                if old is not None:
                    at = bisect.bisect_left(side, old, key=_sort_key)
                    del side[at]
                if level.alive:
                    key = (level.level if level.side > 0 else -level.level, level.key[3])
                    self.levels[level] = key
                    bisect.insort(side, (*key, _level(level, tf)), key=_sort_key)
            journal_levels.clear()
            limit = self.limit
            buys, sells = self.nearest[1], self.nearest[-1]
            if limit is None:
                self.tuples["liquidity"] = tuple(e[2] for e in (*buys, *sells))
            else:
                self.tuples["liquidity"] = tuple(e[2] for e in (*buys[:limit], *sells[:limit]))

    def part(self, name: str) -> tuple[object, ...]:
        return self.tuples.get(name, ())


class _SymbolState:
    __slots__ = ("frames", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.frames: dict[Timeframe, _TimeframeState] = {}


class MultiTimeframeEngine:
    """Per-symbol, per-timeframe indicator state; ``on_candle`` returns a snapshot on base closes."""

    def __init__(self, base_timeframe: Timeframe | str, higher_timeframes: Sequence[Timeframe | str] = (),
                 params: IndicatorParams | Mapping[Timeframe, IndicatorParams] | None = None, *,
                 resample_higher: bool = False, recent_limit: int = DEFAULT_RECENT,
                 liquidity_limit: int | None = DEFAULT_LIQUIDITY) -> None:
        self.base = Timeframe.parse(base_timeframe) if isinstance(base_timeframe, str) else base_timeframe
        higher = [Timeframe.parse(tf) if isinstance(tf, str) else tf for tf in higher_timeframes]
        for tf in higher:
            if tf.ms <= self.base.ms:
                raise ValueError(f"higher timeframe {tf.value} is not above the base {self.base.value}")
        self.higher = tuple(sorted(set(higher), key=lambda tf: tf.ms))
        self.params = params
        self.resample_higher = resample_higher
        self.recent_limit = recent_limit
        self.liquidity_limit = liquidity_limit  # nearest untaken levels per side in a view (None = all)
        self._symbols: dict[str, _SymbolState] = {}

    # ---- configuration ------------------------------------------------------------------------------

    @property
    def timeframes(self) -> tuple[Timeframe, ...]:
        return (self.base, *self.higher)

    def params_for(self, timeframe: Timeframe) -> IndicatorParams:
        if self.params is None:
            return IndicatorParams()
        if isinstance(self.params, IndicatorParams):
            return self.params
        return self.params.get(timeframe) or IndicatorParams()

    def _state(self, symbol: str) -> _SymbolState:
        state = self._symbols.get(symbol)
        if state is None:
            state = _SymbolState(symbol)
            for tf in self.timeframes:
                sampler = Resampler(self.base, tf) if self.resample_higher and tf != self.base else None
                state.frames[tf] = _TimeframeState(TimeframeEngine(tf, self.params_for(tf)), self.recent_limit,
                                                   sampler, self.liquidity_limit)
            self._symbols[symbol] = state
        return state

    def engine(self, symbol: str, timeframe: Timeframe) -> TimeframeEngine:
        return self._state(symbol).frames[timeframe].engine

    def is_warm(self, symbol: str) -> bool:
        """True once every timeframe of ``symbol`` has seen enough candles for its look-back windows."""
        state = self._symbols.get(symbol)
        return state is not None and all(frame.engine.is_warm for frame in state.frames.values())

    # ---- feeding --------------------------------------------------------------------------------------

    def on_candle(self, candle: Candle) -> IndicatorSnapshot | None:
        """Feed one closed candle. Returns the snapshot when it is a base candle, else None.

        Open (unfinished) candles, unknown timeframes and candles not after the last one of their
        (symbol, timeframe) are ignored (redeliveries are harmless).
        """
        if not candle.closed:
            return None
        if self._feed(candle.symbol, candle.timeframe, candle.open_time, float(candle.open), float(candle.high),
                      float(candle.low), float(candle.close)):
            return self.snapshot(candle.symbol)
        return None

    def on_values(self, symbol: str, timeframe: Timeframe, t: int, o: float, h: float, lo: float,
                  c: float) -> IndicatorSnapshot | None:
        """``on_candle`` for float inputs (backtests that hold numpy columns)."""
        if self._feed(symbol, timeframe, t, o, h, lo, c):
            return self.snapshot(symbol)
        return None

    def _feed(self, symbol: str, timeframe: Timeframe, t: int, o: float, h: float, lo: float, c: float) -> bool:
        state = self._state(symbol)
        frame = state.frames.get(timeframe)
        if frame is None:
            return False
        last = frame.engine.last_time
        if last is not None and t <= last:
            return False
        if timeframe != self.base:
            if frame.resampler is None:
                base_engine = state.frames[self.base].engine
                frame.step(t, o, h, lo, c, track=True, base_index=base_engine.index + 1)
            return False
        close_time = t + self.base.ms
        for tf in self.higher:
            htf = state.frames[tf]
            changed = htf.tracker.test(close_time, h, lo, c)
            if changed:
                for zone in changed:
                    (htf.engine.fvg.book if zone.role in ("fvg", "ifvg") else _book_of(htf, zone)).note(zone)
                htf.view = None
            if htf.resampler is not None:
                for bar in htf.resampler.add(t, o, h, lo, c):
                    htf.step(bar.open_time, bar.open, bar.high, bar.low, bar.close, track=True,
                             base_index=frame.engine.index + 1)
            htf.tracker.start_pending()
        frame.step(t, o, h, lo, c)
        return True

    def warm_up(self, symbol: str, timeframe: Timeframe, candles: CandleFrame | Iterable[Candle],
                limit: int | None = DEFAULT_WARMUP) -> int:
        """Fold history into the engines without building snapshots; returns the candles used.

        With ``resample_higher`` warming the base timeframe also builds the higher ones. ``limit`` keeps
        only the most recent candles (default 5 000, §11).
        """
        if isinstance(candles, CandleFrame):
            frame = candles if limit is None or len(candles) <= limit else candles.slice(len(candles) - limit,
                                                                                         len(candles))
            rows = list(zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(),
                            frame.low.tolist(), frame.close.tolist(), strict=True))
        else:
            items = [c for c in candles if c.closed]
            if limit is not None:
                items = items[-limit:]
            rows = [(c.open_time, float(c.open), float(c.high), float(c.low), float(c.close)) for c in items]
        state = self._state(symbol)
        for k, (t, o, h, lo, c) in enumerate(rows):
            self._feed(symbol, timeframe, t, o, h, lo, c)
            if k % 256 == 255:  # no snapshots are built here: consume the change journals now and then
                for frame_state in state.frames.values():
                    frame_state.sync()
        for frame_state in state.frames.values():
            frame_state.sync()
        return len(rows)

    # ---- snapshot ---------------------------------------------------------------------------------------

    def snapshot(self, symbol: str) -> IndicatorSnapshot | None:
        state = self._symbols.get(symbol)
        if state is None:
            return None
        base = state.frames[self.base]
        if base.engine.last_time is None:
            return None
        views = {tf.value: self._view(frame) for tf, frame in state.frames.items()
                 if frame.engine.last_time is not None}
        return IndicatorSnapshot(symbol, base.engine.last_time + self.base.ms, self.base.value, views,
                                 base.engine.sessions.active)

    def _view(self, frame: _TimeframeState) -> TimeframeView:
        if frame.view is not None:
            return frame.view
        engine = frame.engine
        tf = engine.timeframe.value
        frame.sync()
        pd = engine.premium_discount
        leg = None
        current = pd.leg
        if current is not None:
            cached = frame.tuples.get("leg")
            if cached and isinstance(cached[0], Leg) and cached[0].id == current.id and cached[0].b == current.b:
                leg = cached[0]
            else:
                p = engine.params.premium_discount
                top, bottom, sweet = current.ote(p.ote_low, p.ote_high, p.sweet_spot)
                leg = Leg(current.id, current.direction, tf, current.a, current.b, current.a_time, current.b_time,
                          top, bottom, sweet)
                frame.tuples["leg"] = (leg,)
        trend = swing_trend = 0
        for _, structure, _ in engine.streams:
            if structure.name == "internal":
                trend = structure.trend
            else:
                swing_trend = structure.trend
        atr = engine.atr_value
        assert engine.last_time is not None
        view = TimeframeView(
            timeframe=tf, last_close_time=engine.last_time + engine.timeframe.ms, close=engine.last_close,
            trend=trend, swing_trend=swing_trend, atr=None if math.isnan(atr) else atr,
            fvgs=frame.part("fvg"), ifvgs=frame.part("ifvg"),  # type: ignore[arg-type]
            order_blocks=frame.part("ob"), breakers=frame.part("breaker"),  # type: ignore[arg-type]
            liquidity=frame.part("liquidity"),  # type: ignore[arg-type]
            recent_events=tuple(frame.recent), leg=leg,
            dealing_range=None if math.isnan(pd.top) else (pd.top, pd.bottom), new_events=frame.new,
        )
        frame.view = view
        return view

    # ---- checkpoint -------------------------------------------------------------------------------------

    def checkpoint(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def restore(blob: bytes) -> MultiTimeframeEngine:
        engine = pickle.loads(blob)
        if not isinstance(engine, MultiTimeframeEngine):
            raise ValueError("not a MultiTimeframeEngine checkpoint")
        return engine


def _book_of(frame: _TimeframeState, zone: CoreZone) -> ZoneBook:
    for _, _, blocks in frame.engine.streams:
        if blocks.name == zone.fields.get("stream"):
            return blocks.book
    return frame.engine.fvg.book


_KIND = {"fvg": "fvg", "ifvg": "ifvg", "ob": "order_block", "breaker": "breaker"}


def _zone_view(zone: CoreZone, tf: str) -> Zone:
    cached = zone.view
    if cached is not None and cached[0] == zone.changes:
        return cached[1]  # type: ignore[no-any-return]
    extra = dict(zone.fields)
    extra["mid_hit"] = zone.mid_hit
    extra["filled"] = zone.filled
    extra["anchor_index"] = zone.anchor_index
    extra["confirm_index"] = zone.confirm_index
    extra["stream"] = zone.fields.get("stream")
    extra["base_touched_time"] = zone.base_touch or None  # §10 finer timing on the base timeframe
    extra["base_closed_through_time"] = zone.base_break or None
    view = Zone(zone.id, _KIND[zone.role], zone.direction, tf, zone.top, zone.bottom, zone.anchor_time,
                zone.confirm_time, zone.touched, extra)
    zone.view = (zone.changes, view)
    return view


def _sort_key(entry: tuple[float, int] | tuple[float, int, LiquidityLevel]) -> tuple[float, int]:
    return entry[0], entry[1]


def _level(level: Level, tf: str) -> LiquidityLevel:
    cached = level.view
    if isinstance(cached, LiquidityLevel) and cached.level == level.level:
        return cached
    side = "high" if level.side > 0 else "low"
    if level.source == "pool" and level.parent_id:
        level_id = level.parent_id
    elif level.parent_id:
        level_id = f"{level.parent_id}:{side}"
    else:
        level_id = f"{tf}:{level.source}:{side}:{level.anchor_time}:{level.confirm_time}"
    view = LiquidityLevel(level_id, level.side, level.level, level.source, tf, level.confirm_time)
    level.view = view
    return view
