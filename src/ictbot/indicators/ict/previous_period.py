"""Previous day / week / month high, low and open (ict-spec §7)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.events import Event, EventFactory
from ictbot.indicators.params import PreviousPeriodParams

NEW_YORK = ZoneInfo("America/New_York")
_DAY_MS = 86_400_000
NAN = math.nan


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def period_bounds(kind: str, t: int, day_anchor: str = "utc") -> tuple[int, int]:
    """[start, end) in ms of the ``kind`` period (day/week/month) that contains instant ``t``."""
    if kind == "week":
        start = Timeframe.W1.floor(t)
        return start, start + Timeframe.W1.ms
    if kind == "month":
        moment = datetime.fromtimestamp(t / 1000, tz=UTC)
        first = datetime(moment.year, moment.month, 1, tzinfo=UTC)
        nxt = datetime(moment.year + (moment.month == 12), moment.month % 12 + 1, 1, tzinfo=UTC)
        return _ms(first), _ms(nxt)
    if day_anchor == "utc":
        start = t - t % _DAY_MS
        return start, start + _DAY_MS
    local = datetime.fromtimestamp(t / 1000, tz=NEW_YORK)
    if day_anchor == "ny_midnight":
        day = local.date()
        return _ny(day, 0), _ny(day + timedelta(days=1), 0)
    # ny_17: the day D runs from 17:00 on D−1 to 17:00 on D
    day = local.date() + timedelta(days=1) if local.hour >= 17 else local.date()
    return _ny(day - timedelta(days=1), 17), _ny(day, 17)


def _ny(day: date, hour: int) -> int:
    return _ms(datetime(day.year, day.month, day.day, hour, tzinfo=NEW_YORK))


class _Period:
    __slots__ = ("complete", "end", "first_index", "first_time", "high", "high_index", "high_time", "low",
                 "low_index", "low_time", "open", "start")

    def __init__(self, start: int, end: int, complete: bool, index: int, t: int, o: float) -> None:
        self.start = start
        self.end = end
        self.complete = complete
        self.first_index = index
        self.first_time = t
        self.open = o
        self.high = -math.inf
        self.low = math.inf
        self.high_index = self.low_index = index
        self.high_time = self.low_time = t


class PeriodLevel:
    """A finished previous-period high/low, handed to liquidity (§5)."""

    __slots__ = ("event", "high_index", "high_time", "low_index", "low_time", "source")

    def __init__(self, source: str, event: Event, high_index: int, high_time: int, low_index: int,
                 low_time: int) -> None:
        self.source = source
        self.event = event
        self.high_index = high_index
        self.high_time = high_time
        self.low_index = low_index
        self.low_time = low_time


_NO_LEVELS: list[PeriodLevel] = []  # shared empty result: callers only iterate it


class PreviousPeriodIndicator:
    """One tracker per period kind; exposes the §7 series as attributes (``values``)."""

    __slots__ = ("current", "day_anchor", "kinds", "next_end", "open_periods", "phash", "previous", "started")

    def __init__(self, params: PreviousPeriodParams, phash: str) -> None:
        self.day_anchor = params.day_anchor
        self.phash = phash
        self.kinds = ("day", "week", "month")
        self.current: dict[str, _Period | None] = {k: None for k in self.kinds}
        self.previous: dict[str, _Period | None] = {k: None for k in self.kinds}  # complete P−1 or None
        self.started = False
        # fast path: candles opening before ``next_end`` (the earliest period end) roll no period
        self.next_end = 0
        self.open_periods: list[_Period] = []

    def step(self, i: int, t: int, o: float, h: float, lo: float, factory: EventFactory,
             out: list[Event]) -> list[PeriodLevel]:
        if t < self.next_end:
            for period in self.open_periods:
                if h > period.high:
                    period.high, period.high_index, period.high_time = h, i, t
                if lo < period.low:
                    period.low, period.low_index, period.low_time = lo, i, t
            return _NO_LEVELS
        levels: list[PeriodLevel] = []
        for kind in self.kinds:
            cur = self.current[kind]
            if cur is None or t >= cur.end:
                start, end = period_bounds(kind, t, self.day_anchor)
                prev_ok = cur is not None and cur.complete and cur.end == start
                self.previous[kind] = cur if prev_ok else None
                # a period is fully seen if the series was already running at its start
                complete = cur is not None or t == start
                cur = _Period(start, end, complete, i, t, o)
                self.current[kind] = cur
                if prev_ok and self.previous[kind] is not None:
                    p = self.previous[kind]
                    assert p is not None
                    event = factory.make(f"previous_{kind}", 0, "-", p.first_index, p.first_time, self.phash,
                                         top=p.high, bottom=p.low, level=o,
                                         fields={"high_index": p.high_index, "low_index": p.low_index})
                    out.append(event)
                    levels.append(PeriodLevel(kind, event, p.high_index, p.high_time, p.low_index, p.low_time))
            if h > cur.high:
                cur.high, cur.high_index, cur.high_time = h, i, t
            if lo < cur.low:
                cur.low, cur.low_index, cur.low_time = lo, i, t
        self.open_periods = [period for period in self.current.values() if period is not None]
        self.next_end = min(period.end for period in self.open_periods)
        return levels

    def values(self, kind: str) -> tuple[float, float, float]:
        """(previous high, previous low, current period open); NaN where undefined."""
        prev = self.previous[kind]
        cur = self.current[kind]
        open_ = cur.open if cur is not None else NAN
        if prev is None:
            return NAN, NAN, open_
        return prev.high, prev.low, open_
