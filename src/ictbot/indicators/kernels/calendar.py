"""Previous day / week / month and sessions / killzones (ict-spec §7, §8).

Calendar arithmetic (months, New York / London / Tokyo DST) stays in Python on the tz database and
is done once per period or window instance, not per candle; the kernels only compare integers.
"""

from __future__ import annotations

import functools
import math
from collections import namedtuple
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.ict.previous_period import period_bounds
from ictbot.indicators.ict.sessions import WINDOWS, WindowDef, window_bounds
from ictbot.indicators.kernels._jit import jit
from ictbot.indicators.kernels._rules import rule
from ictbot.indicators.kernels.buffers import new_events, put, room
from ictbot.indicators.kernels.codes import I0, I1, K_PREVIOUS_DAY, K_SESSION_CLOSED, REF_SHIFT, T_NONE, T

I64 = npt.NDArray[np.int64]
NAN = math.nan
_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)
_PROBE_DAYS = 28


def period_table(t: I64, kind: str, day_anchor: str) -> tuple[I64, I64]:
    """[start, end) of the ``kind`` period containing each open time (exactly ``period_bounds``)."""
    if t.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if kind == "week":
        start = t - (t - (Timeframe.W1.floor(0) % Timeframe.W1.ms)) % Timeframe.W1.ms
        return start, start + Timeframe.W1.ms
    if kind == "day" and day_anchor == "utc":
        start = t - t % _DAY_MS
        return start, start + _DAY_MS
    # months and New York days: walk the consecutive periods once, then look every candle up
    first, end = period_bounds(kind, int(t[0]), day_anchor)
    bounds = [first]
    last = int(t[-1])
    while end <= last:
        bounds.append(end)
        nxt, end2 = period_bounds(kind, end, day_anchor)
        if nxt != end:  # not a partition (never for these calendars): fall back to per-candle bounds
            pairs = [period_bounds(kind, int(x), day_anchor) for x in t.tolist()]
            arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
            return arr[:, 0].copy(), arr[:, 1].copy()
        end = end2
    bounds.append(end)
    edges = np.array(bounds, dtype=np.int64)
    k = np.searchsorted(edges, t, side="right") - 1
    return edges[k], edges[k + 1]


Extremes = namedtuple("Extremes", ["high", "low", "high_index", "high_time", "low_index", "low_time"])


@jit
def _new_extremes(count):  # type: ignore[no-untyped-def]
    return Extremes(np.zeros(count, np.float64), np.zeros(count, np.float64), np.zeros(count, np.int64),
                    np.zeros(count, np.int64), np.zeros(count, np.int64), np.zeros(count, np.int64))


@rule
def _start_extremes(x, k, i, ti, high, low):  # type: ignore[no-untyped-def]
    x.high[k] = high
    x.high_index[k] = i
    x.high_time[k] = ti
    x.low[k] = low
    x.low_index[k] = i
    x.low_time[k] = ti


@rule
def _extend_extremes(x, k, i, ti, hi, li):  # type: ignore[no-untyped-def]
    """Period / window ``k`` reaches candle ``i``: a strictly higher high or lower low moves its extreme."""
    if hi > x.high[k]:
        x.high[k] = hi
        x.high_index[k] = i
        x.high_time[k] = ti
    if li < x.low[k]:
        x.low[k] = li
        x.low_index[k] = i
        x.low_time[k] = ti


@jit
def _row_room(lv_i, lv_f, nl):  # type: ignore[no-untyped-def]
    """The level rows, doubled when row ``nl`` does not fit."""
    if nl < lv_i.shape[0]:
        return lv_i, lv_f
    gi = np.zeros((2 * nl, lv_i.shape[1]), np.int64)
    gi[:nl] = lv_i
    gf = np.zeros((2 * nl, 2), np.float64)
    gf[:nl] = lv_f
    return gi, gf


@jit
def _log_previous(ev_i, ev_f, r, lv_i, lv_f, nl, k, i, open_i, first_index, x, base):  # type: ignore[no-untyped-def]
    """§7: the completed period ``k`` (0 day, 1 week, 2 month) is the previous one from candle ``i``: its
    event and its liquidity level row. Returns (ev_i, ev_f, r, lv_i, lv_f, nl)."""
    ev_i, ev_f = room(ev_i, ev_f, r)
    put(ev_i, ev_f, r, K_PREVIOUS_DAY + k, 0, T_NONE, first_index, i, x.high[k], x.low[k], open_i)
    ev_i[r, I0] = x.high_index[k]
    ev_i[r, I1] = x.low_index[k]
    lv_i, lv_f = _row_room(lv_i, lv_f, nl)
    lv_i[nl, 0] = k
    lv_i[nl, 1] = i
    lv_i[nl, 2] = x.high_index[k]
    lv_i[nl, 3] = x.high_time[k]
    lv_i[nl, 4] = x.low_index[k]
    lv_i[nl, 5] = x.low_time[k]
    lv_i[nl, 6] = base | r
    lv_f[nl, 0] = x.high[k]
    lv_f[nl, 1] = x.low[k]
    return ev_i, ev_f, r + 1, lv_i, lv_f, nl + 1


@jit
def previous_kernel(t, o, h, lo, starts, ends, slot):  # type: ignore[no-untyped-def]
    """Previous-period events; ``levels`` rows: kind k, confirm, high, low, high idx, high time, low idx,
    low time, event ref (the §5 levels liquidity receives)."""
    n = t.shape[0]
    ev_i, ev_f = new_events(64 + n // 200)
    r = 0
    base = slot << REF_SHIFT
    lv_i = np.zeros((64 + n // 200, 7), np.int64)  # kind, confirm, hidx, htime, lidx, ltime, ref
    lv_f = np.zeros((64 + n // 200, 2), np.float64)
    nl = 0
    has = np.zeros(3, np.bool_)
    complete = np.zeros(3, np.bool_)  # the period was seen from its first candle
    cend = np.zeros(3, np.int64)
    first_index = np.zeros(3, np.int64)
    x = _new_extremes(3)
    for i in range(n):
        ti = t[i]
        for k in range(3):
            if not has[k] or ti >= cend[k]:  # a new period starts
                start = starts[k, i]
                if has[k] and complete[k] and cend[k] == start:
                    ev_i, ev_f, r, lv_i, lv_f, nl = _log_previous(ev_i, ev_f, r, lv_i, lv_f, nl, k, i, o[i],
                                                                  first_index[k], x, base)
                complete[k] = has[k] or ti == start
                has[k] = True
                cend[k] = ends[k, i]
                first_index[k] = i
                _start_extremes(x, k, i, ti, -np.inf, np.inf)
            _extend_extremes(x, k, i, ti, h[i], lo[i])
    return ev_i, ev_f, r, lv_i[:nl], lv_f[:nl]


def window_table(window: WindowDef, first: date, days: int) -> tuple[list[int], list[int]]:
    """``window_bounds`` of ``days`` consecutive trading dates from ``first`` (new lists: callers extend
    them); every timeframe of a backtest asks for the same tables, so they are computed once."""
    starts, ends = _window_table(window, first, days)
    return list(starts), list(ends)


@functools.lru_cache(maxsize=128)
def _window_table(window: WindowDef, first: date, days: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``window_bounds`` of ``days`` consecutive trading dates from ``first``.

    For a fixed local clock time the UTC offset is piecewise constant in the date and changes at most
    once per ``_PROBE_DAYS`` (DST transitions of the window time zones are months apart): the tz database
    is asked every ``_PROBE_DAYS`` days, a change is bisected to its first date, and every other bound is
    plain arithmetic on the naive local time (tested bound by bound against ``window_bounds``).
    """
    if days <= 0:
        return (), ()
    wraps = window.end <= window.start

    def naive_ms(day: date, clock: time_of_day) -> int:
        return ((day - _EPOCH).days * 86_400 + clock.hour * 3600 + clock.minute * 60 + clock.second) * 1000

    def offsets(clock: time_of_day, shift: int, of_start: bool) -> list[int]:
        def offset(k: int) -> int:
            day = first + timedelta(days=k)
            bounds = window_bounds(window, day)
            return naive_ms(day - timedelta(days=shift), clock) - bounds[0 if of_start else 1]

        out = [0] * days
        probes = list(range(0, days, _PROBE_DAYS))
        if probes[-1] != days - 1:
            probes.append(days - 1)
        values = [offset(k) for k in probes]
        for (k0, v0), (k1, v1) in zip(zip(probes, values, strict=True), zip(probes[1:], values[1:], strict=True),
                                      strict=False):
            lo_k, hi_k = k0, k1  # offset(lo_k) == v0, offset(hi_k) == v1
            while v0 != v1 and hi_k - lo_k > 1:
                mid = (lo_k + hi_k) // 2
                if offset(mid) == v0:
                    lo_k = mid
                else:
                    hi_k = mid
            switch = hi_k if v0 != v1 else k1
            for k in range(k0, k1 + 1):
                out[k] = v0 if k < switch else v1
        out[probes[-1]] = values[-1]
        return out

    start_off = offsets(window.start, 1 if wraps else 0, True)
    end_off = offsets(window.end, 0, False)
    start0 = naive_ms(first - timedelta(days=1 if wraps else 0), window.start)
    end0 = naive_ms(first, window.end)
    starts = tuple(start0 + k * 86_400_000 - off for k, off in enumerate(start_off))
    ends = tuple(end0 + k * 86_400_000 - off for k, off in enumerate(end_off))
    return starts, ends


def session_tables(t: I64, tf_ms: int, windows: tuple[str, ...]) -> tuple[I64, I64, I64, I64]:
    """Per enabled window (in ``WINDOWS`` order): instance [start, end) of consecutive trading dates from
    the one ``SessionIndicator._first_instance`` opens first, until past the series; tag codes."""
    chosen = [w for w in WINDOWS if w.id in windows]
    if t.shape[0] == 0 or not chosen:
        empty = np.zeros((0, 1), np.int64)
        return empty, empty, np.zeros(0, np.int64), np.zeros(0, np.int64)
    t0 = int(t[0])
    stop = int(t[-1]) + tf_ms
    rows_s: list[list[int]] = []
    rows_e: list[list[int]] = []
    firsts: list[int] = []
    for window in chosen:
        local = datetime.fromtimestamp(t0 / 1000, tz=UTC).astimezone(ZoneInfo(window.tz)).date()
        day = local - timedelta(days=1)
        # whole days from the first instance to past the end, plus a margin for DST-shifted bounds
        days = (stop - t0) // _DAY_MS + 4
        ss, es = window_table(window, day, days)
        while ss[-1] <= stop:  # never for real windows (< 1 day long); keeps the kernel's sentinel valid
            more_s, more_e = window_table(window, day + timedelta(days=len(ss)), 8)
            ss += more_s
            es += more_e
        first = 0
        while es[first] <= t0:
            first += 1
        rows_s.append(ss)
        rows_e.append(es)
        firsts.append(first)
    width = max(len(x) for x in rows_s)
    starts = np.full((len(chosen), width), np.iinfo(np.int64).max, np.int64)
    ends = np.full((len(chosen), width), np.iinfo(np.int64).max, np.int64)
    for k, (ss, es) in enumerate(zip(rows_s, rows_e, strict=True)):
        starts[k, :len(ss)] = ss
        ends[k, :len(es)] = es
    tags = np.array([T[w.id] for w in chosen], dtype=np.int64)
    return starts, ends, np.array(firsts, dtype=np.int64), tags


@jit
def _log_session(ev_i, ev_f, r, lv_i, lv_f, nl, w, i, end, tag, anchor, x, base):  # type: ignore[no-untyped-def]
    """§8: window ``w`` (tag ``tag``) closed at candle ``i``: ``session_closed`` and its liquidity level
    row. Returns (ev_i, ev_f, r, lv_i, lv_f, nl)."""
    ev_i, ev_f = room(ev_i, ev_f, r)
    put(ev_i, ev_f, r, K_SESSION_CLOSED, 0, tag, anchor, i, x.high[w], x.low[w], NAN)
    ev_i[r, I0] = x.high_index[w]
    ev_i[r, I1] = x.low_index[w]
    lv_i, lv_f = _row_room(lv_i, lv_f, nl)
    lv_i[nl, 0] = tag
    lv_i[nl, 1] = i
    lv_i[nl, 2] = end
    lv_i[nl, 3] = x.high_index[w]
    lv_i[nl, 4] = x.high_time[w]
    lv_i[nl, 5] = x.low_index[w]
    lv_i[nl, 6] = x.low_time[w]
    lv_i[nl, 7] = base | r
    lv_f[nl, 0] = x.high[w]
    lv_f[nl, 1] = x.low[w]
    return ev_i, ev_f, r + 1, lv_i, lv_f, nl + 1


@jit
def session_kernel(t, h, lo, tf_ms, starts, ends, firsts, tags, slot):  # type: ignore[no-untyped-def]
    """``session_closed`` events; ``levels`` rows: tag, confirm, end, high idx, high time, low idx, low time,
    event ref (+ high, low floats)."""
    n = t.shape[0]
    nw = tags.shape[0]
    ev_i, ev_f = new_events(64 + n // 10)
    r = 0
    base = slot << REF_SHIFT
    lv_i = np.zeros((64 + n // 20, 8), np.int64)
    lv_f = np.zeros((64 + n // 20, 2), np.float64)
    nl = 0
    if n == 0:
        return ev_i, ev_f, r, lv_i[:0], lv_f[:0]
    t0 = t[0]
    ptr = firsts.copy()  # current instance per window
    seen = np.zeros(nw, np.bool_)
    anchor = np.zeros(nw, np.int64)
    x = _new_extremes(nw)
    for i in range(n):
        ti = t[i]
        close = ti + tf_ms
        for w in range(nw):
            start = starts[w, ptr[w]]
            end = ends[w, ptr[w]]
            if close < start:
                continue
            fast = close < end and start <= ti  # inside the instance, not at its end: no rollover
            while True:
                skip = start < t0  # an instance begun before the data is never reported
                if not skip and start <= ti and close <= end:
                    if not seen[w]:
                        seen[w] = True
                        anchor[w] = i
                        _start_extremes(x, w, i, ti, h[i], lo[i])
                    else:
                        _extend_extremes(x, w, i, ti, h[i], lo[i])
                if fast or close < end:
                    break
                if seen[w] and not skip:
                    ev_i, ev_f, r, lv_i, lv_f, nl = _log_session(ev_i, ev_f, r, lv_i, lv_f, nl, w, i, end, tags[w],
                                                                 anchor[w], x, base)
                ptr[w] += 1
                seen[w] = False
                start = starts[w, ptr[w]]
                end = ends[w, ptr[w]]
                if start > ti:
                    break
    return ev_i, ev_f, r, lv_i[:nl], lv_f[:nl]
