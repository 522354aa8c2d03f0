"""``IndicatorSnapshot``s at chosen base candles, rebuilt from the compiled kernels' event logs.

Equal, view by view, to what ``MultiTimeframeEngine`` returns when fed the same candles as a backtest
feeds it (``backtest.ict.IndicatorSnapshots``: an HTF candle closing at T is stepped just before the base
candle closing at T). Costs the kernels once per timeframe plus the views actually read, instead of the
streaming step on every candle. Snapshots must be asked for at non-decreasing base indexes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ictbot.domain.ict import IndicatorSnapshot, TimeframeView, Zone
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.kernels import compute_columns
from ictbot.indicators.kernels.codes import K
from ictbot.indicators.params import IndicatorParams
from ictbot.indicators.replay.frame import Candles, FrameReplay
from ictbot.indicators.replay.liquidity import LiquidityReplay
from ictbot.indicators.replay.rows import EventRows
from ictbot.indicators.replay.windows import SessionCalendar
from ictbot.indicators.replay.zones import BaseCandles, ZoneReplay

I64 = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_RECENT = 200  # as MultiTimeframeEngine
DEFAULT_LIQUIDITY = 25


class _Timeframe:
    """Everything replayed for one timeframe."""

    def __init__(self, tf: Timeframe, candles: Candles, params: IndicatorParams, recent_limit: int,
                 liquidity_limit: int | None, delivery: I64 | None, base: BaseCandles | None) -> None:
        cols = compute_columns(candles.open_time, candles.open, candles.high, candles.low, candles.close, tf, params)
        self.name = tf.value
        self.rows = EventRows(cols)
        self.frame = FrameReplay(self.rows, candles, params, recent_limit, delivery)
        self.zones = ZoneReplay(self.rows, base)
        self.liquidity = LiquidityReplay(cols, self.rows, liquidity_limit)
        self.delivery = delivery
        self._view: tuple[int, Mapping[str, Sequence[Zone]], TimeframeView] | None = None

    def index_at(self, base_index: int) -> int:
        """This timeframe's last stepped candle once base candle ``base_index`` is processed (−1: none)."""
        if self.delivery is None:
            return base_index
        return int(np.searchsorted(self.delivery, base_index, side="right")) - 1

    def view(self, index: int, base_index: int) -> TimeframeView:
        zones = self.zones.at(index, base_index)
        cached = self._view
        # a higher timeframe's view changes between its candles only through base tracking of its
        # zones, and ``ZoneReplay.at`` returns the same mapping while nothing changed
        if cached is not None and cached[0] == index:
            if cached[1] is zones:
                return cached[2]
            # same candle of this timeframe, zones moved by base tracking: everything else is the same
            v = cached[2]
            view = TimeframeView(v.timeframe, v.last_close_time, v.close, v.trend, v.swing_trend, v.atr, zones["fvg"],
                                 zones["ifvg"], zones["ob"], zones["breaker"], v.liquidity, v.recent_events, v.leg,
                                 v.dealing_range, v.new_events)
        else:
            frame = self.frame
            view = TimeframeView(self.name, frame.close_time(index), frame.close(index), frame.trend(index, "internal"),
                                 frame.trend(index, "swing"), frame.atr_at(index), zones["fvg"], zones["ifvg"],
                                 zones["ob"], zones["breaker"], self.liquidity.at(index), frame.recent(index),
                                 frame.leg(index), frame.dealing_range(index), frame.new(index))
        self._view = (index, zones, view)
        return view


class _Views(Mapping[str, TimeframeView]):
    """A snapshot's views, each built on first access (only the timeframes with a closed candle)."""

    __slots__ = ("_base_index", "_built", "_indexes", "_timeframes")

    def __init__(self, timeframes: dict[str, _Timeframe], indexes: dict[str, int], base_index: int) -> None:
        self._timeframes = timeframes
        self._indexes = indexes
        self._base_index = base_index
        self._built: dict[str, TimeframeView] = {}

    def __getitem__(self, key: str) -> TimeframeView:
        view = self._built.get(key)
        if view is None:
            view = self._timeframes[key].view(self._indexes[key], self._base_index)
            self._built[key] = view
        return view

    def __contains__(self, key: object) -> bool:
        return key in self._indexes

    def __iter__(self) -> Iterator[str]:
        return iter(self._indexes)

    def __len__(self) -> int:
        return len(self._indexes)

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self.items()),)


class SnapshotReplay:
    """Snapshots of one symbol at base candles, from the kernels (needs numba: ``ictbot[fast]``)."""

    def __init__(self, symbol: str, base_timeframe: Timeframe, base: Candles,
                 higher: Sequence[tuple[Timeframe, Candles]] = (), params: IndicatorParams | None = None, *,
                 recent_limit: int = DEFAULT_RECENT, liquidity_limit: int | None = DEFAULT_LIQUIDITY) -> None:
        self.symbol = symbol
        self.base_timeframe = base_timeframe
        self.params = params or IndicatorParams()
        self.base = base
        self._base_ms = base_timeframe.ms
        base_close = base.open_time + base_timeframe.ms
        self.timeframes: dict[str, _Timeframe] = {
            base_timeframe.value: _Timeframe(base_timeframe, base, self.params, recent_limit, liquidity_limit, None,
                                             None)}
        for tf, candles in sorted(higher, key=lambda item: item[0].ms):
            delivery = np.searchsorted(base_close, candles.open_time + tf.ms, side="left").astype(np.int64)
            tracked = BaseCandles(base_close, base.high, base.low, base.close, delivery)
            self.timeframes[tf.value] = _Timeframe(tf, candles, self.params, recent_limit, liquidity_limit, delivery,
                                                   tracked)
        self.sessions = SessionCalendar(base.open_time, self._base_ms, self.params.sessions.windows)

    # ---- snapshots --------------------------------------------------------------------------------

    def snapshot(self, base_index: int) -> IndicatorSnapshot:
        indexes: dict[str, int] = {}
        for name, frame in self.timeframes.items():
            index = frame.index_at(base_index)
            if index >= 0:
                indexes[name] = index
        close_time = int(self.base.open_time[base_index]) + self._base_ms
        return IndicatorSnapshot(self.symbol, close_time, self.base_timeframe.value,
                                 _Views(self.timeframes, indexes, base_index), self.active_windows(base_index))

    # ---- sessions ----------------------------------------------------------------------------------

    def active_windows(self, base_index: int) -> tuple[str, ...]:
        return self.sessions.active(base_index)

    def window_mask(self, names: Sequence[str]) -> BoolArray:
        """Per base candle: inside any of the windows ``names``."""
        return self.sessions.mask(names)

    # ---- decision candles ------------------------------------------------------------------------------

    def _events(self, timeframe: str, kinds: Sequence[str], direction: int | None) -> tuple[_Timeframe, I64] | None:
        """The timeframe and its rows of ``kinds`` (and ``direction``), in log order; None: no such timeframe."""
        frame = self.timeframes.get(timeframe)
        if frame is None:
            return None
        rows = frame.rows
        chosen = np.isin(rows.kind, np.array([K[kind] for kind in kinds], dtype=np.int64))
        if direction is not None:
            chosen &= rows.direction == direction
        return frame, np.flatnonzero(chosen)

    def _base_candles(self, frame: _Timeframe, rows: I64) -> I64:
        """The base candle at whose close each row of ``frame`` is new."""
        confirms = frame.rows.confirm[rows]
        return confirms if frame.delivery is None else frame.delivery[confirms]

    def new_event_candles(self, timeframe: str, kinds: Sequence[str], direction: int | None = None) -> I64:
        """Base indexes at whose close an event of ``kinds`` (and ``direction``) on ``timeframe`` is newly
        confirmed."""
        found = self._events(timeframe, kinds, direction)
        if found is None:
            return np.zeros(0, np.int64)
        return np.unique(self._base_candles(*found))

    def new_events_with_parents(self, timeframe: str, kinds: Sequence[str],
                                direction: int | None = None) -> tuple[I64, I64]:
        """Per event of ``kinds`` (and ``direction``): the base index at whose close it is new, and the
        confirm time of its parent event (``ref0``; −1 if none)."""
        found = self._events(timeframe, kinds, direction)
        if found is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        frame, rows = found
        parents = frame.rows.ref0[rows]
        parent_times = np.where(parents >= 0, frame.frame.confirm_time[np.maximum(parents, 0)], -1)
        return self._base_candles(frame, rows), parent_times

    def event_times(self, timeframe: str, kinds: Sequence[str], direction: int | None = None) -> I64:
        """Ascending confirm times of the events of ``kinds`` (and ``direction``) on ``timeframe``."""
        found = self._events(timeframe, kinds, direction)
        if found is None:
            return np.zeros(0, np.int64)
        frame, rows = found
        times: I64 = frame.frame.confirm_time[rows]
        return times

    def close_times(self) -> I64:
        closes: I64 = self.base.open_time + self._base_ms
        return closes

    def trend(self, timeframe: str, source: str = "trend") -> I64:
        """Per base candle: the view's ``trend`` / ``swing_trend`` (0 while the timeframe has no view)."""
        frame = self.timeframes.get(timeframe)
        size = int(self.base.open_time.shape[0])
        if frame is None:
            return np.zeros(size, np.int64)
        per_candle = frame.frame.trend_series("internal" if source == "trend" else "swing")
        if frame.delivery is None:
            return per_candle
        if not per_candle.size:  # not one candle of that timeframe closed in the data
            return np.zeros(size, np.int64)
        index = np.searchsorted(frame.delivery, np.arange(size), side="right") - 1
        return np.where(index >= 0, per_candle[np.maximum(index, 0)], 0)
