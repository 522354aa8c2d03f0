"""Multi-timeframe composition (ict-spec §10) and the snapshot consumed by strategies.

One ``TimeframeEngine`` per (symbol, timeframe). Higher-timeframe (HTF) candles are either delivered
by the candle service (contract: an HTF candle closing at instant T arrives *before* the base candle
closing at T) or, with ``resample_higher=True``, built here from base candles with left-closed,
left-labelled UTC buckets. Either way an HTF candle reaches its engine only once it has closed, so on
every base candle the HTF views contain exactly the HTF events confirmed by then.
"""

from __future__ import annotations

import pickle
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ictbot.domain.candle import Candle
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.ict import IndicatorSnapshot, Leg, TimeframeView
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.frames import TimeframeState, book_of
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.resampling import Resampler
from ictbot.indicators.stream import TimeframeEngine

DEFAULT_WARMUP = 5_000
DEFAULT_RECENT = 200
DEFAULT_LIQUIDITY = 25


class _SymbolState:
    __slots__ = ("base", "fed", "frames", "higher", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.frames: dict[Timeframe, TimeframeState] = {}
        self.fed = 0  # base candles fed (periodic journal consumption while nobody reads views)
        # the same frames without dict lookups (a ``Timeframe`` hashes through a Python-level ``Enum.__hash__``)
        self.base: TimeframeState | None = None
        self.higher: list[TimeframeState] = []  # ascending, as ``MultiTimeframeEngine.higher``


class _LazyViews(Mapping[str, TimeframeView]):
    """The views of one snapshot, each built on first access.

    Valid by construction: the engine builds the unread ones (``settle``) before it changes any state
    of the symbol if the snapshot is still referenced, so a view always shows the state at the
    snapshot's time. Which timeframes have a view is known without building any: ``in``, ``len`` and
    iteration are free (a strategy runner asks ``tf in views`` on every candle), snapshots dropped
    unread cost no view building at all, and a strategy that reads two views pays for two. Pickles as
    a plain dict.
    """

    __slots__ = ("__weakref__", "_frames", "_owner", "_state", "_views")

    def __init__(self, owner: MultiTimeframeEngine, state: _SymbolState) -> None:
        self._owner: MultiTimeframeEngine | None = owner
        self._state: _SymbolState | None = state
        self._frames: dict[str, TimeframeState] | None = None
        self._views: dict[str, TimeframeView] = {}

    def _with_view(self) -> dict[str, TimeframeState]:
        """The frames that have a view (a closed candle), in the engine's timeframe order."""
        frames = self._frames
        if frames is None:
            assert self._state is not None
            frames = {frame.tf_name: frame for frame in self._state.frames.values()
                      if frame.engine.last_time is not None}
            self._frames = frames
        return frames

    def built(self) -> dict[str, TimeframeView]:
        """Every view, the unread ones built now."""
        owner = self._owner
        if owner is not None:
            frames = self._with_view()
            read = self._views
            self._views = {name: read.get(name) or owner.view_of(frame) for name, frame in frames.items()}
            self._owner = self._state = None
        return self._views

    def __getitem__(self, key: str) -> TimeframeView:
        view = self._views.get(key)
        if view is None:
            owner = self._owner
            if owner is None:
                raise KeyError(key)
            view = owner.view_of(self._with_view()[key])  # KeyError: no view for that timeframe
            self._views[key] = view
        return view

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self:
            return default
        return self[key]

    def __contains__(self, key: object) -> bool:
        return key in self._views if self._owner is None else key in self._with_view()

    def __iter__(self) -> Iterator[str]:
        return iter(self._views if self._owner is None else self._with_view())

    def __len__(self) -> int:
        return len(self._views if self._owner is None else self._with_view())

    def __repr__(self) -> str:
        return repr(self.built())

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (self.built(),)


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
        self._base_ms = self.base.ms  # enum properties are slow: read once
        self._base_name = self.base.value
        # per symbol: the views of its latest snapshot while they may still be read unbuilt
        self._pending: dict[str, weakref.ref[_LazyViews]] = {}

    def __getstate__(self) -> dict[str, Any]:
        for symbol in list(self._pending):
            self._settle(symbol)
        state = dict(self.__dict__)
        state["_pending"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

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
                state.frames[tf] = TimeframeState(TimeframeEngine(tf, self.params_for(tf)), self.recent_limit,
                                                   sampler, self.liquidity_limit)
            state.base = state.frames[self.base]
            state.higher = [state.frames[tf] for tf in self.higher]
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

    def _settle(self, symbol: str) -> None:
        """Build the views of the symbol's latest snapshot if it is still referenced and unread."""
        ref = self._pending.pop(symbol, None)
        if ref is not None:
            views = ref()
            if views is not None:
                views.built()

    def _feed(self, symbol: str, timeframe: Timeframe, t: int, o: float, h: float, lo: float, c: float) -> bool:
        pending = self._pending
        if pending:
            ref = pending.pop(symbol, None)  # ``_settle``, inlined
            if ref is not None:
                views = ref()
                if views is not None:
                    views.built()
        state = self._symbols.get(symbol) or self._state(symbol)
        base = timeframe is self.base
        frame = state.base if base else state.frames.get(timeframe)
        if frame is None:
            return False
        last = frame.engine.last_time
        if last is not None and t <= last:
            return False
        if not base:
            if frame.resampler is None:
                base_frame = state.base
                assert base_frame is not None
                frame.step(t, o, h, lo, c, track=True, base_index=base_frame.engine.index + 1)
            return False
        if state.higher:
            close_time = t + self._base_ms
            for htf in state.higher:
                tracker = htf.tracker
                down, up = tracker.down, tracker.up
                if (down and -down[0][0] >= lo) or (up and up[0][0] <= h):  # as ``test`` reads the heads
                    changed = tracker.test(close_time, h, lo, c)
                    if changed:
                        for zone in changed:
                            (htf.engine.fvg.book if zone.role in ("fvg", "ifvg") else book_of(htf, zone)).note(zone)
                        htf.view = None
                sampler = htf.resampler
                if sampler is not None:
                    for bar in sampler.add(t, o, h, lo, c):
                        htf.step(bar.open_time, bar.open, bar.high, bar.low, bar.close, track=True,
                                 base_index=frame.engine.index + 1)
                if tracker.pending:
                    tracker.start_pending()
        frame.step(t, o, h, lo, c)
        state.fed += 1
        if not state.fed & 255:  # views unread for long: consume the change journals now and then
            for frame_state in state.frames.values():
                frame_state.sync()
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
        """The symbol's current snapshot; its views are built when first read (see ``_LazyViews``)."""
        state = self._symbols.get(symbol)
        if state is None:
            return None
        base = state.base
        assert base is not None
        last_time = base.engine.last_time
        if last_time is None:
            return None
        ref = self._pending.get(symbol)
        views = ref() if ref is not None else None
        if views is None:
            views = _LazyViews(self, state)
            self._pending[symbol] = weakref.ref(views)
        return IndicatorSnapshot(symbol, last_time + self._base_ms, self._base_name, views,
                                 base.engine.sessions.active)

    def view_of(self, frame: TimeframeState) -> TimeframeView:
        """The current view of one timeframe (cached on the frame until it changes)."""
        return frame.view if frame.view is not None else self._view(frame)

    def _view(self, frame: TimeframeState) -> TimeframeView:
        if frame.view is not None:
            return frame.view
        engine = frame.engine
        tf = frame.tf_name
        frame.sync()
        if frame.raw:
            frame.convert()
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
                leg = Leg(current.id, current.direction, tf, current.a, current.b, current.a_time,
                          current.b_time, top, bottom, sweet)
                frame.tuples["leg"] = (leg,)
        trend = swing_trend = 0
        for _, structure, _ in engine.streams:
            if structure.name == "internal":
                trend = structure.trend
            else:
                swing_trend = structure.trend
        atr = engine.atr_value
        assert engine.last_time is not None
        parts: Mapping[str, tuple[Any, ...]] = frame.tuples  # each kind's tuple holds records of that kind
        view = TimeframeView(tf, engine.last_time + frame.tf_ms, engine.last_close, trend, swing_trend,
                             None if atr != atr else atr, parts.get("fvg", ()), parts.get("ifvg", ()),  # NaN test
                             parts.get("ob", ()), parts.get("breaker", ()), parts.get("liquidity", ()),
                             frame.recent_view, leg, None if pd.top != pd.top else (pd.top, pd.bottom), frame.new or ())
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
