"""Sessions and killzones with DST from the tz database (ict-spec §8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ictbot.indicators.events import Event, EventFactory
from ictbot.indicators.params import SessionParams


@dataclass(frozen=True, slots=True)
class WindowDef:
    id: str
    tz: str
    start: time
    end: time


WINDOWS: tuple[WindowDef, ...] = (
    WindowDef("asia_kz", "America/New_York", time(20, 0), time(0, 0)),
    WindowDef("london_kz", "America/New_York", time(2, 0), time(5, 0)),
    WindowDef("ny_am_kz", "America/New_York", time(7, 0), time(10, 0)),
    WindowDef("london_close_kz", "America/New_York", time(10, 0), time(12, 0)),
    WindowDef("ny_pm_kz", "America/New_York", time(13, 30), time(16, 0)),
    WindowDef("tokyo", "Asia/Tokyo", time(9, 0), time(18, 0)),
    WindowDef("london", "Europe/London", time(8, 0), time(17, 0)),
    WindowDef("new_york", "America/New_York", time(8, 0), time(17, 0)),
)
WINDOW_BY_ID = {w.id: w for w in WINDOWS}
KILLZONES = frozenset({"asia_kz", "london_kz", "ny_am_kz", "london_close_kz", "ny_pm_kz"})


def window_bounds(window: WindowDef, trading_date: date) -> tuple[int, int]:
    """UTC [start, end) in ms of ``window`` on the local trading date it ends on (fold = 0)."""
    zone = ZoneInfo(window.tz)
    end = datetime.combine(trading_date, window.end, tzinfo=zone)
    start_date = trading_date - timedelta(days=1) if window.end <= window.start else trading_date
    start = datetime.combine(start_date, window.start, tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


class SessionLevel:
    """A closed window's high/low, handed to liquidity (§5)."""

    __slots__ = ("end", "event", "high_index", "high_time", "low_index", "low_time", "source")

    def __init__(self, source: str, event: Event, end: int, high_index: int, high_time: int, low_index: int,
                 low_time: int) -> None:
        self.source = source
        self.event = event
        self.end = end
        self.high_index = high_index
        self.high_time = high_time
        self.low_index = low_index
        self.low_time = low_time


class _WindowState:
    __slots__ = ("anchor", "anchor_time", "date", "end", "high", "high_index", "high_time", "low", "low_index",
                 "low_time", "seen", "skip", "start", "window")

    def __init__(self, window: WindowDef) -> None:
        self.window = window
        self.date = date(1970, 1, 1)
        self.start = self.end = 0
        self.skip = False
        self.seen = False
        self.anchor = self.anchor_time = 0
        self.high = self.low = 0.0
        self.high_index = self.low_index = self.high_time = self.low_time = 0

    def open_instance(self, trading_date: date, first_time: int) -> None:
        self.date = trading_date
        self.start, self.end = window_bounds(self.window, trading_date)
        self.skip = self.start < first_time  # began before the series: only partly seen
        self.seen = False


_NO_LEVELS: list[SessionLevel] = []  # shared empty result: callers only iterate it


class SessionIndicator:
    """Per-window state machine; ``active`` lists the windows the latest candle's open time is in."""

    __slots__ = ("active", "first_time", "inside", "inside_ids", "next_change", "phash", "states", "tf_ms")

    def __init__(self, params: SessionParams, tf_ms: int, phash: str) -> None:
        self.phash = phash
        self.tf_ms = tf_ms
        self.states = [_WindowState(w) for w in WINDOWS if w.id in params.windows]
        self.first_time: int | None = None
        self.active: tuple[str, ...] = ()
        # fast path: until a candle closes at or after ``next_change`` no window starts, ends or rolls to
        # its next instance; every window is either still ahead or fully around the candle (``inside``)
        self.next_change = 0
        self.inside: list[_WindowState] = []  # started, not skipped: their high / low track the candles
        self.inside_ids: tuple[str, ...] = ()

    def step(self, i: int, t: int, h: float, lo: float, factory: EventFactory,
             out: list[Event]) -> list[SessionLevel]:
        close = t + self.tf_ms
        if close < self.next_change:
            for state in self.inside:
                if not state.seen:
                    self.update(state, i, t, h, lo)
                    continue
                if h > state.high:
                    state.high, state.high_index, state.high_time = h, i, t
                if lo < state.low:
                    state.low, state.low_index, state.low_time = lo, i, t
            self.active = self.inside_ids
            return _NO_LEVELS
        if self.first_time is None:
            self.first_time = t
            for state in self.states:
                self._first_instance(state, t)
        active: list[str] = []
        levels: list[SessionLevel] = []
        for state in self.states:
            if close < state.start:
                continue  # fast path: candle entirely before the window
            if close < state.end and state.start <= t:  # fast path: fully inside, window not ending
                active.append(state.window.id)
                if not state.skip:
                    self.update(state, i, t, h, lo)
                continue
            while True:
                if state.start <= t < state.end:
                    active.append(state.window.id)
                if not state.skip and state.start <= t and close <= state.end:
                    self.update(state, i, t, h, lo)
                if close < state.end:
                    break
                if state.seen and not state.skip:
                    event = factory.make("session_closed", 0, state.window.id, state.anchor, state.anchor_time,
                                         self.phash, top=state.high, bottom=state.low,
                                         fields={"window": state.window.id, "high_index": state.high_index,
                                                 "low_index": state.low_index})
                    out.append(event)
                    levels.append(SessionLevel(state.window.id, event, state.end, state.high_index,
                                               state.high_time, state.low_index, state.low_time))
                state.open_instance(state.date + timedelta(days=1), self.first_time)
                if state.start > t:
                    break
        self.active = tuple(active)
        self._plan(t)
        return levels

    def _plan(self, t: int) -> None:
        """Prepare the fast path for the candles after ``t`` (each window is now ahead of t or around it)."""
        change = 1 << 62
        inside: list[_WindowState] = []
        ids: list[str] = []
        for state in self.states:
            if state.start > t:  # ahead: a later candle is before it while it closes by the start
                change = min(change, state.start)
            else:  # started: a later candle is fully inside while it closes before the end
                change = min(change, state.end)
                ids.append(state.window.id)
                if not state.skip:
                    inside.append(state)
        self.next_change = change
        self.inside = inside
        self.inside_ids = tuple(ids)

    @staticmethod
    def update(state: _WindowState, i: int, t: int, h: float, lo: float) -> None:
        """A fully-inside candle: reset at the first one, then strictly higher highs / lower lows only."""
        if not state.seen:
            state.seen = True
            state.anchor, state.anchor_time = i, t
            state.high, state.high_index, state.high_time = h, i, t
            state.low, state.low_index, state.low_time = lo, i, t
            return
        if h > state.high:
            state.high, state.high_index, state.high_time = h, i, t
        if lo < state.low:
            state.low, state.low_index, state.low_time = lo, i, t

    def _first_instance(self, state: _WindowState, t: int) -> None:
        local = datetime.fromtimestamp(t / 1000, tz=UTC).astimezone(ZoneInfo(state.window.tz)).date()
        day = local - timedelta(days=1)
        state.open_instance(day, t)
        while state.end <= t:
            day += timedelta(days=1)
            state.open_instance(day, t)
